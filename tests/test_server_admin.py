"""The service's schema, audit chain, admin commands and settings, on SQLite and PostgreSQL.

Real `clearance` subprocesses against real databases; the audit log is tampered with by plain SQL, as an
attacker with database access would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest
from server_fixtures import postgres_cluster, run_cli  # noqa: F401  (a fixture)
from sqlalchemy import text

from clearance.server import audit
from clearance.server.config import resolve
from clearance.server.db import HEAD_REVISION, Database, migrate, normalize_url

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_cluster").create_database(f"adm_{uuid.uuid4().hex[:10]}")
    return f"sqlite:///{tmp_path / 'clearance.sqlite3'}"


def test_migrations_make_exactly_the_models_schema(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from clearance.server.models import Base

    db = Database(db_url)
    try:
        before, after = migrate(db)
        assert before is None and after == HEAD_REVISION, "db.HEAD_REVISION must name the newest migration"
        assert migrate(db) == (after, after), "a second migration is a no-op"
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"the migrations and models.py disagree: {diff}"
    finally:
        db.dispose()


def _seed(db_url: str) -> int:
    """Two users through the admin code; returns the number of audit entries."""
    from clearance.server.admin import add_user

    db = Database(db_url)
    try:
        migrate(db)
        with db.write() as session:
            add_user(session, "ana", "artist", "P1", actor="test")
            add_user(session, "sam", "approver", "P1", password="long-enough-1", actor="test")
        with db.read() as session:
            return audit.verify(session).entries
    finally:
        db.dispose()


def _check(db_url: str) -> audit.ChainCheck:
    db = Database(db_url)
    try:
        with db.read() as session:
            return audit.verify(session)
    finally:
        db.dispose()


def _tamper(db_url: str, *statements: str) -> None:
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        db.dispose()


def test_upgrade_keeps_the_data(db_url: str) -> None:
    """Migrating an existing database again keeps its users and tokens (migrations, not re-creation)."""
    _seed(db_url)
    db = Database(db_url)
    try:
        before, after = migrate(db)
        assert before == after is not None
        with db.engine.connect() as conn:
            assert conn.execute(text("select count(*) from users")).scalar_one() == 2
            assert conn.execute(text("select count(*) from api_tokens")).scalar_one() == 2
    finally:
        db.dispose()


_SWAP_2_AND_3 = (
    "update audit_log set seq = -2 where seq = 2",
    "update audit_log set seq = 2 where seq = 3",
    "update audit_log set seq = 3 where seq = -2",
)


@pytest.mark.parametrize(
    ("statements", "bad_seq"),
    [
        (("update audit_log set details = '{\"role\":\"admin\"}' where seq = 3",), 3),
        (("update audit_log set actor = 'mallory' where seq = 2",), 2),
        (("delete from audit_log where seq = 4",), 4),
        (_SWAP_2_AND_3, 2),
        (("delete from audit_log where seq = (select max(seq) from audit_log)",), None),
    ],
    ids=["edited", "actor-changed", "deleted", "reordered", "tail-deleted"],
)
def test_audit_chain_detects_tampering(db_url: str, statements: tuple[str, ...], bad_seq: int | None) -> None:
    total = _seed(db_url)
    assert _check(db_url).ok
    _tamper(db_url, *statements)
    result = _check(db_url)
    assert not result.ok
    assert result.first_bad_seq == (bad_seq if bad_seq is not None else total), result.problem


def test_audit_verify_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    _seed(url)
    ok = run_cli("audit", "verify", "--db", url, home=tmp_path)
    assert ok.returncode == 0 and "audit log intact" in ok.stdout, ok.stdout + ok.stderr
    with sqlite3.connect(tmp_path / "c.sqlite3") as conn:
        conn.execute("update audit_log set object = 'user:nobody' where seq = 5")
    broken = run_cli("audit", "verify", "--db", url, home=tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.startswith("audit log BROKEN at entry 5: entry 5 was edited")


def test_admin_commands_refuse_bad_input_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    cases = [
        (["admin", "user", "add", "bad name", "--role", "artist", "--production", "P", "--db", url], "user name"),
        (["admin", "user", "add", "ana", "--role", "artist", "--production", "P!", "--db", url], "production code"),
        (["admin", "user", "add", "ana", "--role", "artist", "--production", "P", "--db", "mysql://x/y"],
         "not supported"),
        (["serve", "--db", "postgresql://nobody@127.0.0.1:1/none", "--port", "1"], "cannot migrate"),
        (["audit", "verify", "--db", f"sqlite:///{tmp_path / 'empty.sqlite3'}"], "never migrated"),
    ]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(cases)) as pool:  # independent processes: run them side by side
        outputs = list(pool.map(lambda case: run_cli(*case[0], home=tmp_path), cases))
    for (args, words), out in zip(cases, outputs, strict=True):
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in out.stderr, (args, out.stderr)
    short = run_cli("admin", "user", "add", "ana", "--role", "artist", "--production", "P", "--create",
                    "--password-stdin", "--db", url, home=tmp_path, stdin="short\n")
    assert short.returncode == 2 and "too short" in short.stderr


def test_user_add_prints_the_token_last_and_stores_only_its_hash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    first = run_cli("admin", "user", "add", "ana", "--role", "artist", "--production", "P1", "--create", "--db", url,
                    home=tmp_path)
    second = run_cli("admin", "user", "add", "ana", "--role", "approver", "--production", "P2", "--create", "--db", url,
                     home=tmp_path)
    tokens = [out.stdout.strip().splitlines()[-1] for out in (first, second)]
    assert all(t.startswith("clr_") and len(t) > 40 for t in tokens) and tokens[0] != tokens[1]
    dump = "\n".join(sqlite3.connect(tmp_path / "c.sqlite3").iterdump())
    assert tokens[0] not in dump and tokens[1] not in dump
    listing = run_cli("admin", "user", "list", "--db", url, home=tmp_path).stdout
    assert "artist@P1" in listing and "approver@P2" in listing


def test_keys_dir_is_private_and_rotation_keeps_old_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    out = run_cli("admin", "keys", "rotate", "--keys-dir", str(keys), "--db", url, home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.glob("*.pem"))
    shown = json.loads(run_cli("admin", "keys", "show", "--keys-dir", str(keys), home=tmp_path).stdout)
    assert [k["active"] for k in shown["keys"]] == [False, True]


def test_settings_precedence_flags_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "server.yaml"
    config.write_text("port: 9100\nhost: 0.0.0.0\nworkers: 3\ndb: postgres://u:secret@db/clearance\n")
    monkeypatch.setenv("CLEARANCE_PORT", "9200")
    resolved = resolve(str(config), port=9300)
    assert (resolved.port, resolved.host, resolved.workers) == (9300, "0.0.0.0", 3)
    assert resolve(str(config)).port == 9200
    assert normalize_url(resolved.db) == "postgresql+psycopg://u:secret@db/clearance"
    monkeypatch.delenv("CLEARANCE_PORT")
    assert resolve(None).port == 8750 and resolve(None).host == "127.0.0.1"
    assert resolve(None).db.endswith(os.path.join("server", "clearance.sqlite3"))
    config.write_text("port: many\n")
    with pytest.raises(Exception, match=r"server.yaml:1: field port"):
        resolve(str(config))


def test_committed_openapi_matches_the_app() -> None:
    from clearance.server.openapi import render

    committed = (DOCS / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(render()), (
        "docs/openapi.json is out of date: run `.venv/bin/python -m clearance.server.openapi docs/openapi.json`"
    )


def test_demo_seed_only(tmp_path: Path) -> None:
    out = run_cli("demo", "--dir", str(tmp_path / "demo"), "--seed-only", home=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    for words in ("pages:", "/queue", "artist", "approver", "admin", "CLEARANCE_TOKEN=clr_"):
        assert words in out.stdout
    again = run_cli("demo", "--dir", str(tmp_path / "demo"), "--seed-only", home=tmp_path, timeout=120)
    assert again.returncode == 0
    first_count = out.stdout.split("example records")[0].rsplit(",", 1)[1].strip()
    assert first_count in again.stdout, "seeding twice stores nothing twice"
    db = Database(f"sqlite:///{tmp_path / 'demo' / 'clearance.sqlite3'}")
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("select count(*) from record_versions")).scalar_one() == int(first_count)
            assert conn.execute(text("select count(*) from approvals")).scalar_one() <= 1
    finally:
        db.dispose()
