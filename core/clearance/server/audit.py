"""The append-only, hash-chained audit log of every state change and every refusal.

Each entry's ``hash`` is sha256 over the canonical JSON of its fields and the previous entry's hash,
so editing, deleting or reordering an entry breaks the chain at that entry: ``clearance audit verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from clearance.documents import canonical_json
from clearance.server.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(
    seq: int, at: str, actor: str, action: str, obj: str, production: str | None, details: str, prev_hash: str
) -> str:
    fields = {
        "seq": seq, "at": at, "actor": actor, "action": action, "object": obj,
        "production": production, "details": details, "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def append(
    session: Session,
    actor: str,
    action: str,
    obj: str,
    production: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry inside the caller's write transaction (which holds the write lock, see db.Database.write)."""
    head = session.get(AuditHead, 1)
    if head is None:  # a schema not made by our migrations
        raise RuntimeError("the audit_head row is missing; run `clearance admin migrate`")
    details_text = canonical_json(details or {}).decode("utf-8")
    seq = head.seq + 1
    at = now_text()
    digest = entry_hash(seq, at, actor, action, obj, production, details_text, head.hash)
    entry = AuditEntry(
        seq=seq, at=at, actor=actor, action=action, object=obj, production=production,
        details=details_text, prev_hash=head.hash, hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    session.flush()
    return entry


def append_core(
    conn: Connection, actor: str, action: str, obj: str, production: str | None, details: dict[str, Any]
) -> None:
    """``append`` for a Core connection in a write transaction (the lean submit path; no ORM session)."""
    head = conn.execute(_HEAD).one()
    details_text = canonical_json(details).decode("utf-8")
    seq = head.seq + 1
    at = now_text()
    digest = entry_hash(seq, at, actor, action, obj, production, details_text, head.hash)
    conn.execute(_INSERT, {
        "seq": seq, "at": at, "actor": actor, "action": action, "object": obj, "production": production,
        "details": details_text, "prev_hash": head.hash, "hash": digest,
    })
    conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": digest})


class ChainWriter:
    """Entries for one write transaction, chained from the head read at its start and written in one go.

    The caller holds the write lock (db.Database.write_connection), so nobody moves the head meanwhile.
    """

    def __init__(self, conn: Connection) -> None:
        head = conn.execute(_HEAD).one()
        self.seq: int = head.seq
        self.hash: str = head.hash
        self.rows: list[dict[str, Any]] = []

    def add(self, actor: str, action: str, obj: str, production: str | None, details: dict[str, Any]) -> None:
        details_text = canonical_json(details).decode("utf-8")
        self.seq += 1
        at = now_text()
        digest = entry_hash(self.seq, at, actor, action, obj, production, details_text, self.hash)
        self.rows.append({
            "seq": self.seq, "at": at, "actor": actor, "action": action, "object": obj, "production": production,
            "details": details_text, "prev_hash": self.hash, "hash": digest,
        })
        self.hash = digest

    def flush(self, conn: Connection) -> None:
        if self.rows:
            conn.execute(_INSERT, self.rows)
            conn.execute(_MOVE_HEAD, {"new_seq": self.seq, "new_hash": self.hash})
            self.rows = []


_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
_ENTRIES = cast(Table, AuditEntry.__table__)  # a mapped class's table (typed as FromClause by SQLAlchemy)
_HEADS = cast(Table, AuditHead.__table__)
_INSERT = insert(_ENTRIES)
_MOVE_HEAD = (
    update(_HEADS).where(_HEADS.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


@dataclass
class ChainCheck:
    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def check_chain(entries: Iterable[AuditEntry], head: AuditHead | None) -> ChainCheck:
    """Walk the log in seq order; the first entry that does not follow from the one before is reported."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return ChainCheck(False, count, prev_hash, expected_seq,
                              f"entry {expected_seq} is missing (the next entry is {entry.seq}): deleted")
        if entry.prev_hash != prev_hash:
            problem = f"entry {entry.seq} does not follow entry {entry.seq - 1}: deleted, inserted or reordered"
            return ChainCheck(False, count, prev_hash, entry.seq, problem)
        recomputed = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.object,
                                entry.production, entry.details, entry.prev_hash)
        if recomputed != entry.hash:
            problem = f"entry {entry.seq} was edited: its hash does not match"
            return ChainCheck(False, count, prev_hash, entry.seq, problem)
        prev_hash = entry.hash
        expected_seq += 1
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        if head.seq > expected_seq - 1:
            return ChainCheck(False, count, prev_hash, expected_seq,
                              f"entries {expected_seq}..{head.seq} are missing at the end of the log: deleted")
        return ChainCheck(False, count, prev_hash, head.seq, "the log head does not match the last entry")
    return ChainCheck(True, count, prev_hash)


def verify(session: Session) -> ChainCheck:
    entries = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()
    return check_chain(entries, session.get(AuditHead, 1))


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq, "at": entry.at, "actor": entry.actor, "action": entry.action, "object": entry.object,
        "production": entry.production, "details": json.loads(entry.details), "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
