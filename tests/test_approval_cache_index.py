"""The approval cache lists its folder once per change and reuses parsed approvals by their exact bytes.

Speed must not change an answer: a folder added by another writer is seen, a removed file is gone, and a
file edited in place (its size and time stamp put back) is parsed again and its signature checked again.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from approvals_fixtures import NOW, approve, fresh_revocations, make_record, ring_and_keys

from clearance.approvals import verify
from clearance.cache import ApprovalCache


def test_a_record_folder_added_by_another_writer_is_seen(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    first, second = make_record(), make_record()
    reader = ApprovalCache(tmp_path / "cache")
    ApprovalCache(tmp_path / "cache").add_approval(approve(ring, first))
    assert len(reader.approvals_for(first.id)) == 1  # the folder is listed now
    assert reader.approvals_for(second.id) == []
    ApprovalCache(tmp_path / "cache").add_approval(approve(ring, second))  # another writer, after the listing
    assert [a.statement.record_id for a in reader.approvals_for(second.id)] == [second.id]


def test_a_removed_approval_is_gone_and_a_removed_folder_reads_empty(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    cache = ApprovalCache(tmp_path / "cache")
    path = cache.add_approval(approve(ring, record))
    assert len(cache.approvals_for(record.id)) == 1
    path.unlink()
    assert cache.approvals_for(record.id) == [] and cache.problems == []
    path.parent.rmdir()
    assert cache.approvals_for(record.id) == []


def test_an_approval_edited_in_place_is_read_and_checked_again(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    cache = ApprovalCache(tmp_path / "cache")
    path = cache.add_approval(approve(ring, record, approver="sam.approver"))
    held = cache.approvals_for(record.id)[0]
    assert verify(held, record, keys=keys, revocations=fresh_revocations(), now=NOW).valid
    assert held.checked is not None  # its signature was checked, in memory
    assert ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0] is held  # same bytes, same approval
    stamp = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("sam.approver", "eve.approver"), encoding="utf-8")  # same length
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert path.stat().st_size == stamp.st_size
    edited = ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0]
    assert edited is not held and edited.statement.approver == "eve.approver" and edited.checked is None
    result = verify(edited, record, keys=keys, revocations=fresh_revocations(), now=NOW)
    assert not result.valid and result.code == "bad_signature"


def test_a_damaged_file_is_reported_each_time_it_is_read(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    cache = ApprovalCache(tmp_path / "cache")
    path = cache.add_approval(approve(ring, record, expires_at=NOW + timedelta(days=1)))
    (path.parent / "empty.json").write_bytes(b"")
    (path.parent / ".half-written.json.tmp").write_text("{")
    assert len(cache.approvals_for(record.id)) == 1
    assert len(cache.problems) == 1 and "empty.json" in cache.problems[0] and "is empty" in cache.problems[0]
