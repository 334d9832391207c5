"""The judge's shortcuts for the usual standing (one record version, one approval that covers it) give what
the general path gives: the approved standing built in one step equals the one the general builder makes,
and one approval is held as the sorted path holds it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from approvals_fixtures import NOW, approve, make_record

from clearance.approvals import KeyRing, SignedApproval, TrustedKeys, Verification
from clearance.cache import ApprovalCache
from clearance.policy import load_policy
from clearance.record import UseRecord, decision_digest
from clearance.standing import Judge, Standing, _Facts, _Held
from clearance.trust import load_trust


def _judge(tmp_path: Path) -> tuple[Judge, KeyRing, ApprovalCache]:
    ring = KeyRing.open(tmp_path / "keys")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("approvals:\n  trusted_keys:\n" + "".join(
        f"    - {{key_id: {k['key_id']}, public_key: {k['public_key']}}}\n"
        for k in ring.public_keys_document()["keys"]), encoding="utf-8")
    policy = load_policy([str(policy_file)])
    cache = ApprovalCache(tmp_path / "cache")
    cache.store_revocations(ring.sign_document({"revocations": [], "generated_at": NOW.isoformat()}),
                            TrustedKeys.from_document(ring.public_keys_document()))
    return Judge(policy, load_trust(policy, cache=cache, now=NOW)), ring, cache


def _general(judge: Judge, record: UseRecord, key: str | None, approval: SignedApproval | None) -> Standing:
    """The approved standing as the general builder makes it from ``_base``."""
    digest = decision_digest(record)
    decision = judge.decide(record, digest)
    held = judge._held_for(record, digest)
    st = approval.statement
    return judge._made(
        decision, approval, verdict="approved", approval_id=st.approval_id, approver=st.approver,
        key_id=approval.key_id, conditions=st.conditions, issued_at=st.issued_at, expires_at=st.expires_at,
        **judge._base(record, key, decision, held))


def _same(fast: Standing, general: Standing) -> None:
    assert fast == general
    assert fast.__dict__ == general.__dict__
    assert fast.__pydantic_fields_set__ == general.__pydantic_fields_set__
    assert fast.__pydantic_private__ == general.__pydantic_private__
    assert fast.model_dump() == general.model_dump()
    assert Standing.model_validate(fast.model_dump()).model_dump() == fast.model_dump()  # values validation accepts
    assert fast.rules is not general.rules  # each standing its own list


@pytest.mark.parametrize("pulled", [False, True], ids=["nothing pulled", "the service's view pulled"])
@pytest.mark.parametrize("key", ["shot:sh010", None], ids=["a target", "the record as a whole"])
def test_the_approved_standing_is_the_one_the_general_builder_makes(
        tmp_path: Path, pulled: bool, key: str | None) -> None:
    judge, ring, cache = _judge(tmp_path)
    record = make_record()
    approval = approve(ring, record, expires_at=NOW + timedelta(days=3))
    cache.add_approval(approval)
    if pulled:
        cache.store_facts(str(record.id), {"versions": [{"version": 4, "decision_digest": decision_digest(record)}]})
        judge = Judge(judge.policy, load_trust(judge.policy, cache=cache, now=NOW))
    target = next((t for t in record.targets if t.key() == key), None)
    fast = judge.standing(record, target)
    assert fast.verdict == "approved" and fast.approval is not None
    assert fast.approval.model_dump() == approval.model_dump()
    assert fast.version == (4 if pulled else None)
    _same(fast, _general(judge, record, key, fast.approval))


def _checked(judge: Judge, record: UseRecord, approval: SignedApproval) -> list[tuple[SignedApproval, Verification]]:
    return [(approval, judge._checker.check(approval, record, check_targets=False))]


@pytest.mark.parametrize("case", ["valid", "edited", "revoked by the service"])
def test_one_approval_is_held_as_the_sorted_path_holds_it(tmp_path: Path, case: str) -> None:
    judge, ring, _cache = _judge(tmp_path)
    record = make_record()
    approved = record if case != "edited" else make_record(description="another use")
    approval = approve(ring, approved)
    facts = _Facts({"approvals": [{"approval_id": approval.approval_id, "revoked_at": NOW.isoformat()}]}, "") \
        if case == "revoked by the service" else _Facts(None, "")
    one = _Held(_checked(judge, record, approval), facts, record)
    # the same approval twice goes the sorted way: its answer, once per copy
    two = _Held(_checked(judge, record, approval) * 2, facts, record)
    assert one.valid == two.valid[:1]
    assert bool(one.valid) is (case == "valid")
    assert one.revoked_by_service == two.revoked_by_service


def test_a_standing_read_back_from_json_holds_no_approval_or_decision(tmp_path: Path) -> None:
    """``approval`` and ``decision`` read pydantic's private attributes directly: a standing validated from
    its JSON (no private values given) has neither, one the judge made has both."""
    judge, ring, cache = _judge(tmp_path)
    record = make_record()
    cache.add_approval(approve(ring, record))
    made = judge.standing(record, record.targets[0])
    assert made.approval is not None and made.decision is not None
    again = Standing.model_validate_json(made.model_dump_json())
    assert again.approval is None and again.decision is None and again == Standing.model_validate(made.model_dump())
