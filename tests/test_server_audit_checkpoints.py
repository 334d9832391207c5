"""Signed audit checkpoints: each rewrite the issue names, and variants, is caught by `clearance audit verify`.

The attacker here can write the database (SQL straight to the tables) but does not hold the service's
signing key. Every case runs on SQLite and on PostgreSQL, through the real CLI.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_fixtures import postgres_cluster, run_cli  # noqa: F401  (a fixture)
from sqlalchemy import select, text

from clearance.approvals import KeyRing
from clearance.server import audit, checkpoints
from clearance.server.admin import add_user
from clearance.server.db import Database, migrate
from clearance.server.models import AuditEntry


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Path, Path]]:
    """A log of 12 entries with a stored checkpoint after entry 6 and an exported one after entry 12."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_cluster").create_database(f"ckp_{uuid.uuid4().hex[:10]}")
    else:
        url = f"sqlite:///{tmp_path / 'clearance.sqlite3'}"
    db = Database(url)
    migrate(db)
    keys = tmp_path / "keys"
    ring = KeyRing.open(keys)
    with db.write() as session:
        add_user(session, "ana", "artist", "P1", actor="test")  # 4 entries: production, user, role, token
        audit.append(session, "sam", "record.deny", "record:r1", "P1", {"reason": "real brand on the sign"})
        audit.append(session, "sam", "record.approve", "record:r2", "P1", {"conditions": "background only"})
        checkpoints.write(session, ring)  # entry 7 vouches for 6
        for i in range(5):
            audit.append(session, "ana", "record.submit", f"record:x{i}", "P1", {"version": 1})
    exported = run_cli("audit", "checkpoint", "--db", url, "--keys-dir", str(keys), home=tmp_path)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    file = tmp_path / "checkpoint.json"
    file.write_text(exported.stdout, encoding="utf-8")
    assert json.loads(exported.stdout)["seq"] == 12
    try:
        yield db, keys, file
    finally:
        db.dispose()


def verify(db: Database, keys: Path, *files: Path) -> tuple[int, str]:
    args = ["audit", "verify", "--db", db.url, "--keys-dir", str(keys)]
    for file in files:
        args += ["--checkpoint", str(file)]
    done = run_cli(*args, home=keys.parent)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


def sql(db: Database, *statements: str) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def recompute_chain(db: Database) -> None:
    """What an attacker with database access does after an edit: every hash again, and the head moved."""
    with db.engine.begin() as conn:
        rows = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).mappings().all()
        prev = audit.GENESIS
        for seq, row in enumerate(rows, start=1):
            digest = audit.entry_hash(seq, row["at"], row["actor"], row["action"], row["object"], row["production"],
                                      row["details"], prev)
            conn.execute(text("update audit_log set seq = :new, prev_hash = :p, hash = :h where seq = :old"),
                         {"new": seq, "p": prev, "h": digest, "old": row["seq"]})
            prev = digest
        conn.execute(text("update audit_head set seq = :s, hash = :h where id = 1"), {"s": len(rows), "h": prev})


def test_an_untouched_log_is_anchored(log: tuple[Database, Path, Path]) -> None:
    db, keys, file = log
    code, out = verify(db, keys, file)
    assert code == 0, out
    assert "audit log intact: 13 entries" in out and "up to entry 13" in out and "unanchored tail: 0 entries" in out


def test_last_rows_deleted_and_head_moved_back(log: tuple[Database, Path, Path]) -> None:
    db, keys, file = log
    sql(db, "delete from audit_log where seq > 9")
    recompute_chain(db)
    code, out = verify(db, keys)  # without the exported checkpoint the chain looks whole...
    assert code == 0 and "unanchored tail: 2 entries" in out, out
    code, out = verify(db, keys, file)  # ... the checkpoint kept outside says what is gone
    assert code == 1 and "log ends at entry 9" in out and "truncated" in out, out


def test_a_denials_actor_edited_and_the_chain_recomputed(log: tuple[Database, Path, Path]) -> None:
    db, keys, file = log
    sql(db, "update audit_log set actor = 'kim' where action = 'record.deny'")
    recompute_chain(db)
    code, out = verify(db, keys)  # the checkpoint stored after it no longer matches
    assert code == 1 and "the checkpoint stored at entry 7 vouches for entry 6" in out and "rewritten" in out, out
    sql(db, "delete from audit_log where action = 'audit.checkpoint'")  # ...so the attacker removes those too
    recompute_chain(db)
    code, out = verify(db, keys, file)
    assert (code == 1 and "rewritten" in out) or "truncated" in out, out


def test_an_approval_entry_deleted_and_the_chain_recomputed(log: tuple[Database, Path, Path]) -> None:
    db, keys, file = log
    sql(db, "delete from audit_log where action = 'record.approve'")
    recompute_chain(db)
    code, out = verify(db, keys, file)
    assert code == 1, out


def test_a_wipe_back_to_genesis(log: tuple[Database, Path, Path]) -> None:
    db, keys, file = log
    sql(db, "delete from audit_log", f"update audit_head set seq = 0, hash = '{audit.GENESIS}' where id = 1")
    code, out = verify(db, keys)
    assert code == 0 and "0 entries" in out, out  # an empty log is a valid chain: only an outside anchor knows
    code, out = verify(db, keys, file)
    assert code == 1 and "log ends at entry 0" in out, out


def test_a_rewrite_after_the_last_checkpoint_is_an_unanchored_tail(log: tuple[Database, Path, Path]) -> None:
    db, keys, _file = log
    with db.write() as session:
        audit.append(session, "ana", "record.submit", "record:late", "P1", {"version": 1})
        audit.append(session, "ana", "record.submit", "record:later", "P1", {"version": 1})
    sql(db, "update audit_log set actor = 'mallory' where object = 'record:later'")
    recompute_chain(db)
    code, out = verify(db, keys)
    assert code == 0 and "unanchored tail: 2 entries" in out, out


def test_a_checkpoint_signed_by_another_key_is_refused(log: tuple[Database, Path, Path], tmp_path: Path) -> None:
    db, keys, _file = log
    sql(db, "update audit_log set actor = 'kim' where action = 'record.deny'",
        "delete from audit_log where action = 'audit.checkpoint'")
    recompute_chain(db)
    forger = KeyRing.open(tmp_path / "forger-keys")
    with db.write() as session:
        checkpoints.write(session, forger)
    forged = tmp_path / "forged.json"
    with db.read() as session:
        forged.write_text(json.dumps(checkpoints.latest(session)), encoding="utf-8")
    code, out = verify(db, keys, forged)
    assert code == 1 and "not signed by a trusted key" in out, out


def test_bad_checkpoint_files_get_one_line(log: tuple[Database, Path, Path], tmp_path: Path) -> None:
    db, keys, _file = log
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}', encoding="utf-8")
    done = run_cli("audit", "verify", "--db", db.url, "--keys-dir", str(keys), "--checkpoint", str(junk),
                   home=tmp_path)
    assert done.returncode == 2 and "not an audit checkpoint" in done.stderr and "Traceback" not in done.stderr
