"""Where Clearance data lives in a Nuke script: knobs on nodes, the node graph, EXR metadata.

Shared by the Nuke plugin (plugins/nuke) and the Pyblish collector (pyblish_plugins/collect_nuke.py), so
both read a script the same way. ``nuke`` is imported inside the functions: this module imports anywhere
and only touches Nuke when called inside it (GUI, ``nuke -t`` or a render farm).

Knobs on a tagged node (all on the "GenAI" tab):
- ``clearance_tag``: hidden String knob, the encoded Tag JSON (clearance.tags), the only source of truth;
- ``clearance_<section>_<field>``: one knob per record answer, so the artist edits answers in place;
- ``clearance_preset``, ``clearance_status`` (Text), ``clearance_exempt`` (Boolean, writing nodes).

The render gate has no way around: every node that writes files (Write, DeepWrite, WriteGeo, and the
same inside groups and gizmos) is a deliverable unless it is exempted explicitly, by its own
``clearance_exempt`` knob (or that of a group or gizmo holding it) or by the policy's output patterns
(``hosts.nuke.exempt_outputs``). A node without the knob is gated.

Nuke hands out a new Python object for the same node on every call, so nodes are told apart by
``fullName()``, never by ``id()``.

Write nodes get a ModifyMetaData node upstream that sets ``exr/clearance/record_ids``: Nuke's exr writer
drops the ``exr/`` prefix, so the header attribute ``clearance/record_ids`` holds the ids (comma-separated)
of every tagged use upstream, which the provenance scanner reads back.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from clearance.documents import parse_json_text
from clearance.errors import ClearanceError
from clearance.items import GenAIItem
from clearance.record import Target, UseRecord
from clearance.tags import STATUS_RGB, Tag, decode_tag, encode_tag

HOST = "nuke"
TAB_KNOB = "clearance_tab"
TAG_KNOB = "clearance_tag"
PRESET_KNOB = "clearance_preset"
STATUS_KNOB = "clearance_status"
EXEMPT_KNOB = "clearance_exempt"
LEGACY_DELIVERABLE_KNOB = "clearance_deliverable"  # v0.1 opt-in box: ignored, its absence no longer exempts
METADATA_FOR_KNOB = "clearance_metadata_for"
RECORD_IDS_ATTRIBUTE = "clearance/record_ids"
RECORD_IDS_METADATA = "exr/" + RECORD_IDS_ATTRIBUTE
METADATA_NODE_PREFIX = "ClearanceMetadata_"
WRITE_CLASSES = frozenset({"Write", "DeepWrite", "WriteGeo"})
READ_CLASSES = frozenset({"Read", "DeepRead", "ReadGeo", "ReadGeo2", "Camera2", "Camera3"})
NO_PRESET = "(none)"
# The Write "metadata" menu, weakest first (Nuke reference guide, Write node): from index 2 on,
# exr/* keys reach the file header.
WRITE_METADATA_MODES = (
    "no metadata",
    "default metadata",
    "default metadata and exr/*",
    "all metadata except input/*",
    "all metadata",
)


@dataclass(frozen=True)
class AnswerKnob:
    """One record answer shown as a knob: ``path`` into the record dump, menu ``choices`` or free text."""

    name: str
    label: str
    path: tuple[str, ...]
    choices: tuple[str, ...] | None
    multiline: bool = False


def _choices(annotation: Any) -> tuple[str, ...] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    return None


def _model_of(annotation: Any) -> type[Any] | None:
    """The pydantic model behind a field (``Use``, or ``Tool`` for ``list[Tool]``), else None."""
    from pydantic import BaseModel

    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _scalar(annotation: Any) -> bool:
    args = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    kinds = [a for a in args if a is not type(None)] or [annotation]
    return all(typing.get_origin(k) is typing.Literal or k in (str, int, float, bool) for k in kinds)


def _answers_of(section: str, model: type[Any], prefix: tuple[str, ...]) -> list[AnswerKnob]:
    out = []
    for name, info in model.model_fields.items():
        if _model_of(info.annotation) is not None or not _scalar(info.annotation):
            continue  # a nested group or a list has no single knob: kept as it is from the record
        choices = _choices(info.annotation)
        if choices and info.default in choices:
            # a new knob shows its first item: that must be the record's default (unsure, unknown,
            # final), never the most lenient answer
            choices = (info.default, *(c for c in choices if c != info.default))
        label = name.replace("_", " ")
        out.append(AnswerKnob(f"clearance_{section}_{name}", label, (*prefix, name), choices,
                              multiline=(section, name) == ("prompt", "text")))  # prompts run to several lines
    return out


# Record fields Clearance fills in itself, never shown as answers.
NOT_ANSWERS = frozenset({"schema_version", "id", "declared_at", "targets"})


def sections() -> tuple[tuple[str, str, type[Any]], ...]:
    """The record's answer groups, read from the record model (a field added to the record shows up here):
    every nested model field, ``tools`` shown as its first step ``tool``."""
    from clearance.record import UseRecord

    out = []
    for name, info in UseRecord.model_fields.items():
        model = _model_of(info.annotation)
        if model is None or name in NOT_ANSWERS:
            continue
        key = "tool" if name == "tools" else name
        out.append((key, key.replace("_", " ").capitalize(), model))
    return tuple(out)


@functools.cache
def answer_knobs() -> tuple[tuple[str, tuple[AnswerKnob, ...]], ...]:
    """Every answer of the record, grouped as the record is: (section title, knobs)."""
    from clearance.record import UseRecord

    plain = [
        AnswerKnob(f"clearance_{name}", name.replace("_", " "), (name,), _choices(info.annotation),
                   multiline=name == "description")
        for name, info in UseRecord.model_fields.items()
        if name not in NOT_ANSWERS and _model_of(info.annotation) is None
    ]
    groups: list[tuple[str, tuple[AnswerKnob, ...]]] = [("Record", tuple(plain))]
    for section, title, model in sections():
        prefix = ("tools", "0") if section == "tool" else (section,)
        groups.append((title, tuple(_answers_of(section, model, prefix))))
    return tuple(groups)


@functools.cache
def all_answer_knobs() -> tuple[AnswerKnob, ...]:
    return tuple(k for _, knobs in answer_knobs() for k in knobs)


# ------------------------------------------------------------------------------------------ reading


def _nuke() -> Any:
    import nuke

    return nuke


def knob_text(node: Any, name: str) -> str:
    knob = node.knob(name)
    if knob is None:
        return ""
    value = knob.value()
    return "" if value is None else str(value)


def is_tagged(node: Any) -> bool:
    return bool(knob_text(node, TAG_KNOB).strip())


_records: dict[str, tuple[dict[str, Any], UseRecord]] = {}
_RECORDS_KEPT = 4096


_TAIL_FIELDS = frozenset({"target_ref", "status", "approval_ids"})


def read_tag(node: Any) -> Tag | None:
    """The node's tag; None when untagged; ClearanceError (naming the node) when the tag is broken.

    Many nodes carry the same record (a use tagged on a selection): encode_tag writes the record before
    target_ref/status, so the text up to ``"target_ref"`` names the record and its claimed digest exactly
    (a ``"target_ref"`` inside a string value is escaped, so never matches). That prefix is parsed,
    validated and digest-checked once; for every other node only the short tail after it is parsed.
    """
    text = knob_text(node, TAG_KNOB).strip()
    if not text:
        return None
    where = f"Nuke node {node.fullName()}"
    key = text.rsplit('"target_ref"', 1)[0] if '"target_ref"' in text else None
    known = _records.get(key) if key is not None else None
    if known is not None and key is not None:
        base, record = known
        try:
            tail = parse_json_text("{" + text[len(key) :], where)
        except ClearanceError:
            return decode_tag(text, where)  # raises the one-line error
        if isinstance(tail, dict) and set(tail) <= _TAIL_FIELDS:
            return decode_tag({**base, **tail}, where).model_copy(update={"record": record})
    tag = decode_tag(text, where)
    if key is not None and tag.record is not None:
        if len(_records) >= _RECORDS_KEPT:
            _records.clear()
        base = tag.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"record", *_TAIL_FIELDS})
        _records[key] = (base, tag.record)
    return tag


def node_target(node: Any) -> Target:
    return Target(kind="node", ref=node.fullName())


def is_writer(node: Any) -> bool:
    return str(node.Class()) in WRITE_CLASSES


def _enclosing(node: Any) -> list[Any]:
    """The groups and gizmos holding ``node``, innermost first (from its full name)."""
    nuke = _nuke()
    parts = str(node.fullName()).split(".")
    out = []
    for end in range(len(parts) - 1, 0, -1):
        group = nuke.toNode(".".join(parts[:end]))
        if group is not None:
            out.append(group)
    return out


def exemption(node: Any, patterns: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why ``node``'s renders are not gated, or None when they are (the default for every writing node)."""
    for holder in [node, *_enclosing(node)]:
        knob = holder.knob(EXEMPT_KNOB)
        if knob is not None and knob.value():
            where = "its" if holder is node else f"the enclosing {holder.Class()} {holder.fullName()}'s"
            return f"exempt by {where} 'not a deliverable' box ({EXEMPT_KNOB})"
    output = knob_text(node, "file").strip()
    if output:
        for pattern in patterns:
            if fnmatch.fnmatchcase(output, pattern):
                return f"output {output} matches the policy's hosts.nuke.exempt_outputs pattern {pattern!r}"
    return None


