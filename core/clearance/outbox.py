"""The durable outbox: every submission is on disk before any network call, and leaves only when sent.

A SQLite file in the user data folder (``clearance.paths.outbox_path()``), WAL journal with
``synchronous=FULL`` so a committed entry survives a crash or power loss. One entry per
(record id, content digest): submitting the same content twice stores it once; an edited record is a
new entry (a new version on the server). Several processes (a host, the CLI, a farm job) may use the
same outbox: work is claimed under ``BEGIN IMMEDIATE`` with a lease, and a claim held by a process that
died is taken over at once. Whatever a crash interrupts is sent again; the server's idempotency on
(record id, content digest) makes the retry harmless.

States: ``queued`` (not sent yet), ``sent`` (the server stored it), ``failed`` (an attempt failed; it is
retried after ``next_attempt_at`` unless ``permanent``: refused by the server, it needs a fix first).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from clearance.errors import ClearanceError
from clearance.paths import outbox_path
from clearance.record import UseRecord, content_digest, dump_record

State = Literal["queued", "sent", "failed"]
BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 3600.0
LEASE_S = 120.0
BUSY_TIMEOUT_S = 30.0
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    record_id TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    production TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    permanent INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    sent_at REAL,
    server TEXT,
    response TEXT,
    claimed_by TEXT,
    claimed_until REAL,
    PRIMARY KEY (record_id, content_digest)
);
CREATE INDEX IF NOT EXISTS ix_entries_due ON entries (state, next_attempt_at);
"""

DISCLOSED_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_entries_disclosed ON entries (record_id, content_digest, state, permanent)")
"""Answers "was this version disclosed?" from the index alone: in the table, state and permanent come after the
record's body, which SQLite stores on overflow pages, so reading them there reads every body (a publish of
10,000 records read 40 MB). An outbox written before the index existed gets it the first time it is opened
(one pass over the table); one that cannot take it (a full disk) answers the same, only slower."""


def backoff_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempts``: doubling from 5 s, capped at an hour, with jitter
    so a studio's worth of clients coming back online do not all retry in the same second."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(0, attempts - 1)))
    return float(ceiling / 2 + (rng or random).uniform(0, ceiling / 2))


_SUPERSEDED = (
    "entries.state != 'sent' AND entries.permanent = 1 AND EXISTS (SELECT 1 FROM entries AS later "
    "WHERE later.record_id = entries.record_id AND later.state = 'sent' AND later.created_at > entries.created_at)"
)
"""A refused submission that a later version of the same record, sent since, made moot."""

_DISCLOSED = "state = 'sent' OR NOT permanent"
"""``Outbox.is_disclosed`` in SQL: sent, or safely queued to be sent (not a refusal that needs a fix)."""

SCAN_FACTOR = 4
"""``Outbox.disclosed`` reads the whole outbox when it holds at most this many entries per version asked for."""


class OutboxEntry(BaseModel):
    record_id: str
    content_digest: str
    production: str
    state: State
    permanent: bool
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    server: str | None
    response: dict[str, Any] | None
    body: str
    claimed: bool = False

    def record(self) -> UseRecord:
        return UseRecord.model_validate_json(self.body)

    @property
    def pending(self) -> bool:
        """Safely queued: on disk and going to be sent without anyone's action."""
        return self.state != "sent" and not self.permanent


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _stamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, timezone.utc)  # created_at and updated_at are NOT NULL


