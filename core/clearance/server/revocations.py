"""Revoking approvals, and the revocation list every client merges (signed by the API layer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from clearance.server import audit, checkpoints
from clearance.server.auth import REVOKER_ROLES, Actor, iso, utcnow
from clearance.server.db import Database
from clearance.server.errors import ServiceError, refuse
from clearance.server.models import Approval, Production, Record, Revocation, User


def revoke(
    db: Database, actor: Actor, approval_id: str, reason: str, via: str = "api", keyring: Any = None
) -> dict[str, Any]:
    """Revoke an approval; with the key ring, the revocation is anchored by a signed audit checkpoint."""
    action = "approval.revoke"
    obj = f"approval:{approval_id}"
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise ServiceError(404, f"approval {approval_id} not found")
        record = session.get(Record, approval.record_id)
        if record is None:  # the foreign key makes this impossible; answer as for any unknown approval
            raise ServiceError(404, f"approval {approval_id} not found")
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
        if keyring is not None:
            checkpoints.write(session, keyring)
        return {"approval_id": approval_id, "revoked_at": iso(now), "reason": reason, "record_id": record.id,
                "status": record.status}


def revocations(db: Database, actor: Actor) -> dict[str, Any]:
    codes = actor.productions()
    with db.read() as session:
        rows = session.execute(
            select(Revocation, User.name)
            .join(Approval, Approval.approval_id == Revocation.approval_id)
            .join(Record, Record.id == Approval.record_id)
            .join(Production, Production.id == Record.production_id)
            .outerjoin(User, User.id == Revocation.revoked_by)
            .where(Production.code.in_(codes))
            .order_by(Revocation.revoked_at)
        ).tuples().all()
        return {
            "revocations": [
                {"approval_id": r.approval_id, "revoked_at": iso(r.revoked_at), "reason": r.reason,
                 "revoked_by": name or ""}
                for r, name in rows
            ],
            "generated_at": iso(utcnow()),
        }
