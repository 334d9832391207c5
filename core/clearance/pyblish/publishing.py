"""Extract and integrate: what happens after every check passed.

Order matters: records are queued in the outbox (notification) before any file is copied, and the
disclosure manifest is written last, once the files it describes are in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError
from clearance.pyblish import disclosure
from clearance.pyblish.collect import checks_of
from clearance.pyblish.plugin import FAILURES_KEY

WRITTEN_KEY = "clearance_written"


def require_checked(context: Any) -> None:
    """Refuse to send anything out unless the Clearance checks ran and passed.

    Pyblish stops after a failed validator on its own; this also covers a set-up where the checks
    never ran (a validator file missing, or a publish UI that skipped them).
    """
    if not context.data.get("clearance_setup_ok"):
        raise ClearanceError("the Clearance checks did not run for this publish; nothing is extracted "
                             "(see the Clearance publish set-up check)")
    failed = context.data.get(FAILURES_KEY) or {}
    if any(failed.values()):
        raise ClearanceError("Clearance checks failed: " + ", ".join(sorted(k for k, v in failed.items() if v)))


def extract(context: Any, host: str) -> disclosure.DisclosureManifest:
    require_checked(context)
    checks = checks_of(context)
    manifest = disclosure.build(context, checks, host)
    ids = sorted({str(c.record.id) for c in checks if c.record is not None})
    context.data["clearance_record_ids"] = ids
    context.data["clearance_disclosure"] = manifest
    return manifest


def queue_notifications(context: Any) -> int:
    """Queue every record not yet disclosed; returns how many were new in the outbox.

    Runs whatever the disclosed check's settings: if the work goes out, its notification goes first.
    """
    from clearance.outbox import Outbox

    require_checked(context)
    added = 0
    done: set[tuple[str, str]] = set()
    with Outbox() as outbox:
        for check in checks_of(context):
            if check.record is None or check.record_id is None or check.content is None:
                continue
            key = (check.record_id, check.content)
            if key in done:
                continue
            done.add(key)
            if not outbox.is_disclosed(check.record_id, check.content):
                _, new = outbox.add(check.record)
                added += int(new)
    context.data["clearance_queued"] = added
    return added


def copy_standalone(context: Any) -> list[Path]:
    """Copy the published files to the destination, each with its sidecar of record ids."""
    require_checked(context)
    manifest: disclosure.DisclosureManifest = context.data["clearance_disclosure"]
    destination = Path(context.data["clearance_destination"])
    destination.mkdir(parents=True, exist_ok=True)
    record_ids: dict[str, set[str]] = {}
    entries: dict[str, list[disclosure.FileEntry]] = {}
    for item in manifest.items:
        for entry in item.files:
            ids = record_ids.setdefault(entry.source, set())
            if item.record_id:
                ids.add(item.record_id)
            entries.setdefault(entry.source, []).append(entry)
    written: list[Path] = []
    for source, ids in record_ids.items():
        target = destination / Path(source).name
        shutil.copy2(source, target)
        sha, _ = disclosure.sha256_file(target)
        expected = entries[source][0].sha256
        if sha != expected:
            raise ClearanceError(f"{source} changed while it was being published (sha256 {expected[:12]}... before, "
                                 f"{sha[:12]}... after); publish again")
        for entry in entries[source]:
            entry.published = str(target)
        written += [target, disclosure.write_sidecar(target, sorted(ids), sha)]
    for check in checks_of(context):
        check.instance.data["clearance_published_files"] = [
            str(destination / Path(f).name) for f in check.item.files]
    context.data.setdefault(WRITTEN_KEY, []).extend(written)
    return written


def write_disclosure(context: Any) -> Path | None:
    """Write clearance-disclosure.json into the publish destination (when the host says where that is)."""
    require_checked(context)
    destination = context.data.get("clearance_destination")
    if not destination:
        return None
    path = disclosure.write_manifest(context.data["clearance_disclosure"], Path(destination))
    context.data.setdefault(WRITTEN_KEY, []).append(path)
    context.data["clearance_manifest_path"] = str(path)
    return path
