"""Whole decisions reused (policy.engine.evaluate): records answering every question the rules read alike get
the decision of running every rule afresh, and nothing the key leaves out can make two records share one."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_fixtures import record_data
from test_policy_unsure import records as v1_records
from test_policy_v2 import ADR, BOOK, base, entry, v2_records

from clearance.consent import ConsentBook
from clearance.decision import Decision, Finding
from clearance.policy import default_policy, evaluate, rulebook
from clearance.policy.engine import compiled, evaluate_uncached
from clearance.policy.rulebook import RuleSet
from clearance.policy.settings import Policy
from clearance.record import UseRecord


def _canonical(decision: Decision) -> tuple[str, list[str]]:
    """The outcome and findings (in any order: the engine groups findings by what their rules read)."""
    return decision.outcome, sorted(f.model_dump_json() for f in decision.findings)


def _fresh_policy() -> Policy:
    """A policy of its own: its compiled form (and memos) start empty."""
    return default_policy().model_copy()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(v1_records(), v2_records()), min_size=2, max_size=6))
def test_a_run_of_records_decides_as_afresh_one_by_one(batch: list[dict[str, Any]]) -> None:
    policy = _fresh_policy()
    for data in batch * 2:  # the second pass reads every decision from the memo
        record = UseRecord.model_validate(data)
        reused = evaluate(record, policy, consents=BOOK)
        fresh = evaluate_uncached(record, policy, consents=BOOK)
        assert _canonical(reused) == _canonical(fresh)
    assert compiled(policy).decisions


def test_the_second_record_answering_alike_gets_the_same_decision_not_the_same_object() -> None:
    policy = _fresh_policy()
    data = record_data(**{"use.stage": "final"})
    first = evaluate(UseRecord.model_validate(data), policy)
    again = evaluate(UseRecord.model_validate({**data, "description": "other"}), policy)
    assert len(compiled(policy).decisions) == 1
    assert first.model_dump() == again.model_dump()  # findings in the same order too
    assert again is not first and again.findings is not first.findings  # a caller's list is its own
    again.findings.clear()
    assert _canonical(evaluate(UseRecord.model_validate(record_data()), policy))[1]


def test_a_later_chain_step_is_part_of_the_key() -> None:
    """Two chains alike but for their second step: the records' own answers are the same, the steps differ."""
    policy = _fresh_policy()
    data = record_data()
    data.pop("tool", None)
    safe = {**data, "tools": [{"name": "Firefly", "environment": "enterprise"},
                              {"name": "Photoshop", "environment": "enterprise", "trains_on_inputs": "no"}]}
    risky = copy.deepcopy(safe)
    risky["tools"][1] = {"name": "Unknown", "environment": "consumer", "trains_on_inputs": "yes"}
    for data in (safe, risky, safe, risky):
        record = UseRecord.model_validate(data)
        assert _canonical(evaluate(record, policy)) == _canonical(evaluate_uncached(record, policy))
    assert _canonical(evaluate(UseRecord.model_validate(safe), policy)) != _canonical(
        evaluate(UseRecord.model_validate(risky), policy))
    assert len(compiled(policy).decisions) == 2


def test_the_consent_registry_state_is_part_of_the_key() -> None:
    """One version 2 record judged against two registries: one covers its consent reference, one does not."""
    policy = _fresh_policy()
    record = UseRecord.model_validate(base(**ADR, **{"talent.consent_refs": ["C-1"]}))
    other = ConsentBook([entry("C-9")])
    answers = [evaluate(record, policy, consents=book) for book in (BOOK, other, BOOK, other)]
    for answer, book in zip(answers, (BOOK, other, BOOK, other), strict=True):
        assert _canonical(answer) == _canonical(evaluate_uncached(record, policy, consents=book))
    assert "TALENT-NO-CONSENT" not in {f.rule for f in answers[0].findings}
    assert "TALENT-NO-CONSENT" in {f.rule for f in answers[1].findings}


@pytest.fixture
def rule_reading_the_description() -> Iterator[None]:
    """A pack rule that cannot say what it reads (it reads the description, outside every key)."""
    pack = RuleSet("memo-test")

    @pack.rule("MEMO-DESCRIPTION", title="t", kind="escalate", triggers="t", why="w", resolve="r", reads=None)
    def _check(ctx: Any) -> list[Finding]:
        if "secret" not in ctx.record.description:
            return []
        return [Finding(rule="MEMO-DESCRIPTION", outcome="prohibited", message="m", remedy="r")]

    saved = rulebook._installed
    rulebook._installed = (*rulebook.all_rules(), *pack)
    try:
        yield
    finally:
        rulebook._installed = saved


@pytest.mark.usefixtures("rule_reading_the_description")
def test_a_rule_run_afresh_turns_the_whole_decision_memo_off() -> None:
    policy = _fresh_policy()
    plain = UseRecord.model_validate(record_data())
    secret = UseRecord.model_validate({**record_data(), "description": "a secret"})
    assert evaluate(plain, policy).outcome != "prohibited"
    assert evaluate(secret, policy).outcome == "prohibited"
    assert evaluate(plain, policy).outcome != "prohibited"
    assert not compiled(policy).decisions


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v1_records())
def test_a_full_memo_starts_again(data: dict[str, Any]) -> None:
    from clearance.policy import engine

    policy = _fresh_policy()
    record = UseRecord.model_validate(data)
    comp = compiled(policy)
    for index in range(engine.MEMO_LIMIT):
        comp.decisions[(index,)] = ("notify", ())
    assert _canonical(evaluate(record, policy)) == _canonical(evaluate_uncached(record, policy))
    assert len(comp.decisions) == 1