def exempt_patterns() -> list[str]:
    from clearance.hosts.status import current_policy

    return list(current_policy().hosts.nuke.exempt_outputs)


def is_deliverable(node: Any, patterns: list[str] | tuple[str, ...] | None = None) -> bool:
    """A writing node is a deliverable unless exempted explicitly (see ``exemption``)."""
    if not is_writer(node):
        return False
    return exemption(node, exempt_patterns() if patterns is None else patterns) is None


def _frames_of(pattern: str) -> list[str]:
    """A Read's file, with ``####``, ``%04d`` or ``$F4`` frame patterns expanded to existing files."""
    if not pattern:
        return []
    if not re.search(r"#+|%0?\d*d|\$F\d*", pattern):
        return [pattern]
    wildcard = re.sub(r"#+|%0?\d*d|\$F\d*", "*", pattern)
    return sorted(glob.glob(wildcard)) or [pattern]


def media_files(node: Any) -> list[str]:
    if node.Class() not in READ_CLASSES:
        return []
    return _frames_of(knob_text(node, "file").strip())


def iter_nodes() -> Iterator[Any]:
    """Every node of the script, inside groups too."""
    nuke = _nuke()
    yield from nuke.allNodes(group=nuke.root(), recurseGroups=True)


def tagged_nodes() -> list[Any]:
    return [n for n in iter_nodes() if is_tagged(n)]


