"""Helpers for the approval tests: a key ring, a record that needs approval, a signed approval for it.

The record answers every question except that its material is in the final deliverable, so the
policy asks for approval (FINAL-DELIVERABLE) and nothing is prohibited.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from records import clean_answers

from clearance.approvals import ApprovalStatement, KeyRing, Revocations, SignedApproval, TrustedKeys
from clearance.record import UseRecord, decision_digest

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def make_record(production: str = "EXAMPLE_S01", **changes: object) -> UseRecord:
    data: dict[str, object] = {
        "production": production,
        "description": "generated background signage for sh010",
        "tool": {"name": "Firefly", "provider": "Adobe", "environment": "enterprise",
                 "trains_on_inputs": "no", "retains_inputs": "no"},
        "use": {"media": "image", "stage": "final", "in_final_deliverable": "yes",
                "creative_element": "background", "prominence": "incidental"},
        "targets": [{"kind": "shot", "ref": "sh010"}, {"kind": "shot", "ref": "sh020"}],
        **clean_answers(),
    }
    data.update(changes)
    return UseRecord.model_validate(data)


def approve(
    ring: KeyRing,
    record: UseRecord,
    *,
    targets: list[str] | None = None,
    issued_at: datetime = NOW - timedelta(hours=1),
    expires_at: datetime | None = NOW + timedelta(days=30),
    production: str | None = None,
    approver: str = "sam.approver",
) -> SignedApproval:
    statement = ApprovalStatement(
        approval_id=str(uuid.uuid4()),
        record_id=record.id,
        record_digest=decision_digest(record),
        production=record.production if production is None else production,
        targets=targets if targets is not None else [t.key() for t in record.targets],
        approver=approver,
        issued_at=issued_at,
        expires_at=expires_at,
        conditions="background only",
    )
    return ring.sign(statement)


def fresh_revocations(at: datetime = NOW) -> Revocations:
    return Revocations(revoked={}, generated_at=at, signed_by="test")


def ring_and_keys(tmp_path: Path) -> tuple[KeyRing, TrustedKeys]:
    ring = KeyRing.open(tmp_path / "keys")
    return ring, TrustedKeys.from_document(ring.public_keys_document())
