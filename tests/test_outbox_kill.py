"""Durability against the real service: a `clearance sync` process killed with SIGKILL mid-flight, then
restarted, and two syncs racing: every record arrives exactly once (one record, one version)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from approvals_fixtures import make_record
from server_fixtures import PRODUCTION, LiveServer, clearance_cli, live_server  # noqa: F401

from clearance.outbox import Outbox

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"), pytest.mark.slow]


def queue_records(count: int) -> set[str]:
    ids = set()
    with Outbox() as box:
        for _ in range(count):
            entry, _added = box.add(make_record())
            ids.add(entry.record_id)
    return ids


def sync_process(server: LiveServer, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CLEARANCE_HOME": str(home), "CLEARANCE_SERVER": server.url,
           "CLEARANCE_TOKEN": server.tokens["ana.artist"]}
    return subprocess.Popen([*clearance_cli(), "sync"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def sent_count() -> int:
    with Outbox() as box:
        return box.counts()["sent"]


def server_versions(server: LiveServer, ids: set[str]) -> dict[str, int]:
    """record id -> number of versions the server holds, for the records of this test."""
    answer = server.get(f"/records?production={PRODUCTION}&limit=5000", server.tokens["sam.approver"])
    assert answer.status_code == 200, answer.text
    return {r["id"]: r["version"] for r in answer.json()["records"] if r["id"] in ids}


def test_sigkill_during_sync_then_restart_delivers_each_record_once(
    live_server: LiveServer, clearance_home: Path  # noqa: F811
) -> None:
    total = 100
    ids = queue_records(total)
    kills = 0
    for threshold in (10, 40):  # kill twice, at different points of the queue
        process = sync_process(live_server, clearance_home)
        deadline = time.monotonic() + 120
        while sent_count() < threshold and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is not None:
            pytest.fail(f"sync finished before it could be killed (sent {sent_count()}); queue more records")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        kills += 1
    assert sent_count() < total, "the kills came too late to test anything"
    final = sync_process(live_server, clearance_home)
    _out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    with Outbox() as box:
        entries = box.entries()
        assert {e.record_id for e in entries} == ids and all(e.state == "sent" for e in entries)
    versions = server_versions(live_server, ids)
    assert set(versions) == ids, f"{len(ids - set(versions))} record(s) never arrived"
    assert set(versions.values()) == {1}, "a record was stored twice"
    assert kills == 2


def test_two_syncs_racing_deliver_each_record_once(live_server: LiveServer, clearance_home: Path) -> None:  # noqa: F811
    ids = queue_records(40)
    first, second = sync_process(live_server, clearance_home), sync_process(live_server, clearance_home)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    sent_by = [int(out.split("sent ", 1)[1].split(",", 1)[0]) for out, _ in outputs]
    assert sum(sent_by) == 40, f"claims overlapped: {sent_by}"  # no entry was sent by both
    versions = server_versions(live_server, ids)
    assert set(versions) == ids and set(versions.values()) == {1}