def ai_node_class(node: Any, patterns: list[str] | tuple[str, ...]) -> str | None:
    """The policy pattern (``hosts.ai_node_classes``) that marks ``node``'s class as generative, if any."""
    node_class = str(node.Class())
    return next((p for p in patterns if fnmatch.fnmatchcase(node_class, p)), None)


def untagged_ai_nodes(patterns: list[str] | tuple[str, ...]) -> list[Any]:
    """Nodes of a generative class (CopyCat, Inference, known generative gizmos) that nobody tagged."""
    return [n for n in iter_nodes() if not is_tagged(n) and ai_node_class(n, patterns)]


def item_for(node: Any, feeds_deliverable: bool = False, deliverable: bool | None = None) -> GenAIItem:
    """A node as a Pyblish item: its tag's record (or why the tag is unreadable) and its media files.

    ``feeds_deliverable``: the node reaches a Write marked as a final deliverable, so its material ends
    up in the delivered frames."""
    record: UseRecord | None = None
    error: str | None = None
    try:
        tag = read_tag(node)
        if tag is not None:
            record = tag.record
            if record is None:
                error = f"Nuke node {node.fullName()}: the tag holds only record id {tag.record_id}; re-tag it"
    except ClearanceError as exc:
        error = str(exc)
    files = media_files(node)
    if deliverable is None:
        deliverable = is_deliverable(node)
    family = "render" if deliverable else None
    return GenAIItem(
        host=HOST,
        handle=node.fullName(),
        label=f"{node.Class()} {node.fullName()}",
        target=node_target(node),
        record=record,
        record_source=f"knob {TAG_KNOB} on {node.fullName()}" if (record or error) else None,
        tag_error=error,
        family=family,
        files=files,
        deliverable=deliverable or feeds_deliverable,
        extra={"node_class": node.Class(), "feeds_deliverable": feeds_deliverable},
    )


