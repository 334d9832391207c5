"""The disclosure manifest written next to published files, and the per-file sidecars.

``clearance-disclosure.json`` says, for everything a publish sent out: which records cover it, what the
policy decided, which signed approvals allowed it, the policy version, and the sha256 of every file.
Each published file also gets ``<file>.clearance.json`` with its record ids, so editorial and review
tools find the records from the file alone.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clearance import __version__
from clearance.decision import Decision
from clearance.pyblish.collect import ItemCheck
from clearance.pyblish.manifest import MANIFEST_NAME
from clearance.record import Target

SIDECAR_SUFFIX = ".clearance.json"


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    published: str | None = None
    sha256: str
    size: int


class DisclosedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    host: str
    handle: str
    target: Target
    families: list[str]
    record_id: str | None
    record_source: str | None = None
    outcome: str | None = Field(default=None, description="The policy's decision for the record.")
    approval_id: str | None = None
    approver: str | None = None
    conditions: str = Field(default="", description="The conditions the approval was given under.")
    expires_at: datetime | None = None
    files: list[FileEntry] = Field(default_factory=list)


class DisclosureManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = "clearance-disclosure"
    schema_version: int = 1
    production: str | None
    published_at: datetime
    published_by: str
    host: str
    clearance_version: str = __version__
    policy_version: str
    items: list[DisclosedItem]
    records: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Record id -> the full record.")
    record_digests: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Record id -> {decision: decision digest, content: content digest}.")
    decisions: dict[str, Decision] = Field(default_factory=dict, description="Record id -> the policy's decision.")
    approvals: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Approval id -> signed approval.")


def sha256_file(path: str | Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def build(context: Any, checks: list[ItemCheck], host: str) -> DisclosureManifest:
    policy = context.data["clearance_policy"]
    hashed: dict[str, FileEntry] = {}
    manifest = DisclosureManifest(
        production=context.data.get("clearance_production"),
        published_at=datetime.now(timezone.utc),
        published_by=_user(),
        host=host,
        policy_version=policy.version,
        items=[],
    )
    for check in checks:
        record = check.record
        files = []
        for path in check.item.files:
            if path not in hashed:
                sha, size = sha256_file(path)
                hashed[path] = FileEntry(source=path, sha256=sha, size=size)
            files.append(hashed[path])
        item = DisclosedItem(
            name=check.name, host=check.item.host, handle=check.item.handle, target=check.item.target,
            families=check.families, record_id=str(record.id) if record is not None else None,
            record_source=check.item.record_source, files=files,
            outcome=check.decision.outcome if check.decision is not None else None,
            approval_id=check.approval.statement.approval_id if check.approval is not None else None,
            approver=check.approval.statement.approver if check.approval is not None else None,
            conditions=check.approval.statement.conditions if check.approval is not None else "",
            expires_at=check.approval.statement.expires_at if check.approval is not None else None,
        )
        manifest.items.append(item)
        if record is not None and check.decision is not None:
            rid = str(record.id)
            manifest.records[rid] = record.model_dump(mode="json")
            manifest.decisions[rid] = check.decision
            manifest.record_digests[rid] = {"decision": check.digest or "", "content": check.content or ""}
        if check.approval is not None:
            manifest.approvals[check.approval.statement.approval_id] = check.approval.model_dump(mode="json")
    return manifest


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so a reader never sees half a file (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
            handle.write("\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_manifest(manifest: DisclosureManifest, destination: Path) -> Path:
    path = destination / MANIFEST_NAME
    write_json_atomic(path, manifest.model_dump(mode="json"))
    return path


def write_sidecar(published: Path, record_ids: list[str], sha256: str) -> Path:
    path = published.with_name(published.name + SIDECAR_SUFFIX)
    write_json_atomic(path, {
        "kind": "clearance-sidecar", "record_ids": record_ids, "sha256": sha256,
        "disclosure_manifest": MANIFEST_NAME,
    })
    return path
