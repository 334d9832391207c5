"""The policy engine: run every rule on a record and decide (the highest finding wins).

The engine is on the hot path of publish validators, timeline checks and the server, so everything
that depends only on the policy (rule switches, outcome overrides, the tool registry index, the plan
for reusing findings) is compiled once per policy object and kept on it (a policy is frozen, so it can
never go stale); findings are built without re-validation.

The plan is derived from what each rule declares it reads (``rulebook.Rule.reads``): rules are grouped so
that a group's findings are looked up by the answers its rules read, and records answering those
questions alike share them. Rules judged tool by tool are keyed step by step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

from clearance.assembled import assembled_model
from clearance.consent import ConsentBook, book_in_force
from clearance.decision import OUTCOME_RANK, OUTCOMES, Decision, Finding, Outcome
from clearance.policy import rulebook
from clearance.policy.rulebook import Rule, all_rules
from clearance.policy.rules import Context, ToolView
from clearance.policy.settings import Policy, ToolFacts
from clearance.record import DECISION_FIELDS, UseRecord, answer_count

_OUTCOME_BY_RANK: dict[int, Outcome] = {OUTCOME_RANK[outcome]: outcome for outcome in OUTCOMES}

_Check = tuple[str, Callable[[Context], list[Finding]], int]
_Entry = tuple[tuple[Finding, ...], tuple[Finding, ...], tuple[Finding, ...]]

GROUP_KEYS = 400
"""A group's possible keys (the product of its fields' answer counts) stay under this: larger keys would
make distinct keys, and so misses, many; smaller groups mean more look-ups per record."""

MEMO_LIMIT = 20_000  # per rule group: bounds a long-lived server's memory
WHOLE_TRIAL = 64  # misses before the whole-decision memo must earn its keep (as many hits as misses)


@dataclass(slots=True)
class Group:
    """Rules whose findings are reused together, keyed by the answers they read."""

    checks: list[_Check]
    start: int = 0  # the group's record answers are flat[start:end] of CompiledPolicy.getter
    end: int = 0
    step_reads: tuple[str, ...] = ()  # for rules judged per chain step: the step's fields in the key
    cached: bool = True  # False: a rule that cannot say what it reads, run afresh each time
    consents: bool = False  # a member reads the consent registry: version 2 keys add its state and the day
    memo: dict[tuple[Any, ...], _Entry] = field(default_factory=dict)


@dataclass(slots=True)
class CompiledPolicy:
    policy: Policy
    rules: tuple[Rule, ...]  # the rules in force when compiled (core and installed packs)
    checks: list[_Check]
    registry: dict[str, tuple[str, ToolFacts]]
    key_stages: frozenset[str]
    getter: Callable[[UseRecord], tuple[Any, ...]]  # every answer the cached groups read, in one call
    plan: list[Group]
    # The plan as plain tuples for the hot loop: record groups (start, end, memo, group), and per distinct
    # step getter, its step groups (start, end, memo, group); uncached groups run afresh.
    record_plan: list[tuple[int, int, dict[tuple[Any, ...], _Entry], Group]] = field(default_factory=list)
    consent_plan: list[tuple[int, int, dict[tuple[Any, ...], _Entry], Group]] = field(default_factory=list)
    step_plan: list[
        tuple[Callable[[Any], tuple[Any, ...]], list[tuple[int, int, int, dict[tuple[Any, ...], _Entry], Group]]]
    ] = field(default_factory=list)
    uncached: list[Group] = field(default_factory=list)
    decisions: dict[tuple[Any, ...], tuple[str, tuple[Finding, ...]]] = field(default_factory=dict)
    """Whole decisions by every answer the plan reads (see ``evaluate``): empty while a rule runs afresh."""
    whole_hits: int = 0
    whole_misses: int = 0
    decision_part_only: bool = False
    """Every rule says what it reads, and all of it is in a record's decision part (``DECISION_FIELDS``): records
    with the same decision digest get the same decision (``DecisionBatch``)."""

    def __post_init__(self) -> None:
        # Step groups share one step getter when their step fields are a prefix of the longest ones (the
        # key is then a slice of the step's answers): one pass over the chain serves several groups.
        longest: tuple[str, ...] = max((g.step_reads for g in self.plan), key=len, default=())
        shared: list[tuple[int, int, int, dict[tuple[Any, ...], _Entry], Group]] = []
        for group in self.plan:
            entry = (group.start, group.end, group.memo, group)
            if not group.cached:
                self.uncached.append(group)
            elif group.consents:
                self.consent_plan.append(entry)
            elif not group.step_reads:
                self.record_plan.append(entry)
            elif longest[: len(group.step_reads)] == group.step_reads:
                shared.append((len(group.step_reads) + 1, *entry))
            else:
                self.step_plan.append((_tuple_getter(list(group.step_reads)), [(len(group.step_reads) + 1, *entry)]))
        if shared:
            self.step_plan.insert(0, (_tuple_getter(list(longest)), shared))


def tool_index(policy: Policy) -> dict[str, tuple[str, ToolFacts]]:
    """Lower-cased tool names and aliases -> (registry name, facts)."""
    index: dict[str, tuple[str, ToolFacts]] = {}
    for name, facts in policy.tools.items():
        index[name.strip().lower()] = (name, facts)
        for alias in facts.aliases:
            index.setdefault(alias.strip().lower(), (name, facts))
    return index


def _tuple_getter(paths: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if not paths:
        return lambda _obj: ()
    if len(paths) == 1:
        one = attrgetter(paths[0])
        return lambda obj: (one(obj),)
    return attrgetter(*paths)


def _keys(fields: list[str]) -> int:
    count = 1
    for name in fields:
        count *= answer_count(name)
    return count


def _plan(rules: list[tuple[Rule, _Check]]) -> tuple[list[str], list[Group]]:
    """Group the rules by what they read: tool rules by identical reads, record rules greedily by overlap."""
    record_groups: list[tuple[list[str], list[_Check]]] = []
    reads_consents = {id(check) for rule, check in rules if rule.consents}
    step_groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[_Check]] = {}
    uncached: list[_Check] = []
    order: list[tuple[str, Any]] = []
    # Rules that read most go first, so groups form around them and smaller rules join a group that already
    # reads their fields (no new key, no duplicated field in the flat answers).
    for rule, check in sorted(rules, key=lambda pair: -len(pair[0].fields)):
        if rule.reads is None:
            if not uncached:
                order.append(("uncached", None))
            uncached.append(check)
            continue
        fields = list(dict.fromkeys(rule.fields))
        if rule.per_step:
            key = (rule.step_reads, tuple(fields))
            if key not in step_groups:
                step_groups[key] = []
                order.append(("step", key))
            step_groups[key].append(check)
            continue
        best: tuple[int, tuple[float, int]] | None = None
        for index, (group_fields, _members) in enumerate(record_groups):
            grown = _keys(group_fields + [f for f in fields if f not in group_fields])
            score = (grown / _keys(group_fields), grown)  # least growth first, then the smallest key space
            if (grown <= GROUP_KEYS or score[0] == 1) and (best is None or score < best[1]):
                best = (index, score)
        if best is None:
            record_groups.append((fields, [check]))
            order.append(("record", len(record_groups) - 1))
        else:
            group_fields, members = record_groups[best[0]]
            group_fields.extend(f for f in fields if f not in group_fields)
            members.append(check)
    # Groups run in the order of their first-declared rule, rules within a group in declaration order, so
    # findings of one outcome come out in a stable order close to the rule reference's.
    position = {id(check): index for index, (_rule, check) in enumerate(rules)}

    def first(kind_key: tuple[str, Any]) -> int:
        kind, key = kind_key
        members = uncached if kind == "uncached" else step_groups[key] if kind == "step" else record_groups[key][1]
        members.sort(key=lambda check: position[id(check)])
        return position[id(members[0])]

    order.sort(key=first)
    paths: list[str] = []
    plan: list[Group] = []
    for kind, key in order:
        if kind == "uncached":
            plan.append(Group(uncached, cached=False))
        elif kind == "step":
            step_reads, fields = key
            start = len(paths)
            paths.extend(fields)
            plan.append(Group(step_groups[key], start, len(paths), step_reads))
        else:
            fields, members = record_groups[key]
            start = len(paths)
            paths.extend(fields)
            consents = any(id(check) in reads_consents for check in members)
            plan.append(Group(members, start, len(paths), consents=consents))
    return paths, plan


def compile_policy(policy: Policy) -> CompiledPolicy:
    rules = all_rules()
    enabled: list[tuple[Rule, _Check]] = []
    for rule in rules:
        setting = policy.rules.get(rule.code)
        floor = -1
        if setting is not None:
            # The baseline notice is never switched off: every use is disclosed (policy.md, Baseline).
            if not setting.enabled and rule.code != "BASELINE":
                continue
            if setting.outcome is not None:
                floor = OUTCOME_RANK[setting.outcome]
        enabled.append((rule, (rule.code, rule.check, floor)))
    th = policy.thresholds
    stages = set(th.creative_key_stages)
    if not th.ideation_low_risk:
        stages.add("ideation")
    else:
        stages.discard("ideation")
    paths, plan = _plan(enabled)
    comp = CompiledPolicy(
        policy, rules, [c for _, c in enabled], tool_index(policy), frozenset(stages), _tuple_getter(paths), plan
    )
    # A step group reads fields of the record's tools, which are in the decision part too.
    comp.decision_part_only = not comp.uncached and all(
        path.split(".")[0].removesuffix("[]") in DECISION_FIELDS for path in paths
    )
    return comp


_compile_lock = threading.Lock()


def compiled(policy: Policy) -> CompiledPolicy:
    """The policy's compiled form, kept on the policy object (made once; a policy never changes)."""
    # Read through __pydantic_private__ (a slot) rather than the attribute: this runs once per evaluation.
    comp: CompiledPolicy | None = policy.__pydantic_private__["_compiled"]  # type: ignore[index]
    # A copy must not use the original's form, nor a form made before a rule pack was (re)loaded.
    if comp is not None and comp.policy is policy and comp.rules is rulebook._installed:
        return comp
    with _compile_lock:
        comp = policy._compiled
        if comp is None or comp.policy is not policy or comp.rules is not all_rules():
            comp = compile_policy(policy)
            policy._compiled = comp
    return comp