def test_a_run_that_rarely_repeats_stops_asking_the_whole_memo_and_decides_the_same() -> None:
    from clearance.policy import engine

    policy = _fresh_policy()
    comp = compiled(policy)
    comp.whole_misses, comp.whole_hits = engine.WHOLE_TRIAL, engine.WHOLE_TRIAL - 1  # fewer hits than misses
    data = record_data(**{"use.stage": "final"})
    for _ in range(3):
        record = UseRecord.model_validate(data)
        assert _canonical(evaluate(record, policy)) == _canonical(evaluate_uncached(record, policy))
    assert not comp.decisions and comp.whole_hits == engine.WHOLE_TRIAL - 1  # not asked, not filled

    comp.whole_hits = comp.whole_misses + 5  # more hits than misses: the memo earns its keep and is asked again
    for _ in range(3):
        record = UseRecord.model_validate(data)
        assert _canonical(evaluate(record, policy)) == _canonical(evaluate_uncached(record, policy))
    assert len(comp.decisions) == 1  # one miss filled it, then two hits
    assert (comp.whole_misses, comp.whole_hits) == (engine.WHOLE_TRIAL + 1, engine.WHOLE_TRIAL + 5 + 2)


def test_many_distinct_records_turn_the_whole_memo_off_after_its_trial() -> None:
    from clearance.policy import engine

    policy = _fresh_policy()
    comp = compiled(policy)
    for index in range(engine.WHOLE_TRIAL + 20):
        record = UseRecord.model_validate(record_data())
        comp.decisions.clear()  # as if every record answered differently: every lookup misses
        evaluate(record, policy)
        if index < engine.WHOLE_TRIAL:
            assert len(comp.decisions) == 1
    assert comp.whole_misses == engine.WHOLE_TRIAL and not comp.decisions


# ------------------------------------------------------------------ DecisionBatch (a publish's records)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(v1_records(), v2_records()), min_size=1, max_size=5))
def test_a_batch_decides_each_record_as_evaluate_does(batch: list[dict[str, Any]]) -> None:
    from clearance.policy.engine import DecisionBatch
    from clearance.record import decision_digest

    policy = _fresh_policy()
    decider = DecisionBatch(policy, consents=BOOK)
    # each record twice under its own id, as a crowd of targets tagged from one preset gives them
    for data in [d for d in batch for _ in range(2)]:
        record = UseRecord.model_validate({k: v for k, v in data.items() if k != "id"})
        decided = decider.decide(record, decision_digest(record))
        assert _canonical(decided) == _canonical(evaluate_uncached(record, policy, consents=BOOK))
        shared = decider.decide_shared(record, decision_digest(record))
        assert _canonical(shared) == _canonical(decided)


def test_a_batch_shares_one_evaluation_per_decision_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    from clearance.policy import engine
    from clearance.record import decision_digest

    policy = _fresh_policy()
    assert compiled(policy).decision_part_only  # every core rule reads only the decision part
    calls: list[UseRecord] = []
    real = engine.evaluate
    monkeypatch.setattr(engine, "evaluate", lambda record, *a, **k: calls.append(record) or real(record, *a, **k))
    decider = engine.DecisionBatch(policy)
    data = record_data(**{"use.stage": "final"})
    records = [UseRecord.model_validate({**data, "description": f"take {n}"}) for n in range(3)]
    decisions = [decider.decide(r, decision_digest(r)) for r in records]
    assert len(calls) == 1
    assert decisions[0].model_dump() == decisions[2].model_dump()
    assert decisions[2] is not decisions[0] and decisions[2].findings is not decisions[0].findings
    decider.decide(records[0])  # digest not known: decided on its own
    assert len(calls) == 2
    shared = [decider.decide_shared(r, decision_digest(r)) for r in records]
    assert len(calls) == 2  # the evaluation decide made is shared too
    assert shared[0] is shared[1] is shared[2] and shared[0].model_dump() == decisions[0].model_dump()
    assert decider.decide_shared(records[0]) is not shared[0]  # digest not known: decided on its own
    assert len(calls) == 3


@pytest.mark.usefixtures("rule_reading_the_description")
def test_a_batch_never_shares_when_a_rule_reads_outside_the_decision_part() -> None:
    from clearance.policy.engine import DecisionBatch
    from clearance.record import decision_digest

    policy = _fresh_policy()
    assert not compiled(policy).decision_part_only
    decider = DecisionBatch(policy)
    plain = UseRecord.model_validate(record_data())
    secret = UseRecord.model_validate({**record_data(), "description": "a secret"})
    assert decision_digest(plain) == decision_digest(secret)
    assert decider.decide(plain, decision_digest(plain)).outcome != "prohibited"
    assert decider.decide(secret, decision_digest(secret)).outcome == "prohibited"
    assert decider.decide_shared(plain, decision_digest(plain)).outcome != "prohibited"
    assert decider.decide_shared(secret, decision_digest(secret)).outcome == "prohibited"


def test_a_pack_rule_declaring_a_field_outside_the_decision_part_turns_sharing_off() -> None:
    pack = RuleSet("batch-test")

    @pack.rule("BATCH-TARGETS", title="t", kind="escalate", triggers="t", why="w", resolve="r", reads=("vendor",))
    def _check(ctx: Any) -> list[Finding]:
        return []

    saved = rulebook._installed
    rulebook._installed = (*rulebook.all_rules(), *pack)
    try:
        assert not compiled(_fresh_policy()).decision_part_only
    finally:
        rulebook._installed = saved
