"""What the service does, shared by the HTTP API and the web pages: submit, decide, revoke, list.

Every function takes the acting user and checks separation of duties itself, so no route can forget:
no role in the record's production -> 404 (its existence is not revealed); a role that cannot do the
action -> 403; an approval of a prohibited record -> 409. Every refusal is written to the audit log.
"""

from __future__ import annotations

import json
import queue as _queue
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from clearance.decision import Decision
from clearance.errors import dotted
from clearance.record import UseRecord, content_digest, decision_digest
from clearance.server import audit
from clearance.server.auth import Actor, aware, utcnow
from clearance.server.db import Database
from clearance.server.models import (
    Approval,
    ApprovalRequest,
    AuditEntry,
    Denial,
    Production,
    Record,
    RecordVersion,
    Revocation,
    User,
)

APPROVER_ROLES = ("approver",)
REVOKER_ROLES = ("approver", "admin")
OVERSIGHT_ROLES = ("approver", "admin")  # may read the queue and the audit log


class ServiceError(Exception):
    """A refusal or bad input, with the HTTP status it maps to. ``audit`` refusals are logged."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        audit: bool = False,
        action: str = "",
        obj: str = "",
        production: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.audit = audit
        self.action = action
        self.obj = obj
        self.production = production

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.field:
            out["field"] = self.field
        return out


def refuse(status: int, message: str, action: str, obj: str, production: str | None) -> ServiceError:
    return ServiceError(status, message, audit=True, action=action, obj=obj, production=production)


def log_refusal(db: Database, actor_name: str, error: ServiceError) -> None:
    """Refusals are logged in their own transaction: the refused one was rolled back."""
    with db.write() as session:
        audit.append(
            session, actor_name, "refused", error.obj or "-", error.production,
            {"attempted": error.action, "status": error.status, "reason": error.message},
        )


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return aware(value).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------ deciding


class Decider:
    """The server's own policy, loaded once (a per-request reload would cost more than the decision)."""

    def __init__(self, policy_files: list[str]) -> None:
        from clearance.policy import load_policy

        self.policy = load_policy(policy_files or None)
        self.version = str(getattr(self.policy, "version", ""))

    def decide(self, record: UseRecord) -> Decision:
        from clearance.policy import evaluate

        return evaluate(record, self.policy)


def parse_submission(payload: Any) -> UseRecord:
    if not isinstance(payload, dict):
        raise ServiceError(422, "the body must be a use record (a JSON object)", field="(body)")
    for forbidden in ("decision", "status", "outcome"):
        if forbidden in payload:
            raise ServiceError(
                422, f"`{forbidden}` is decided by the server from its own policy; remove it from the record",
                field=forbidden,
            )
    try:
        return UseRecord.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = dotted(loc)
        kind = first.get("type", "")
        if kind == "extra_forbidden":
            message = f"field {where} is not a known field of a use record (`clearance schema` lists every field)"
        elif kind == "missing":
            message = f"field {where} is required"
        else:
            message = f"field {where}: {first.get('msg', 'invalid value')}"
        more = len(exc.errors()) - 1
        if more:
            message += f" (+{more} more)"
        raise ServiceError(422, message, field=where) from None


# ---------------------------------------------------------------------------------------- submitting


@dataclass
class Submitted:
    created: bool
    body: dict[str, Any]


def _production(session: Session, code: str) -> Production | None:
    return session.execute(select(Production).where(Production.code == code)).scalar_one_or_none()


def _version_view(version: RecordVersion, names: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "version": version.version,
        "content_digest": version.content_digest,
        "decision_digest": version.decision_digest,
        "submitted_at": iso(version.submitted_at),
        "submitted_by": (names or {}).get(version.submitted_by, str(version.submitted_by)),
        "decision": json.loads(version.decision),
        "policy_version": version.policy_version,
        "record": json.loads(version.body),
    }


def _submitted_body(record: Record, version: RecordVersion, production: str) -> dict[str, Any]:
    return {
        "record": json.loads(version.body),
        "production": production,
        "version": version.version,
        "content_digest": version.content_digest,
        "decision_digest": version.decision_digest,
        "decision": json.loads(version.decision),
        "status": record.status,
    }


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
        covered = set(statement.get("targets") or [])
        expired = live.expires_at is not None and aware(live.expires_at) <= utcnow()
        if statement.get("record_digest") == decision_digest_ and targets <= covered and not expired:
            return "approved"
    return "waiting"


