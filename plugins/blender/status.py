"""What the panels show: each tagged item's decision and approval status, from the core.

Nothing here decides anything: clearance.hosts.status.Judge (the policy engine plus the offline approval
cache) does, as for every host. Results are memoised per tag text and target, because panels redraw many
times a second; Refresh, an edit or a file load forgets them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import bpy

from clearance.errors import ClearanceError
from clearance.hosts import blender as host
from clearance.hosts.status import Judge, Standing
from clearance.record import Target, UseRecord

# "stop" / "warn" are the policy's words (policy.hosts.render_gate); the Blender icon for each status.
STATUS_ICONS: dict[str, str] = {
    "notify": "CHECKMARK",
    "approved": "CHECKMARK",
    "approval_required": "ERROR",
    "denied": "CANCEL",
    "prohibited": "CANCEL",
    "invalid": "QUESTION",
}


ItemStatus = Standing
"""What the panels show for one item: status, decision and the one-line reason (clearance.hosts.status)."""

_judge: Judge | None = None
_judge_error: str | None = None
_memo: dict[tuple[str, str], Standing] = {}


def icon_of(result: Standing) -> str:
    return STATUS_ICONS.get(result.status, "QUESTION")


def _preferences() -> Any:
    addon = bpy.context.preferences.addons.get(__package__) if __package__ else None
    return addon.preferences if addon is not None else None


def policy_paths() -> list[str] | None:
    """The policy files the TD set in the extension's preferences; None means CLEARANCE_POLICY or defaults."""
    prefs = _preferences()
    text = getattr(prefs, "policy_files", "") if prefs is not None else ""
    paths = [part.strip() for part in text.split(os.pathsep) if part.strip()]
    return paths or None


def judge_for_session() -> Judge:
    """The policy and approval cache, loaded once per session (Refresh reloads). Raises ClearanceError if broken."""
    global _judge, _judge_error
    if _judge is None and _judge_error is None:
        from clearance.policy import load_policy

        try:
            _judge = Judge(policy=load_policy(policy_paths()))
        except ClearanceError as exc:
            _judge_error = str(exc)
    if _judge_error is not None:
        raise ClearanceError(_judge_error)
    assert _judge is not None
    return _judge


def policy() -> Any:
    return judge_for_session().policy


def reset() -> None:
    """Forget the loaded policy, the cache and every memoised status (after Refresh, an edit or a file load)."""
    global _judge, _judge_error
    _judge = None
    _judge_error = None
    _memo.clear()
    _listing.clear()


LISTING_SECONDS = 2.0
"""How long the panel's list of tagged items is reused: a sidebar redraws many times a second, and a file
with thousands of tagged objects takes a noticeable moment to walk."""
_listing: dict[str, Any] = {}


def listing() -> list[tuple[host.Entry, Standing]]:
    """Every tagged item in the file with its status, for the panel (rebuilt at most every LISTING_SECONDS)."""
    now = time.monotonic()
    if _listing and now - _listing["at"] < LISTING_SECONDS and _listing["file"] == bpy.data.filepath:
        return _listing["items"]
    items = [(entry, status_of(entry)) for entry in host.iter_entries(untagged_media=False)]
    _listing.update(at=now, file=bpy.data.filepath, items=items)
    return items


def judge(record: UseRecord, target: Target) -> Standing:
    """The status of one record on one target, with the one-line reason."""
    try:
        return judge_for_session().standing(record, target)
    except ClearanceError as exc:
        return Standing(status="invalid", reason=str(exc))


def status_of(entry: host.Entry) -> ItemStatus:
    """The status of a tagged datablock or strip, memoised per tag text and target."""
    key = (entry.tag_text, entry.handle)
    hit = _memo.get(key)
    if hit is not None:
        return hit
    try:
        tag = host.read_tag(entry)
    except ClearanceError as exc:
        result = Standing(status="invalid", reason=str(exc))
    else:
        if tag is None:
            result = Standing(status="invalid", reason=f"{entry.label}: the tag holds no record; re-tag it")
        else:
            try:
                result = judge(host.record_of_tag(tag, entry.label), host.target_for(entry.handle))
            except ClearanceError as exc:
                result = Standing(status="invalid", reason=str(exc))
    _memo[key] = result
    return result


def record_of(entry: host.Entry) -> UseRecord | None:
    """The record in an entry's tag, or None when it has none or it cannot be read (status_of says why)."""
    try:
        tag = host.read_tag(entry)
        return host.record_of_tag(tag, entry.label) if tag is not None else None
    except ClearanceError:
        return None


def entry_for(owner: Any) -> host.Entry:
    handle = host.handle_of(owner)
    values = host.stored_values(owner)
    return host.Entry(handle, host.label_of(handle), owner, str(values.get("tag", "")))


def refresh_all() -> dict[str, int]:
    """Recompute every tagged item's status and store it for display; returns counts per status."""
    reset()
    counts: dict[str, int] = {}
    for entry in host.iter_entries(untagged_media=False):
        result = status_of(entry)
        counts[result.status] = counts.get(result.status, 0) + 1
        group = getattr(entry.owner, host.PROPERTY, None)
        if group is None or not host.is_editable(entry.owner):
            continue  # linked data: shown from the memo, never written
        if group.status != result.status:
            group.status = result.status
        if group.message != result.reason:
            group.message = result.reason
    return counts


def preset_enum_items() -> list[tuple[str, str, str]]:
    """The presets offered in the panel, as (identifier, name, description)."""
    global _preset_items
    if _preset_items is None:
        try:
            from clearance import presets

            _preset_items = [
                (p.name, p.title or p.name, f"{p.description} (default policy: {p.outcome})")
                for p in presets.presets().values()
            ]
        except (ImportError, ClearanceError) as exc:
            _preset_items = [("", "No presets", f"presets could not be loaded: {exc}")]
    return _preset_items


_preset_items: list[tuple[str, str, str]] | None = None
