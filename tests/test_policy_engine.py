"""The engine's reuse of rule findings gives exactly the decision of running every rule afresh."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_policy_unsure import records

from clearance.decision import Decision
from clearance.policy import default_policy, evaluate
from clearance.policy.engine import evaluate_uncached
from clearance.policy.rules import READ_FIELDS, RULE_READS, RULES, STEP_FIELDS
from clearance.policy.settings import Policy
from clearance.record import UseRecord

POLICIES = [
    default_policy(),
    Policy.model_validate(
        {
            "thresholds": {
                "incidental_background_outcome": "notify",
                "consent_ref_required": True,
                "enterprise_implies_no_training": True,
                "self_hosted_is_enterprise": False,
                "ideation_low_risk": False,
                "cleared_training_outcome": "approval_required",
            },
            "tools": {
                "GenA": {
                    "environment": "enterprise",
                    "trains_on_inputs": "no",
                    "retains_inputs": "no",
                    "aliases": ["ChatTool"],
                }
            },
            "rules": {"P1": {"enabled": False}, "CREATIVE-REFERENCE": {"outcome": "prohibited"}},
        }
    ),
    Policy.model_validate(
        {"thresholds": {"non_enterprise_tools_need_approval": True, "require_registered_tools": True}}
    ),
]


def _canonical(decision: Decision) -> tuple[str, list[str]]:
    return decision.outcome, sorted(f.model_dump_json() for f in decision.findings)


@settings(max_examples=150, deadline=None)
@given(records(), st.sampled_from(range(len(POLICIES))), st.sampled_from([None, "ref/consent.pdf", "other.pdf", "  "]))
def test_cached_evaluation_equals_fresh_evaluation(data: dict[str, Any], which: int, consent_ref: str | None) -> None:
    data["talent"]["consent_ref"] = consent_ref
    record = UseRecord.model_validate(data)
    policy = POLICIES[which]
    first = evaluate(record, policy)
    again = evaluate(record, policy)  # from the cache now
    fresh = evaluate_uncached(record, policy)
    assert _canonical(first) == _canonical(again) == _canonical(fresh)
    ranks = [{"notify": 0, "approval_required": 1, "prohibited": 2}[f.outcome] for f in first.findings]
    assert ranks == sorted(ranks, reverse=True)  # highest first


def test_every_rule_declares_what_it_reads() -> None:
    assert set(RULE_READS) == set(RULES)
    assert set(RULE_READS.values()) <= set(READ_FIELDS) | set(STEP_FIELDS) | {"none"}
    from operator import attrgetter

    from policy_fixtures import record

    sample = record()
    for fields in READ_FIELDS.values():  # every declared field exists on a record
        attrgetter(*fields)(sample)


def test_fast_built_decisions_are_valid_models() -> None:
    from policy_fixtures import record

    decision = evaluate(record(**{"talent.digital_replica": "yes", "tool.environment": "unknown"}), default_policy())
    again = Decision.model_validate_json(decision.model_dump_json())
    assert again == decision
    assert decision.model_fields_set == {"outcome", "findings"}
    assert all(f.model_fields_set == set(type(f).model_fields) for f in decision.findings)


def test_assigning_a_setting_is_seen_by_the_next_evaluation() -> None:
    from policy_fixtures import record

    policy = default_policy().model_copy(deep=True)
    signage = record(
        **{
            "use.in_final_deliverable": "yes",
            "use.stage": "final",
            "use.creative_element": "background",
            "use.prominence": "incidental",
        }
    )
    assert evaluate(signage, policy).outcome == "approval_required"
    policy.thresholds.incidental_background_outcome = "notify"
    assert evaluate(signage, policy).outcome == "notify"
    policy.rules = {"FINAL-DELIVERABLE": {"outcome": "prohibited"}}
    assert evaluate(signage, policy).outcome == "prohibited"
