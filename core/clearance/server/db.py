"""Database engines and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3).

Write transactions take the one write lock up front (SQLite: BEGIN IMMEDIATE; PostgreSQL: a row lock on
the audit head) so the audit chain has a single order and concurrent submissions never race.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy handler queues the writers
    fcntl = None  # type: ignore[assignment]

from clearance.errors import ClearanceError
from clearance.server.models import AuditHead

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 7_508_750  # a PostgreSQL advisory lock id: one process migrates at a time


def normalize_url(url: str) -> str:
    """Accept postgresql:// and postgres:// (psycopg 3 is the driver) and a bare SQLite file path."""
    url = url.strip()
    if not url:
        raise ClearanceError("the database URL is empty; give --db sqlite:///FILE or postgresql://USER@HOST/DB")
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    elif "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ClearanceError(
            f"{url!r} is not a database URL; give sqlite:///FILE or postgresql://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ClearanceError(f"database {parsed.get_backend_name()!r} is not supported; use sqlite or postgresql")
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8, max_overflow=16)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we emit it ourselves (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL below may wait for another process
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # The submission writer checkpoints when idle (Database.checkpoint); this is only the safety net,
        # so a commit in a request rarely pays for copying the WAL back into the database.
        cursor.execute("PRAGMA wal_autocheckpoint=20000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads then writes fails at once with SQLITE_BUSY under load;
        # IMMEDIATE takes the write lock first and waits its turn (busy_timeout).
        options = conn.get_execution_options()
        if options.get("clearance_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get("clearance_single_read"):  # one SELECT needs no transaction of its own
            conn.exec_driver_sql("BEGIN")

    return engine


LOCK_TIMEOUT_MS = 5_000
STATEMENT_TIMEOUT_MS = 30_000
IDLE_IN_TRANSACTION_MS = 10_000
BUSY_RETRY_AFTER_SECONDS = 2


class Database:
    """One engine per process and helpers for read and write transactions."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.sqlite = is_sqlite(self.url)
        if self.sqlite:
            self.engine = _sqlite_engine(self.url)
        else:
            # Bounded waits: a frozen or vanished host holding a row lock (the audit head) must not stop every
            # other host's writes for longer than LOCK_TIMEOUT_MS; its idle transaction is ended after
            # IDLE_IN_TRANSACTION_MS. A wait cut short answers 503 with Retry-After (see app.py).
            options = (f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS} "
                       f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}")
            self.engine = create_engine(self.url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                                        connect_args={"options": options})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = self.engine.execution_options(clearance_write=True)
        self._single_engine = self.engine.execution_options(clearance_single_read=True)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)
        self._thread_lock = threading.Lock()
        self._lock_path = None
        if self.sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                self._lock_path = Path(database + ".writelock")

    @property
    def backend(self) -> str:
        return "sqlite" if self.sqlite else "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """SQLite: one writer at a time, queued in the kernel (flock) instead of SQLite's sleep-and-retry
        busy handler, whose back-off sleeps make the slowest writes wait 100 ms and more under load."""
        if not self.sqlite:
            yield
            return
        with self._thread_lock:
            if self._lock_path is None or fcntl is None:
                yield
                return
            with open(self._lock_path, "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction holding the service's write lock until commit."""
        with self._writer_turn(), self._write() as session, session.begin():
            if not self.sqlite:
                session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """The same write transaction for SQLAlchemy Core statements (the lean submit path)."""
        with self._writer_turn(), self._write_engine.begin() as conn:
            if not self.sqlite:
                conn.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
            yield conn

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """A connection for one SELECT (SQLite: no BEGIN/COMMIT round trip)."""
        with self._single_engine.connect() as conn:
            yield conn

    def checkpoint(self) -> None:
        """SQLite: copy the WAL back into the database now, between bursts of writes. Never fails a caller."""
        if not self.sqlite:
            return
        # a busy database: the next idle moment (or the autocheckpoint) will do it
        with contextlib.suppress(Exception), self._single_engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


HEAD_REVISION = "0005"
"""The newest migration's id (a test checks it against migrations/versions): a database already there is
recognised with one query, without loading Alembic, which keeps every `clearance admin` call quick."""


def _revision_now(db: Database) -> str | None:
    try:
        with db.single_read() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception:  # no table yet: a new database
        return None


def migrate(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema up to ``revision``; returns (before, after) revisions. Safe to run from many processes."""
    if revision == "head" and _revision_now(db) == HEAD_REVISION:
        return HEAD_REVISION, HEAD_REVISION
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    try:
        # SQLite: the writer's turn plus BEGIN IMMEDIATE, so two processes migrating one new file queue up.
        with db._writer_turn(), (db.engine if not db.sqlite else db._write_engine).connect() as conn:
            if not db.sqlite:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
                conn.commit()
            try:
                before = MigrationContext.configure(conn).get_current_revision()
                conn.commit()
                command.upgrade(alembic_config(conn), revision)
                conn.commit()
                after = MigrationContext.configure(conn).get_current_revision()
                conn.commit()
            finally:
                if not db.sqlite:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
                    conn.commit()
    except ClearanceError:
        raise
    except Exception as exc:  # OperationalError etc.: the database is unreachable or not ours
        raise ClearanceError(f"cannot migrate the database {db_label(db.url)}: {str(exc).splitlines()[0]}") from None
    return before, after


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def db_label(url: str) -> str:
    from clearance.server.config import redact_url

    return redact_url(url)
