"""Several hosts, one truth: two `clearance serve` on one PostgreSQL.

- A key rotated on one host: both hosts serve the same key set from the database, and approvals signed by
  either host (one with the new key, one still with the old) verify after a pull of keys from either.
- A host frozen while holding the audit head's row lock (its connection idle in a transaction): the other
  host's writes answer 503 with Retry-After within the lock timeout instead of hanging, and resume once the
  idle-in-transaction timeout ends the frozen transaction. A SIGSTOP'd host does not stop the other.
- kill -9 of a `clearance serve --workers 2` parent: its workers end with it, and a restart on the same port
  listens.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from server_fixtures import (
    LiveServer,
    clearance_cli,
    postgres_cluster,  # noqa: F401  (a fixture)
    record_body,
    start_server,
)

from clearance.approvals import Revocations, SignedApproval, TrustedKeys, verify
from clearance.record import UseRecord

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def hosts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer,
                                                                                                      LiveServer]]:
    url = request.getfixturevalue("postgres_cluster").create_database(f"hosts_{uuid.uuid4().hex[:10]}")
    base = tmp_path_factory.mktemp("hosts")
    first = start_server(base / "a", db=url)
    shutil.copytree(first.keys_dir, base / "b" / "keys")  # as documented: the keys copied to the second host
    second = start_server(base / "b", db=url)
    try:
        for name, role in (("ana.artist", "artist"), ("sam.approver", "approver")):
            token = first.add_user_direct(name, role)
            second.tokens[name] = token
        yield first, second
    finally:
        second.stop()
        first.stop()


def _approve_on(host: LiveServer) -> tuple[SignedApproval, UseRecord]:
    body = record_body()
    assert host.post("/records", host.tokens["ana.artist"], body).status_code == 201
    answer = host.post(f"/records/{body['id']}/decision", host.tokens["sam.approver"],
                       {"decision": "approve", "version": 1})
    assert answer.status_code == 201, answer.text
    return SignedApproval.model_validate(answer.json()), UseRecord.model_validate(body)


def test_a_rotation_on_one_host_keeps_every_approval_verifiable(hosts: tuple[LiveServer, LiveServer]) -> None:
    first, second = hosts
    before = _approve_on(second)
    rotated = subprocess.run([*clearance_cli(), "admin", "keys", "rotate", "--db", first.db, "--keys-dir",
                              str(first.keys_dir)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "CLEARANCE_HOME": str(first.home)})
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.split("new active signing key ")[1].split()[0]
    by_new = _approve_on(first)  # the rotated host signs with the new key ...
    by_old = _approve_on(second)  # ... the other still with the old one until its private key is handed over
    assert by_new[0].key_id == new_key and by_old[0].key_id != new_key
    documents = [requests.get(f"{h.url}/api/v1/keys", timeout=10).json() for h in hosts]
    assert documents[0] == documents[1], "both hosts serve the same key set"
    for host, document in zip(hosts, documents, strict=True):  # a pull from either host
        keys = TrustedKeys.from_document(document)
        revoked = Revocations.from_document(host.get("/revocations", host.tokens["ana.artist"]).json(), keys=keys)
        for approval, record in (before, by_new, by_old):
            result = verify(approval, record, keys=keys, revocations=revoked)
            assert result.valid, (host.url, result.reason)


def test_a_frozen_host_holding_the_audit_lock_does_not_stop_writes(hosts: tuple[LiveServer, LiveServer]) -> None:
    first, second = hosts
    os.kill(second.process.pid, signal.SIGSTOP)  # a frozen host: the other keeps answering
    try:
        body = record_body()
        assert first.post("/records", first.tokens["ana.artist"], body).status_code == 201
    finally:
        os.kill(second.process.pid, signal.SIGCONT)
    # What a host frozen inside a write leaves behind: a connection idle in a transaction holding the head's
    # row lock, with the session settings every host's connections carry.
    frozen = psycopg.connect(first.db.replace("postgresql+psycopg://", "postgresql://"),
                             options="-c idle_in_transaction_session_timeout=10000")
    frozen.execute("select seq from audit_head where id = 1 for update")
    started = time.monotonic()
    blocked = first.post("/records", first.tokens["ana.artist"], record_body())
    waited = time.monotonic() - started
    assert blocked.status_code == 503 and int(blocked.headers["retry-after"]) >= 1, blocked.text
    assert waited < 20, f"the write waited {waited:.1f} s"
    deadline = time.monotonic() + 30
    while True:  # the frozen transaction is ended by the server after 10 s idle; writes resume
        answer = first.post("/records", first.tokens["ana.artist"], record_body())
        if answer.status_code == 201:
            break
        assert answer.status_code == 503 and time.monotonic() < deadline, answer.text
        time.sleep(1)
    frozen.close()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_kill_9_of_the_parent_ends_its_workers(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_cluster").create_database(f"kill_{uuid.uuid4().hex[:10]}")
    server = start_server(tmp_path / "w", db=url, workers=2)
    port = int(server.url.rsplit(":", 1)[1])
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while _port_open(port):
        assert time.monotonic() < deadline, "the workers kept serving the port after kill -9 of their parent"
        time.sleep(0.2)
    again = subprocess.Popen([*clearance_cli(), "serve", "--db", url, "--host", "127.0.0.1", "--port", str(port),
                              "--keys-dir", str(server.keys_dir), "--workers", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "CLEARANCE_HOME": str(server.home)})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert again.poll() is None, "the restart failed (address already in use?)"
            assert time.monotonic() < deadline, "the restart did not listen"
            time.sleep(0.2)
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(timeout=30)


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_whose_parent_died_before_it_loaded_ends_itself() -> None:
    """A worker still loading when `clearance serve` was killed has been handed to another process already:
    it must judge its parent by the pid `serve` announced, or it would serve the port on for ever."""
    from clearance.server.config import PARENT_ENV

    script = "from clearance.server.app import die_with_parent; die_with_parent(); import time; time.sleep(30)"
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    orphan = subprocess.run([sys.executable, "-c", script], env={**env, PARENT_ENV: "0"}, timeout=60, check=False)
    assert orphan.returncode == -signal.SIGTERM, orphan.returncode
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        time.sleep(3)  # the import and the check are done by now: its announced parent (this process) lives
        assert child.poll() is None, "a worker whose parent lives ended"
    finally:
        child.kill()
        child.wait(timeout=10)
