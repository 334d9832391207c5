"""Submissions: validated and decided in the request's thread, stored by one group-commit writer per process.

Under load the per-transaction costs (the write lock, BEGIN/COMMIT, reading and moving the audit head)
are shared by every submission waiting at that moment, and rows go in with one multi-row INSERT per
table. A batch that fails as a whole is retried one submission at a time, so one bad submission never
fails another.
"""

from __future__ import annotations

import json
import queue as _queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import OperationalError

from clearance.approvals import uncovered_keys
from clearance.record import UseRecord, content_digest, decision_digest
from clearance.server import audit
from clearance.server.auth import Actor, aware, utcnow
from clearance.server.db import Database
from clearance.server.decider import Decider
from clearance.server.errors import ServiceError, refuse
from clearance.server.models import Approval, ApprovalRequest, Production, Record, RecordVersion, Revocation


@dataclass
class Submitted:
    """The answer to a submission: ``created`` False when this exact content was stored before."""

    created: bool
    body: dict[str, Any]


def submitted_view(
    record: dict[str, Any], production: str, version: int, digest: str, decision_digest_: str,
    decision: dict[str, Any], status: str,
) -> dict[str, Any]:
    """The body every submission answers with, new or replayed (the API adds ``record_url``)."""
    return {
        "record": record, "production": production, "version": version, "content_digest": digest,
        "decision_digest": decision_digest_, "decision": decision, "status": status,
    }


@dataclass
class NewVersion:
    """A submission ready to store: its digests and the server's decision, computed before queueing."""

    record_id: str
    production: str
    digest: str
    decision_digest: str
    body: dict[str, Any]
    body_json: str
    outcome: str
    rules: list[str]
    decision_json: str
    policy_version: str
    targets: set[str]


def submit(db: Database, actor: Actor, record: UseRecord, decider: Decider) -> Submitted:
    """Store a new version, or return the stored one when this exact content was sent before.

    The hot path of the service: validation, the digests and the decision happen in the request's
    thread; the write goes through the process's submission writer.
    """
    record_id = str(record.id)
    production = record.production
    if not production:
        raise ServiceError(422, "field production is required: the production code, e.g. EXAMPLE_S01",
                           field="production")
    if not actor.in_production(production):
        raise refuse(403, f"you have no role in production {production}; ask its admin for one",
                     "record.submit", f"record:{record_id}", production)
    dumped = record.model_dump(mode="json")
    decision = decider.decide(record)
    new = NewVersion(
        record_id=record_id, production=production, digest=content_digest(record),
        decision_digest=decision_digest(record), body=dumped, body_json=json.dumps(dumped, ensure_ascii=False),
        outcome=decision.outcome, rules=decision.rules, decision_json=decision.model_dump_json(),
        policy_version=decider.version, targets={t.key() for t in record.targets},
    )
    return writer_for(db).submit(actor, new)


class SubmissionWriter:
    """One thread per process that stores queued submissions, as many as are waiting, per transaction."""

    MAX_BATCH = 128
    CHECKPOINT_EVERY = 500  # submissions between SQLite WAL checkpoints, taken when the queue is empty

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: _queue.SimpleQueue[tuple[Actor, NewVersion, Future[Submitted]]] = _queue.SimpleQueue()
        self.since_checkpoint = 0
        self.thread = threading.Thread(target=self._run, name="clearance-submissions", daemon=True)
        self.thread.start()

    def submit(self, actor: Actor, new: NewVersion) -> Submitted:
        done: Future[Submitted] = Future()
        self.pending.put((actor, new, done))
        return done.result()

    def _run(self) -> None:
        while True:
            batch = [self.pending.get()]
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self.pending.get_nowait())
                except _queue.Empty:
                    break
            outcomes: list[Submitted | BaseException]
            try:
                outcomes = list(store_batch(self.db, [(actor, new) for actor, new, _done in batch]))
            except OperationalError as exc:  # a lock wait cut short, the database gone: every item alike (503)
                outcomes = [exc] * len(batch)
            except Exception:  # e.g. a unique-constraint race: retry each on its own
                outcomes = []
                for actor, new, _done in batch:
                    try:
                        outcomes.append(store_batch(self.db, [(actor, new)])[0])
                    except Exception as exc:
                        outcomes.append(exc)
            for (_actor, _new, done), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)
            self.since_checkpoint += len(batch)
            if self.since_checkpoint >= self.CHECKPOINT_EVERY and self.pending.empty():
                self.since_checkpoint = 0
                self.db.checkpoint()


