"""The outbox's batch answer to "was this record version disclosed?" is ``is_disclosed`` pair by pair."""

from __future__ import annotations

from pathlib import Path

import pytest
from records import make_record

from clearance import outbox as outbox_module
from clearance.outbox import Outbox
from clearance.record import content_digest


@pytest.mark.parametrize("scan_factor", [0, outbox_module.SCAN_FACTOR, 10**9], ids=["by-id", "default", "scan"])
def test_disclosed_in_one_batch_is_is_disclosed_pair_by_pair(
        tmp_path: Path, scan_factor: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways of answering (reading the whole outbox, looking the records up by id) answer the same."""
    monkeypatch.setattr(outbox_module, "SCAN_FACTOR", scan_factor)
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        queued, sent, refused, retrying, never = (make_record() for _ in range(5))
        outbox.add(queued)
        outbox.mark_sent(outbox.add(sent)[0], "http://127.0.0.1:1", {"status": "notify"})
        outbox.mark_failed(outbox.add(refused)[0], "422: fix the record", permanent=True)
        outbox.mark_failed(outbox.add(retrying)[0], "connection refused")
        edited = make_record()
        edited.id = queued.id
        edited.description = "edited after it was queued"  # another version of a disclosed record
        many = [make_record() for _ in range(1200)]  # more records than one query asks for
        for record in many[::2]:
            outbox.add(record)
        versions = [(str(r.id), content_digest(r)) for r in (queued, sent, refused, retrying, never, edited, *many)]
        expected = {pair for pair in versions if outbox.is_disclosed(*pair)}
        assert outbox.disclosed(versions) == expected
        assert outbox.disclosed(iter(versions)) == expected
        assert len(expected) == 3 + 600  # queued, sent, retrying (not the refusal), every other of the many
        assert (str(refused.id), content_digest(refused)) not in expected
        assert (str(edited.id), content_digest(edited)) not in expected
        assert outbox.disclosed([]) == set()


def test_a_request_much_smaller_than_the_outbox_looks_records_up(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A publish of a few records in an outbox of many asks for those records, not for every entry."""
    scanned: list[int] = []
    scan = Outbox._disclosed_by_scan

    def counted(cursor: object, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
        scanned.append(len(wanted))
        return scan(cursor, wanted)  # type: ignore[arg-type]

    monkeypatch.setattr(Outbox, "_disclosed_by_scan", staticmethod(counted))
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        records = [make_record() for _ in range(40)]
        for record in records:
            outbox.add(record)
        few = [(str(r.id), content_digest(r)) for r in records[:5]]
        assert outbox.disclosed(few) == set(few)
        assert scanned == []
        every = [(str(r.id), content_digest(r)) for r in records]
        assert outbox.disclosed(every) == set(every)
        assert scanned == [40]


def test_disclosed_is_answered_from_the_index_never_from_the_record_bodies(tmp_path: Path) -> None:
    """State and permanent sit after the body in the table (on overflow pages for a record of a few KB): the
    question is answered from ``ix_entries_disclosed``, which an outbox made before it existed gets on opening."""
    import sqlite3

    path = tmp_path / "outbox.sqlite"
    record = make_record()
    with Outbox(path) as outbox:
        outbox.add(record)
    db = sqlite3.connect(path)
    db.execute("DROP INDEX ix_entries_disclosed")  # an outbox written by an earlier version
    db.commit()
    db.close()
    with Outbox(path) as outbox:
        plans = [" ".join(str(row[3]) for row in outbox._db.execute(
            f"EXPLAIN QUERY PLAN SELECT record_id, content_digest FROM entries WHERE {query}", params))
            for query, params in ((outbox_module._DISCLOSED, ()),
                                  (f"({outbox_module._DISCLOSED}) AND record_id IN (?, ?)", ("a", "b")))]
        assert all("COVERING INDEX ix_entries_disclosed" in plan for plan in plans), plans
        pair = (str(record.id), content_digest(record))
        assert outbox.disclosed([pair]) == {pair}


def test_an_outbox_that_cannot_take_the_index_answers_the_same(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The index only speeds the question up: when it cannot be built (here: a statement that fails as a full
    disk would), the outbox still opens and gives the same answers, from the table."""
    import sqlite3

    path = tmp_path / "outbox.sqlite"
    records = [make_record() for _ in range(6)]
    with Outbox(path) as outbox:
        for record in records[:4]:
            outbox.add(record)
        outbox.mark_failed(outbox.add(records[4])[0], "422: fix the record", permanent=True)
    db = sqlite3.connect(path)
    db.execute("DROP INDEX ix_entries_disclosed")
    db.commit()
    db.close()
    monkeypatch.setattr(outbox_module, "DISCLOSED_INDEX", "CREATE INDEX ix_failing ON no_such_table (x)")
    versions = [(str(r.id), content_digest(r)) for r in records]
    for factor in (0, 10**9):
        monkeypatch.setattr(outbox_module, "SCAN_FACTOR", factor)
        with Outbox(path) as outbox:
            assert not outbox._db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'ix_entries_disclosed'").fetchall()
            assert outbox.disclosed(versions) == set(versions[:4])
