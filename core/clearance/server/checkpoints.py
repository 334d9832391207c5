"""Audit checkpoints: the chain's head (sequence, hash, time) signed with the approval key ring.

The hash chain alone proves nothing against someone who can write the database: they can edit an entry and
recompute every hash after it. A checkpoint is signed with the service's Ed25519 approval key, which the
database does not hold, so a rewrite before a checkpoint no longer matches its signature. Checkpoints are
written into the log itself (action ``audit.checkpoint``, the signed document in its details):

- on every decision, revocation and key change (``force``);
- otherwise when ``audit_checkpoint_entries`` entries or ``audit_checkpoint_minutes`` minutes have passed
  since the last one this process wrote (checked after each write).

A checkpoint kept outside the database (``clearance audit checkpoint > FILE``) also catches a rewrite that
removed the checkpoints stored after the change, a truncation and a wipe: see ``verify_log``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.server import audit
from clearance.server.models import AuditEntry, AuditHead

KIND = "clearance.audit.checkpoint"
ACTION = "audit.checkpoint"


def statement(seq: int, head_hash: str) -> dict[str, Any]:
    """What a checkpoint signs: the entry it anchors (its seq and hash) and when."""
    return {"kind": KIND, "seq": seq, "hash": head_hash, "at": audit.now_text()}


@dataclass
class Schedule:
    """When this process writes its next periodic checkpoint."""

    every_entries: int = 500
    every_seconds: float = 600.0
    clock: Callable[[], float] = time.monotonic
    last_seq: int = 0
    last_time: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def due(self, head_seq: int) -> bool:
        with self.lock:
            return head_seq - self.last_seq >= self.every_entries or (
                head_seq > self.last_seq and self.clock() - self.last_time >= self.every_seconds)

    def done(self, seq: int) -> None:
        with self.lock:
            self.last_seq, self.last_time = seq, self.clock()


def write(session: Session, keyring: Any, actor: str = "service", schedule: Schedule | None = None) -> dict[str, Any]:
    """Sign the current head and append the checkpoint entry (inside the caller's write transaction)."""
    head = session.get(AuditHead, 1)
    if head is None:
        raise RuntimeError("the audit_head row is missing; run `clearance admin migrate`")
    signed = keyring.sign_document(statement(head.seq, head.hash))
    audit.append(session, actor, ACTION, f"audit:{head.seq}", None, {"checkpoint": signed})
    if schedule is not None:
        schedule.done(head.seq + 1)
    return dict(signed)


def add_to_chain(chain: audit.ChainWriter, keyring: Any, schedule: Schedule) -> None:
    """The periodic checkpoint for the group-commit writer: appended to its batch before the flush."""
    if not schedule.due(chain.seq):
        return
    signed = keyring.sign_document(statement(chain.seq, chain.hash))
    chain.add("service", ACTION, f"audit:{chain.seq}", None, {"checkpoint": signed})
    schedule.done(chain.seq)


def latest(session: Session) -> dict[str, Any] | None:
    row = session.execute(
        select(AuditEntry.details).where(AuditEntry.action == ACTION).order_by(AuditEntry.seq.desc()).limit(1)
    ).scalar_one_or_none()
    return None if row is None else dict(json.loads(row)["checkpoint"])


# ------------------------------------------------------------------------------------------------ verify


@dataclass
class Anchor:
    source: str  # "the database (entry 41)" or the file name
    seq: int
    hash: str


@dataclass
class Verdict:
    ok: bool
    entries: int
    anchored_to: int = 0  # the highest entry a valid signed checkpoint vouches for
    anchors: int = 0
    problems: list[str] = field(default_factory=list)
    broken_at: int | None = None  # the first entry the chain itself breaks at
    unchecked: int = 0  # stored checkpoints whose signatures could not be checked (no keys)

    @property
    def unanchored(self) -> int:
        return max(0, self.entries - self.anchored_to)


def parse_file_checkpoint(text: str, source: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError(f"{source}: not a checkpoint (not JSON); make one with `clearance audit checkpoint`") from None
    if not isinstance(data, dict) or data.get("kind") != KIND or not isinstance(data.get("seq"), int) \
            or not isinstance(data.get("hash"), str):
        raise ValueError(f"{source}: not an audit checkpoint (kind {KIND}, seq, hash); make one with "
                         "`clearance audit checkpoint`")
    return data


def verify_log(entries: Iterable[AuditEntry], head: AuditHead | None, keys: Any,
               outside: list[tuple[str, Mapping[str, Any]]]) -> Verdict:
    """The chain, every checkpoint stored in it, and every checkpoint kept outside the database."""
    from clearance.approvals import verify_document

    hashes: dict[int, str] = {}
    stored: list[tuple[int, Mapping[str, Any]]] = []

    def remember(rows: Iterable[AuditEntry]) -> Iterable[AuditEntry]:
        for row in rows:
            hashes[row.seq] = row.hash
            if row.action == ACTION:
                stored.append((row.seq, json.loads(row.details).get("checkpoint") or {}))
            yield row

    chain = audit.check_chain(remember(entries), head)
    verdict = Verdict(chain.ok, chain.entries)
    if not chain.ok:
        verdict.broken_at = chain.first_bad_seq
        verdict.problems.append(f"entry {chain.first_bad_seq}: {chain.problem}")
    last = max(hashes) if hashes else 0
    checks = [(f"the checkpoint stored at entry {seq}", seq, doc) for seq, doc in stored]
    if keys is None:  # nothing to check signatures with: stored checkpoints vouch for nothing
        verdict.unchecked, checks = len(checks), []
    checks += [(source, 0, doc) for source, doc in outside]
    for source, own_seq, doc in checks:
        signed = verify_document(doc, keys)
        if not signed.valid:
            verdict.problems.append(f"{source} is not signed by a trusted key ({signed.reason}): forged or edited")
            continue
        seq, expected = int(doc["seq"]), str(doc["hash"])
        if seq == 0:
            anchored = True  # a checkpoint of the empty log
        elif seq > last:
            verdict.problems.append(f"{source} vouches for entry {seq} but the log ends at entry {last}: "
                                    f"{seq - last} or more entries were removed (truncated or wiped)")
            continue
        else:
            anchored = hashes.get(seq) == expected
        if not anchored:
            verdict.problems.append(f"{source} vouches for entry {seq} as {expected[:16]}..., but the log holds "
                                    f"{(hashes.get(seq) or 'nothing')[:16]}...: entries up to {seq} were rewritten")
            continue
        verdict.anchors += 1
        # A stored checkpoint also vouches for its own entry: its content is the signed document, its chain
        # hash follows from the anchored entry before it.
        verdict.anchored_to = max(verdict.anchored_to, seq, own_seq)
    verdict.ok = not verdict.problems
    return verdict
