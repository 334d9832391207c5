"""Helpers for the publish tests: records on disk, a trusted key ring, a policy, approvals, manifests,
and a clean pyblish state whose plugins come from PYBLISHPLUGINPATH."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyblish.api
import pyblish.plugin
import pytest
import yaml
from records import clean_answers

from clearance.approvals import ApprovalStatement, KeyRing, SignedApproval
from clearance.cache import ApprovalCache
from clearance.pyblish import settings as publish_settings
from clearance.record import UseRecord, decision_digest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "pyblish_plugins"
NOW = datetime.now(timezone.utc)

NOTIFY = {
    "production": "EXAMPLE_S01",
    "description": "mood board frames for the diner",
    "tool": {"name": "Firefly", "provider": "Adobe", "environment": "enterprise",
             "trains_on_inputs": "no", "retains_inputs": "no"},
    "use": {"media": "image", "stage": "ideation", "in_final_deliverable": "no",
            "creative_element": "none", "prominence": "none", "content_type": "fiction"},
    **clean_answers(),
}


def record_data(kind: str = "notify", **changes: Any) -> dict[str, Any]:
    """A record dict: ``notify``, ``approval`` (generated background in a final deliverable) or ``prohibited``."""
    data = json.loads(json.dumps(NOTIFY))
    data["id"] = str(uuid.uuid4())
    if kind == "approval":
        data["use"].update(stage="final", in_final_deliverable="yes", creative_element="background",
                           prominence="incidental")
    elif kind == "prohibited":
        data["realism"] = {"depicts_real_people_or_events": "yes", "presented_as_authentic": "yes"}
        data["use"]["content_type"] = "documentary"
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


def write_record(path: Path, data: dict[str, Any]) -> UseRecord:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return UseRecord.model_validate(data)


def write_policy(path: Path, ring: KeyRing | None = None, **extra: Any) -> Path:
    data: dict[str, Any] = {"version": "test-policy-1", "tools": {"Firefly": {"provider": "Adobe",
                                                                               "environment": "enterprise"}}}
    if ring is not None:
        keys = ring.public_keys_document()["keys"]
        data["approvals"] = {"trusted_keys": [{"key_id": k["key_id"], "public_key": k["public_key"]} for k in keys]}
    for key, value in extra.items():
        data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def approve(ring: KeyRing, record: UseRecord, *, expires_at: datetime | None = None,
            issued_at: datetime | None = None, targets: list[str] | None = None) -> SignedApproval:
    statement = ApprovalStatement(
        approval_id=str(uuid.uuid4()), record_id=record.id, record_digest=decision_digest(record),
        production=record.production, targets=targets if targets is not None else [t.key() for t in record.targets],
        approver="sam.approver",
        issued_at=issued_at or NOW - timedelta(hours=1),
        expires_at=expires_at if expires_at is not None else NOW + timedelta(days=30),
    )
    return ring.sign(statement)


def write_approval(folder: Path, approval: SignedApproval) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{approval.approval_id}.json"
    path.write_text(approval.to_json(), encoding="utf-8")
    return path


def store_revocations(ring: KeyRing, revoked: list[str] = (), at: datetime | None = None) -> None:  # type: ignore[assignment]
    """Cache a revocation list signed by ``ring`` (an unsigned list is refused), generated at ``at``."""
    moment = (at or NOW).isoformat()
    document = ring.sign_document(
        {"revocations": [{"approval_id": a, "revoked_at": moment, "reason": "withdrawn"} for a in revoked],
         "generated_at": moment})
    from clearance.approvals import TrustedKeys

    ApprovalCache().store_revocations(document, TrustedKeys.from_document(ring.public_keys_document()))


def write_manifest(work: Path, items: list[dict[str, Any]], *, family: str = "review",
                   destination: str = "../publish", production: str = "EXAMPLE_S01") -> Path:
    path = work / "publish.yaml"
    path.write_text(yaml.safe_dump({"production": production, "family": family, "destination": destination,
                                    "items": items}, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def pyblish_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Pyblish with only PYBLISHPLUGINPATH (the real plugin folder), host standalone; state restored after."""
    hosts = pyblish.api.registered_hosts()
    paths = pyblish.api.registered_paths()
    filters = list(pyblish.api.registered_discovery_filters())
    monkeypatch.setenv("PYBLISHPLUGINPATH", str(PLUGINS))
    # another test in this process may have called clearance.pyblish.register(): start from pyblish's defaults
    pyblish.api.deregister_all_paths()
    pyblish.api.deregister_all_discovery_filters()
    pyblish.api.deregister_all_hosts()
    pyblish.api.register_host("python")
    pyblish.api.register_host("standalone")
    publish_settings.use_policy(None)
    yield PLUGINS
    publish_settings.use_policy(None)
    pyblish.api.deregister_all_hosts()
    for host in hosts:
        pyblish.api.register_host(host)
    pyblish.api.deregister_all_paths()
    for path in paths:
        pyblish.api.register_plugin_path(path)
    pyblish.api.deregister_all_discovery_filters()
    for f in filters:
        pyblish.api.register_discovery_filter(f)


def run_publish(manifest: Path, policy: Any = None, approvals: Path | None = None) -> Any:
    """A real pyblish.util.publish of a manifest, plugins discovered from PYBLISHPLUGINPATH."""
    import pyblish.util

    context = pyblish.api.Context()
    context.data["clearance_manifest"] = str(manifest)
    if policy is not None:
        context.data["clearance_policy"] = policy
        publish_settings.use_policy(policy)
    if approvals is not None:
        context.data["clearance_approvals_dir"] = str(approvals)
    pyblish.util.publish(context)
    return context


def errors(context: Any) -> dict[str, Any]:
    """Failed plugins by class name -> the error."""
    return {r["plugin"].__name__: r["error"] for r in context.data["results"] if r["error"] is not None}


def ran(context: Any) -> list[str]:
    return [r["plugin"].__name__ for r in context.data["results"]]
