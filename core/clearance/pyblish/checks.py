"""What each Clearance publish validator checks, over all items in one pass.

Pyblish's cost per (plugin, instance) pair is large (about 30 microseconds: 70,000 pairs for seven checks
on 10,000 items take over two seconds), so every validator is a ContextPlugin that walks the collected
items once and names each offending item. The functions here hold the logic; the plugin files in
``pyblish_plugins/`` only declare ids, order and actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from clearance.policy.settings import Policy, ValidatorSetting
from clearance.pyblish import catalog
from clearance.pyblish.collect import ItemCheck
from clearance.pyblish.settings import context_policy

TEMPORARY_STAGES = frozenset({"ideation", "previs", "temp"})


@dataclass(slots=True)
class ItemFailure:
    """One offending item, with what is wrong in one line."""

    name: str
    host: str
    handle: str
    message: str
    record_id: str | None = None


@dataclass(slots=True)
class CheckOutcome:
    failures: list[ItemFailure] = field(default_factory=list)
    warnings: list[ItemFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _failure(check: ItemCheck, message: str) -> ItemFailure:
    return ItemFailure(check.name, check.item.host, check.item.handle, message, check.record_id)


# ------------------------------------------------------------------------------------------ the checks


def tag_readable(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    out = CheckOutcome()
    for check in checks:
        if check.item.tag_error:
            out.failures.append(_failure(check, f"the tag cannot be read: {check.item.tag_error}"))
    return out


def record_disclosed(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    from clearance.outbox import Outbox

    policy = context_policy(context)
    production = context.data.get("clearance_production")
    queue = policy.publish.queue_disclosures
    out = CheckOutcome()
    pending: list[ItemCheck] = []
    seen: dict[tuple[str, str], bool] = {}
    with Outbox() as outbox:
        for check in checks:
            record = check.record
            if record is None or check.content is None or check.record_id is None:
                continue
            if production and record.production != production:
                out.failures.append(_failure(
                    check, f"the record is for production {record.production or '(none)'}, this publish is for "
                    f"{production}"))
                continue
            key = (check.record_id, check.content)
            disclosed = seen.get(key)
            if disclosed is None:
                disclosed = seen[key] = outbox.is_disclosed(check.record_id, check.content)
            if disclosed:
                continue
            if queue:
                pending.append(check)
            else:
                out.failures.append(_failure(
                    check, f"record {check.record_id} was never sent or queued (run Repair or `clearance submit`)"))
    if pending:
        context.data["clearance_to_queue"] = pending
        out.notes.append(f"{len(pending)} record(s) not yet disclosed: they are queued in the outbox before "
                         "any file goes out")
    return out


@dataclass(slots=True)
class ApprovalSource:
    """Approvals, trusted keys and revocations for offline checks: the local cache plus --approvals DIR."""

    approvals: Callable[[Any], list[Any]]
    keys: Any
    revocations: Any
    max_age: timedelta


def _newest(cached: Any, given: Any) -> Any:
    """The fresher of two revocation lists, holding every revocation either one knows.

    A list handed over in an approvals folder makes the cached one look fresher only when the server
    signed it: an unsigned file may add revocations, never hide the cached list's age.
    """
    if cached is None or given is None:
        return cached if given is None else given
    if not given.signed_by:
        return cached.model_copy(update={"revoked": {**given.revoked, **cached.revoked}})
    newer, older = (cached, given) if _later(cached, given) else (given, cached)
    merged = {**older.revoked, **newer.revoked}
    return newer.model_copy(update={"revoked": merged})


def _later(a: Any, b: Any) -> bool:
    if a.as_of() is None:
        return False
    return b.as_of() is None or a.as_of() >= b.as_of()


def approval_source(context: Any) -> ApprovalSource:
    """Trusted keys as `clearance.cache.trusted_keys` decides: the policy's, else the pulled ones, with a warning."""
    source = context.data.get("clearance_approval_source")
    if source is not None:
        return source
    from clearance.cache import ApprovalCache, revocations_in, trusted_keys

    policy: Policy = context_policy(context)
    cache = ApprovalCache()
    trust = trusted_keys(policy, cache)
    keys = trust.keys
    context.data["clearance_key_trust_warning"] = trust.warning
    revocations = cache.revocations(keys)
    folder = context.data.get("clearance_approvals_dir")
    if folder:
        cache.load_folder(Path(folder))
        revocations = _newest(revocations, revocations_in(folder, keys))
    for problem in cache.problems:
        context.data.setdefault("clearance_source_problems", []).append(problem)
    source = ApprovalSource(
        approvals=cache.approvals_for,
        keys=keys,
        revocations=revocations,
        max_age=timedelta(hours=policy.approvals.revocations_max_age_hours),
    )
    context.data["clearance_approval_source"] = source
    return source


def _covers(approval: Any, record: Any, target_key: str) -> bool:
    """Does an approval cover this target? (clearance.approvals.verify's rule: no targets = the record's.)"""
    listed = approval.statement.targets
    if not listed and not record.targets:
        return True
    return target_key in (listed or [t.key() for t in record.targets])


