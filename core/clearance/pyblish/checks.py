"""What each Clearance publish validator checks, over all items in one pass.

Pyblish's cost per (plugin, instance) pair is large (about 30 microseconds: 70,000 pairs for seven checks
on 10,000 items take over two seconds), so every validator is a ContextPlugin that walks the collected
items once and names each offending item. The functions here hold the logic; the plugin files in
``pyblish_plugins/`` only declare ids, order and actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    with Outbox() as outbox:
        # every record version of the publish looked up at once (one query per 500 records, not one per item)
        disclosed = outbox.disclosed(
            (c.record_id, c.content) for c in checks
            if c.record is not None and c.content is not None and c.record_id is not None)
        for check in checks:
            record = check.record
            if record is None or check.content is None or check.record_id is None:
                continue
            if production and record.production != production:
                out.failures.append(_failure(
                    check, f"the record is for production {record.production or '(none)'}, this publish is for "
                    f"{production}"))
                continue
            if (check.record_id, check.content) in disclosed:
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


def standing_judge(context: Any) -> Any:
    """The publish's one ``clearance.standing.Judge``: the policy in force, this machine's trust inputs
    (pinned keys, signed revocation lists, cached approvals) plus ``--approvals DIR``, refreshed from the
    service first when one is configured and answers in time."""
    judge = context.data.get("clearance_judge")
    if judge is not None:
        return judge
    from clearance.standing import Judge
    from clearance.trust import load_trust

    policy: Policy = context_policy(context)
    notes = []
    if not context.data.get("clearance_offline"):
        from clearance.trust import refresh_online

        ids = sorted({c.record_id for c in context.data.get("clearance_checks") or [] if c.record_id})
        note = refresh_online(policy, ids)
        if note:
            notes.append(note)
    folder = context.data.get("clearance_approvals_dir")
    trust = load_trust(policy, approvals_dir=Path(folder) if folder else None, now=context.data.get("clearance_now"))
    context.data["clearance_key_trust_warning"] = "; ".join([*notes, *trust.notes]) or None
    judge = Judge(policy, trust, production=context.data.get("clearance_production") or None)
    context.data["clearance_judge"] = judge
    return judge


def approval_valid(context: Any, checks: list[ItemCheck], setting: ValidatorSetting) -> CheckOutcome:
    out = CheckOutcome()
    needing = [c for c in checks if c.decision is not None and c.decision.outcome == "approval_required"]
    if not needing:
        return out
    judge = standing_judge(context)
    judge.prime(c.record for c in needing if c.record is not None)
    digests: dict[tuple[str | None, str | None], str | None] = {}  # one digest per record version, not per item
    for check in needing:
        record = check.record
        assert record is not None
        assert check.decision is not None
        version = (check.record_id, check.content)
        if version not in digests:
            digests[version] = check.digest
        standing = judge.standing(record, check.item.target, decision=check.decision, digest=digests[version])
        check.standing = standing
        if standing.passes:
            check.approval = standing.approval
            continue
        out.failures.append(_failure(check, standing.describe()))
    for problem in judge.trust.problems:
        out.warnings.append(ItemFailure("approval trust", "", "", problem))
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
        families = check.families
        if len(families) == 1:  # as the collector makes them: nothing to build for the one family
            final = families[0] if families[0] in finals else None
        else:
            final = next((f for f in families if f in finals), None)
        if final is None and not check.item.deliverable:
            continue
        where = f"family {final}" if final is not None else "a final deliverable"
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
    findings = out.failures if policy.publish.block_unknown_tools else out.warnings
    # The message for a record, or None: looked up once per record, and once per list of tool names (a crowd's
    # records, each its own, mostly name the same tools).
    by_record: dict[int, str | None] = {}
    by_names: dict[tuple[str, ...], str | None] = {}
    for check in checks:
        record = check.record
        if record is None:
            continue
        key = id(record)
        if key in by_record:
            message = by_record[key]
        else:
            names = tuple([t.name for t in record.tools])
            if names in by_names:
                message = by_names[names]
            else:
                unknown = [name for name in names if name.casefold() not in known] or (
                    [] if names else ["(no tool named)"])
                message = f"tool {', '.join(unknown)} is not in the policy's tool registry" if unknown else None
                by_names[names] = message
            by_record[key] = message
        if message is not None:
            item = check.item
            findings.append(ItemFailure(check.name, item.host, item.handle, message, check.record_id))
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