def _row_entry(row: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        record_id=row["record_id"],
        content_digest=row["content_digest"],
        production=row["production"],
        state=row["state"],
        permanent=bool(row["permanent"]),
        attempts=row["attempts"],
        next_attempt_at=_ts(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=_stamp(row["created_at"]),
        updated_at=_stamp(row["updated_at"]),
        sent_at=_ts(row["sent_at"]),
        server=row["server"],
        response=json.loads(row["response"]) if row["response"] else None,
        body=row["body"],
    )


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_alive(owner: str | None) -> bool:
    """False when the claim belongs to a process on this machine that no longer exists."""
    if not owner:
        return False
    try:
        host, pid, _ = owner.split(":", 2)
        pid_number = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine on a shared folder: trust its lease
    if pid_number == os.getpid() or sys.platform == "win32":
        return True  # on Windows os.kill(pid, 0) would terminate the process: wait for the lease instead
    try:
        os.kill(pid_number, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outbox:
    """The queue of submissions on this machine. Open one per process; it is safe to share the file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else outbox_path()
        self.owner = _owner()
        # One connection per Outbox; hosts call it from UI and background threads, so serialize use.
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists() and sys.platform != "win32":
                # Records may name people and unreleased work: only this user reads the outbox.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._db.close()
                raise ClearanceError(
                    f"{self.path}: this outbox was written by a newer Clearance (format {version}); "
                    "upgrade Clearance on this machine, and do not delete the file: it may hold unsent records"
                )
            self._db.executescript(SCHEMA)
            with contextlib.suppress(sqlite3.OperationalError):  # only a speed-up: see DISCLOSED_INDEX
                self._db.execute(DISCLOSED_INDEX)
            if version < SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise ClearanceError(
                f"{self.path}: cannot open the outbox ({exc}); check the disk and permissions of the folder"
            ) from None
        except OSError as exc:  # a read-only or full disk, or a file where the folder should be
            raise ClearanceError(
                f"{exc.filename or self.path}: cannot create the outbox ({exc.strerror or exc}); free disk space, "
                "make the folder writable, or set CLEARANCE_HOME to a writable folder"
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so two processes never claim the same entry.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:  # disk full, read-only, I/O error: nothing was stored
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise ClearanceError(
                    f"{self.path}: cannot write to the outbox ({exc}); free disk space or make the folder "
                    "writable, then run the command again"
                ) from None
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # ----------------------------------------------------------------- adding

    def add(self, record: UseRecord, *, claim: bool = False) -> tuple[OutboxEntry, bool]:
        """Store a submission durably. Returns the entry and whether it is new (False: already there).

        ``claim=True`` also claims it for sending in the same transaction (one disk sync, not two);
        check ``entry.claimed`` to know whether this process got it.
        """
        digest = content_digest(record)
        now = time.time()
        key = (str(record.id), digest)
        with self._write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO entries (record_id, content_digest, production, body, state, "
                "created_at, updated_at, next_attempt_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                (*key, record.production, dump_record(record, "json"), now, now, now),
            )
            added = cur.rowcount == 1
            row = db.execute("SELECT * FROM entries WHERE record_id = ? AND content_digest = ?", key).fetchone()
            claimed = False
            if claim and row["state"] != "sent" and not row["permanent"]:
                held = row["claimed_until"] is not None and row["claimed_until"] > now
                if not (held and row["claimed_by"] != self.owner and _owner_alive(row["claimed_by"])):
                    db.execute(
                        "UPDATE entries SET claimed_by = ?, claimed_until = ? "
                        "WHERE record_id = ? AND content_digest = ?",
                        (self.owner, now + LEASE_S, *key),
                    )
                    claimed = True
        entry = _row_entry(row)
        entry.claimed = claimed
        return entry, added

    # ---------------------------------------------------------------- reading

    def get(self, record_id: str, digest: str) -> OutboxEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM entries WHERE record_id = ? AND content_digest = ?", (str(record_id), digest)
            ).fetchone()
        return _row_entry(row) if row else None

    def entries(
        self, record_id: str | None = None, state: str | None = None, *, superseded: bool = True
    ) -> list[OutboxEntry]:
        """Entries in creation order; ``superseded=False`` leaves out refusals a later sent version replaced."""
        sql, params = "SELECT * FROM entries WHERE 1=1", []
        if not superseded:
            sql += f" AND NOT ({_SUPERSEDED})"
        if record_id is not None:
            sql += " AND record_id = ?"
            params.append(str(record_id))
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        sql += " ORDER BY created_at, record_id"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_row_entry(r) for r in rows]

    def record_ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT record_id FROM entries ORDER BY record_id")]

    def counts(self) -> dict[str, int]:
        """Entries by state; a refusal superseded by a later version of the same record that was sent is
        not counted (it needs no fix any more)."""
        out = {"queued": 0, "sent": 0, "failed": 0, "needs_fix": 0}
        with self._lock:
            rows = self._db.execute(
                f"SELECT state, permanent, COUNT(*) FROM entries WHERE NOT ({_SUPERSEDED}) GROUP BY state, permanent"
            ).fetchall()
        for row in rows:
            out[row[0]] += row[2]
            if row[1]:
                out["needs_fix"] += row[2]
        return out

    def waiting(self) -> tuple[int, int]:
        """(entries waiting to be sent, of which another live process is sending right now)."""
        now = time.time()
        waiting = elsewhere = 0
        with self._lock:
            rows = self._db.execute(
                "SELECT claimed_by, claimed_until FROM entries WHERE state != 'sent' AND permanent = 0"
            ).fetchall()
        for row in rows:
            waiting += 1
            held = row["claimed_until"] is not None and row["claimed_until"] > now
            if held and row["claimed_by"] != self.owner and _owner_alive(row["claimed_by"]):
                elsewhere += 1
        return waiting, elsewhere

    def is_disclosed(self, record_id: str, content_digest: str) -> bool:
        """Sent, or safely queued to be sent (a server refusal that needs a fix is not disclosed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, permanent FROM entries WHERE record_id = ? AND content_digest = ?",
                (str(record_id), content_digest),
            ).fetchone()
        return bool(row) and (row["state"] == "sent" or not row["permanent"])

    # --------------------------------------------------------------- claiming

    def disclosed(self, versions: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (record id, content digest) pairs of ``versions`` that ``is_disclosed`` says yes to, found in one
        pass over the outbox when it is not much larger than the request, else with one query per 500 records
        (a publish asks for every item at once; either way, never one query per pair)."""
        wanted = {(str(record_id), digest) for record_id, digest in versions}
        if not wanted:
            return set()
        with self._lock:
            cursor = self._db.cursor()
            cursor.row_factory = None  # plain tuples: a publish reads thousands of rows, by position
            # The largest rowid bounds the number of entries (rows are never deleted) without counting them.
            size = cursor.execute("SELECT max(rowid) FROM entries").fetchone()[0] or 0
            if size <= SCAN_FACTOR * len(wanted):
                return self._disclosed_by_scan(cursor, wanted)
            return self._disclosed_by_id(cursor, wanted)

    @staticmethod
    def _disclosed_by_scan(cursor: sqlite3.Cursor, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Every disclosed version in the outbox, kept when wanted: a sequential read and one set operation,
        about five times cheaper per row than looking each record up in the index."""
        rows = cursor.execute(f"SELECT record_id, content_digest FROM entries WHERE {_DISCLOSED}").fetchall()
        return wanted.intersection(rows)

    @staticmethod
    def _disclosed_by_id(cursor: sqlite3.Cursor, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The wanted records' versions looked up by id, 500 ids a query (an outbox much larger than the request)."""
        ids = sorted({record_id for record_id, _digest in wanted})
        found: set[tuple[str, str]] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = cursor.execute(
                f"SELECT record_id, content_digest FROM entries WHERE ({_DISCLOSED}) AND record_id IN "
                f"({','.join('?' * len(chunk))})", chunk,
            ).fetchall()
            found.update(wanted.intersection(rows))
        return found

    def claim(
        self, limit: int = 50, *, force: bool = False, only: tuple[str, str] | None = None
    ) -> list[OutboxEntry]:
        """Take up to ``limit`` entries to send. ``force`` ignores the backoff time (an explicit sync)."""
        now = time.time()
        sql = "SELECT * FROM entries WHERE state != 'sent' AND permanent = 0"
        params: list[Any] = []
        if not force:
            sql += " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
            params.append(now)
        if only is not None:
            sql += " AND record_id = ? AND content_digest = ?"
            params.extend(only)
        sql += " ORDER BY created_at LIMIT ?"
        params.append(limit * 4)
        taken: list[OutboxEntry] = []
        with self._write() as db:
            for row in db.execute(sql, params).fetchall():
                if len(taken) >= limit:
                    break
                held = row["claimed_until"] is not None and row["claimed_until"] > now
                if held and row["claimed_by"] != self.owner and _owner_alive(row["claimed_by"]):
                    continue
                db.execute(
                    "UPDATE entries SET claimed_by = ?, claimed_until = ? WHERE record_id = ? AND content_digest = ?",
                    (self.owner, now + LEASE_S, row["record_id"], row["content_digest"]),
                )
                taken.append(_row_entry(row))
        return taken

    def mark_sent(self, entry: OutboxEntry, server: str, response: dict[str, Any]) -> None:
        now = time.time()
        with self._write() as db:
            db.execute(
                "UPDATE entries SET state = 'sent', permanent = 0, attempts = attempts + 1, sent_at = ?, "
                "updated_at = ?, server = ?, response = ?, last_error = NULL, next_attempt_at = NULL, "
                "claimed_by = NULL, claimed_until = NULL WHERE record_id = ? AND content_digest = ?",
                (now, now, server, json.dumps(response), entry.record_id, entry.content_digest),
            )

    def mark_failed(self, entry: OutboxEntry, error: str, *, permanent: bool = False) -> None:
        now = time.time()
        with self._write() as db:
            row = db.execute(
                "SELECT attempts FROM entries WHERE record_id = ? AND content_digest = ?",
                (entry.record_id, entry.content_digest),
            ).fetchone()
            attempts = (row["attempts"] if row else entry.attempts) + 1
            retry_at = None if permanent else now + backoff_delay(attempts)
            db.execute(
                "UPDATE entries SET state = 'failed', permanent = ?, attempts = ?, last_error = ?, "
                "next_attempt_at = ?, updated_at = ?, claimed_by = NULL, claimed_until = NULL "
                "WHERE record_id = ? AND content_digest = ? AND state != 'sent'",
                (int(permanent), attempts, error, retry_at, now, entry.record_id, entry.content_digest),
            )

    def release(self, entry: OutboxEntry) -> None:
        """Give a claimed entry back untouched (e.g. the sync stopped early)."""
        with self._write() as db:
            db.execute(
                "UPDATE entries SET claimed_by = NULL, claimed_until = NULL "
                "WHERE record_id = ? AND content_digest = ? AND claimed_by = ?",
                (entry.record_id, entry.content_digest, self.owner),
            )

    def retry_failed(self) -> int:
        """Put entries the server refused back in the queue (after the record or the setup was fixed)."""
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "UPDATE entries SET permanent = 0, next_attempt_at = ?, updated_at = ? "
                "WHERE state = 'failed' AND permanent = 1",
                (now, now),
            )
            return cur.rowcount
