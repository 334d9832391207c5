"""One standing for every surface: the same (record, approvals, revocations, keys, clock) gives the same verdict
to the core judge, the publish check, `clearance check`'s lookup, the hosts' status and `approvals verify`."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from approvals_fixtures import approve, make_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.approvals import KeyRing, TrustedKeys
from clearance.cache import ApprovalCache
from clearance.items import GenAIItem
from clearance.policy import load_policy
from clearance.record import Target, dump_record

NOW = datetime.now(timezone.utc).replace(microsecond=0)
ROOT = Path(tempfile.mkdtemp(prefix="clearance-standing-surfaces-"))
SERVICE = KeyRing.open(ROOT / "service")
ROGUE = KeyRing.open(ROOT / "rogue")
POLICY_FILE = ROOT / "policy.yaml"
POLICY_FILE.write_text(
    "approvals:\n  trusted_keys:\n" + "".join(
        f"    - {{key_id: {k['key_id']}, public_key: {k['public_key']}}}\n"
        for k in SERVICE.public_keys_document()["keys"]))
POLICY = load_policy([str(POLICY_FILE)])
SERVICE_KEYS = TrustedKeys.from_document(SERVICE.public_keys_document())

cases = st.fixed_dictionaries({
    "record_targets": st.sampled_from([[], ["shot:sh010"], ["shot:sh010", "shot:sh020"]]),
    "approval": st.sampled_from(["none", "same", "fewer_targets", "edited", "rogue", "expired"]),
    "revocations": st.sampled_from(["none", "fresh", "stale", "revoked", "unsigned"]),
    "target": st.sampled_from([None, "shot:sh010", "shot:sh020", "node:Write1"]),
    "needs_approval": st.booleans(),
    "service": st.sampled_from(["silent", "waiting", "denied", "revoked"]),  # what the service last said
})


def _target(key: str | None) -> Target | None:
    if key is None:
        return None
    kind, ref = key.split(":")
    return Target(kind=kind, ref=ref)


def _setup(case: dict[str, Any], home: Path) -> tuple[Any, Any]:
    targets = [{"kind": t.split(":")[0], "ref": t.split(":")[1]} for t in case["record_targets"]]
    stage = "final" if case["needs_approval"] else "ideation"
    record = make_record(targets=targets)
    record = record.model_copy(update={"use": record.use.model_copy(update={
        "stage": stage, "in_final_deliverable": "yes" if case["needs_approval"] else "no"})})
    cache = ApprovalCache(home / "cache")
    approval = None
    kind = case["approval"]
    if kind != "none":
        approved = record
        if kind == "edited":  # approved before a decision field changed
            approved = record.model_copy(update={"use": record.use.model_copy(update={"prominence": "prominent"})})
        listed = [t.key() for t in record.targets]
        if kind == "fewer_targets":
            listed = listed[:1]
        approval = approve(ROGUE if kind == "rogue" else SERVICE, approved, targets=listed,
                           issued_at=NOW - timedelta(hours=2),
                           expires_at=NOW - timedelta(minutes=5) if kind == "expired" else NOW + timedelta(days=9))
        cache.add_approval(approval)
    said = case["service"]
    if said != "silent":
        from clearance.record import decision_digest

        facts: dict[str, Any] = {"versions": [{"version": 1, "decision_digest": decision_digest(record)}],
                                 "requests": [], "denials": [], "approvals": []}
        if said == "waiting":
            facts["requests"].append({"version": 1, "status": "waiting", "requested_by": "ana",
                                      "requested_at": (NOW - timedelta(hours=1)).isoformat()})
        elif said == "denied":  # denied after the approval was issued
            facts["denials"].append({"version": 1, "denied_by": "sam", "denied_at": (NOW - timedelta(minutes=30))
                                     .isoformat(), "reason": "not in marketing"})
        elif approval is not None:
            facts["approvals"].append({"approval_id": approval.approval_id, "version": 1,
                                       "revoked_at": NOW.isoformat(), "revocation_reason": "withdrawn",
                                       "revoked_by": "sam"})
        cache.store_facts(str(record.id), facts)
    rev = case["revocations"]
    if rev != "none":
        generated = NOW - timedelta(days=3) if rev == "stale" else NOW - timedelta(minutes=1)
        entries = [{"approval_id": approval.approval_id, "revoked_at": generated.isoformat(), "reason": "withdrawn"}] \
            if rev == "revoked" and approval is not None else []
        body = {"revocations": entries, "generated_at": generated.isoformat()}
        if rev == "unsigned":
            cache.revocations_path.parent.mkdir(parents=True, exist_ok=True)
            cache.revocations_path.write_text(__import__("json").dumps({"documents": [body]}))
        else:
            cache.store_revocations(SERVICE.sign_document(body), SERVICE_KEYS)
    return record, approval


def _verdicts(case: dict[str, Any], home: Path) -> dict[str, Any]:
    record, approval = _setup(case, home)
    target = _target(case["target"])
    out: dict[str, Any] = {}

    from clearance.standing import Judge
    from clearance.trust import load_trust

    core = Judge(POLICY, load_trust(POLICY, cache=ApprovalCache())).standing(record, target)
    out["core"] = core.verdict

    from clearance.hosts.status import HOST_STATUS
    from clearance.hosts.status import Judge as HostJudge

    host = HostJudge(policy=POLICY).standing(record, target)
    out["host"] = host.status
    out["core_as_host"] = HOST_STATUS[core.verdict]

    from clearance.editorial.check import ApprovalLookup

    editorial = ApprovalLookup(POLICY, None, None).find(record, target)
    out["editorial"] = editorial.verdict

    from clearance.pyblish.checks import approval_valid
    from clearance.pyblish.collect import ItemCheck
    from clearance.record import content_digest

    item = GenAIItem(host="standalone", handle="h", label="h", target=target or Target(kind="file", ref="x"),
                     record=record)
    check = ItemCheck(item=item, name="h", families=[], record=record, record_id=str(record.id),
                      decision=core.decision, content=content_digest(record))
    context = SimpleNamespace(data={"clearance_policy": POLICY})
    if target is None:
        out["publish"] = None  # publish items always have a target
    else:
        outcome = approval_valid(context, [check], None)  # type: ignore[arg-type]
        out["publish"] = "block" if outcome.failures else "pass"

    if approval is not None and target is not None:
        from clearance.cli.main import main

        (home / "approval.json").write_text(approval.to_json())
        (home / "record.yaml").write_text(dump_record(record))
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["approvals", "verify", str(home / "approval.json"), "--record", str(home / "record.yaml"),
                         "--policy", str(POLICY_FILE), "--offline", "--target", target.key()])
        out["verify"] = code
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases)
def test_every_surface_gives_the_same_verdict(case: dict[str, Any]) -> None:
    home = Path(tempfile.mkdtemp(dir=ROOT))
    saved = os.environ.get("CLEARANCE_HOME")
    os.environ["CLEARANCE_HOME"] = str(home)
    try:
        got = _verdicts(case, home)
    finally:
        if saved is None:
            os.environ.pop("CLEARANCE_HOME", None)
        else:
            os.environ["CLEARANCE_HOME"] = saved
    passes = got["core"] in ("approved", "not_needed")
    assert got["editorial"] == got["core"], got
    assert got["host"] == got["core_as_host"], got
    if got["publish"] is not None:
        assert got["publish"] == ("pass" if passes else "block"), got
    if "verify" in got and case["needs_approval"]:
        assert got["verify"] == (0 if passes else 1), got
    # the fail-closed cases, whatever else was drawn
    if case["approval"] in ("none", "rogue", "expired", "edited") and case["needs_approval"]:
        assert not passes, got
    if case["revocations"] in ("none", "stale", "unsigned", "revoked") and case["needs_approval"]:
        assert not passes, got
    if case["service"] in ("denied", "revoked") and case["needs_approval"]:  # unsigned, but it only tightens
        assert not passes, got
    if (case["needs_approval"] and case["approval"] == "same" and case["revocations"] == "fresh"
            and case["service"] in ("silent", "waiting")
            and (case["target"] in case["record_targets"] or (not case["record_targets"] and case["target"] is not None)
                 or (case["target"] is None))):
        assert got["core"] == "approved", got
