"""The policy engine: run every rule on a record and decide (the highest finding wins).

The engine is on the hot path of publish validators, timeline checks and the server, so everything
that depends only on the policy (rule switches, outcome overrides, the tool registry index) is compiled
once per policy object and reused; findings are built without re-validation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from clearance.decision import OUTCOME_RANK, Decision, Finding
from clearance.policy import settings as settings_module
from clearance.policy.rules import READ_FIELDS, RULE_READS, RULES, STEP_FIELDS, Context, ToolView
from clearance.policy.settings import Policy, ToolFacts
from clearance.record import UseRecord

_OUTCOME_BY_RANK = {rank: outcome for outcome, rank in OUTCOME_RANK.items()}


_Check = tuple[str, Callable[[Context], list[Finding]], int]
_Entry = tuple[tuple[Finding, ...], tuple[Finding, ...], tuple[Finding, ...]]


@dataclass(slots=True)
class CompiledPolicy:
    policy: Policy
    checks: list[_Check]
    registry: dict[str, tuple[str, ToolFacts]]
    key_stages: frozenset[str]
    # All fields the rule groups read, fetched in one C-level call; each group's key is a slice of it.
    getter: Callable[[UseRecord], tuple]
    # The evaluation plan, in rule order of first appearance: (step_group, start, end, checks, memo).
    # A record group's key is flat[start:end]; a tool group (step_group True) is keyed per chain step.
    # memo: key -> that group's findings split by outcome (prohibited, approval_required, notify).
    plan: list[tuple[bool, int, int, list[_Check], dict[tuple, _Entry]]]
    sensitive: tuple[int, int]  # the slice of the flat answers P3 reads for each step
    generation: int = 0  # settings.SETTINGS_GENERATION when compiled: an assignment to a setting recompiles


_STEP_GET = attrgetter(*STEP_FIELDS["tool_terms"])


def tool_index(policy: Policy) -> dict[str, tuple[str, ToolFacts]]:
    """Lower-cased tool names and aliases -> (registry name, facts)."""
    index: dict[str, tuple[str, ToolFacts]] = {}
    for name, facts in policy.tools.items():
        index[name.strip().lower()] = (name, facts)
        for alias in facts.aliases:
            index.setdefault(alias.strip().lower(), (name, facts))
    return index


def compile_policy(policy: Policy) -> CompiledPolicy:
    checks = []
    for code, info in RULES.items():
        setting = policy.rules.get(code)
        floor = -1
        if setting is not None:
            # The baseline notice is never switched off: every use is disclosed (policy.md, Baseline).
            if not setting.enabled and code != "BASELINE":
                continue
            if setting.outcome is not None:
                floor = OUTCOME_RANK[setting.outcome]
        checks.append((code, info.check, floor))
    th = policy.thresholds
    stages = set(th.creative_key_stages)
    if not th.ideation_low_risk:
        stages.add("ideation")
    else:
        stages.discard("ideation")
    groups: dict[str, list[_Check]] = {}
    for check in checks:
        groups.setdefault(RULE_READS[check[0]], []).append(check)
    paths: list[str] = list(READ_FIELDS["data"])  # first, so P3's sensitive inputs are flat[0:3]
    plan: list[tuple[bool, int, int, list[_Check], dict[tuple, _Entry]]] = []
    for name, members in groups.items():
        if name in STEP_FIELDS:
            plan.append((True, 0 if name == "tool_terms" else 1, 0, members, {}))
            continue
        fields = READ_FIELDS.get(name, ())
        start = len(paths)
        paths.extend(fields)
        plan.append((False, start, len(paths), members, {}))
    return CompiledPolicy(
        policy,
        checks,
        tool_index(policy),
        frozenset(stages),
        attrgetter(*paths),
        plan,
        (0, len(READ_FIELDS["data"])),
        settings_module.SETTINGS_GENERATION,
    )


_compiled: dict[int, CompiledPolicy] = {}
_lock = threading.Lock()


def compiled(policy: Policy) -> CompiledPolicy:
    entry = _compiled.get(id(policy))
    if entry is not None and entry.policy is policy and entry.generation == settings_module.SETTINGS_GENERATION:
        return entry
    entry = compile_policy(policy)
    with _lock:
        if len(_compiled) > 64:  # policies are few; a long-lived server may reload now and then
            _compiled.clear()
        _compiled[id(policy)] = entry
    return entry


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
        if implied and env == "enterprise":
            trains = "no" if trains == "unsure" else trains
            retains = "no" if retains == "unsure" else retains
        views.append(ToolView(index, tool.name, env, trains, retains, hit is not None, tuple(inherited)))
    return views


MEMO_LIMIT = 20_000  # per rule group: bounds a long-lived server's memory


def _context(record: UseRecord, policy: Policy, comp: CompiledPolicy) -> Context:
    return Context(
        record=record,
        tools=resolve_tools(record, policy, comp.registry),
        th=policy.thresholds,
        key_stages=comp.key_stages,
        registry_size=len(comp.registry),
    )


def _run(checks: list[tuple[str, Callable[[Context], list[Finding]], int]], ctx: Context) -> list[Finding]:
    """Run rules and apply the policy's outcome overrides (a rule's outcome is raised, never lowered)."""
    out: list[Finding] = []
    for _code, check, floor in checks:
        for finding in check(ctx):
            if floor > OUTCOME_RANK[finding.outcome]:
                finding = finding.model_copy(update={"outcome": _OUTCOME_BY_RANK[floor]})
            out.append(finding)
    return out


def _decision(findings: list[Finding]) -> Decision:
    # Highest outcome first, so people read the blocking finding first; rule order otherwise (stable sort).
    findings.sort(key=lambda f: -OUTCOME_RANK[f.outcome])
    best = OUTCOME_RANK[findings[0].outcome] if findings else 0
    return Decision.model_construct(outcome=_OUTCOME_BY_RANK[best], findings=findings)


def evaluate_uncached(record: UseRecord, policy: Policy) -> Decision:
    """The same decision as :func:`evaluate`, every rule run afresh (the reference the cache is tested against)."""
    comp = compiled(policy)
    return _decision(_run(comp.checks, _context(record, policy, comp)))


def _remember(memo: dict[tuple, _Entry], key: tuple, found: list[Finding]) -> _Entry:
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
    record: UseRecord,
    policy: Policy,
    comp: CompiledPolicy,
    index: int,
    checks: list[_Check],
    memo: dict[tuple, _Entry],
    key: tuple,
) -> _Entry:
    if index < 0:  # the record names no tool
        ctx = Context(
            record=record, tools=[], th=policy.thresholds, key_stages=comp.key_stages, registry_size=len(comp.registry)
        )
    else:
        view = resolve_tools(record, policy, comp.registry)[index]
        ctx = Context(
            record=record,
            tools=[view],
            th=policy.thresholds,
            key_stages=comp.key_stages,
            registry_size=len(comp.registry),
        )
    return _remember(memo, key, _run(checks, ctx))


def evaluate(record: UseRecord, policy: Policy | None = None) -> Decision:
    """Decide on one record: every enabled rule's findings, highest outcome first; baseline always present.

    Rules are pure functions of the questions they read (rules.RULE_READS, READ_FIELDS, STEP_FIELDS), so
    their findings are reused for records that answer those questions alike; a chain is keyed step by
    step. The findings are shared and frozen: never edit them.
    """
    if policy is None:
        policy = _env_policy()
    comp = compiled(policy)
    flat = comp.getter(record)
    sensitive = flat[comp.sensitive[0] : comp.sensitive[1]]
    tools = record.tools
    steps = [(index, *_STEP_GET(tool)) for index, tool in enumerate(tools)] if tools else [(-1,)]
    prohibited: list[Finding] = []
    approval: list[Finding] = []
    notify: list[Finding] = []
    ctx: Context | None = None
    for is_step, start, end, checks, memo in comp.plan:
        if is_step:
            for step in steps:
                # tool_terms (start 0) reads the step's facts; tool_environment (1) its name and environment
                # with the sensitive inputs
                key = step if start == 0 else step[:3] + sensitive
                entry = memo.get(key)
                if entry is None:
                    entry = _step_entry(record, policy, comp, step[0], checks, memo, key)
                if entry[0]:
                    prohibited.extend(entry[0])
                if entry[1]:
                    approval.extend(entry[1])
                if entry[2]:
                    notify.extend(entry[2])
            continue
        key = flat[start:end]
        entry = memo.get(key)
        if entry is None:
            if ctx is None:
                ctx = _context(record, policy, comp)
            entry = _remember(memo, key, _run(checks, ctx))
        if entry[0]:
            prohibited.extend(entry[0])
        if entry[1]:
            approval.extend(entry[1])
        if entry[2]:
            notify.extend(entry[2])
    # Highest outcome first; within an outcome, findings come grouped by the questions their rules read
    # (sorting them into rule-reference order would cost a third of the evaluation time).
    outcome = "prohibited" if prohibited else "approval_required" if approval else "notify"
    return _new_decision(outcome, prohibited + approval + notify)


_new = object.__new__
_set = object.__setattr__
_DECISION_FIELDS = frozenset(("outcome", "findings"))


def _new_decision(outcome: str, findings: list[Finding]) -> Decision:
    """Decision.model_construct without its per-call overhead (the values are the engine's own)."""
    decision = _new(Decision)
    _set(decision, "__dict__", {"outcome": outcome, "findings": findings})
    _set(decision, "__pydantic_fields_set__", set(_DECISION_FIELDS))
    _set(decision, "__pydantic_extra__", None)
    _set(decision, "__pydantic_private__", None)
    return decision


_env_cache: tuple[tuple[str, tuple[float, ...]], Policy] | None = None


def _env_policy() -> Policy:
    """The policy CLEARANCE_POLICY names (embedded defaults when unset), reloaded when a file changes."""
    global _env_cache
    from clearance.policy.loading import default_policy, load_policy, policy_paths_from_env

    paths = policy_paths_from_env()
    if not paths:
        return default_policy()
    stamps = []
    for path in paths:
        try:
            stamps.append(os.stat(path).st_mtime)
        except OSError:
            stamps.append(-1.0)
    key = (os.pathsep.join(paths), tuple(stamps))
    if _env_cache is not None and _env_cache[0] == key:
        return _env_cache[1]
    policy = load_policy(paths)
    _env_cache = (key, policy)
    return policy
