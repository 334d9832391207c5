"""A later validate re-reads only the approval files and folders whose stamps changed, and never trusts a
stamp taken while its file could still change unseen.

Each shortcut of the cache has a case here that fails when the shortcut is wrong: a rewrite in place that
keeps the size and puts the modification time back, a file replaced by another, a file added to or removed
from a record folder that was listed before, and a file read in the very tick it was written (which the file
system's coarse clock may stamp again with the same times).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from approvals_fixtures import NOW, approve, fresh_revocations, make_record, ring_and_keys

from clearance import cache as cache_module
from clearance.approvals import KeyRing, verify
from clearance.cache import ApprovalCache


def _tick() -> None:
    # longer than the file system clock's tick (a few ms): the next change gets a new ctime
    time.sleep(0.05)


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled as soon as they are written (the tests then wait a tick before each change)."""
    monkeypatch.setattr(cache_module, "SETTLE_NS", 0)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real = cache_module._file_bytes

    def counting(path: str, regular: bool) -> tuple[bytes, os.stat_result | None]:
        read.append(str(path))
        return real(path, regular)

    monkeypatch.setattr(cache_module, "_file_bytes", counting)
    return read


def test_a_second_read_of_settled_files_reads_nothing_again(
        tmp_path: Path, settled_at_once: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    records = [make_record() for _ in range(3)]
    for record in records:
        ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record))
    _tick()
    read = _reads(monkeypatch)
    first = ApprovalCache(tmp_path / "cache").approvals_for_many([r.id for r in records])
    assert len(read) == 3
    again = ApprovalCache(tmp_path / "cache").approvals_for_many([r.id for r in records])
    assert len(read) == 3  # nothing read again
    assert {k: [a.approval_id for a in v] for k, v in again.items()} == \
        {k: [a.approval_id for a in v] for k, v in first.items()}
    assert all(again[k][0] is first[k][0] for k in first)  # the same parsed approvals, memo and all


def test_many_at_once_answers_as_one_at_a_time(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    records = [make_record() for _ in range(4)]
    cache = ApprovalCache(tmp_path / "cache")
    for record in records[:3]:
        cache.add_approval(approve(ring, record))
    cache.add_approval(approve(ring, records[0], approver="second"))
    many = cache.approvals_for_many([r.id for r in records])
    assert list(many) == [str(r.id) for r in records]
    for record in records:
        assert [a.approval_id for a in many[str(record.id)]] == \
            [a.approval_id for a in ApprovalCache(tmp_path / "cache").approvals_for(record.id)]
    assert len(many[str(records[0].id)]) == 2 and many[str(records[3].id)] == []


def _rewrite_in_place(path: Path, old: str, new: str) -> None:
    stamp = path.stat()
    text = path.read_text(encoding="utf-8")
    assert len(old) == len(new) and old in text
    with open(path, "r+", encoding="utf-8") as handle:  # same inode, same size
        handle.write(text.replace(old, new))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the modification time put back
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (stamp.st_ino, stamp.st_size, stamp.st_mtime_ns)


def test_a_settled_file_rewritten_in_place_with_its_times_put_back_is_read_again(
        tmp_path: Path, settled_at_once: None) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    path = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record, approver="sam.approver"))
    _tick()
    held = ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0]
    assert verify(held, record, keys=keys, revocations=fresh_revocations(), now=NOW).valid
    _tick()
    _rewrite_in_place(path, "sam.approver", "eve.approver")  # only its ctime tells
    edited = ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0]
    assert edited.statement.approver == "eve.approver" and edited.checked is None
    assert verify(edited, record, keys=keys, revocations=fresh_revocations(), now=NOW).code == "bad_signature"


def test_a_settled_file_replaced_by_another_is_read_again(tmp_path: Path, settled_at_once: None) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    cache = ApprovalCache(tmp_path / "cache")
    path = cache.add_approval(approve(ring, record, approver="sam.approver"))
    _tick()
    assert cache.approvals_for(record.id)[0].statement.approver == "sam.approver"
    _tick()
    other = approve(ring, record, approver="eve.approver")
    replacement = path.with_name("incoming")
    replacement.write_text(other.to_json().replace(other.approval_id, path.stem), encoding="utf-8")
    os.replace(replacement, path)
    assert cache.approvals_for(record.id)[0].statement.approver == "eve.approver"


