"""Deciding: approval requests, approvals (signed with the key ring) and denials, by the production's approvers."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from clearance.server import audit, checkpoints
from clearance.server.auth import APPROVER_ROLES, Actor, aware, iso, utcnow
from clearance.server.db import Database
from clearance.server.errors import ServiceError, refuse
from clearance.server.models import Approval, ApprovalRequest, Denial, RecordVersion
from clearance.server.reads import latest_version, visible_record


def request_approval(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.write() as session:
        record = visible_record(session, actor, record_id, "request.open")
        code = record.production.code
        version = latest_version(session, record)
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


def parse_expiry(expires_at: str | datetime | None, *, refuse_past: bool = True) -> datetime | None:
    """The expiry as an aware time; a past one is refused (409) unless the caller checks it later."""
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
    if refuse_past:
        _refuse_past(aware(value))
    return aware(value)


def _refuse_past(expiry: datetime | None) -> None:
    """A well-formed date that is already past conflicts with the clock, not with the schema: 409."""
    if expiry is not None and expiry <= utcnow():
        raise ServiceError(409, f"expires_at {iso(expiry)} is in the past: the approval would be expired at "
                           "once; give a future date", field="expires_at")


class StaleVersion(ServiceError):
    """The approver decided on a version that is no longer the record's latest: nothing was decided."""

    def __init__(self, record_id: str, reviewed: int, latest: int, production: str) -> None:
        super().__init__(409, f"the record changed since you opened it: review version {latest} "
                         f"(you reviewed version {reviewed})", field="version", audit=True,
                         action="record.decide", obj=f"record:{record_id}", production=production)
        self.reviewed = reviewed
        self.latest = latest


def decide(
    db: Database, actor: Actor, record_id: str, decision: str, conditions: str, expires_at: str | datetime | None,
    keyring: Any, via: str = "api", *, reviewed_version: int, content_digest: str | None = None,
) -> dict[str, Any]:
    """Approve (returns the signed approval) or deny ``reviewed_version``, which must be the record's latest.

    ``reviewed_version`` (and ``content_digest`` when given) is what the approver reviewed: when the record
    has a newer version, or the digest differs, nothing is decided (StaleVersion, 409). A denial needs a
    reason (``conditions`` carries it).
    """
    if decision not in ("approve", "deny"):
        raise ServiceError(422, "decision must be approve or deny", field="decision")
    if decision == "deny" and not re.search(r"\S", conditions):
        raise ServiceError(422, "a denial needs a reason: say what must change before it can be approved",
                           field="reason")
    expiry = parse_expiry(expires_at, refuse_past=False) if decision == "approve" else None
    action = f"record.{decision}"
    with db.write() as session:
        record = visible_record(session, actor, record_id, action)
        code = record.production.code
        obj = f"record:{record_id}"
        if not actor.has_role(code, *APPROVER_ROLES):
            have = ", ".join(sorted(actor.roles.get(code, set())))
            raise refuse(403, f"only an approver of {code} can {decision}; your role there: {have}", action, obj, code)
        version = latest_version(session, record)
        if version.version != reviewed_version or (content_digest and content_digest != version.content_digest):
            raise StaleVersion(record_id, reviewed_version, version.version, code)
        submitters = set(session.execute(
            select(RecordVersion.submitted_by).where(RecordVersion.record_id == record_id)
        ).scalars())
        declared_by = json.loads(version.body).get("declared_by")
        if actor.user_id in submitters or (declared_by and declared_by == actor.name):
            raise refuse(403, f"you declared or submitted record {record_id}: another approver must {decision} it",
                         action, obj, code)
        _refuse_past(expiry)
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
            checkpoints.write(session, keyring)  # every decision is anchored by a signed checkpoint
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
        checkpoints.write(session, keyring)
        answer: dict[str, Any] = json.loads(signed_json)
        return answer


def approvals_for(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.read() as session:
        visible_record(session, actor, record_id, "approval.read")
        rows = session.execute(
            select(Approval.signed_json).where(Approval.record_id == record_id).order_by(Approval.issued_at)
        ).scalars().all()
        return {"approvals": [json.loads(r) for r in rows]}
