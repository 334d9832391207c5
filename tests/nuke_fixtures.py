"""Helpers for the Nuke tests: the fake ``nuke`` on sys.path, a fresh session, records and approvals.

Also used by the Resolve and install tests for records and signed approvals.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_NUKE = ROOT / "tests" / "fakes" / "nuke"
NUKE_PLUGIN = ROOT / "plugins" / "nuke"
for _path in (FAKE_NUKE, NUKE_PLUGIN):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import nuke  # noqa: E402  - the fake, from tests/fakes/nuke
from records import clean_answers  # noqa: E402

from clearance.record import UseRecord  # noqa: E402

ANSWERS: dict[str, Any] = {
    "production": "EXAMPLE_S01",
    "description": "Sky replacement generated with Firefly",
    "tool": {
        "name": "Firefly",
        "provider": "Adobe",
        "environment": "enterprise",
        "trains_on_inputs": "no",
        "retains_inputs": "no",
    },
    "use": {
        "media": "image",
        "stage": "final",
        "in_final_deliverable": "yes",
        "creative_element": "background",
        "prominence": "incidental",
    },
    **clean_answers(),
}


def final_record(**use: Any) -> UseRecord:
    """A use that needs approval (generated material in a final deliverable)."""
    data = json.loads(json.dumps(ANSWERS))
    data["use"].update(use)
    return UseRecord.model_validate(data)


def ideation_record() -> UseRecord:
    """A use that only needs disclosure."""
    return final_record(stage="ideation", in_final_deliverable="no", creative_element="none", prominence="none")


class Approver:
    """A studio approver for tests: a key ring in a temp folder, trusted through a policy file."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from clearance.approvals import KeyRing

        self.ring = KeyRing.open(tmp / "keys")
        key = self.ring.public_keys_document()["keys"][0]
        self.policy_path = tmp / "policy.yaml"
        self.policy_path.write_text(
            json.dumps({"approvals": {"trusted_keys": [{"key_id": key["key_id"], "public_key": key["public_key"]}]}}),
            encoding="utf-8",
        )
        monkeypatch.setenv("CLEARANCE_POLICY", str(self.policy_path))

    def approve(self, record: UseRecord, targets: list[str] | None = None, conditions: str = "") -> Any:
        """Sign an approval, put it in this machine's cache with a fresh (empty) revocation list."""
        from clearance.approvals import ApprovalStatement
        from clearance.cache import ApprovalCache
        from clearance.record import decision_digest

        now = datetime.now(timezone.utc)
        statement = ApprovalStatement(
            approval_id=f"appr-{uuid.uuid4().hex[:8]}",
            record_id=record.id,
            record_digest=decision_digest(record),
            production=record.production,
            targets=targets if targets is not None else [t.key() for t in record.targets],
            approver="approver@studio.example",
            issued_at=now - timedelta(minutes=1),
            expires_at=now + timedelta(days=30),
            conditions=conditions,
        )
        signed = self.ring.sign(statement)
        cache = ApprovalCache()
        cache.add_approval(signed)
        from clearance.approvals import TrustedKeys

        cache.store_revocations(self.ring.sign_document({"revocations": [], "generated_at": now.isoformat()}),
                                TrustedKeys.from_document(self.ring.public_keys_document()))
        return signed


@pytest.fixture
def fake_nuke() -> Any:
    """A fresh fake Nuke session with the Clearance plugin initialised (as init.py does)."""
    nuke.fake_reset()
    from clearance_nuke import boot

    boot._initialised = False
    boot.init()
    return nuke


@pytest.fixture
def gui_nuke(fake_nuke: Any) -> Any:
    """The same session, as the GUI: menu.py has run."""
    nuke.GUI = True
    nuke.env["gui"] = True
    from clearance_nuke import boot

    boot.menu()
    return nuke


@pytest.fixture
def approver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Approver:
    return Approver(tmp_path, monkeypatch)
