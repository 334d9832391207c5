"""How the approval cache reads its files: a file its folder lists as regular is opened without a stat first
and read in one call; everything else takes the careful document reader.

Each shortcut must give the answer and the one-line problem the careful reader gives: a pipe, a link, a
folder, a file too large, a file that grows, changes type or disappears between the listing and the read,
and a file that cannot be opened. Each guard of the shortcut has a case here that fails without it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from approvals_fixtures import approve, make_record, ring_and_keys

from clearance import cache as cache_module
from clearance.approvals import KeyRing
from clearance.cache import APPROVALS_DIR, ApprovalCache
from clearance.documents import MAX_DOCUMENT_BYTES
from clearance.record import UseRecord


@pytest.fixture(autouse=True)
def nothing_kept() -> None:
    """Each case reads its files afresh (another test's kept stamps must not answer for it)."""
    cache_module._FILES.clear()
    cache_module._FOLDERS.clear()
    cache_module._PARSED.clear()


def _one_approval(tmp_path: Path) -> tuple[KeyRing, UseRecord, Path]:
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    path = ApprovalCache(tmp_path / "cache").add_approval(approve(ring, record, approver="sam.approver"))
    return ring, record, path


def _careful_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file read as if its folder had not said it is regular (the careful reader for all)."""
    real = cache_module._file_bytes
    monkeypatch.setattr(cache_module, "_file_bytes", lambda path, regular: real(path, False))


def _answer(tmp_path: Path, record: UseRecord) -> tuple[list[str], list[str]]:
    cache = ApprovalCache(tmp_path / "cache")
    held = cache.approvals_for(record.id)
    return sorted(a.statement.approver for a in held), list(cache.problems)


def _both(tmp_path: Path, record: UseRecord, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """The answer with the shortcut, checked against the careful reader's on the same folder."""
    fast = _answer(tmp_path, record)
    cache_module._FILES.clear()
    cache_module._FOLDERS.clear()
    cache_module._PARSED.clear()
    with monkeypatch.context() as patch:
        _careful_only(patch)
        careful = _answer(tmp_path, record)
    assert fast == careful
    return fast


def test_a_listed_regular_file_is_read_without_the_careful_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ring, record, _path = _one_approval(tmp_path)
    careful: list[str] = []
    real = cache_module.read_bytes

    def counting(path: str, **kwargs: object) -> bytes:
        careful.append(path)
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module, "read_bytes", counting)
    assert _answer(tmp_path, record) == (["sam.approver"], [])
    assert careful == []


@pytest.mark.timeout(20)
def test_a_pipe_among_the_approvals_is_refused_without_blocking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ring, record, path = _one_approval(tmp_path)
    os.mkfifo(path.with_name("pipe.json"))
    approvers, problems = _both(tmp_path, record, monkeypatch)
    assert approvers == ["sam.approver"]
    assert len(problems) == 1 and "pipe.json" in problems[0] and "named pipe (FIFO)" in problems[0]


@pytest.mark.timeout(20)
def test_a_file_swapped_for_a_pipe_after_the_listing_is_refused_as_a_pipe(tmp_path: Path) -> None:
    """The folder said "regular file"; what is opened is a pipe by then: fstat of what was opened tells."""
    _ring, _record, path = _one_approval(tmp_path)
    pipe = path.with_name("swapped.json")
    os.mkfifo(pipe)
    cache = ApprovalCache(tmp_path / "cache")
    assert cache._approval_file(str(pipe), time.time_ns(), regular=True) is None
    assert len(cache.problems) == 1 and "named pipe (FIFO)" in cache.problems[0]


def test_a_folder_swapped_in_after_the_listing_is_refused_as_a_folder(tmp_path: Path) -> None:
    _ring, _record, path = _one_approval(tmp_path)
    folder = path.with_name("folder.json")
    folder.mkdir()
    cache = ApprovalCache(tmp_path / "cache")
    assert cache._approval_file(str(folder), time.time_ns(), regular=True) is None
    assert len(cache.problems) == 1 and "is a folder, expected a signed approval" in cache.problems[0]


