"""The "GenAI" tab: knobs on any node that show and edit its use record, decision and approval status.

The tag (hidden ``clearance_tag`` knob) is the truth; the answer knobs are a view of the record in it.
When the artist edits an answer, the record is rebuilt from the knobs, re-tagged and re-judged.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone
from typing import Any

import nuke

from clearance.errors import ClearanceError
from clearance.hosts import nuke as host
from clearance.hosts.status import Judge, Standing
from clearance.record import UseRecord, record_from_data
from clearance.tags import Tag
from clearance_nuke import presets

PREFIX = "clearance_"
BUTTONS = {
    "clearance_submit": ("Submit", "import clearance_nuke.actions as a; a.submit_nodes([nuke.thisNode()])"),
    "clearance_refresh": ("Refresh approvals", "import clearance_nuke.actions as a; a.refresh_approvals()"),
    "clearance_untag": ("Remove tag", "import clearance_nuke.knobs as k; k.untag(nuke.thisNode())"),
}


def has_tab(node: Any) -> bool:
    return node.knob(host.TAB_KNOB) is not None


def add_tab(node: Any) -> None:
    """Add the GenAI tab and its knobs to ``node`` (once; calling again changes nothing)."""
    if has_tab(node):
        return
    node.addKnob(nuke.Tab_Knob(host.TAB_KNOB, "GenAI"))
    preset = nuke.Enumeration_Knob(host.PRESET_KNOB, "preset", [host.NO_PRESET, *presets.names()])
    node.addKnob(preset)
    node.addKnob(nuke.Text_Knob(host.STATUS_KNOB, "status", "untagged"))
    if host.is_writer(node):
        # the gate is on unless this is ticked: an explicit, visible exemption, never a missing knob
        exempt = nuke.Boolean_Knob(host.EXEMPT_KNOB, "not a deliverable (render without the Clearance gate)")
        exempt.setFlag(nuke.STARTLINE)
        node.addKnob(exempt)
    for name, (label, command) in BUTTONS.items():
        node.addKnob(nuke.PyScript_Knob(name, label, command))
    for title, knobs in host.answer_knobs():
        node.addKnob(nuke.Text_Knob(f"clearance_div_{title.lower().replace(' ', '_')}", title, ""))
        for answer in knobs:
            if answer.choices:
                knob = nuke.Enumeration_Knob(answer.name, answer.label, list(answer.choices))
            elif answer.multiline:
                knob = nuke.Multiline_Eval_String_Knob(answer.name, answer.label, "")
            else:
                knob = nuke.String_Knob(answer.name, answer.label, "")
            node.addKnob(knob)
    tag = nuke.String_Knob(host.TAG_KNOB, "tag")
    tag.setFlag(nuke.INVISIBLE)
    node.addKnob(tag)


def remove_tab(node: Any) -> None:
    for name, knob in list(node.knobs().items()):
        if name.startswith(PREFIX) and name != host.METADATA_FOR_KNOB:
            node.removeKnob(knob)


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = data
    for part in path:
        if isinstance(current, list):
            index = int(part)
            current = current[index] if index < len(current) else None
        elif isinstance(current, dict):
            current = current.get(part)
        if current is None:
            return None
    return current


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    current: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(current, list):
            index = int(part)
            while len(current) <= index:
                current.append({})
            current = current[index]
        else:
            current = current.setdefault(part, [] if nxt.isdigit() else {})
    current[path[-1]] = value


def show_record(node: Any, record: UseRecord) -> None:
    """Put the record's answers into the knobs."""
    data = record.model_dump(mode="json")
    if "tool" in data:  # one tool is written as `tool:`; the knobs address tools[0]
        data["tools"] = [data.pop("tool")]
    for answer in host.all_answer_knobs():
        knob = node.knob(answer.name)
        if knob is None:
            continue
        value = _get(data, answer.path)
        if answer.choices:
            knob.setValue(value if value in answer.choices else answer.choices[0])
        else:
            knob.setValue("" if value is None else str(value))


def record_from_knobs(node: Any, base: UseRecord | None = None) -> UseRecord:
    """The record as the knobs show it; fields the knobs do not show are kept from ``base``."""
    data = (base or UseRecord()).model_dump(mode="json")
    if "tool" in data:
        data["tools"] = [data.pop("tool")]
    data.setdefault("tools", [])
    for answer in host.all_answer_knobs():
        knob = node.knob(answer.name)
        if knob is None:
            continue
        value: Any = knob.value()
        if not answer.choices:
            value = str(value or "")
            if value == "" and _get(data, answer.path) is None:
                continue  # an optional field left empty stays unset
        _set(data, answer.path, value)
    if data["tools"] and not str(data["tools"][0].get("name") or "").strip():
        if len(data["tools"]) == 1:
            data["tools"] = []  # no tool named: the record names none (the policy decides what that means)
        else:
            raise ClearanceError(f"Nuke node {node.fullName()}: GenAI tab field tool name is empty; name the tool")
    target = host.node_target(node).model_dump(mode="json", exclude_none=True)
    targets = data.get("targets") or []
    if not any(t.get("kind") == "node" and t.get("ref") == target["ref"] for t in targets):
        targets.append(target)
    for path in host.media_files(node)[:1]:
        if not any(t.get("kind") == "file" for t in targets):
            targets.append({"kind": "file", "ref": os.path.basename(path), "path": path})
    data["targets"] = targets
    return record_from_data(data, f"Nuke node {node.fullName()} (GenAI tab)")