def resolve_tools(
    record: UseRecord, policy: Policy, registry: dict[str, tuple[str, ToolFacts]] | None = None
) -> list[ToolView]:
    """The record's tools with registry facts filled in where the record said unsure or unknown."""
    if registry is None:
        registry = compiled(policy).registry
    implied = policy.thresholds.enterprise_implies_no_training
    views: list[ToolView] = []
    for index, tool in enumerate(record.tools):
        hit = registry.get(tool.name.strip().lower())
        env, trains, retains = tool.environment, tool.trains_on_inputs, tool.retains_inputs
        outputs = tool.trains_on_outputs
        inherited: list[str] = []
        if hit is not None:
            facts = hit[1]
            if env == "unknown" and facts.environment != "unknown":
                env = facts.environment
                inherited.append("environment")
            if trains == "unsure" and facts.trains_on_inputs != "unsure":
                trains = facts.trains_on_inputs
                inherited.append("trains_on_inputs")
            if retains == "unsure" and facts.retains_inputs != "unsure":
                retains = facts.retains_inputs
                inherited.append("retains_inputs")
            if outputs == "unsure" and facts.trains_on_outputs != "unsure":
                outputs = facts.trains_on_outputs
                inherited.append("trains_on_outputs")
        if implied and env == "enterprise":
            trains = "no" if trains == "unsure" else trains
            retains = "no" if retains == "unsure" else retains
            outputs = "no" if outputs == "unsure" else outputs
        step = tool.inputs
        views.append(
            ToolView(
                index, tool.name, env, trains, retains, hit is not None, tuple(inherited), outputs,
                (step.studio_proprietary, step.personal_data, step.talent_material),
            )
        )
    return views


