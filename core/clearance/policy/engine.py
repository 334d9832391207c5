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

from clearance.decision import OUTCOME_RANK, Decision, Finding
from clearance.policy.rules import RULES, Context, ToolView
from clearance.policy.settings import Policy, ToolFacts
from clearance.record import UseRecord

_OUTCOME_BY_RANK = {rank: outcome for outcome, rank in OUTCOME_RANK.items()}


@dataclass(slots=True)
class CompiledPolicy:
    policy: Policy
    checks: list[tuple[str, Callable[[Context], list[Finding]], int]]
    registry: dict[str, tuple[str, ToolFacts]]
    key_stages: frozenset[str]


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
    return CompiledPolicy(policy, checks, tool_index(policy), frozenset(stages))


_compiled: dict[int, CompiledPolicy] = {}
_lock = threading.Lock()


def compiled(policy: Policy) -> CompiledPolicy:
    entry = _compiled.get(id(policy))
    if entry is not None and entry.policy is policy:
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


def _sorted(findings: list[Finding]) -> list[Finding]:
    # Highest outcome first, so people read the blocking finding first; rule order otherwise (stable sort).
    return sorted(findings, key=lambda f: -OUTCOME_RANK[f.outcome])


def evaluate(record: UseRecord, policy: Policy | None = None) -> Decision:
    """Decide on one record: every enabled rule's findings, highest outcome first; baseline always present."""
    if policy is None:
        policy = _env_policy()
    comp = compiled(policy)
    ctx = Context(
        record=record,
        tools=resolve_tools(record, policy, comp.registry),
        th=policy.thresholds,
        chained=len(record.tools) > 1,
        registry_size=len(policy.tools),
        key_stages=comp.key_stages,
    )
    findings: list[Finding] = []
    best = 0
    for _code, check, floor in comp.checks:
        for finding in check(ctx):
            rank = OUTCOME_RANK[finding.outcome]
            if floor > rank:
                finding = finding.model_copy(update={"outcome": _OUTCOME_BY_RANK[floor]})
                rank = floor
            if rank > best:
                best = rank
            findings.append(finding)
    return Decision.model_construct(outcome=_OUTCOME_BY_RANK[best], findings=_sorted(findings))


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