def submit(db: Database, actor: Actor, record: UseRecord, decider: Decider) -> Submitted:
    """Store a new version, or return the stored one when this exact content was sent before.

    The hot path of the service: validation, the digests and the decision happen in the request's
    thread; the write goes through the process's submission writer, which stores every submission
    waiting at that moment in one transaction (group commit).
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
    new = _NewVersion(
        record_id=record_id, production=production, digest=content_digest(record),
        decision_digest=decision_digest(record), body=dumped, body_json=json.dumps(dumped, ensure_ascii=False),
        outcome=decision.outcome, rules=decision.rules, decision_json=decision.model_dump_json(),
        policy_version=decider.version, targets={t.key() for t in record.targets},
    )
    return writer_for(db).submit(actor, new)


@dataclass
class _NewVersion:
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


class SubmissionWriter:
    """One thread per process that stores queued submissions, as many as are waiting, per transaction.

    Under load the per-transaction costs (the write lock, BEGIN/COMMIT, reading and moving the audit
    head) are shared by the whole batch and rows go in with one multi-row INSERT per table. A batch that
    fails as a whole is retried one submission at a time, so one bad submission never fails another.
    """

    MAX_BATCH = 128

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: _queue.SimpleQueue[tuple[Actor, _NewVersion, Future[Submitted]]] = _queue.SimpleQueue()
        self.since_checkpoint = 0
        self.thread = threading.Thread(target=self._run, name="clearance-submissions", daemon=True)
        self.thread.start()

    def submit(self, actor: Actor, new: _NewVersion) -> Submitted:
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
            try:
                outcomes = _store_batch(self.db, [(actor, new) for actor, new, _done in batch])
            except Exception:  # e.g. a unique-constraint race: retry each on its own
                outcomes = []
                for actor, new, _done in batch:
                    try:
                        outcomes.append(_store_batch(self.db, [(actor, new)])[0])
                    except Exception as exc:
                        outcomes.append(exc)
            for (_actor, _new, done), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)
            self.since_checkpoint += len(batch)
            if self.since_checkpoint >= 500 and self.pending.empty():
                self.since_checkpoint = 0
                self.db.checkpoint()


_writers: dict[int, SubmissionWriter] = {}
_writers_lock = threading.Lock()


def writer_for(db: Database) -> SubmissionWriter:
    with _writers_lock:
        writer = _writers.get(id(db))
        if writer is None or writer.db is not db:
            writer = _writers[id(db)] = SubmissionWriter(db)
        return writer


_production_ids: dict[tuple[str, str], int] = {}  # (database url, code) -> id; productions are never deleted


def _production_id(conn: Connection, db: Database, code: str) -> int | None:
    key = (db.url, code)
    if key not in _production_ids:
        found = conn.execute(select(Production.id).where(Production.code == code)).scalar_one_or_none()
        if found is None:
            return None
        _production_ids[key] = found
    return _production_ids[key]


def _replay_body(conn: Connection, record_id: str, production: str, digest: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(RecordVersion.version, RecordVersion.body, RecordVersion.decision, RecordVersion.decision_digest,
               Record.status)
        .join(Record, Record.id == RecordVersion.record_id)
        .where(RecordVersion.record_id == record_id, RecordVersion.content_digest == digest)
    ).first()
    if row is None:
        return None
    return {
        "record": json.loads(row.body), "production": production, "version": row.version,
        "content_digest": digest, "decision_digest": row.decision_digest, "decision": json.loads(row.decision),
        "status": row.status,
    }


# Built once: statements executed with parameter dicts skip SQLAlchemy's per-call coercion and cache keys.
_EXISTING = (
    select(Record.id, Record.latest_version, Production.code, Record.status)
    .join(Production, Production.id == Record.production_id)
    .where(Record.id.in_(bindparam("rids", expanding=True)))
)
_INSERT_RECORD = insert(Record.__table__)
_UPDATE_RECORD = (
    update(Record.__table__).where(Record.__table__.c.id == bindparam("rid"))
    .values(status=bindparam("status"), latest_version=bindparam("number"), description=bindparam("description"),
            updated_at=bindparam("now"))
)
_SUPERSEDE = (
    update(ApprovalRequest.__table__)
    .where(ApprovalRequest.__table__.c.record_id == bindparam("rid"), ApprovalRequest.__table__.c.status == "waiting")
    .values(status="superseded")
)
_INSERT_VERSION = insert(RecordVersion.__table__)
_INSERT_REQUEST = insert(ApprovalRequest.__table__)


@dataclass
class _Batch:
    """Rows of one transaction, inserted together at its end; ``known`` tracks records as the batch changes them."""

    known: dict[str, list[Any]]  # record id -> [latest version, production code, created in this batch, status]
    records: dict[str, dict[str, Any]]
    versions: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    chain: audit.ChainWriter


def _store_batch(db: Database, items: list[tuple[Actor, _NewVersion]]) -> list[Submitted | ServiceError]:
    out: list[Submitted | ServiceError] = []
    with db.write_connection() as conn:
        ids = sorted({new.record_id for _actor, new in items})
        known = {row.id: [row.latest_version, row.code, False, row.status]
                 for row in conn.execute(_EXISTING, {"rids": ids})}
        batch = _Batch(known, {}, [], [], audit.ChainWriter(conn))
        for actor, new in items:
            try:
                out.append(_store_one(conn, db, actor, new, batch))
            except ServiceError as exc:
                out.append(exc)
        if batch.records:
            conn.execute(_INSERT_RECORD, list(batch.records.values()))
        if batch.versions:
            conn.execute(_INSERT_VERSION, batch.versions)
        if batch.requests:
            conn.execute(_INSERT_REQUEST, batch.requests)
        batch.chain.flush(conn)
    return out


def _store_one(conn: Connection, db: Database, actor: Actor, new: _NewVersion, batch: _Batch) -> Submitted:
    record_id, production = new.record_id, new.production
    existing = batch.known.get(record_id)
    if existing is not None:
        if existing[1] != production:
            raise refuse(409, f"record {record_id} already belongs to another production; a record cannot move "
                         "between productions (make a new record id)", "record.submit", f"record:{record_id}",
                         production)
        replay = _replay_in_batch(batch, record_id, production, new.digest)
        if replay is None and not existing[2]:
            replay = _replay_body(conn, record_id, production, new.digest)
        if replay is not None:
            return Submitted(False, replay)
    production_id = _production_id(conn, db, production)
    if production_id is None:
        raise ServiceError(404, f"production {production} does not exist on this server", field="production")
    now = utcnow()
    is_new = existing is None
    number = 1 if is_new else existing[0] + 1
    in_batch = is_new or existing[2]
    # A record first stored in this batch has no approval yet: no need to look for one.
    status = _status_after_submit(conn, record_id, new.decision_digest, new.targets, new.outcome, in_batch)
    description = new.body.get("description", "")
    if is_new:
        batch.records[record_id] = {
            "id": record_id, "production_id": production_id, "status": status, "latest_version": number,
            "description": description, "created_by": actor.user_id, "created_at": now, "updated_at": now,
        }
        batch.known[record_id] = [number, production, True, status]
    else:
        existing[0] = number
        existing[3] = status
        if existing[2]:
            batch.records[record_id].update(status=status, latest_version=number, description=description,
                                            updated_at=now)
            for request in batch.requests:
                if request["record_id"] == record_id and request["status"] == "waiting":
                    request["status"] = "superseded"
        else:
            conn.execute(_UPDATE_RECORD, {"rid": record_id, "status": status, "number": number,
                                          "description": description, "now": now})
            conn.execute(_SUPERSEDE, {"rid": record_id})
    batch.versions.append({
        "record_id": record_id, "version": number, "content_digest": new.digest,
        "decision_digest": new.decision_digest, "body": new.body_json, "outcome": new.outcome,
        "decision": new.decision_json, "policy_version": new.policy_version, "submitted_by": actor.user_id,
        "submitted_at": now,
    })
    if status == "waiting":
        batch.requests.append({
            "record_id": record_id, "version": number, "status": "waiting", "requested_by": actor.user_id,
            "requested_at": now,
        })
    batch.chain.add(
        actor.name, "record.submit", f"record:{record_id}", production,
        {"version": number, "content_digest": new.digest, "outcome": new.outcome, "rules": new.rules,
         "status": status, "request": "opened" if status == "waiting" else None},
    )
    return Submitted(True, {
        "record": new.body, "production": production, "version": number, "content_digest": new.digest,
        "decision_digest": new.decision_digest, "decision": json.loads(new.decision_json), "status": status,
    })


def _replay_in_batch(batch: _Batch, record_id: str, production: str, digest: str) -> dict[str, Any] | None:
    for row in batch.versions:
        if row["record_id"] == record_id and row["content_digest"] == digest:
            return {
                "record": json.loads(row["body"]), "production": production, "version": row["version"],
                "content_digest": digest, "decision_digest": row["decision_digest"],
                "decision": json.loads(row["decision"]), "status": batch.known[record_id][3],
            }
    return None


# ------------------------------------------------------------------------------------------- reading


def _visible_record(session: Session, actor: Actor, record_id: str, action: str) -> Record:
    try:
        uuid.UUID(record_id)
    except ValueError:
        raise ServiceError(404, f"record {record_id} not found: a record id is a UUID", field="id") from None
    record = session.get(Record, record_id)
    if record is None:
        raise ServiceError(404, f"record {record_id} not found")
    if not actor.in_production(record.production.code):
        raise refuse(404, f"record {record_id} not found", action, f"record:{record_id}", record.production.code)
    return record


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all())


def record_detail(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.read() as session:
        record = _visible_record(session, actor, record_id, "record.read")
        versions = session.execute(
            select(RecordVersion).where(RecordVersion.record_id == record_id).order_by(RecordVersion.version)
        ).scalars().all()
        requests = session.execute(
            select(ApprovalRequest).where(ApprovalRequest.record_id == record_id).order_by(ApprovalRequest.id)
        ).scalars().all()
        approvals = _approvals(session, record_id)
        denials = session.execute(
            select(Denial).where(Denial.record_id == record_id).order_by(Denial.id)
        ).scalars().all()
        ids = {v.submitted_by for v in versions} | {r.requested_by for r in requests}
        ids |= {r.decided_by for r in requests if r.decided_by} | {d.approver_id for d in denials}
        ids |= {a["revoked_by_id"] for a in approvals if a.get("revoked_by_id")}
        names = _user_names(session, ids)
        latest = versions[-1]
        return {
            "id": record.id,
            "production": record.production.code,
            "status": record.status,
            "latest_version": record.latest_version,
            "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at),
            "record": json.loads(latest.body),
            "decision": json.loads(latest.decision),
            "versions": [_version_view(v, names) for v in versions],
            "requests": [
                {"id": r.id, "version": r.version, "status": r.status,
                 "requested_by": names.get(r.requested_by), "requested_at": iso(r.requested_at),
                 "decided_by": names.get(r.decided_by) if r.decided_by else None, "decided_at": iso(r.decided_at)}
                for r in requests
            ],
            "approvals": [
                {k: v for k, v in a.items() if k != "revoked_by_id"}
                | {"revoked_by": names.get(a["revoked_by_id"]) if a.get("revoked_by_id") else None}
                for a in approvals
            ],
            "denials": [
                {"version": d.version, "denied_by": names.get(d.approver_id), "denied_at": iso(d.denied_at),
                 "reason": d.reason}
                for d in denials
            ],
        }


def _approvals(session: Session, record_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Approval, Revocation)
        .outerjoin(Revocation, Revocation.approval_id == Approval.approval_id)
        .where(Approval.record_id == record_id)
        .order_by(Approval.issued_at)
    ).tuples().all()
    return [
        {
            "approval_id": a.approval_id, "version": a.version, "issued_at": iso(a.issued_at),
            "expires_at": iso(a.expires_at), "conditions": a.conditions, "key_id": a.key_id,
            "signed": json.loads(a.signed_json),
            "revoked_at": iso(r.revoked_at) if r else None, "revocation_reason": r.reason if r else None,
            "revoked_by_id": r.revoked_by if r else None,
        }
        for a, r in rows
    ]


def list_records(
    db: Database, actor: Actor, production: str | None = None, status: str | None = None,
    limit: int = 500, offset: int = 0,
) -> dict[str, Any]:
    codes = actor.productions()
    if production is not None:
        if production not in codes:
            raise refuse(404, f"production {production} not found", "record.list", f"production:{production}",
                         production)
        codes = [production]
    with db.read() as session:
        query = (
            select(Record, RecordVersion)
            .join(Production, Production.id == Record.production_id)
            .join(RecordVersion, (RecordVersion.record_id == Record.id)
                  & (RecordVersion.version == Record.latest_version))
            .where(Production.code.in_(codes))
        )
        if status:
            query = query.where(Record.status == status)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = session.execute(query.order_by(Record.updated_at.desc()).limit(limit).offset(offset)).tuples().all()
        return {
            "records": [summary(r, v) for r, v in rows],
            "total": total, "limit": limit, "offset": offset,
        }


def summary(record: Record, version: RecordVersion) -> dict[str, Any]:
    body = json.loads(version.body)
    tools = body.get("tools") or ([body["tool"]] if body.get("tool") else [])
    return {
        "id": record.id,
        "production": record.production.code,
        "status": record.status,
        "version": record.latest_version,
        "outcome": version.outcome,
        "description": record.description,
        "declared_by": body.get("declared_by"),
        "vendor": body.get("vendor"),
        "tools": [t.get("name") for t in tools],
        "media": body.get("use", {}).get("media"),
        "stage": body.get("use", {}).get("stage"),
        "targets": [f"{t['kind']}:{t['ref']}" for t in body.get("targets", [])],
        "rules": [f["rule"] for f in json.loads(version.decision).get("findings", [])],
        "updated_at": iso(record.updated_at),
    }


# -------------------------------------------------------------------------------------------- deciding


def _latest_version(session: Session, record: Record) -> RecordVersion:
    return session.execute(
        select(RecordVersion).where(
            RecordVersion.record_id == record.id, RecordVersion.version == record.latest_version
        )
    ).scalar_one()


def request_approval(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.write() as session:
        record = _visible_record(session, actor, record_id, "request.open")
        code = record.production.code
        version = _latest_version(session, record)
        if version.outcome == "prohibited":
            raise refuse(409, _prohibited_reason(version), "request.open", f"record:{record_id}", code)
        waiting = session.execute(
            select(ApprovalRequest).where(ApprovalRequest.record_id == record_id, ApprovalRequest.status == "waiting")
        ).scalars().first()
        created = waiting is None
        if waiting is None:
            waiting = ApprovalRequest(record_id=record_id, version=version.version, status="waiting",
                                      requested_by=actor.user_id, requested_at=utcnow())
            session.add(waiting)
            record.status = "waiting"
            record.updated_at = utcnow()
            session.flush()
            audit.append(session, actor.name, "request.open", f"record:{record_id}", code,
                         {"version": version.version, "automatic": False})
        return {"request": {"id": waiting.id, "record_id": record_id, "version": waiting.version,
                            "status": waiting.status, "requested_at": iso(waiting.requested_at)},
                "status": record.status, "created": created}


def _prohibited_reason(version: RecordVersion) -> str:
    findings = [f for f in json.loads(version.decision).get("findings", []) if f.get("outcome") == "prohibited"]
    why = "; ".join(f"{f['rule']}: {f['message']}" for f in findings) or "the policy prohibits it"
    return f"this record is prohibited and cannot be approved ({why})"


def _parse_expiry(expires_at: str | datetime | None) -> datetime | None:
    if expires_at is None or expires_at == "":
        return None
    if isinstance(expires_at, datetime):
        value = expires_at
    else:
        text = expires_at.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ServiceError(422, f"expires_at {text!r} is not an ISO 8601 date or time, e.g. 2027-03-31 "
                               "or 2027-03-31T18:00:00Z", field="expires_at") from None
        if len(text) == 10:  # a date alone: valid to the end of that day
            value = value.replace(hour=23, minute=59, second=59)
    value = aware(value)
    if value <= utcnow():
        raise ServiceError(422, "expires_at is in the past: give a future date", field="expires_at")
    return value


def decide(
    db: Database, actor: Actor, record_id: str, decision: str, conditions: str, expires_at: str | datetime | None,
    keyring: Any, via: str = "api",
) -> dict[str, Any]:
    """Approve (returns the signed approval) or deny the record's latest version."""
    if decision not in ("approve", "deny"):
        raise ServiceError(422, "decision must be approve or deny", field="decision")
    expiry = _parse_expiry(expires_at) if decision == "approve" else None
    action = f"record.{decision}"
    with db.write() as session:
        record = _visible_record(session, actor, record_id, action)
        code = record.production.code
        obj = f"record:{record_id}"
        if not actor.has_role(code, *APPROVER_ROLES):
            have = ", ".join(sorted(actor.roles.get(code, set())))
            raise refuse(403, f"only an approver of {code} can {decision}; your role there: {have}", action, obj, code)
        version = _latest_version(session, record)
        submitters = set(session.execute(
            select(RecordVersion.submitted_by).where(RecordVersion.record_id == record_id)
        ).scalars())
        declared_by = json.loads(version.body).get("declared_by")
        if actor.user_id in submitters or (declared_by and declared_by == actor.name):
            raise refuse(403, f"you declared or submitted record {record_id}: another approver must {decision} it",
                         action, obj, code)
        if decision == "approve" and version.outcome == "prohibited":
            raise refuse(409, _prohibited_reason(version), action, obj, code)
        now = utcnow()
        waiting = session.execute(
            select(ApprovalRequest).where(ApprovalRequest.record_id == record_id, ApprovalRequest.status == "waiting")
        ).scalars().all()
        for request in waiting:
            request.status = "approved" if decision == "approve" else "denied"
            request.decided_by = actor.user_id
            request.decided_at = now
        record.updated_at = now
        if decision == "deny":
            record.status = "denied"
            session.add(Denial(record_id=record_id, version=version.version, approver_id=actor.user_id,
                               denied_at=now, reason=conditions))
            audit.append(session, actor.name, "record.deny", obj, code,
                         {"version": version.version, "reason": conditions, "via": via})
            return {"decision": "deny", "record_id": record_id, "version": version.version,
                    "denied_by": actor.name, "denied_at": iso(now), "reason": conditions, "status": "denied"}
        from clearance.approvals import ApprovalStatement

        body = json.loads(version.body)
        statement = ApprovalStatement(
            approval_id=str(uuid.uuid4()), record_id=uuid.UUID(record_id), record_digest=version.decision_digest,
            production=code, targets=[f"{t['kind']}:{t['ref']}" for t in body.get("targets", [])],
            approver=actor.name, issued_at=now, expires_at=expiry, conditions=conditions,
        )
        signed = keyring.sign(statement)
        signed_json = signed.model_dump_json()
        session.add(Approval(
            approval_id=statement.approval_id, record_id=record_id, version=version.version,
            approver_id=actor.user_id, issued_at=now, expires_at=expiry, conditions=conditions,
            key_id=signed.key_id, signed_json=signed_json,
        ))
        record.status = "approved"
        audit.append(session, actor.name, "record.approve", obj, code,
                     {"version": version.version, "approval_id": statement.approval_id, "key_id": signed.key_id,
                      "expires_at": iso(expiry), "conditions": conditions, "via": via})
        return json.loads(signed_json)