def _context(record: UseRecord, policy: Policy, comp: CompiledPolicy, consents: ConsentBook | None = None) -> Context:
    return Context(
        record=record,
        tools=resolve_tools(record, policy, comp.registry),
        th=policy.thresholds,
        key_stages=comp.key_stages,
        registry_size=len(comp.registry),
        consents=consents,
    )


def _run(checks: list[tuple[str, Callable[[Context], list[Finding]], int]], ctx: Context) -> list[Finding]:
    """Run rules and apply the policy's outcome overrides (a rule's outcome is raised, never lowered)."""
    out: list[Finding] = []
    for _code, check, floor in checks:
        for found in check(ctx):
            finding = found
            if floor > OUTCOME_RANK[finding.outcome]:
                finding = finding.model_copy(update={"outcome": _OUTCOME_BY_RANK[floor]})
            out.append(finding)
    return out


def _decision(findings: list[Finding]) -> Decision:
    # Highest outcome first, so people read the blocking finding first; rule order otherwise (stable sort).
    findings.sort(key=lambda f: -OUTCOME_RANK[f.outcome])
    best = OUTCOME_RANK[findings[0].outcome] if findings else 0
    return Decision.model_construct(outcome=_OUTCOME_BY_RANK[best], findings=findings)


def evaluate_uncached(record: UseRecord, policy: Policy, consents: ConsentBook | None = None) -> Decision:
    """The same decision as :func:`evaluate`, every rule run afresh (the reference the cache is tested against)."""
    comp = compiled(policy)
    return _decision(_run(comp.checks, _context(record, policy, comp, consents)))


