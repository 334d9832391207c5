"""Where a packet's facts come from: the disclosure service, or this machine's records and approval cache.

Whatever the source, the packet carries the documents as they were signed (approvals, the revocation
list, the keys, the audit checkpoint), so a reader checks them offline without trusting Clearance's
summary of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clearance.errors import ClearanceError


@dataclass
class PacketSource:
    production: str
    origin: str
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    denials: dict[str, str] = field(default_factory=dict)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    revocations: dict[str, Any] | None = None
    keys: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # the service's view of each record (unsigned)
    notes: list[str] = field(default_factory=list)


def add_view(source: PacketSource, view: dict[str, Any]) -> None:
    """One record as the service shows it (GET /api/v1/records/{id}): latest version, decision, approvals."""
    record_id = str(view["id"])
    source.views[record_id] = view
    source.records[record_id] = view["record"]
    source.decisions[record_id] = view.get("decision") or {}
    source.statuses[record_id] = str(view.get("status") or "")
    for approval in view.get("approvals") or []:
        if isinstance(approval.get("signed"), dict):
            source.approvals.append(approval["signed"])
    denials = view.get("denials") or []
    if denials and source.statuses[record_id] == "denied":
        source.denials[record_id] = str(denials[-1].get("reason") or "")


def from_service(client: Any, production: str) -> PacketSource:
    """Every record of the production, with its decision, approvals and denials, from the service."""
    from clearance.client import ClientError

    source = PacketSource(production=production, origin=f"service {client.server}")
    offset = 0
    ids: list[str] = []
    while True:
        page = client.request("GET", "/records", params={"production": production, "limit": 5000, "offset": offset})
        rows = page.get("records") or []
        ids += [str(r["id"]) for r in rows if str(r.get("production")) == production]
        offset += len(rows)
        if not rows or offset >= int(page.get("total") or 0):
            break
    if not ids:
        raise ClearanceError(f"the service {client.server} lists no record of production {production!r}; check the "
                             "production code (and that your login is a member of it)")
    from clearance.progress import progress

    with progress("Fetching records", total=len(ids)) as bar:
        for record_id in ids:
            add_view(source, client.request("GET", f"/records/{quote(record_id)}"))
            bar.advance()
    source.revocations = {"documents": [client.request("GET", "/revocations")]}
    source.keys = client.request("GET", "/keys")
    try:
        source.checkpoint = client.request("GET", "/audit/checkpoint")
    except ClientError as exc:
        if exc.status not in (404, 405):
            raise
        source.notes.append(NO_CHECKPOINT)
    return source


NO_CHECKPOINT = ("the service publishes no signed audit checkpoint (GET /api/v1/audit/checkpoint): the packet carries "
                 "none")


def _records_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return [folder]  # a file, or something that is not: the bounded reader names what is wrong with it
    from clearance.record import record_files_in

    return record_files_in(folder)  # a pipe among them stops the packet (exit 2, named) when read


def _load_record(path: Path) -> Any:
    """A record file; JSON (what the local store and the service hold) is parsed as JSON, which is far faster."""
    from clearance.record import load_record, record_from_data

    if path.suffix.lower() != ".json":
        return load_record(path)
    from clearance.documents import load_json

    return record_from_data(load_json(path, what="a use record"), str(path))


def _known_here(source: PacketSource, production: str, policy: Any, cache: Any) -> None:
    """Records this machine submitted (the outbox: the newest version of each) or pulled (the service's view)."""
    from clearance.outbox import Outbox
    from clearance.paths import outbox_path
    from clearance.policy.engine import evaluate
    from clearance.trust import known_record

    ids: set[str] = set()
    if outbox_path().is_file():
        with Outbox() as outbox:
            ids |= set(outbox.record_ids())
    from clearance.cache import FACTS_DIR

    facts_dir = cache.root / FACTS_DIR
    if facts_dir.is_dir():
        ids |= {p.stem for p in facts_dir.glob("*.json")}
    for record_id in sorted(ids - set(source.records)):
        record = known_record(cache, record_id)
        if record is None or record.production != production:
            continue
        source.records[record_id] = record.model_dump(mode="json")
        source.decisions[record_id] = evaluate(record, policy).model_dump(mode="json")
        view = cache.facts(record_id)
        if view:
            source.views[record_id] = view


def from_local(production: str, policy: Any, records_dirs: list[Path], cache_dir: Path | None = None) -> PacketSource:
    """Records from the given folders and the local record store, decided with the policy; the approval cache."""
    from clearance.cache import ApprovalCache
    from clearance.editorial.tagging import local_records_dir
    from clearance.policy.engine import evaluate
    cache = ApprovalCache(cache_dir)
    source = PacketSource(production=production, origin=f"local records and approval cache ({cache.root})")
    folders = list(records_dirs)
    store = local_records_dir()
    if store.is_dir():
        folders.append(store)
    for folder in folders:
        for path in _records_in(folder):
            record = _load_record(path)
            if record.production != production:
                continue
            record_id = str(record.id)
            source.records[record_id] = record.model_dump(mode="json")
            source.decisions[record_id] = evaluate(record, policy).model_dump(mode="json")
    _known_here(source, production, policy, cache)
    if not source.records:
        raise ClearanceError(f"no record of production {production!r} in {', '.join(map(str, folders)) or 'no folder'}"
                             ", the outbox or the approval cache; give --records DIR, or build the packet from the "
                             "service (--server)")
    for record_id in source.records:
        source.approvals += [json.loads(a.to_json()) for a in cache.approvals_for(record_id)]
    from clearance.trust import trusted_keys

    keys = trusted_keys(policy, cache).keys
    documents = [doc for doc, rev in cache._revocation_documents(keys) if rev is not None]
    if documents:
        source.revocations = {"documents": documents}
    else:
        source.notes.append("no signed revocation list is held (`clearance approvals pull`): the packet carries none")
    if len(keys):
        source.keys = keys.document()
    else:
        source.notes.append("no approver key is trusted here (`clearance approvals pull`): the packet carries none")
    source.notes.append("built offline: there is no audit checkpoint (build from the service for one)")
    return source