def approvals_for(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.read() as session:
        _visible_record(session, actor, record_id, "approval.read")
        rows = session.execute(
            select(Approval.signed_json).where(Approval.record_id == record_id).order_by(Approval.issued_at)
        ).scalars().all()
        return {"approvals": [json.loads(r) for r in rows]}


def revoke(db: Database, actor: Actor, approval_id: str, reason: str, via: str = "api") -> dict[str, Any]:
    action = "approval.revoke"
    obj = f"approval:{approval_id}"
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise ServiceError(404, f"approval {approval_id} not found")
        record = session.get(Record, approval.record_id)
        assert record is not None
        code = record.production.code
        if not actor.in_production(code):
            raise refuse(404, f"approval {approval_id} not found", action, obj, code)
        if not actor.has_role(code, *REVOKER_ROLES):
            raise refuse(403, f"only an approver or admin of {code} can revoke an approval", action, obj, code)
        existing = session.get(Revocation, approval_id)
        if existing is not None:
            return {"approval_id": approval_id, "revoked_at": iso(existing.revoked_at), "reason": existing.reason,
                    "already_revoked": True}
        now = utcnow()
        session.add(Revocation(approval_id=approval_id, revoked_by=actor.user_id, revoked_at=now, reason=reason))
        live = session.execute(
            select(func.count()).select_from(Approval)
            .outerjoin(Revocation, Revocation.approval_id == Approval.approval_id)
            .where(Approval.record_id == record.id, Revocation.approval_id.is_(None),
                   Approval.approval_id != approval_id)
        ).scalar_one()
        if record.status == "approved" and not live:
            record.status = "revoked"
            record.updated_at = now
        audit.append(session, actor.name, action, obj, code,
                     {"record_id": record.id, "reason": reason, "via": via})
        return {"approval_id": approval_id, "revoked_at": iso(now), "reason": reason, "record_id": record.id,
                "status": record.status}


def revocations(db: Database, actor: Actor) -> dict[str, Any]:
    codes = actor.productions()
    with db.read() as session:
        rows = session.execute(
            select(Revocation)
            .join(Approval, Approval.approval_id == Revocation.approval_id)
            .join(Record, Record.id == Approval.record_id)
            .join(Production, Production.id == Record.production_id)
            .where(Production.code.in_(codes))
            .order_by(Revocation.revoked_at)
        ).scalars().all()
        return {
            "revocations": [
                {"approval_id": r.approval_id, "revoked_at": iso(r.revoked_at), "reason": r.reason} for r in rows
            ],
            "generated_at": iso(utcnow()),
        }


# ------------------------------------------------------------------------------------------ web views


def queue(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Requests waiting for a decision in the productions this user can see, oldest first."""
    codes = actor.productions()
    with db.read() as session:
        rows = session.execute(
            select(ApprovalRequest, Record, RecordVersion)
            .join(Record, Record.id == ApprovalRequest.record_id)
            .join(Production, Production.id == Record.production_id)
            .join(RecordVersion, (RecordVersion.record_id == Record.id)
                  & (RecordVersion.version == ApprovalRequest.version))
            .where(ApprovalRequest.status == "waiting", Production.code.in_(codes))
            .order_by(ApprovalRequest.requested_at)
        ).tuples().all()
        names = _user_names(session, {r.requested_by for r, _, _ in rows})
        out = []
        for request, record, version in rows:
            item = summary(record, version)
            item.update({
                "request_id": request.id,
                "requested_by": names.get(request.requested_by),
                "requested_at": iso(request.requested_at),
                "findings": [f for f in json.loads(version.decision).get("findings", [])],
                "can_decide": actor.has_role(record.production.code, *APPROVER_ROLES),
            })
            out.append(item)
        return out


def register(
    db: Database, actor: Actor, production: str, status: str | None = None, stage: str | None = None,
    media: str | None = None, text: str | None = None,
) -> list[dict[str, Any]]:
    if not actor.in_production(production):
        raise refuse(404, f"production {production} not found", "register.read", f"production:{production}",
                     production)
    items = list_records(db, actor, production, status, limit=100_000)["records"]
    if stage:
        items = [i for i in items if i["stage"] == stage]
    if media:
        items = [i for i in items if i["media"] == media]
    if text:
        needle = text.lower()
        items = [i for i in items if needle in json.dumps(i, ensure_ascii=False).lower()]
    return items


def audit_entries(
    db: Database, actor: Actor, production: str | None = None, limit: int = 200, before: int | None = None
) -> list[dict[str, Any]]:
    codes = actor.productions_with(*OVERSIGHT_ROLES)
    if production is not None:
        if production not in codes:
            raise refuse(403 if actor.in_production(production) else 404,
                         f"the audit log of {production} is for its approvers and admins",
                         "audit.read", f"production:{production}", production)
        codes = [production]
    if not codes:
        raise refuse(403, "the audit log is for approvers and admins", "audit.read", "audit", None)
    is_admin = bool(actor.productions_with("admin"))
    with db.read() as session:
        query = select(AuditEntry)
        scope = AuditEntry.production.in_(codes)
        if is_admin and production is None:
            scope = scope | AuditEntry.production.is_(None)
        query = query.where(scope)
        if before is not None:
            query = query.where(AuditEntry.seq < before)
        rows = session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit)).scalars().all()
        return [audit.entry_view(e) for e in rows]


# --------------------------------------------------------------------------------------- administration


def add_production(session: Session, code: str, name: str, actor: str) -> tuple[Production, bool]:
    existing = _production(session, code)
    if existing is not None:
        return existing, False
    prod = Production(code=code, name=name or code, created_at=utcnow())
    session.add(prod)
    session.flush()
    audit.append(session, actor, "production.create", f"production:{code}", code, {"name": prod.name})
    return prod, True