def _remember(memo: dict[tuple[Any, ...], _Entry], key: tuple[Any, ...], found: list[Finding]) -> _Entry:
    entry = (
        tuple(f for f in found if f.outcome == "prohibited"),
        tuple(f for f in found if f.outcome == "approval_required"),
        tuple(f for f in found if f.outcome == "notify"),
    )
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = entry
    return entry


def _step_entry(
    record: UseRecord, policy: Policy, comp: CompiledPolicy, index: int, group: Group, key: tuple[Any, ...]
) -> _Entry:
    tools = [] if index < 0 else [resolve_tools(record, policy, comp.registry)[index]]  # index -1: no tool named
    ctx = Context(
        record=record, tools=tools, th=policy.thresholds, key_stages=comp.key_stages, registry_size=len(comp.registry)
    )
    return _remember(group.memo, key, _run(group.checks, ctx))


def evaluate(record: UseRecord, policy: Policy | None = None, consents: ConsentBook | None = None) -> Decision:
    """Decide on one record: every enabled rule's findings, highest outcome first; baseline always present.

    ``policy`` None: the policy in force (``loading.policy_in_force``: CLEARANCE_POLICY, else the embedded
    defaults). Rules are pure functions of the questions they declare they read, so their findings are
    reused for records that answer those questions alike; a chain is keyed step by step. The findings are
    shared and frozen: never edit them.

    ``consents``: the consent registry version 2 records' consent references are checked against (None: the
    list pulled into the local cache, ``consent.book_in_force``). The service passes its own.
    """
    if policy is None:
        from clearance.policy.loading import policy_in_force

        policy = policy_in_force()
    comp = compiled(policy)
    flat = comp.getter(record)
    # Every group's findings are a function of its key, and the keys are made of these answers alone (the
    # record's, each chain step's, the consent registry's state and the day): records answering them all alike
    # get the same decision, so it is reused whole. Not with a rule that runs afresh (it may read anything).
    extra: tuple[Any, ...] = ()
    if comp.consent_plan and record.schema_version >= 2:
        if consents is None:
            consents = book_in_force(policy)
        # Reuse keyed on the registry's state and the day for version 2 records (entries expire, are withdrawn).
        extra = (consents.token, date.today().toordinal()) if consents else ()
    # The whole key costs two hashes of every answer per record it misses: a run of records that rarely
    # answer alike (a policy report over varied records) stops asking after WHOLE_TRIAL misses, while a run that
    # repeats itself (a crowd tagged from one preset) keeps it. Either way the decision is the same.
    whole: tuple[Any, ...] | None = None
    if not comp.uncached and (comp.whole_misses < WHOLE_TRIAL or comp.whole_hits >= comp.whole_misses):
        tools = record.tools
        whole = (flat, extra, *(tuple(getter(tool) for tool in tools) for getter, _groups in comp.step_plan))
        known = comp.decisions.get(whole)
        if known is not None:
            comp.whole_hits += 1
            return _new_decision(known[0], list(known[1]))
        comp.whole_misses += 1
    decision = _evaluate(record, policy, comp, flat, extra, consents)
    if whole is not None:
        if len(comp.decisions) >= MEMO_LIMIT:
            comp.decisions.clear()
        comp.decisions[whole] = (decision.outcome, tuple(decision.findings))
    return decision


