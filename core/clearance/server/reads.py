"""Reading records, the approval queue, the register and the audit log, as the acting user may see them.

No role in the record's production answers 404, the same as an unknown id: existence is not revealed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from clearance.server import audit
from clearance.server.auth import APPROVER_ROLES, OVERSIGHT_ROLES, Actor, iso
from clearance.server.db import Database
from clearance.server.errors import ServiceError, refuse
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


def visible_record(session: Session, actor: Actor, record_id: str, action: str) -> Record:
    try:
        uuid.UUID(record_id)
    except ValueError:
        raise ServiceError(404, f"record {record_id} not found: a record id is a UUID", field="id") from None
    record = session.get(Record, record_id)
    if record is None:
        raise ServiceError(404, f"record {record_id} not found")
    code = record.production.code
    if not actor.in_production(code) or not actor.sees_vendor(code, record.vendor):
        # Another production's or (vendor isolation) another vendor's record reads like an unknown one.
        raise refuse(404, f"record {record_id} not found", action, f"record:{record_id}", code)
    return record


def scope(actor: Actor, codes: list[str]) -> ColumnElement[bool]:
    """The records of these productions the actor may see: all of them, or their vendor's where confined."""
    parts: list[ColumnElement[bool]] = []
    free = [c for c in codes if c not in actor.confined]
    if free:
        parts.append(Production.code.in_(free))
    for code in codes:
        if code in actor.confined:
            vendor = actor.confined[code]
            same = Record.vendor.is_(None) if vendor is None else Record.vendor == vendor
            parts.append(and_(Production.code == code, same))
    return or_(*parts) if parts else false()


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all())


def record_detail(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.read() as session:
        record = visible_record(session, actor, record_id, "record.read")
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
            .where(scope(actor, codes))
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


def latest_version(session: Session, record: Record) -> RecordVersion:
    return session.execute(
        select(RecordVersion).where(
            RecordVersion.record_id == record.id, RecordVersion.version == record.latest_version
        )
    ).scalar_one()


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
            .where(ApprovalRequest.status == "waiting", scope(actor, codes))
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
                "findings": list(json.loads(version.decision).get("findings", [])),
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
    items: list[dict[str, Any]] = list_records(db, actor, production, status, limit=100_000)["records"]
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
        if is_admin and production is None:
            query = query.where(or_(AuditEntry.production.in_(codes), AuditEntry.production.is_(None)))
        else:
            query = query.where(AuditEntry.production.in_(codes))
        if before is not None:
            query = query.where(AuditEntry.seq < before)
        rows = session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit)).scalars().all()
        return [audit.entry_view(e) for e in rows]


LOOKUP_LIMIT = 2000
"""Record ids per POST /records/lookup: a 10,000-item publish refreshes in five requests."""


def lookup(db: Database, actor: Actor, record_ids: list[str]) -> dict[str, Any]:
    """Many records at once, for clients judging standings: each record's status, version digests, requests,
    denials and approvals (signed, with revocations), and the record body of its latest version and of every
    approved version. Ids that are unknown or not visible to the actor are listed in ``unknown`` alike."""
    wanted: list[str] = []
    for rid in dict.fromkeys(record_ids):
        try:
            wanted.append(str(uuid.UUID(rid)))
        except ValueError:
            continue
    out: dict[str, Any] = {"records": {}, "unknown": []}
    codes = set(actor.productions())
    with db.read() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = session.execute(
                select(Record.id, Record.status, Record.latest_version, Production.code, Record.vendor)
                .join(Production, Production.id == Record.production_id).where(Record.id.in_(chunk))
            ).tuples().all()
            visible = {rid: (status, latest, code) for rid, status, latest, code, vendor in rows
                       if code in codes and actor.sees_vendor(code, vendor)}
            out["unknown"].extend(rid for rid in chunk if rid not in visible)
            if not visible:
                continue
            ids = list(visible)
            versions = session.execute(select(RecordVersion).where(RecordVersion.record_id.in_(ids))
                                       .order_by(RecordVersion.version)).scalars().all()
            requests = session.execute(select(ApprovalRequest).where(ApprovalRequest.record_id.in_(ids))
                                       .order_by(ApprovalRequest.id)).scalars().all()
            denials = session.execute(select(Denial).where(Denial.record_id.in_(ids))
                                      .order_by(Denial.id)).scalars().all()
            approvals = session.execute(
                select(Approval, Revocation).outerjoin(Revocation, Revocation.approval_id == Approval.approval_id)
                .where(Approval.record_id.in_(ids)).order_by(Approval.issued_at)).tuples().all()
            people = {r.requested_by for r in requests} | {d.approver_id for d in denials}
            people |= {v.submitted_by for v in versions} | {r.revoked_by for _a, r in approvals if r is not None}
            names = _user_names(session, people)
            approved = {(a.record_id, a.version) for a, _r in approvals}
            for rid, (status, latest, code) in visible.items():
                out["records"][rid] = {"id": rid, "production": code, "status": status, "latest_version": latest,
                                       "versions": [], "requests": [], "denials": [], "approvals": []}
            for v in versions:
                view = {"version": v.version, "decision_digest": v.decision_digest,
                        "content_digest": v.content_digest, "submitted_at": iso(v.submitted_at),
                        "submitted_by": names.get(v.submitted_by)}
                if v.version == visible[v.record_id][1] or (v.record_id, v.version) in approved:
                    view["record"] = json.loads(v.body)
                out["records"][v.record_id]["versions"].append(view)
            for r in requests:
                out["records"][r.record_id]["requests"].append(
                    {"version": r.version, "status": r.status, "requested_by": names.get(r.requested_by),
                     "requested_at": iso(r.requested_at)})
            for d in denials:
                out["records"][d.record_id]["denials"].append(
                    {"version": d.version, "denied_by": names.get(d.approver_id), "denied_at": iso(d.denied_at),
                     "reason": d.reason})
            for a, rev in approvals:
                out["records"][a.record_id]["approvals"].append(
                    {"approval_id": a.approval_id, "version": a.version, "issued_at": iso(a.issued_at),
                     "signed": json.loads(a.signed_json), "revoked_at": iso(rev.revoked_at) if rev else None,
                     "revocation_reason": rev.reason if rev else None,
                     "revoked_by": names.get(rev.revoked_by) if rev else None})
    return out