def collect_items(*, untagged_media: bool = True) -> list[GenAIItem]:
    """Tagged nodes, plus untagged Read nodes with their files (for the untagged-AI scan)."""
    from clearance.hosts.status import current_policy

    nodes = list(iter_nodes())
    patterns = exempt_patterns()
    ai_patterns = current_policy().hosts.ai_node_classes
    feeding: set[str] = set()
    deliverables: set[str] = set()
    for write in nodes:
        if is_deliverable(write, patterns):
            deliverables.add(write.fullName())
            feeding.update(n.fullName() for n in upstream(write))
    items = []
    for node in nodes:
        name = node.fullName()
        if is_tagged(node) or (untagged_media and media_files(node)):
            items.append(item_for(node, name in feeding, deliverable=name in deliverables))
        elif ai_node_class(node, ai_patterns):
            item = item_for(node, name in feeding, deliverable=name in deliverables)
            item.extra["ai_node"] = f"{node.Class()}, policy hosts.ai_node_classes {ai_node_class(node, ai_patterns)!r}"
            items.append(item)
    return items


# ------------------------------------------------------------------------------------------ graph


def upstream(node: Any) -> list[Any]:
    """Every node feeding ``node``, each once: inputs, hidden inputs, the insides of groups it reads from,
    and, for a node inside a group, what feeds the group's inputs (through its Input nodes)."""
    nuke = _nuke()
    mask = nuke.INPUTS | nuke.HIDDEN_INPUTS
    seen: dict[str, Any] = {}
    stack = list(node.dependencies(mask))
    while stack:
        current = stack.pop()
        if current is None:
            continue
        name = current.fullName()  # a new wrapper per call: only the full name identifies the node
        if name in seen:
            continue
        seen[name] = current
        stack.extend(current.dependencies(mask))
        if hasattr(current, "nodes"):
            stack.extend(current.nodes())
        if current.Class() == "Input" and "." in name:
            group = nuke.toNode(name.rsplit(".", 1)[0])
            number = current.knob("number")
            if group is not None:
                stack.append(group.input(int(number.value()) if number is not None else 0))
    seen.pop(node.fullName(), None)
    return list(seen.values())


def upstream_record_ids(write: Any) -> list[str]:
    """Record ids of the tagged uses that reach ``write``: its own tag, tags upstream, ids already in files."""
    ids: set[str] = set()
    for node in [write, *upstream(write)]:
        try:
            tag = read_tag(node)
        except ClearanceError:
            tag = None
            # a broken tag still names its record for provenance when the id is readable
            match = re.search(r'"record_id"\s*:\s*"([0-9a-fA-F-]{36})"', knob_text(node, TAG_KNOB))
            if match:
                ids.add(match.group(1).lower())
        if tag is not None:
            ids.add(str(tag.record_id))
        if node.Class() in READ_CLASSES and knob_text(node, METADATA_FOR_KNOB) == "":
            carried = _carried_ids(node)
            ids.update(carried)
    return sorted(ids)


def carried_record_ids(node: Any) -> list[str]:
    """Record ids a Read's file carries (rendered by Clearance before); none for Clearance's own metadata Read."""
    if knob_text(node, METADATA_FOR_KNOB):
        return []
    return _carried_ids(node)


