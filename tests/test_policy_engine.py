"""The engine's reuse of rule findings gives exactly the decision of running every rule afresh."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from test_policy_unsure import records

from clearance.decision import Decision
from clearance.policy import default_policy, evaluate
from clearance.policy.engine import compiled, evaluate_uncached
from clearance.policy.rulebook import RuleSet
from clearance.policy.rules import RULES
from clearance.policy.settings import Policy, RuleSetting
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
    from operator import attrgetter

    from policy_fixtures import record

    sample = record()
    for rule in RULES.values():  # every declared field exists on a record
        assert rule.reads is not None, rule.code  # core rules are all reused by what they read
        for field in rule.fields:
            attrgetter(field)(sample)
    plan = compiled(default_policy()).plan
    assert sum(len(group.checks) for group in plan) == len(RULES)
    assert len(plan) <= len(RULES) * 0.6  # rules share groups: few look-ups per record


def test_a_rule_reading_an_unknown_field_is_refused_when_declared() -> None:
    pack = RuleSet("typo")
    with pytest.raises(ValueError, match="not a record field"):
        pack.rule("TYPO-RULE", title="t", kind="escalate", triggers="t", why="w", resolve="r", reads=("use.stag",))
    with pytest.raises(ValueError, match="upper-case"):
        pack.rule("typo", title="t", kind="escalate", triggers="t", why="w", resolve="r", reads=())


def test_fast_built_decisions_are_valid_models() -> None:
    from policy_fixtures import record

    decision = evaluate(record(**{"talent.digital_replica": "yes", "tool.environment": "unknown"}), default_policy())
    again = Decision.model_validate_json(decision.model_dump_json())
    assert again == decision
    assert decision.model_fields_set == {"outcome", "findings"}
    assert all(f.model_fields_set == set(type(f).model_fields) for f in decision.findings)


def test_a_loaded_policy_cannot_be_changed_in_place_only_copied() -> None:
    from policy_fixtures import record

    policy = default_policy()
    signage = record(
        **{
            "use.in_final_deliverable": "yes",
            "use.stage": "final",
            "use.creative_element": "background",
            "use.prominence": "incidental",
        }
    )
    assert evaluate(signage, policy).outcome == "approval_required"
    with pytest.raises(TypeError, match="read-only"):
        policy.rules["FINAL-DELIVERABLE"] = RuleSetting(enabled=False)  # type: ignore[index]
    with pytest.raises(ValidationError, match="frozen"):
        policy.thresholds.incidental_background_outcome = "notify"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        policy.rules = {}  # type: ignore[misc]
    with pytest.raises(AttributeError):
        policy.thresholds.creative_key_stages.append("temp")  # type: ignore[attr-defined]
    assert evaluate(signage, policy).outcome == "approval_required"  # nothing above changed it
    relaxed = policy.with_changes({"thresholds.incidental_background_outcome": "notify"})
    assert evaluate(signage, relaxed).outcome == "notify"
    stricter = relaxed.with_changes({"rules": {"FINAL-DELIVERABLE": {"outcome": "prohibited"}}})
    assert evaluate(signage, stricter).outcome == "prohibited"
    assert evaluate(signage, relaxed).outcome == "notify" and evaluate(signage, policy).outcome == "approval_required"


def test_a_copy_of_a_policy_gets_its_own_compiled_form() -> None:
    """model_copy carries private attributes along; the engine must not reuse the original's plan."""
    from policy_fixtures import record

    policy = default_policy()
    final = record(**{"use.in_final_deliverable": "yes"})
    assert evaluate(final, policy).outcome == "approval_required"
    copied = policy.model_copy(update={"rules": {"FINAL-DELIVERABLE": RuleSetting(outcome="prohibited")}})
    assert evaluate(final, copied).outcome == "prohibited"
    assert compiled(copied) is not compiled(policy)
