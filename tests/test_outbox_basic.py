"""The outbox: durable, one entry per (record id, content digest), claims safe across processes, backoff."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

from approvals_fixtures import make_record

from clearance.outbox import BACKOFF_CAP_S, Outbox, backoff_delay
from clearance.paths import outbox_path
from clearance.record import content_digest


def test_outbox_lives_in_the_user_data_folder_with_wal_and_full_sync(clearance_home: Path) -> None:
    with Outbox() as box:
        assert box.path == outbox_path() and str(box.path).startswith(str(clearance_home))
        assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_same_content_is_stored_once_and_an_edit_is_a_new_entry() -> None:
    record = make_record()
    with Outbox() as box:
        first, added = box.add(record)
        again, added_again = box.add(record.model_copy(deep=True))
        assert added and not added_again and first.content_digest == again.content_digest
        record.description = "more detail"
        edited, added_edit = box.add(record)
        assert added_edit and edited.content_digest != first.content_digest
        assert len(box.entries(str(record.id))) == 2
        assert edited.record().description == "more detail"


def test_is_disclosed_means_sent_or_safely_queued() -> None:
    record = make_record()
    digest = content_digest(record)
    with Outbox() as box:
        assert not box.is_disclosed(str(record.id), digest)
        entry, _ = box.add(record)
        assert box.is_disclosed(str(record.id), digest)
        box.mark_failed(entry, "server unreachable")
        assert box.is_disclosed(str(record.id), digest)  # still going to be retried
        box.mark_failed(entry, "422 refused", permanent=True)
        assert not box.is_disclosed(str(record.id), digest)  # needs a fix first
        assert box.retry_failed() == 1 and box.is_disclosed(str(record.id), digest)
        box.mark_sent(entry, "http://127.0.0.1:1", {"version": 1})
        assert box.is_disclosed(str(record.id), digest)
        assert box.entries(str(record.id))[0].state == "sent"


def test_an_entry_survives_the_process_that_queued_it(tmp_path: Path) -> None:
    record = make_record()
    path = tmp_path / "record.json"
    path.write_text(record.model_dump_json())
    code = (
        "import os; from clearance.outbox import Outbox; from clearance.record import load_record;"
        f"Outbox().add(load_record({str(path)!r})); os._exit(0)"  # no clean close: only the commit counts
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with Outbox() as box:
        assert [e.record_id for e in box.entries()] == [str(record.id)]


def test_claims_are_exclusive_and_a_dead_claimer_is_taken_over() -> None:
    with Outbox() as box:
        for _ in range(3):
            box.add(make_record())
    a, b = Outbox(), Outbox()
    try:
        taken_a = a.claim(2)
        taken_b = b.claim(5)
        assert len(taken_a) == 2 and len(taken_b) == 1
        assert not {e.record_id for e in taken_a} & {e.record_id for e in taken_b}
        # a process that died holding claims: its pid no longer exists
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        owner = a.owner.split(":")
        owner[1] = dead.stdout.strip()
        a._db.execute("UPDATE entries SET claimed_by = ?", (":".join(owner),))
        assert len(b.claim(5)) == 3
    finally:
        a.close()
        b.close()


def test_failure_sets_backoff_and_error() -> None:
    with Outbox() as box:
        entry, _ = box.add(make_record())
        box.mark_failed(entry, "cannot reach the disclosure service")
        failed = box.entries()[0]
        assert failed.state == "failed" and failed.attempts == 1 and failed.last_error
        assert failed.next_attempt_at is not None and failed.next_attempt_at > failed.updated_at
        assert box.claim(10) == []  # not due yet
        assert len(box.claim(10, force=True)) == 1  # an explicit sync does not wait


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, rng) for n in range(1, 12)]
    assert 2.5 <= delays[0] <= 5.0 and 5.0 <= delays[1] <= 10.0
    assert all(d <= BACKOFF_CAP_S for d in delays) and delays[-1] >= BACKOFF_CAP_S / 2
    assert len({round(backoff_delay(3, rng), 6) for _ in range(20)}) > 1


def test_a_damaged_outbox_gives_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "outbox.sqlite3"
    damaged = b"this is not a database" * 100
    bad.write_bytes(damaged)
    import pytest

    from clearance.errors import ClearanceError

    with pytest.raises(ClearanceError, match="cannot open the outbox") as info:
        Outbox(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    assert bad.read_bytes() == damaged  # nothing lost: the file (which may hold unsent records) is left as it was


def test_one_outbox_shared_by_threads() -> None:
    import threading

    records = [make_record() for _ in range(40)]
    with Outbox() as box:
        def worker(chunk: list) -> None:  # type: ignore[type-arg]
            for record in chunk:
                entry, _ = box.add(record, claim=True)
                box.mark_sent(entry, "http://127.0.0.1:1", {"version": 1})

        threads = [threading.Thread(target=worker, args=(records[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert box.counts()["sent"] == 40


def test_outbox_is_private_and_versioned(tmp_path: Path) -> None:
    import stat

    import pytest

    from clearance.errors import ClearanceError

    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as box:
        assert box._db.execute("PRAGMA user_version").fetchone()[0] == 1
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    newer = sqlite3.connect(path)
    newer.execute("PRAGMA user_version = 99")
    newer.close()
    with pytest.raises(ClearanceError, match="newer Clearance"):
        Outbox(path)