_writers: dict[int, SubmissionWriter] = {}
# id(database) -> what appends a periodic signed checkpoint to a batch's chain (set by the app at start)
_checkpoint_hooks: dict[int, Callable[[audit.ChainWriter], None]] = {}


def checkpoint_batches(db: Database, hook: Callable[[audit.ChainWriter], None]) -> None:
    _checkpoint_hooks[id(db)] = hook
_writers_lock = threading.Lock()


def writer_for(db: Database) -> SubmissionWriter:
    with _writers_lock:
        writer = _writers.get(id(db))
        if writer is None or writer.db is not db:
            writer = _writers[id(db)] = SubmissionWriter(db)
        return writer


# ------------------------------------------------------------------------------------ one transaction

_production_ids: dict[tuple[str, str], int] = {}  # (database url, code) -> id; productions are never deleted


def _production_id(conn: Connection, db: Database, code: str) -> int | None:
    key = (db.url, code)
    if key not in _production_ids:
        found = conn.execute(select(Production.id).where(Production.code == code)).scalar_one_or_none()
        if found is None:
            return None
        _production_ids[key] = found
    return _production_ids[key]


# Built once: statements executed with parameter dicts skip SQLAlchemy's per-call coercion and cache keys.
_EXISTING = (
    select(Record.id, Record.latest_version, Production.code, Record.status, Record.vendor)
    .join(Production, Production.id == Record.production_id)
    .where(Record.id.in_(bindparam("rids", expanding=True)))
)
_RECORDS = cast(Table, Record.__table__)
_REQUESTS = cast(Table, ApprovalRequest.__table__)
_INSERT_RECORD = insert(_RECORDS)
_UPDATE_RECORD = (
    update(_RECORDS).where(_RECORDS.c.id == bindparam("rid"))
    .values(status=bindparam("status"), latest_version=bindparam("number"), description=bindparam("description"),
            vendor=bindparam("vendor"), updated_at=bindparam("now"))
)
_SUPERSEDE = (
    update(_REQUESTS)
    .where(_REQUESTS.c.record_id == bindparam("rid"), _REQUESTS.c.status == "waiting")
    .values(status="superseded")
)
_INSERT_VERSION = insert(cast(Table, RecordVersion.__table__))
_INSERT_REQUEST = insert(_REQUESTS)


@dataclass
class KnownRecord:
    """A record as the current batch sees it: stored before, or created by an earlier item of the batch."""

    latest_version: int
    production: str
    created_in_batch: bool
    status: str
    vendor: str | None = None


@dataclass
class BatchState:
    """The writer's state for one transaction: rows inserted together at its end, records as they change."""

    chain: audit.ChainWriter
    known: dict[str, KnownRecord] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def replay(self, record_id: str, production: str, digest: str) -> dict[str, Any] | None:
        """The answer for content already stored earlier in this batch."""
        for row in self.versions:
            if row["record_id"] == record_id and row["content_digest"] == digest:
                return submitted_view(json.loads(row["body"]), production, row["version"], digest,
                                      row["decision_digest"], json.loads(row["decision"]),
                                      self.known[record_id].status)
        return None


def store_batch(db: Database, items: list[tuple[Actor, NewVersion]]) -> list[Submitted | ServiceError]:
    out: list[Submitted | ServiceError] = []
    with db.write_connection() as conn:
        ids = sorted({new.record_id for _actor, new in items})
        state = BatchState(audit.ChainWriter(conn))
        for row in conn.execute(_EXISTING, {"rids": ids}):
            state.known[row.id] = KnownRecord(row.latest_version, row.code, False, row.status, row.vendor)
        for actor, new in items:
            try:
                out.append(_store_one(conn, db, actor, new, state))
            except ServiceError as exc:
                out.append(exc)
        if state.records:
            conn.execute(_INSERT_RECORD, list(state.records.values()))
        if state.versions:
            conn.execute(_INSERT_VERSION, state.versions)
        if state.requests:
            conn.execute(_INSERT_REQUEST, state.requests)
        hook = _checkpoint_hooks.get(id(db))
        if hook is not None:
            hook(state.chain)
        state.chain.flush(conn)
    return out


def _stored_replay(conn: Connection, record_id: str, production: str, digest: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(RecordVersion.version, RecordVersion.body, RecordVersion.decision, RecordVersion.decision_digest,
               Record.status)
        .join(Record, Record.id == RecordVersion.record_id)
        .where(RecordVersion.record_id == record_id, RecordVersion.content_digest == digest)
    ).first()
    if row is None:
        return None
    return submitted_view(json.loads(row.body), production, row.version, digest, row.decision_digest,
                          json.loads(row.decision), row.status)


