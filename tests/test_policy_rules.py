"""Every rule code of docs/spec/policy.md, triggered and not triggered, with the stated exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from policy_fixtures import decide, record, rules_at
from records import YES_NO_QUESTIONS

from clearance.decision import Finding
from clearance.policy import RULE_CODES, RULES, default_policy, evaluate
from clearance.policy.settings import Policy

N, A, P = "notify", "approval_required", "prohibited"

# (id, changes to the clean record, expected outcome, rules that must be named, rules that must not be)
CASES: list[tuple[str, dict[str, Any], str, set[str], set[str]]] = [
    ("clean ideation is notify", {}, N, {"BASELINE"}, set(RULE_CODES) - {"BASELINE"}),
    (
        "mood board exploring a main character's look",
        {"use.creative_element": "main_character"},
        N,
        set(),
        {"CREATIVE-KEY"},
    ),
    (
        "final character design",
        {"use.creative_element": "main_character", "use.stage": "final"},
        A,
        {"CREATIVE-KEY"},
        set(),
    ),
    (
        "key visual in temporary previs is not final design",
        {"use.creative_element": "key_visual", "use.stage": "previs"},
        N,
        set(),
        {"CREATIVE-KEY"},
    ),
    (
        "key visual in previs that may reach the deliverable",
        {"use.creative_element": "key_visual", "use.stage": "previs", "use.in_final_deliverable": "unsure"},
        A,
        {"CREATIVE-KEY", "P4"},
        set(),
    ),
    (
        "central setting in final deliverable",
        {"use.creative_element": "central_setting", "use.in_final_deliverable": "yes"},
        A,
        {"CREATIVE-KEY", "FINAL-DELIVERABLE"},
        set(),
    ),
    (
        "a second killer doll (secondary character) at final design",
        {"use.creative_element": "secondary_character", "use.stage": "final"},
        A,
        {"CREATIVE-KEY"},
        set(),
    ),
    (
        "background element at final design is not key (but final-stage material is not temporary: P4)",
        {"use.creative_element": "background", "use.stage": "final"},
        A,
        {"P4"},
        {"CREATIVE-KEY"},
    ),
    (
        "P4 temp material not delivered is temporary",
        {"use.stage": "temp", "use.in_final_deliverable": "no"},
        N,
        set(),
        {"P4", "FINAL-DELIVERABLE"},
    ),
    ("P1 output resembles unowned material", {"output.resembles_unowned_material": "yes"}, A, {"P1"}, set()),
    ("P1 unsure", {"output.resembles_unowned_material": "unsure"}, A, {"P1"}, set()),
    ("P2 tool trains on inputs", {"tool.trains_on_inputs": "yes"}, A, {"P2"}, set()),
    ("P2 tool retains inputs", {"tool.retains_inputs": "yes"}, A, {"P2"}, set()),
    ("P2 unknown terms count as unsure", {"tool.trains_on_inputs": "unsure"}, A, {"P2"}, set()),
    ("P3 unknown environment", {"tool.environment": "unknown"}, A, {"P3"}, set()),
    ("consumer tool known not to train passes", {"tool.environment": "consumer"}, N, set(), {"P2", "P3"}),
    (
        "consumer tool with studio script",
        {"tool.environment": "consumer", "inputs.studio_proprietary": "yes"},
        A,
        {"P3", "DATA-PROPRIETARY"},
        set(),
    ),
    ("P4 unsure whether temporary", {"use.in_final_deliverable": "unsure"}, A, {"P4", "FINAL-DELIVERABLE"}, set()),
    ("P5 talent material in", {"inputs.talent_material": "yes"}, A, {"P5"}, set()),
    (
        "script to a chatbot, even enterprise",
        {"inputs.studio_proprietary": "yes", "use.media": "text"},
        A,
        {"DATA-PROPRIETARY"},
        set(),
    ),
    ("crew contact sheet", {"inputs.personal_data": "yes"}, A, {"DATA-PERSONAL"}, set()),
    (
        "style model on an artist's work",
        {"training.fine_tuned": "yes", "training.training_material_cleared": "no"},
        A,
        {"DATA-TRAINING"},
        set(),
    ),
    (
        "fine-tune, clearance unsure",
        {"training.fine_tuned": "yes", "training.training_material_cleared": "unsure"},
        A,
        {"DATA-TRAINING"},
        set(),
    ),
    (
        "fine-tune on cleared material",
        {"training.fine_tuned": "yes", "training.training_material_cleared": "yes"},
        N,
        set(),
        {"DATA-TRAINING"},
    ),
    (
        "clearance not read when not fine-tuned",
        {"training.training_material_cleared": "unsure"},
        N,
        set(),
        {"DATA-TRAINING"},
    ),
    ("magazine cover reference", {"prompt_references.copyrighted_work": "yes"}, A, {"CREATIVE-REFERENCE"}, set()),
    ("movie star's nose", {"prompt_references.public_figure": "yes"}, A, {"CREATIVE-REFERENCE"}, set()),
    ("deceased person", {"prompt_references.deceased_person": "yes"}, A, {"CREATIVE-REFERENCE"}, set()),
    (
        "voice clone with consent",
        {
            "talent.digital_replica": "yes",
            "talent.consent_documented": "yes",
            "talent.consent_ref": "contracts/actor.pdf",
            "use.media": "voice",
        },
        A,
        {"TALENT-REPLICA"},
        {"TALENT-NO-CONSENT"},
    ),
    (
        "voice clone without consent",
        {"talent.digital_replica": "yes", "talent.consent_documented": "no"},
        P,
        {"TALENT-NO-CONSENT"},
        set(),
    ),
    (
        "consent unsure is no consent",
        {"talent.digital_replica": "yes", "talent.consent_documented": "unsure"},
        P,
        {"TALENT-NO-CONSENT"},
        set(),
    ),
    (
        "replica unsure, consent documented",
        {"talent.digital_replica": "unsure", "talent.consent_documented": "yes"},
        A,
        {"TALENT-REPLICA"},
        {"TALENT-NO-CONSENT"},
    ),
    (
        "reshoot as performed: no extra consent, still approval",
        {"talent.digital_replica": "yes", "talent.replica_exception": "as_performed"},
        A,
        {"TALENT-REPLICA"},
        {"TALENT-NO-CONSENT"},
    ),
    (
        "unsafe stunt",
        {"talent.digital_replica": "yes", "talent.replica_exception": "unsafe_activity"},
        A,
        {"TALENT-REPLICA"},
        {"TALENT-NO-CONSENT"},
    ),
    (
        "unrecognizable",
        {"talent.digital_replica": "yes", "talent.replica_exception": "unrecognizable"},
        A,
        {"TALENT-REPLICA"},
        {"TALENT-NO-CONSENT"},
    ),
    ("consent not read without a replica", {"talent.consent_documented": "unsure"}, N, set(), {"TALENT-NO-CONSENT"}),
    ("visual ADR", {"talent.alteration": "significant"}, A, {"TALENT-ALTERATION"}, {"TALENT-NO-CONSENT"}),
    (
        "customary alteration is not TALENT-ALTERATION",
        {"talent.alteration": "customary"},
        N,
        set(),
        {"TALENT-ALTERATION"},
    ),
    (
        "signage in final deliverable",
        {
            "use.in_final_deliverable": "yes",
            "use.stage": "final",
            "use.creative_element": "background",
            "use.prominence": "incidental",
        },
        A,
        {"FINAL-DELIVERABLE"},
        set(),
    ),
    (
        "story-relevant background",
        {
            "use.in_final_deliverable": "yes",
            "use.stage": "final",
            "use.creative_element": "background",
            "use.prominence": "story_relevant",
        },
        A,
        {"FINAL-DELIVERABLE"},
        set(),
    ),
    ("generated crowd replacing background actors", {"talent.replaces_union_work": "yes"}, A, {"UNION-WORK"}, set()),
    ("union unsure", {"talent.replaces_union_work": "unsure"}, A, {"UNION-WORK"}, set()),
    (
        "fabricated archival image",
        {
            "realism.depicts_real_people_or_events": "yes",
            "realism.presented_as_authentic": "yes",
            "use.content_type": "documentary",
        },
        P,
        {"ETHICS-MISLEADING"},
        set(),
    ),
    (
        "real depiction, authentic unsure",
        {"realism.depicts_real_people_or_events": "yes", "realism.presented_as_authentic": "unsure"},
        P,
        {"ETHICS-MISLEADING"},
        set(),
    ),
    (
        "dramatised fiction, not authentic",
        {"realism.depicts_real_people_or_events": "yes"},
        N,
        set(),
        {"ETHICS-MISLEADING"},
    ),
    (
        "documentary reconstruction labelled",
        {"realism.depicts_real_people_or_events": "yes", "use.content_type": "documentary"},
        A,
        {"ETHICS-MISLEADING"},
        set(),
    ),
    (
        "authenticity not read without real depiction",
        {"realism.presented_as_authentic": "unsure"},
        N,
        set(),
        {"ETHICS-MISLEADING"},
    ),
    (
        "talent model reuse without consent",
        {"talent.model_from_other_production": "yes"},
        P,
        {"TALENT-MODEL-REUSE"},
        set(),
    ),
    (
        "talent model reuse with consent",
        {"talent.model_from_other_production": "yes", "talent.consent_documented": "yes"},
        A,
        {"TALENT-MODEL-REUSE"},
        set(),
    ),
    ("no tool named", {"tool": None}, A, {"P2", "P3"}, set()),
]


@pytest.mark.parametrize(("changes", "outcome", "named", "absent"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case_from_policy_text(changes: dict[str, Any], outcome: str, named: set[str], absent: set[str]) -> None:
    decision = decide(**changes)
    rules = rules_at(decision)
    assert decision.outcome == outcome, [(f.rule, f.outcome) for f in decision.findings]
    assert named <= rules
    assert not (absent & rules)
    assert "BASELINE" in rules


def test_every_rule_code_is_triggered_by_some_case() -> None:
    triggered: set[str] = set()
    for _, changes, _, _, _ in CASES:
        triggered |= rules_at(decide(**changes))
    assert triggered == set(RULE_CODES) - {"DISCLOSURE-DEEPFAKE"}  # a version 2 rule: tests/test_policy_v2.py


def test_every_finding_is_complete() -> None:
    for _, changes, _, _, _ in CASES:
        for finding in decide(**changes).findings:
            assert finding.rule in RULES
            assert finding.message and finding.remedy
            assert set(finding.cites) <= {"P1", "P2", "P3", "P4", "P5"}
            assert tuple(finding.cites) == RULES[finding.rule].cites  # the docs say what the findings say
            if finding.rule != "BASELINE":
                assert finding.fields, finding.rule
            Finding.model_validate(finding.model_dump())  # built without validation, so prove it is valid


def test_unsure_message_says_so() -> None:
    finding = next(
        f
        for f in decide(**{"talent.digital_replica": "yes", "talent.consent_documented": "unsure"}).findings
        if f.rule == "TALENT-NO-CONSENT"
    )
    assert "unsure" in finding.message and "no consent" in finding.message
    assert finding.fields == ["talent.digital_replica", "talent.consent_documented"]


def test_chained_tools_judged_step_by_step() -> None:
    steps = [
        {"name": "Firefly", "environment": "enterprise", "trains_on_inputs": "no", "retains_inputs": "no"},
        {"name": "FreeChat", "environment": "consumer", "trains_on_inputs": "yes", "retains_inputs": "no"},
        {"name": "Upscaler", "environment": "self_hosted", "trains_on_inputs": "no", "retains_inputs": "no"},
    ]
    decision = decide(tool=..., tools=steps)
    p2 = [f for f in decision.findings if f.rule == "P2"]
    assert decision.outcome == A
    assert [f.fields for f in p2] == [["tools[1].trains_on_inputs"]]
    assert "step 2 (FreeChat)" in p2[0].message
    clean = decide(tool=..., tools=[steps[0], steps[2]])
    assert clean.outcome == N


def test_chain_with_unknown_environment_in_one_step() -> None:
    steps = [
        {"name": "A", "environment": "enterprise", "trains_on_inputs": "no", "retains_inputs": "no"},
        {"name": "B", "trains_on_inputs": "no", "retains_inputs": "no"},
    ]
    decision = decide(tool=..., tools=steps)
    assert [f.fields for f in decision.findings if f.rule == "P3"] == [["tools[1].environment"]]


def test_incidental_background_configurable_down_to_notify_but_story_relevant_escalates() -> None:
    policy = Policy.model_validate({"thresholds": {"incidental_background_outcome": "notify"}})
    base = {"use.in_final_deliverable": "yes", "use.stage": "final", "use.creative_element": "background"}
    incidental = decide(policy, **base, **{"use.prominence": "incidental"})
    assert incidental.outcome == N
    assert "FINAL-DELIVERABLE" in rules_at(incidental, N)
    story = decide(policy, **base, **{"use.prominence": "story_relevant"})
    assert story.outcome == A
    unsure = decide(policy, **{**base, "use.in_final_deliverable": "unsure", "use.prominence": "incidental"})
    assert unsure.outcome == A  # unsure never below approval_required
    key = decide(policy, **{**base, "use.creative_element": "key_visual", "use.prominence": "incidental"})
    assert key.outcome == A


def test_sensitive_inputs_escalate_on_enterprise_tools() -> None:
    for field in ("inputs.studio_proprietary", "inputs.personal_data", "inputs.talent_material"):
        decision = decide(**{field: "yes"})
        assert decision.outcome == A, field
        assert "P3" not in rules_at(decision)  # enterprise tool: escalated by the category, not by P3


def test_tool_registry_inheritance_case_insensitive_and_aliases() -> None:
    policy = Policy.model_validate(
        {
            "tools": {
                "Firefly": {
                    "environment": "enterprise",
                    "trains_on_inputs": "no",
                    "retains_inputs": "no",
                    "aliases": ["Adobe Firefly"],
                }
            }
        }
    )
    unsure_tool = {
        "name": "adobe FIREFLY",
        "environment": "unknown",
        "trains_on_inputs": "unsure",
        "retains_inputs": "unsure",
    }
    assert decide(policy, tool=unsure_tool).outcome == N
    assert decide(default_policy(), tool=unsure_tool).outcome == A
    # the record's own answer wins over the registry
    said_yes = {**unsure_tool, "trains_on_inputs": "yes"}
    assert "P2" in rules_at(decide(policy, tool=said_yes))


def test_unknown_tool_message_names_the_registry() -> None:
    tool = {"name": "Mystery", "environment": "consumer"}
    finding = next(f for f in decide(tool=tool).findings if f.rule == "P2")
    assert "not in the studio's tool registry" in finding.message
    assert finding.fields == ["tools[0].trains_on_inputs", "tools[0].retains_inputs"]


def test_rule_settings_disable_and_raise() -> None:
    off = Policy.model_validate({"rules": {"UNION-WORK": {"enabled": False}}})
    assert decide(off, **{"talent.replaces_union_work": "yes"}).outcome == N
    raised = Policy.model_validate({"rules": {"CREATIVE-REFERENCE": {"outcome": "prohibited"}}})
    decision = decide(raised, **{"prompt_references.public_figure": "yes"})
    assert decision.outcome == P
    baseline_up = Policy.model_validate({"rules": {"BASELINE": {"outcome": "approval_required"}}})
    assert decide(baseline_up).outcome == A


def test_baseline_cannot_be_disabled_in_engine() -> None:
    policy = Policy.model_validate({"rules": {"BASELINE": {"enabled": False}}})
    assert "BASELINE" in rules_at(decide(policy))


def test_thresholds_change_outcomes() -> None:
    strict = Policy.model_validate({"thresholds": {"non_enterprise_tools_need_approval": True}})
    assert decide(strict, **{"tool.environment": "consumer"}).outcome == A
    previs = Policy.model_validate({"thresholds": {"creative_key_stages": ["previs", "temp", "final"]}})
    assert "CREATIVE-KEY" in rules_at(decide(previs, **{"use.creative_element": "key_visual", "use.stage": "previs"}))
    no_ideation = Policy.model_validate({"thresholds": {"ideation_low_risk": False}})
    assert "CREATIVE-KEY" in rules_at(decide(no_ideation, **{"use.creative_element": "main_character"}))
    registered = Policy.model_validate({"thresholds": {"require_registered_tools": True}})
    assert "P3" in rules_at(decide(registered))
    implied = Policy.model_validate({"thresholds": {"enterprise_implies_no_training": True}})
    assert decide(implied, **{"tool.trains_on_inputs": "unsure"}).outcome == N
    ref = Policy.model_validate({"thresholds": {"consent_ref_required": True}})
    no_ref = {"talent.digital_replica": "yes", "talent.consent_documented": "yes"}
    assert decide(ref, **no_ref).outcome == P
    assert decide(default_policy(), **no_ref).outcome == A
    self_hosted = Policy.model_validate({"thresholds": {"self_hosted_is_enterprise": False}})
    assert (
        decide(self_hosted, **{"tool.environment": "self_hosted", "inputs.studio_proprietary": "yes"}).rules.count("P3")
        == 1
    )


def test_findings_highest_first_and_decision_is_highest() -> None:
    decision = decide(**{"talent.digital_replica": "yes", "prompt_references.public_figure": "yes"})
    outcomes = [f.outcome for f in decision.findings]
    assert outcomes[0] == P and outcomes[-1] == N
    assert decision.outcome == P


def test_evaluate_without_policy_uses_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    strict = tmp_path / "studio.yaml"
    strict.write_text("rules:\n  P3:\n    outcome: prohibited\n", encoding="utf-8")
    monkeypatch.setenv("CLEARANCE_POLICY", str(strict))
    assert evaluate(record(**{"tool.environment": "unknown"})).outcome == P
    monkeypatch.delenv("CLEARANCE_POLICY")
    assert evaluate(record(**{"tool.environment": "unknown"})).outcome == A


def test_registry_facts_are_named_in_the_message() -> None:
    policy = Policy.model_validate({"tools": {"FreeChat": {"environment": "consumer", "trains_on_inputs": "yes"}}})
    finding = next(f for f in decide(policy, tool={"name": "freechat"}).findings if f.rule == "P2")
    assert "tool registry says so: trains_on_inputs" in finding.message
    assert finding.fields == ["tools[0].trains_on_inputs", "tools[0].retains_inputs"]  # retains stays unsure


# Every question of the record model, and the tool's, except three that are only read when another answer
# makes them matter (with the clean record's answers they are not read, so "unsure" changes nothing).
READ_ONLY_WHEN_RELEVANT = {"training.training_material_cleared", "talent.consent_documented",
                           "realism.presented_as_authentic"}
UNSURE_FIELDS = ["tool.trains_on_inputs", "tool.retains_inputs",
                 *(q for q in YES_NO_QUESTIONS if q not in READ_ONLY_WHEN_RELEVANT)]


@pytest.mark.parametrize("field", UNSURE_FIELDS)
def test_every_finding_from_an_unsure_answer_says_so(field: str) -> None:
    decision = decide(**{field: "unsure"})
    assert decision.outcome in (A, P)
    caused = [f for f in decision.findings if f.rule != "BASELINE"]
    assert caused
    for finding in caused:
        assert "unsure" in finding.message or "don't know" in finding.message, (finding.rule, finding.message)


def test_unregistered_tool_is_noted_when_the_studio_keeps_a_registry() -> None:
    policy = Policy.model_validate({"tools": {"Firefly": {"environment": "enterprise"}}})
    known = decide(policy)
    assert "P3" not in rules_at(known)
    other = decide(policy, **{"tool.name": "Krea"})
    assert other.outcome == N
    note = next(f for f in other.findings if f.rule == "P3")
    assert note.outcome == N and "not in the studio's tool registry" in note.message
    assert note.fields == ["tools[0].name"]
    assert "P3" not in rules_at(decide(default_policy(), **{"tool.name": "Krea"}))  # no registry, no noise


def test_final_stage_is_not_temporary_is_a_setting() -> None:
    """P4: final-stage material is not temporary by default; a studio may let in_final_deliverable alone decide."""
    changes = {"use.stage": "final", "use.in_final_deliverable": "no"}
    strict = decide(**changes)
    assert strict.outcome == "approval_required" and "P4" in rules_at(strict, "approval_required")
    p4 = next(f for f in strict.findings if f.rule == "P4")
    assert p4.fields == ["use.stage", "use.in_final_deliverable"] and "set use.stage" in p4.remedy
    relaxed = default_policy().with_changes({"thresholds.final_stage_is_not_temporary": False})
    assert decide(relaxed, **changes).outcome == "notify"