def approval_valid(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    from clearance.approvals import find_valid_approval, verify

    out = CheckOutcome()
    needing = [c for c in checks if c.decision is not None and c.decision.outcome == "approval_required"]
    if not needing:
        return out
    source = approval_source(context)
    if context.data.get("clearance_key_trust_warning"):
        out.notes.append(context.data["clearance_key_trust_warning"])
    production = context.data.get("clearance_production") or None
    now: datetime | None = context.data.get("clearance_now")
    # One record covers many targets: verify its approvals once (signature, digest, production, expiry,
    # revocation), then check each item's target against the valid ones.
    held: dict[tuple[str, str | None], tuple[list[Any], list[Any]]] = {}
    for check in needing:
        record = check.record
        assert record is not None and check.decision is not None and check.record_id is not None
        version = (check.record_id, check.content)
        if version not in held:
            approvals = source.approvals(check.record_id)
            digest = check.digest
            valid = [a for a in approvals if verify(
                a, record, keys=source.keys, revocations=source.revocations, production=production, now=now,
                max_revocation_age=source.max_age, record_digest=digest).valid]
            held[version] = (approvals, valid)
        approvals, valid = held[version]
        key = check.item.target.key()
        approval = next((a for a in valid if _covers(a, record, key)), None)
        if approval is not None:
            check.approval = approval
            continue
        reason = find_valid_approval(
            record, approvals, keys=source.keys, revocations=source.revocations, target=check.item.target,
            now=now, production=production, max_revocation_age=source.max_age).reason
        rules = ", ".join(f.rule for f in check.decision.findings if f.outcome == "approval_required")
        out.failures.append(_failure(check, f"needs written approval ({rules}): {reason}"))
    for problem in context.data.get("clearance_source_problems", []):
        out.warnings.append(ItemFailure("approval cache", "", "", problem))
    return out


def not_prohibited(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    out = CheckOutcome()
    for check in checks:
        if check.decision is not None and check.decision.outcome == "prohibited":
            why = "; ".join(f"{f.rule}: {f.message}" for f in check.decision.findings if f.outcome == "prohibited")
            out.failures.append(_failure(check, f"prohibited by {why}"))
    return out


def temp_not_final(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    finals = set(context_policy(context).publish.final_deliverable_families)
    out = CheckOutcome()
    for check in checks:
        record = check.record
        if record is None:
            continue
        final_family = [f for f in check.families if f in finals]
        if not final_family and not check.item.deliverable:
            continue
        where = f"family {final_family[0]}" if final_family else "a final deliverable"
        if record.use.stage in TEMPORARY_STAGES:
            out.failures.append(_failure(check, f"{record.use.stage} material going into {where}"))
        elif record.use.in_final_deliverable == "no":
            out.failures.append(_failure(
                check, f"the record says in_final_deliverable: no, but it is going into {where}"))
    return out


def _registry(policy: Policy) -> set[str]:
    names: set[str] = set()
    for name, facts in policy.tools.items():
        names.add(name.casefold())
        names.update(alias.casefold() for alias in facts.aliases)
    return names


def tool_registered(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    policy = context_policy(context)
    known = _registry(policy)
    out = CheckOutcome()
    unknown_by_record: dict[int, list[str]] = {}
    for check in checks:
        record = check.record
        if record is None:
            continue
        unknown = unknown_by_record.get(id(record))
        if unknown is None:
            unknown = [t.name for t in record.tools if t.name.casefold() not in known] or (
                [] if record.tools else ["(no tool named)"])
            unknown_by_record[id(record)] = unknown
        if unknown:
            finding = _failure(check, f"tool {', '.join(unknown)} is not in the policy's tool registry")
            (out.failures if policy.publish.block_unknown_tools else out.warnings).append(finding)
    return out


def _evidence(evidence: Any) -> str:
    who = getattr(evidence, "generator", None)
    what = f"{getattr(evidence, 'field', '')}={getattr(evidence, 'value', '')}".strip("=")
    return f"{who}: {what}" if who else (what or str(evidence))


def untagged_ai_media(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    out = CheckOutcome()
    untagged = [c for c in checks if c.item.record is None and not c.item.tag_error and c.item.files]
    if not untagged:
        return out
    from clearance.provenance import is_genai, scan_file

    for check in untagged:
        for path in check.item.files:
            result = scan_file(path)
            if getattr(result, "error", None):
                out.warnings.append(_failure(check, f"{Path(path).name} could not be scanned: {result.error}"))
            if is_genai(result.verdict):
                evidence = "; ".join(_evidence(e) for e in list(result.evidence)[:2])
                out.failures.append(_failure(
                    check, f"{Path(path).name} carries AI provenance ({result.verdict}: {evidence}) but no record"))
    return out


def untagged_ai_nodes(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    """Items a host collector marked as generative nodes with no tag (``extra["ai_node"]``)."""
    out = CheckOutcome()
    policy: Policy = context_policy(context)
    for check in checks:
        why = check.item.extra.get("ai_node") if check.item.record is None else None
        if why:
            finding = _failure(check, f"untagged generative node ({why}): tag it and declare the use")
            (out.failures if policy.hosts.untagged_ai_nodes == "block" else out.warnings).append(finding)
    return out


CHECKS: dict[str, Callable[[Any, list[ItemCheck], ValidatorSetting], CheckOutcome]] = {
    catalog.TAG_READABLE.id: tag_readable,
    catalog.RECORD_DISCLOSED.id: record_disclosed,
    catalog.APPROVAL_VALID.id: approval_valid,
    catalog.NOT_PROHIBITED.id: not_prohibited,
    catalog.TEMP_NOT_FINAL.id: temp_not_final,
    catalog.TOOL_REGISTERED.id: tool_registered,
    catalog.UNTAGGED_AI_MEDIA.id: untagged_ai_media,
    catalog.UNTAGGED_AI_NODES.id: untagged_ai_nodes,
}