def test_links_folders_and_damaged_files_answer_as_the_careful_reader_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring, record, path = _one_approval(tmp_path)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(approve(ring, record, approver="linked").to_json(), encoding="utf-8")
    path.with_name("link.json").symlink_to(elsewhere)
    path.with_name("dangling.json").symlink_to(tmp_path / "nothing-here.json")
    path.with_name("loop.json").symlink_to(path.with_name("loop.json"))
    path.with_name("folder.json").mkdir()
    path.with_name("empty.json").write_bytes(b"")
    path.with_name("utf16.json").write_bytes(b"\xff\xfe{\x00")
    path.with_name("half.json").write_text(path.read_text(encoding="utf-8")[:100], encoding="utf-8")
    path.with_name("bom.json").write_bytes(b"\xef\xbb\xbf" + approve(ring, record, approver="bom").to_json().encode())
    approvers, problems = _both(tmp_path, record, monkeypatch)
    assert approvers == ["bom", "linked", "sam.approver"]
    named = sorted(Path(p.split(": ")[0]).name for p in problems)
    assert named == ["dangling.json", "empty.json", "folder.json", "half.json", "loop.json", "utf16.json"]


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ring, record, path = _one_approval(tmp_path)
    with open(path.with_name("huge.json"), "wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    approvers, problems = _both(tmp_path, record, monkeypatch)
    assert approvers == ["sam.approver"]
    assert len(problems) == 1 and f"over the {MAX_DOCUMENT_BYTES}-byte limit" in problems[0]


def _fstat_says(monkeypatch: pytest.MonkeyPatch, change: Callable[[os.stat_result], os.stat_result]) -> None:
    real = os.fstat
    monkeypatch.setattr(cache_module.os, "fstat", lambda fd: change(real(fd)))


def test_a_file_that_grew_since_its_fstat_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One read of the size fstat gave, plus a byte: more than that means it grew, and it is read again."""
    _ring, record, _path = _one_approval(tmp_path)

    def smaller(info: os.stat_result) -> os.stat_result:
        values = list(info)
        values[6] = info.st_size - 10  # st_size
        return os.stat_result(values, {"st_mtime_ns": info.st_mtime_ns, "st_ctime_ns": info.st_ctime_ns})

    _fstat_says(monkeypatch, smaller)
    assert _answer(tmp_path, record) == (["sam.approver"], [])


def test_a_file_removed_between_the_listing_and_the_read_is_gone_not_damaged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ring, record, path = _one_approval(tmp_path)
    real = cache_module._file_bytes

    def removed_first(file: str, regular: bool) -> tuple[bytes, os.stat_result | None]:
        Path(file).unlink()
        return real(file, regular)

    monkeypatch.setattr(cache_module, "_file_bytes", removed_first)
    assert _answer(tmp_path, record) == ([], [])
    assert not path.exists()


def test_a_file_that_cannot_be_opened_is_named_with_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ring, record, path = _one_approval(tmp_path)
    real = os.open

    def refused(file: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module.os, "open", refused)
    approvers, problems = _answer(tmp_path, record)
    assert approvers == [] and len(problems) == 1
    assert problems[0].startswith(f"{path}: damaged approval file skipped") and "permission denied" in problems[0]


def test_a_record_folder_that_is_a_file_holds_nothing(tmp_path: Path) -> None:
    record = make_record()
    base = tmp_path / "cache" / APPROVALS_DIR
    base.mkdir(parents=True)
    (base / str(record.id)).write_text("not a folder", encoding="utf-8")
    assert _answer(tmp_path, record) == ([], [])


def test_the_stamp_kept_is_the_one_of_the_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read without a stat first, the file's stamp comes from fstat of what was opened: a settled file is
    kept by that stamp and read again once it changes."""
    monkeypatch.setattr(cache_module, "SETTLE_NS", 0)
    ring, record, path = _one_approval(tmp_path)
    time.sleep(0.05)
    assert _answer(tmp_path, record)[0] == ["sam.approver"]
    stamp = cache_module._FILES[str(path)][0]
    info = path.stat()
    assert stamp == (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    time.sleep(0.05)
    other = approve(ring, record, approver="eve.approver")
    path.with_name("incoming").write_text(other.to_json().replace(other.approval_id, path.stem), encoding="utf-8")
    os.replace(path.with_name("incoming"), path)
    assert _answer(tmp_path, record)[0] == ["eve.approver"]


def test_many_records_at_once_keep_each_file_to_its_folder_and_problems_in_file_order(tmp_path: Path) -> None:
    """Folders listed, then files read, then parsed, each pass over every record: what each record holds and
    the problems (in the order of the records asked and their files) are as one record at a time."""
    ring, _keys = ring_and_keys(tmp_path)
    records = [make_record() for _ in range(4)]
    cache = ApprovalCache(tmp_path / "cache")
    first = cache.add_approval(approve(ring, records[0], approver="a1"))
    cache.add_approval(approve(ring, records[0], approver="a2"))
    misplaced = approve(ring, records[1], approver="b-in-a")  # another record's approval in the first's folder
    (first.parent / "zz-misplaced.json").write_text(misplaced.to_json(), encoding="utf-8")
    (first.parent / "b-damaged.json").write_text("{", encoding="utf-8")
    third = cache.add_approval(approve(ring, records[2], approver="c1"))
    (third.parent / "a-empty.json").write_bytes(b"")
    asked = [records[2].id, records[3].id, records[0].id, records[1].id]
    many = ApprovalCache(tmp_path / "cache")
    held = many.approvals_for_many(asked)
    one = ApprovalCache(tmp_path / "cache")
    for record_id in asked:
        assert [a.approval_id for a in held[str(record_id)]] == [a.approval_id for a in one.approvals_for(record_id)]
    assert sorted(a.statement.approver for a in held[str(records[0].id)]) == ["a1", "a2"]
    assert held[str(records[1].id)] == [] and held[str(records[3].id)] == []
    assert [Path(p.split(": ")[0]).name for p in many.problems] == ["a-empty.json", "b-damaged.json"]
    assert many.problems == one.problems