def _declarer() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some farm and container setups
        return None


def new_record(node: Any, preset: str | None = None) -> UseRecord:
    record = presets.record(preset) if preset else UseRecord()
    data = record.model_dump(mode="json")
    data["production"] = data.get("production") or os.environ.get("CLEARANCE_PRODUCTION", "")
    data["declared_by"] = data.get("declared_by") or _declarer()
    data["declared_at"] = datetime.now(timezone.utc).isoformat()
    data["targets"] = []
    return record_from_data(data, f"Nuke node {node.fullName()}")


def tag_node(
    node: Any, record: UseRecord | None = None, *, preset: str | None = None, judge: Judge | None = None
) -> Standing:
    """Tag ``node`` (adding the GenAI tab when missing) with ``record`` or a new record from ``preset``."""
    add_tab(node)
    existing = _safe_tag(node)
    if record is None:
        record = new_record(node, preset)
        if existing is not None and existing.record is not None:
            record = record.model_copy(update={"id": existing.record.id})  # same use, re-declared
    show_record(node, record)
    if preset:
        node[host.PRESET_KNOB].setValue(preset if preset in node[host.PRESET_KNOB].values() else host.NO_PRESET)
    record = record_from_knobs(node, record)
    host.write_tag(node, Tag.for_record(record, target_ref=host.node_target(node).key()))
    return _tagged_status(node, judge)


def _tagged_status(node: Any, judge: Judge | None) -> Standing:
    result = refresh(node, judge)
    if result is None:  # the tag knob did not keep the value (a locked or read-only node)
        raise ClearanceError(f"Nuke node {node.fullName()}: the tag could not be stored on the node")
    return result


def _safe_tag(node: Any) -> Tag | None:
    try:
        return host.read_tag(node)
    except ClearanceError:
        return None


def update_from_knobs(node: Any, judge: Judge | None = None) -> Standing:
    """The artist changed an answer: rebuild the record from the knobs, store it, re-judge."""
    existing = _safe_tag(node)
    base = existing.record if existing is not None else None
    record = record_from_knobs(node, base)
    host.write_tag(node, Tag.for_record(record, target_ref=host.node_target(node).key()))
    return _tagged_status(node, judge)


def apply_preset(node: Any, name: str, judge: Judge | None = None) -> Standing | None:
    if not name or name == host.NO_PRESET:
        return None
    return tag_node(node, preset=name, judge=judge)


def standing(node: Any, judge: Judge | None = None) -> Standing | None:
    """The node's status; None when it is not tagged."""
    return judged(node, judge)[1]


def judged(node: Any, judge: Judge | None = None) -> tuple[Tag | None, Standing | None]:
    """The node's tag (None when untagged or unreadable) and its status (None when untagged)."""
    judge = judge or Judge()
    try:
        tag = host.read_tag(node)
    except ClearanceError as exc:
        return None, judge.standing(None, tag_error=str(exc))
    if tag is None:
        return None, None
    if tag.record is None:
        return tag, judge.standing(None, tag_error=f"the tag on {node.fullName()} holds only the record id; re-tag it")
    return tag, judge.standing(tag.record, host.node_target(node))


def refresh(node: Any, judge: Judge | None = None) -> Standing | None:
    """Show the current status on the node (status text, tile colour); None when it is untagged."""
    result = standing(node, judge)
    show_status(node, result)
    return result


def show_status(node: Any, result: Standing | None) -> None:
    text_knob = node.knob(host.STATUS_KNOB)
    if result is None:
        if text_knob is not None:
            text_knob.setValue("untagged")
        node["tile_color"].setValue(0)
        return
    if text_knob is not None:
        decision = result.decision.outcome if result.decision is not None else "none"
        text_knob.setValue(f"<b>{result.label}</b> (decision: {decision})<br>{_html(result.reason)}")
    node["tile_color"].setValue(host.tile_colour(result.status))


def show_writer_status(node: Any, judge: Judge | None = None) -> str:
    """Show on a writing node what its next render would meet: exempt, cleared, or blocked and why."""
    from clearance_nuke.callbacks import render_problems

    add_tab(node)
    judge = judge or Judge()
    exempt = host.exemption(node, judge.policy.hosts.nuke.exempt_outputs)
    if exempt is not None:
        text = f"<b>Not gated</b>: {_html(exempt)}"
    else:
        problems = render_problems(node, judge)
        if problems:
            show_refusal(node, "; ".join(problems))
            return str(node[host.STATUS_KNOB].value())
        text = "<b>Cleared to render</b>: every use upstream is disclosed and cleared"
    if not host.is_tagged(node):
        node[host.STATUS_KNOB].setValue(text)
    return text


def show_refusal(node: Any, reason: str) -> None:
    """The render gate refused ``node``: say so on the node itself (status text, tile colour)."""
    add_tab(node)
    node[host.STATUS_KNOB].setValue(f"<b>Render blocked</b>: {_html(reason)}")
    node["tile_color"].setValue(host.tile_colour("approval_required"))


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def untag(node: Any) -> None:
    """Remove the tag and the GenAI tab; the node gets its own colour back."""
    remove_tab(node)
    node["tile_color"].setValue(0)