class DecisionBatch:
    """``evaluate`` for the records of one publish or check, decided together.

    The consent registry is looked up once for the batch, and records sharing a decision digest (a crowd tagged
    from one preset, a record on many targets) share one evaluation when every rule reads only the decision
    part (``CompiledPolicy.decision_part_only``); each gets its own Decision, as ``evaluate`` gives.
    ``digest`` must be the record's ``decision_digest``, as a host has it after checking a tag (None: not
    known, the record is evaluated on its own).
    """

    def __init__(self, policy: Policy, consents: ConsentBook | None = None) -> None:
        self.policy = policy
        self._comp = compiled(policy)
        self._consents = consents if consents is not None or not self._comp.consent_plan else book_in_force(policy)
        self._decided: dict[str, tuple[str, tuple[Finding, ...]]] = {}
        self._shared: dict[str, Decision] = {}

    def decide(self, record: UseRecord, digest: str | None = None) -> Decision:
        if digest is None or not self._comp.decision_part_only:
            return evaluate(record, self.policy, self._consents)
        known = self._decided.get(digest)
        if known is not None:
            return _new_decision(known[0], list(known[1]))
        decision = evaluate(record, self.policy, self._consents)
        self._decided[digest] = (decision.outcome, tuple(decision.findings))
        return decision

    def decide_shared(self, record: UseRecord, digest: str | None = None) -> Decision:
        """``decide``, but records sharing a decision digest get the same Decision object, not a copy each: for a
        caller that only reads its decisions (a publish's 10,000 items, each read by the validators)."""
        if digest is None or not self._comp.decision_part_only:
            return evaluate(record, self.policy, self._consents)
        shared = self._shared.get(digest)
        if shared is None:
            shared = self._shared[digest] = self.decide(record, digest)
        return shared


def _evaluate(record: UseRecord, policy: Policy, comp: CompiledPolicy, flat: tuple[Any, ...], extra: tuple[Any, ...],
              consents: ConsentBook | None) -> Decision:
    """``evaluate`` group by group (the whole decision was not known)."""
    prohibited: list[Finding] = []
    approval: list[Finding] = []
    notify: list[Finding] = []
    ctx: Context | None = None
    for start, end, memo, group in comp.record_plan:
        key = flat[start:end]
        entry = memo.get(key)
        if entry is None:
            if ctx is None:
                ctx = _context(record, policy, comp)
            entry = _remember(memo, key, _run(group.checks, ctx))
        if entry[0]:
            prohibited.extend(entry[0])
        if entry[1]:
            approval.extend(entry[1])
        if entry[2]:
            notify.extend(entry[2])
    if comp.consent_plan:
        for start, end, memo, group in comp.consent_plan:
            key = flat[start:end] + extra
            entry = memo.get(key)
            if entry is None:
                if ctx is None:
                    ctx = _context(record, policy, comp, consents)
                elif ctx.consents is None:
                    ctx.consents = consents
                entry = _remember(memo, key, _run(group.checks, ctx))
            if entry[0]:
                prohibited.extend(entry[0])
            if entry[1]:
                approval.extend(entry[1])
            if entry[2]:
                notify.extend(entry[2])
    if comp.step_plan:
        tools = record.tools
        for step_getter, groups in comp.step_plan:
            steps = [(index, *step_getter(tool)) for index, tool in enumerate(tools)] if tools else [(-1,)]
            for width, start, end, memo, group in groups:
                answers = flat[start:end]
                for step in steps:
                    key = step[:width] + answers
                    entry = memo.get(key)
                    if entry is None:
                        entry = _step_entry(record, policy, comp, step[0], group, key)
                    if entry[0]:
                        prohibited.extend(entry[0])
                    if entry[1]:
                        approval.extend(entry[1])
                    if entry[2]:
                        notify.extend(entry[2])
    for group in comp.uncached:
        if ctx is None:
            ctx = _context(record, policy, comp, consents)
        for finding in _run(group.checks, ctx):
            {"prohibited": prohibited, "approval_required": approval, "notify": notify}[finding.outcome].append(finding)
    # Highest outcome first; within an outcome, findings come grouped by the questions their rules read
    # (sorting them into rule-reference order would cost a third of the evaluation time).
    outcome = "prohibited" if prohibited else "approval_required" if approval else "notify"
    return _new_decision(outcome, prohibited + approval + notify)


_DECISION_FIELDS = frozenset(("outcome", "findings"))


def _new_decision(outcome: str, findings: list[Finding]) -> Decision:
    """Decision.model_construct without its per-call overhead (the values are the engine's own)."""
    return assembled_model(Decision, {"outcome": outcome, "findings": findings}, set(_DECISION_FIELDS))
