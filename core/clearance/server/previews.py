"""Previews: a small picture of a record's target, sent by the client and shown to the approver.

Only still images a browser shows without help (JPEG, PNG, WebP), recognised by their bytes, never by
the name or the declared type; at most ``MAX_BYTES`` each, one per target of the record's latest
version, at most ``MAX_PER_RECORD`` per record. SVG and anything else is refused: a preview is shown
inside the approver's page.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select

from clearance.server import audit
from clearance.server.auth import Actor, iso, utcnow
from clearance.server.db import Database
from clearance.server.errors import ServiceError, refuse
from clearance.server.models import Preview, Record, RecordVersion
from clearance.server.reads import visible_record
from clearance.thumbnails import MAX_BYTES, sniff

MAX_PER_RECORD = 50
"""Pictures kept per record (one per target): a record with hundreds of targets gets the first 50."""
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")


def _record(session: Any, actor: Actor, record_id: str, action: str) -> Record:
    return visible_record(session, actor, record_id, action)


def store(db: Database, actor: Actor, record_id: str, target: str, data: bytes, declared_type: str) -> dict[str, Any]:
    """Store (or replace) the preview of one target. Returns its description and whether it changed."""
    if len(data) > MAX_BYTES:
        raise ServiceError(413, f"the preview is {len(data)} bytes; the limit is {MAX_BYTES} bytes: send a smaller "
                           "thumbnail (e.g. 640 px wide JPEG)", field="(body)")
    media_type = sniff(data)
    if media_type is None:
        raise ServiceError(415, "a preview must be a JPEG, PNG or WebP image (recognised by its bytes)",
                           field="(body)")
    declared = declared_type.split(";", maxsplit=1)[0].strip().lower()
    if declared and declared not in (media_type, "application/octet-stream"):
        raise ServiceError(415, f"the body is {media_type} but Content-Type says {declared}", field="content-type")
    digest = hashlib.sha256(data).hexdigest()
    action = "preview.upload"
    with db.write() as session:
        record = _record(session, actor, record_id, action)
        code = record.production.code
        if not actor.in_production(code):
            raise refuse(404, f"record {record_id} not found", action, f"record:{record_id}", code)
        latest = session.execute(
            select(RecordVersion.body).where(RecordVersion.record_id == record_id,
                                             RecordVersion.version == record.latest_version)
        ).scalar_one()
        targets = [f"{t['kind']}:{t['ref']}" for t in json.loads(latest).get("targets") or []]
        if target not in targets:
            known = ", ".join(targets) or "none"
            # 404: the record has no such target (well-formed, like an unknown id), not an invalid query.
            raise ServiceError(404, f"target {target!r} is not a target of record {record_id} (its targets: {known})",
                               field="target")
        existing = session.get(Preview, (record_id, target))
        if existing is None:
            kept = session.execute(
                select(func.count()).select_from(Preview).where(Preview.record_id == record_id)
            ).scalar_one()
            if kept >= MAX_PER_RECORD:
                raise ServiceError(422, f"record {record_id} already has {MAX_PER_RECORD} previews, the most one "
                                   "record keeps", field="target")
        if existing is not None and existing.sha256 == digest:
            return {"record_id": record_id, "target": target, "media_type": media_type, "bytes": len(data),
                    "sha256": digest, "uploaded_at": iso(existing.uploaded_at), "created": False}
        now = utcnow()
        if existing is None:
            session.add(Preview(record_id=record_id, target=target, media_type=media_type, data=data, sha256=digest,
                                uploaded_by=actor.user_id, uploaded_at=now))
        else:
            existing.media_type, existing.data, existing.sha256 = media_type, data, digest
            existing.uploaded_by, existing.uploaded_at = actor.user_id, now
        audit.append(session, actor.name, action, f"record:{record_id}", code,
                     {"target": target, "sha256": digest, "bytes": len(data)})
        return {"record_id": record_id, "target": target, "media_type": media_type, "bytes": len(data),
                "sha256": digest, "uploaded_at": iso(now), "created": True}


def listing(db: Database, actor: Actor, record_id: str) -> dict[str, Any]:
    with db.read() as session:
        _record(session, actor, record_id, "preview.read")
        rows = session.execute(
            select(Preview.target, Preview.media_type, Preview.sha256, Preview.uploaded_at)
            .where(Preview.record_id == record_id).order_by(Preview.target)
        ).tuples().all()
        return {"previews": [{"target": t, "media_type": m, "sha256": s, "uploaded_at": iso(at)}
                             for t, m, s, at in rows]}


def image(db: Database, actor: Actor, record_id: str, target: str) -> tuple[bytes, str]:
    with db.read() as session:
        _record(session, actor, record_id, "preview.read")
        found = session.get(Preview, (record_id, target))
        if found is None:
            raise ServiceError(404, f"no preview of {target} for record {record_id}", field="target")
        return bytes(found.data), found.media_type


def keys_for(db: Database, record_ids: list[str]) -> dict[str, set[str]]:
    """Which targets have a preview, per record (the caller has already checked the records are visible)."""
    out: dict[str, set[str]] = {}
    with db.read() as session:
        for record_id, target in session.execute(
            select(Preview.record_id, Preview.target).where(Preview.record_id.in_(record_ids))
        ).tuples():
            out.setdefault(record_id, set()).add(target)
    return out