def _status_after_submit(
    conn: Connection, record_id: str, decision_digest_: str, targets: set[str], outcome: str, is_new: bool
) -> str:
    if outcome == "prohibited":
        return "prohibited"
    if outcome == "notify":
        return "notified"
    if is_new:
        return "waiting"
    # An edit outside the decision fields (wording, more detail) keeps a live approval that still covers it.
    live = conn.execute(
        select(Approval.signed_json, Approval.expires_at)
        .outerjoin(Revocation, Revocation.approval_id == Approval.approval_id)
        .where(Approval.record_id == record_id, Revocation.approval_id.is_(None))
        .order_by(Approval.issued_at.desc())
        .limit(1)
    ).first()
    if live is not None:
        statement = json.loads(live.signed_json)["statement"]
        covered = uncovered_keys(statement.get("targets") or [], targets)  # the clients' coverage rule
        expired = live.expires_at is not None and aware(live.expires_at) <= utcnow()
        if statement.get("record_digest") == decision_digest_ and not covered and not expired:
            return "approved"
    return "waiting"


def _store_one(conn: Connection, db: Database, actor: Actor, new: NewVersion, state: BatchState) -> Submitted:
    record_id, production = new.record_id, new.production
    existing = state.known.get(record_id)
    if existing is not None:
        if existing.production != production:
            # 404 like reading it: the answer does not say which production holds the id.
            raise refuse(404, f"record {record_id} not found in production {production}: a record id belongs to "
                         "one production; give this record a new id (`clearance record new`)", "record.submit",
                         f"record:{record_id}", production)
        if not actor.sees_vendor(production, existing.vendor):  # vendor isolation: as if it did not exist
            raise refuse(404, f"record {record_id} not found in production {production}: a record id belongs to "
                         "one production; give this record a new id (`clearance record new`)", "record.submit",
                         f"record:{record_id}", production)
        replay = state.replay(record_id, production, new.digest)
        if replay is None and not existing.created_in_batch:
            replay = _stored_replay(conn, record_id, production, new.digest)
        if replay is not None:
            return Submitted(False, replay)
    vendor = new.body.get("vendor")
    if not actor.sees_vendor(production, vendor):
        raise refuse(403, f"you submit for vendor {actor.confined[production]!r} in {production}; this record names "
                     f"vendor {vendor!r}: set `vendor` to your own (vendor isolation is on in this production)",
                     "record.submit", f"record:{record_id}", production)
    production_id = _production_id(conn, db, production)
    if production_id is None:
        raise ServiceError(404, f"production {production} does not exist on this server", field="production")
    now = utcnow()
    number = 1 if existing is None else existing.latest_version + 1
    in_batch = existing is None or existing.created_in_batch
    # A record first stored in this batch has no approval yet: no need to look for one.
    status = _status_after_submit(conn, record_id, new.decision_digest, new.targets, new.outcome, in_batch)
    description = new.body.get("description", "")
    if existing is None:
        state.records[record_id] = {
            "id": record_id, "production_id": production_id, "status": status, "latest_version": number,
            "description": description, "vendor": vendor, "created_by": actor.user_id, "created_at": now,
            "updated_at": now,
        }
        state.known[record_id] = KnownRecord(number, production, True, status, vendor)
    else:
        existing.latest_version = number
        existing.status = status
        existing.vendor = vendor
        if existing.created_in_batch:
            state.records[record_id].update(status=status, latest_version=number, description=description,
                                            vendor=vendor, updated_at=now)
            for request in state.requests:
                if request["record_id"] == record_id and request["status"] == "waiting":
                    request["status"] = "superseded"
        else:
            conn.execute(_UPDATE_RECORD, {"rid": record_id, "status": status, "number": number,
                                          "description": description, "vendor": vendor, "now": now})
            conn.execute(_SUPERSEDE, {"rid": record_id})
    state.versions.append({
        "record_id": record_id, "version": number, "content_digest": new.digest,
        "decision_digest": new.decision_digest, "body": new.body_json, "outcome": new.outcome,
        "decision": new.decision_json, "policy_version": new.policy_version, "submitted_by": actor.user_id,
        "submitted_at": now,
    })
    if status == "waiting":
        state.requests.append({
            "record_id": record_id, "version": number, "status": "waiting", "requested_by": actor.user_id,
            "requested_at": now,
        })
    state.chain.add(
        actor.name, "record.submit", f"record:{record_id}", production,
        {"version": number, "content_digest": new.digest, "outcome": new.outcome, "rules": new.rules,
         "status": status, "request": "opened" if status == "waiting" else None},
    )
    return Submitted(True, submitted_view(new.body, production, number, new.digest, new.decision_digest,
                                          json.loads(new.decision_json), status))