def test_files_added_to_and_removed_from_a_listed_folder_are_seen(tmp_path: Path, settled_at_once: None) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    cache = ApprovalCache(tmp_path / "cache")
    first = cache.add_approval(approve(ring, record, approver="first"))
    _tick()
    assert [a.statement.approver for a in cache.approvals_for(record.id)] == ["first"]
    _tick()
    second = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record, approver="second"))
    assert sorted(a.statement.approver for a in cache.approvals_for(record.id)) == ["first", "second"]
    _tick()
    first.unlink()
    assert [a.statement.approver for a in cache.approvals_for(record.id)] == ["second"]
    _tick()
    second.unlink()
    second.parent.rmdir()
    assert cache.approvals_for(record.id) == [] and cache.problems == []


def test_what_was_read_in_the_tick_it_was_written_is_not_kept(tmp_path: Path) -> None:
    """A file stamped less than SETTLE_NS before it is read may change again within the same tick of the
    file system's clock with every stamp unchanged: it is read again next time, and its folder listed again."""
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    path = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record))
    assert ApprovalCache(tmp_path / "cache").approvals_for(record.id)
    assert str(path) not in cache_module._FILES and str(path.parent) not in cache_module._FOLDERS
    later = time.time_ns() + cache_module.SETTLE_NS + 1_000_000_000
    assert ApprovalCache(tmp_path / "cache").approvals_for_many([record.id]) and not cache_module._settled(
        path.stat(), time.time_ns())
    cache_module._FILES.clear()
    cache = ApprovalCache(tmp_path / "cache")
    cache._approval_file(str(path), later)  # as read once it has settled
    assert str(path) in cache_module._FILES


def _still_clock(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make ``os.stat`` (and ``os.fstat`` of the file opened) report the times ``path`` has now for as long as
    the test runs: every later change lands in the same tick of the file system's clock."""
    real_stat = os.stat
    frozen = real_stat(path)

    def stat_with_a_still_clock(target: object, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(target, *args, **kwargs)  # type: ignore[call-overload]
        if str(target) != str(path):
            return info  # type: ignore[no-any-return]
        values = list(info)
        values[7:10] = [frozen.st_atime, frozen.st_mtime, frozen.st_ctime]
        return os.stat_result(values, {"st_mtime_ns": frozen.st_mtime_ns, "st_ctime_ns": frozen.st_ctime_ns,
                                       "st_atime_ns": frozen.st_atime_ns})

    def fstat_with_a_still_clock(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        if (info.st_dev, info.st_ino) != (real_stat(path).st_dev, real_stat(path).st_ino):
            return info
        return stat_with_a_still_clock(path)  # what was opened is the file: the same still times

    real_fstat = os.fstat
    monkeypatch.setattr(cache_module.os, "stat", stat_with_a_still_clock)
    monkeypatch.setattr(cache_module.os, "fstat", fstat_with_a_still_clock)


def test_a_rewrite_in_the_same_tick_as_the_read_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The racy case itself: the rewrite keeps every stamp, so only not keeping a fresh file's read saves it."""
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    path = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record, approver="sam.approver"))
    _still_clock(monkeypatch, path)
    assert ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0].statement.approver == "sam.approver"
    _rewrite_in_place(path, "sam.approver", "eve.approver")
    assert ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0].statement.approver == "eve.approver"


@pytest.mark.parametrize("change", ["another file of the same size", "the same file, another size"])
def test_the_inode_and_the_size_tell_when_the_times_do_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            change: str) -> None:
    """A clock that stands still and a file counted as settled at once: what is left is the inode and size."""
    monkeypatch.setattr(cache_module, "SETTLE_NS", -10**18)
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    path = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record, approver="sam.approver"))
    _still_clock(monkeypatch, path)
    assert ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0].statement.approver == "sam.approver"
    text = path.read_text(encoding="utf-8")
    if change == "another file of the same size":
        path.with_name("incoming").write_text(text.replace("sam.approver", "eve.approver"), encoding="utf-8")
        os.replace(path.with_name("incoming"), path)
    else:
        with open(path, "r+", encoding="utf-8") as handle:
            handle.write(text.replace("sam.approver", "eve.approverrr"))
    assert ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0].statement.approver.startswith("eve")


def test_nothing_verified_is_kept_on_disk(tmp_path: Path, settled_at_once: None) -> None:
    ring: KeyRing
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    path = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record))
    before = {p: p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    _tick()
    held = ApprovalCache(tmp_path / "cache").approvals_for(record.id)[0]
    assert verify(held, record, keys=keys, revocations=fresh_revocations(), now=NOW).valid
    assert {p: p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()} == before
    assert path.exists()
