"""Collection: GenAI items from a publish manifest, and the pyblish instances the validators check.

Host collectors (and the standalone one) append ``GenAIItem``s to ``context.data["clearance_items"]``;
``collect_checks`` then evaluates each item's record once, computes its digests and makes one pyblish
instance per item (family ``clearance.genai``) so publish UIs list every GenAI item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearance.decision import Decision
from clearance.errors import ClearanceError
from clearance.gc_pause import paused_collector
from clearance.items import CONTEXT_KEY, GenAIItem
from clearance.pyblish.instances import create_instances
from clearance.pyblish.manifest import LoadedManifest, load_manifest
from clearance.pyblish.settings import context_policy
from clearance.record import Target, UseRecord, content_digest, decision_digest

FAMILY = "clearance.genai"
CHECKS_KEY = "clearance_checks"
DEFAULT_PUBLISH_FAMILY = "clearance"


@dataclass(slots=True)
class ItemCheck:
    """One GenAI item as the validators see it: the item, its decision and digests, its pyblish instance."""

    item: GenAIItem
    name: str
    families: list[str]
    record: UseRecord | None = None
    record_id: str | None = None
    decision: Decision | None = None
    content: str | None = None
    instance: Any = None
    approval: Any = None  # the SignedApproval the approval check accepted
    standing: Any = None  # the clearance.standing.Standing the approval check judged
    failures: list[str] = field(default_factory=list)
    _digest: str | None = None

    @property
    def digest(self) -> str | None:
        """The decision digest approvals are bound to (computed on first use: only approvals need it)."""
        if self._digest is None and self.record is not None:
            self._digest = decision_digest(self.record)
        return self._digest


def manifest_of(context: Any) -> LoadedManifest:
    value = context.data.get("clearance_manifest")
    if isinstance(value, LoadedManifest):
        return value
    if isinstance(value, str | Path):
        loaded = load_manifest(value)
        context.data["clearance_manifest"] = loaded
        return loaded
    raise ClearanceError("standalone publish: context.data['clearance_manifest'] is not set; "
                         "run `clearance publish MANIFEST` or set it to the manifest's path")


def _target_for(name: str, record: UseRecord, has_files: bool) -> Target:
    for target in record.targets:
        if target.ref == name:
            return target
    if len(record.targets) == 1:
        return record.targets[0]
    return Target(kind="file" if has_files else "asset", ref=name)


def standalone_items(manifest: LoadedManifest) -> list[GenAIItem]:
    """One item per (manifest item, record); an item with no record is kept for the untagged-AI scan."""
    items: list[GenAIItem] = []
    for entry in manifest.items:
        files = [str(f) for f in entry.files]
        if not entry.records:
            items.append(GenAIItem(
                host="standalone", handle=entry.name, label=entry.name,
                target=Target(kind="file" if files else "asset", ref=entry.name),
                family=entry.family, files=files, deliverable=entry.deliverable,
            ))
            continue
        for path, record in entry.records:
            label = entry.name if len(entry.records) == 1 else f"{entry.name} ({path.name})"
            items.append(GenAIItem(
                host="standalone", handle=entry.name, label=label,
                target=_target_for(entry.name, record, bool(files)), record=record, record_source=str(path),
                family=entry.family, files=files, deliverable=entry.deliverable,
                extra={"inputs": [str(p) for p in entry.inputs]} if entry.inputs else {},
            ))
    return items


def collect_checks(context: Any) -> list[ItemCheck]:
    """Evaluate every collected item and create its pyblish instance (called once per publish)."""
    with paused_collector():
        return _collect_checks(context)


def _collect_checks(context: Any) -> list[ItemCheck]:
    from clearance.policy.engine import DecisionBatch

    policy = context_policy(context)
    batch = DecisionBatch(policy)
    default_family = context.data.get("clearance_family") or DEFAULT_PUBLISH_FAMILY
    raw = context.data.get(CONTEXT_KEY, [])
    checks: list[ItemCheck] = []
    entries: list[tuple[str, dict[str, Any]]] = []  # one pyblish instance each, made together at the end
    # The same record is often attached to several targets: evaluate and hash it once. The validators only read
    # decisions, so records with one decision digest share one Decision (a crowd tagged from one preset).
    judged: dict[int, tuple[Decision, str, str]] = {}  # id(record) -> decision, record id, content digest
    used: dict[str, int] = {}
    for entry in raw:
        item = entry if isinstance(entry, GenAIItem) else GenAIItem.model_validate(entry)
        name = item.label or item.handle
        if name in used:
            used[name] += 1
            name = f"{name} #{used[name]}"
        else:
            used[name] = 1
        families = [item.family or default_family]
        record = item.record if item.tag_error is None else None
        check = ItemCheck(item=item, name=name, families=families, record=record)
        if record is not None:
            # A host that verified the record against its tag hands on the tag's decision digest, and with it the
            # record's id as text and its content digest (never recomputed).
            extra = item.extra
            check._digest = extra.get("record_digest")
            key = id(record)
            if key not in judged:
                content = extra.get("content_digest") or content_digest(record)
                record_id = extra.get("record_id") if check._digest is not None else None
                if type(record_id) is not str:
                    record_id = str(record.id)
                judged[key] = (batch.decide_shared(record, check._digest), record_id, content)
            check.decision, check.record_id, check.content = judged[key]
        entries.append((name, {
            "family": FAMILY,
            "families": [],
            "label": name,
            # Clearance instances cannot be unticked in a publish UI: skipping one would skip its checks.
            "optional": False,
            "publish": True,
            "clearance_families": families,
            "clearance_item": item,
            "clearance_check": check,
            "clearance_record_ids": [check.record_id] if check.record_id else [],
        }))
        checks.append(check)
    for check, instance in zip(checks, create_instances(context, entries), strict=True):
        check.instance = instance
    context.data[CHECKS_KEY] = checks
    return checks


def checks_of(context: Any) -> list[ItemCheck]:
    checks: list[ItemCheck] | None = context.data.get(CHECKS_KEY)
    if checks is None:
        raise ClearanceError("the Clearance items were not collected (collect_clearance_items.py did not run); "
                             "check PYBLISHPLUGINPATH or call clearance.pyblish.register(host)")
    return checks