def _carried_ids(node: Any) -> list[str]:
    """Ids a Read's file already carries (rendered by Clearance before), from Nuke's metadata stream."""
    try:
        value = node.metadata(RECORD_IDS_METADATA)
    except Exception:  # a Read with a missing file has no metadata; that is not our error to report
        return []
    if not value:
        return []
    return [v.strip().lower() for v in str(value).split(",") if v.strip()]


def metadata_node_for(write: Any) -> Any | None:
    """The ModifyMetaData node Clearance put directly above ``write``, if any."""
    above = write.input(0)
    if above is not None and above.Class() == "ModifyMetaData" and knob_text(above, METADATA_FOR_KNOB):
        return above
    return None


def metadata_script(ids: list[str]) -> str:
    return "{set " + RECORD_IDS_METADATA + ' "' + ",".join(ids) + '"}'


def sync_write_metadata(write: Any) -> list[str]:
    """Make ``write``'s files carry the record ids upstream; returns them. Adds nothing when there are none."""
    nuke = _nuke()
    ids = upstream_record_ids(write)
    meta = metadata_node_for(write)
    if not ids and meta is None:
        return ids
    if meta is None:
        holders = _enclosing(write)
        if holders and holders[0].Class() != "Group":
            return ids  # a gizmo's insides are locked in Nuke: nothing can be inserted there
        group = holders[0] if holders else nuke.root()
        group.begin()  # the node must be made beside the Write, inside its group
        try:
            source = write.input(0)
            parent = nuke.nodes.ModifyMetaData(name=METADATA_NODE_PREFIX + write.name())
            marker = nuke.String_Knob(METADATA_FOR_KNOB, "Clearance metadata for")
            marker.setFlag(nuke.INVISIBLE)
            parent.addKnob(marker)
            marker.setValue(write.name())
            parent.setInput(0, source)
            if hasattr(parent, "setXYpos"):
                parent.setXYpos(write.xpos(), write.ypos() - 40)
            write.setInput(0, parent)
        finally:
            group.end()
        meta = parent
    script = metadata_script(ids)
    if meta["metadata"].toScript().strip() != script:
        meta["metadata"].fromScript(script)
    mode_knob = write.knob("metadata")
    if mode_knob is not None and ids:
        current = str(mode_knob.value())
        if current in WRITE_METADATA_MODES and WRITE_METADATA_MODES.index(current) < 2:
            mode_knob.setValue("default metadata and exr/*")
    return ids


# ------------------------------------------------------------------------------------------ writing


def tile_colour(status: str | None) -> int:
    """Nuke's tile_color: 0xRRGGBBAA; 0 gives the node class's own colour back."""
    if not status or status not in STATUS_RGB:
        return 0
    r, g, b = (max(0, min(255, round(c * 255))) for c in STATUS_RGB[status])
    return (r << 24) | (g << 16) | (b << 8) | 0xFF


def write_tag(node: Any, tag: Tag | None) -> None:
    """Store ``tag`` on the node (None removes it). The tab's knobs must exist (see the plugin's knobs)."""
    knob = node.knob(TAG_KNOB)
    if knob is None:
        raise ClearanceError(f"Nuke node {node.fullName()} has no GenAI tab: add it before tagging")
    knob.setValue("" if tag is None else encode_tag(tag))


def select(handles: list[str]) -> None:
    """Select the named nodes (and only them), zoom the node graph to the first."""
    nuke = _nuke()
    wanted = set(handles)
    first = None
    for node in iter_nodes():
        chosen = node.fullName() in wanted
        node.setSelected(chosen)
        if chosen and first is None:
            first = node
    if first is not None and nuke.GUI:
        nuke.zoom(1.0, (first.xpos() + first.screenWidth() / 2, first.ypos() + first.screenHeight() / 2))


def to_node(handle: str) -> Any | None:
    return _nuke().toNode(handle)


@dataclass
class Row:
    """One line of the Clearance panel."""

    handle: str
    node_class: str
    status: str
    label: str
    reason: str
    record_id: str = ""
    deliverable: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
