"""Where Clearance data lives in a .blend file: tags on datablocks and strips, handles, selection.

Shared by the Blender extension (plugins/blender) and the Pyblish collector (pyblish_plugins/
collect_blender.py), so both read a file the same way. ``bpy`` is imported inside the functions: this
module imports anywhere, and only runs inside Blender.

A tag is stored in the property group ``clearance`` (the extension registers it as a PointerProperty).
Without the extension registered the stored values are still in the file: ``id["clearance"]`` in
Blender 4.2-4.5, and the runtime property storage (``bl_system_properties_get``) from Blender 5.0,
where properties defined with bpy.props were split from user custom properties.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from clearance.assembled import assembled_model
from clearance.errors import ClearanceError
from clearance.items import GenAIItem, host_item, register_selector
from clearance.record import Target, UseRecord, decision_digest, load_record
from clearance.tags import Tag, decode_tag, encode_tag

HOST = "blender"
PROPERTY = "clearance"

# (bpy.data collection, RNA type name, what an artist calls it). The handle of a datablock is
# "<collection>:<name>"; names are unique within a collection (library data aside).
DATABLOCKS: tuple[tuple[str, str, str], ...] = (
    ("objects", "Object", "Object"),
    ("images", "Image", "Image"),
    ("materials", "Material", "Material"),
    ("movieclips", "MovieClip", "Movie clip"),
    ("sounds", "Sound", "Sound"),
    ("texts", "Text", "Text"),
    ("scenes", "Scene", "Scene"),
)
STRIPS = "strips"
MEDIA_COLLECTIONS = ("images", "movieclips", "sounds")
"""Datablocks that point at media files: scanned for AI provenance even when untagged."""


@dataclass
class Entry:
    """One taggable thing in the file and what is stored on it."""

    handle: str
    label: str
    owner: Any
    tag_text: str = ""
    deliverable: bool = False
    files: list[str] = field(default_factory=list)
    scene: str | None = None
    ai_marker: str = ""
    """Untagged, but made by a generative add-on (policy hosts.ai_blender_addons): what gave it away."""


def _bpy() -> Any:
    import bpy

    return bpy


def strip_type_name() -> str:
    """``Strip`` from Blender 4.4 on, ``Sequence`` before (the sequencer API was renamed)."""
    return "Strip" if hasattr(_bpy().types, "Strip") else "Sequence"


def all_strips(editor: Any) -> Any:
    """Every strip of a sequence editor, inside meta strips too (``sequences_all`` before Blender 4.4)."""
    return editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all


def _registered(rna_type_name: str) -> bool:
    rna = getattr(_bpy().types, rna_type_name, None)
    return rna is not None and PROPERTY in rna.bl_rna.properties


def stored_values(owner: Any, registered: bool | None = None) -> dict[str, Any]:
    """The stored fields of ``owner.clearance`` as a plain dict, with or without the extension registered."""
    if registered is None:
        registered = PROPERTY in owner.bl_rna.properties
    if registered:
        group = getattr(owner, PROPERTY, None)
        if group is not None:
            return {"tag": group.tag, "deliverable": bool(group.deliverable), "status": group.status}
    raw = None
    getter = getattr(owner, "get", None)
    if getter is not None:
        raw = getter(PROPERTY)
    if raw is None and hasattr(owner, "bl_system_properties_get"):
        system = owner.bl_system_properties_get()
        if system is not None:
            raw = system.get(PROPERTY)
    if raw is None:
        return {}
    try:
        return {key: raw[key] for key in raw}
    except (AttributeError, TypeError):
        return {}


def stored_tag(owner: Any, registered: bool) -> str:
    """``stored_values(owner, registered)["tag"]`` as text, reading only the tag where the extension is
    registered (a collect reads every object's: its other two properties would be two more RNA reads each)."""
    if registered:
        group = getattr(owner, PROPERTY, None)
        if group is not None:
            return _text(group.tag)
    return _text(stored_values(owner, registered).get("tag", ""))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else ""


def _abspath(path: str, library: Any = None) -> str:
    bpy = _bpy()
    return os.path.normpath(bpy.path.abspath(path, library=library)) if path else ""


def media_files(collection: str, owner: Any) -> list[str]:
    """Files behind an image, movie clip or sound (none for packed or generated data)."""
    if collection == "images":
        if owner.source not in {"FILE", "SEQUENCE", "MOVIE", "TILED"} or owner.packed_file is not None:
            return []
    elif collection == "sounds" and owner.packed_file is not None:
        return []
    path = getattr(owner, "filepath", "")
    return [_abspath(path, owner.library)] if path else []


def strip_files(strip: Any) -> list[str]:
    """Files behind a sequencer strip (image sequences list every frame)."""
    kind = strip.type
    if kind == "IMAGE":
        folder = _abspath(strip.directory)
        return [os.path.join(folder, element.filename) for element in strip.elements]
    if kind == "MOVIE":
        return [_abspath(strip.filepath)]
    if kind == "SOUND" and strip.sound is not None:
        return media_files("sounds", strip.sound)
    if kind == "MOVIECLIP" and strip.clip is not None:
        return media_files("movieclips", strip.clip)
    return []


def strip_handle(scene_name: str, strip_name: str) -> str:
    return f"{STRIPS}:{scene_name}/{strip_name}"


def handle_of(owner: Any) -> str:
    """The handle of a datablock or strip; raises ClearanceError for anything Clearance does not tag."""
    bpy = _bpy()
    if isinstance(owner, getattr(bpy.types, strip_type_name())):
        scene = owner.id_data
        return strip_handle(scene.name, owner.name)
    rna = type(owner).bl_rna.identifier
    for collection, rna_name, _label in DATABLOCKS:
        if isinstance(owner, getattr(bpy.types, rna_name)):
            return f"{collection}:{owner.name}"
    raise ClearanceError(f"Blender {rna} data cannot carry a Clearance tag; tag an object, image, material or strip")


def label_of(handle: str) -> str:
    collection, _, name = handle.partition(":")
    if collection == STRIPS:
        return f"Strip {name}"
    for coll, _rna, label in DATABLOCKS:
        if coll == collection:
            return f"{label} {name}"
    return handle


def resolve(handle: str) -> Any | None:
    """The datablock or strip a handle names in the open file, or None when it is gone."""
    bpy = _bpy()
    collection, _, name = handle.partition(":")
    if collection == STRIPS:
        scene_name, _, strip_name = name.partition("/")
        scene = bpy.data.scenes.get(scene_name)
        if scene is None or scene.sequence_editor is None:
            return None
        return all_strips(scene.sequence_editor).get(strip_name)
    data = getattr(bpy.data, collection, None) if collection in {c for c, _r, _l in DATABLOCKS} else None
    return None if data is None else data.get(name)


_DATABLOCK_GIVEN = frozenset(("kind", "ref"))


def target_for(handle: str) -> Target:
    """What an approval names for this item: kind ``clip`` for strips, ``datablock`` otherwise."""
    collection, _, name = handle.partition(":")
    if collection == STRIPS:
        return Target(kind="clip", ref=name)
    if not name:
        return Target(kind="datablock", ref=handle)
    # Target(kind="datablock", ref=handle) as validation makes it, for a ref that is a text of more than one
    # character: a collect makes one per datablock, ten thousand in a crowd (tests/test_blender_target.py)
    return assembled_model(Target, {"kind": "datablock", "ref": handle, "path": None, "sha256": None},
                           set(_DATABLOCK_GIVEN))


def deliverable_scenes() -> list[Any]:
    bpy = _bpy()
    return [scene for scene in bpy.data.scenes if stored_values(scene).get("deliverable")]


def generative_addon(owner: Any, addons: Iterable[str]) -> str:
    """What shows that a generative add-on made ``owner`` (a custom property named after the add-on's
    module, as add-ons store their settings and prompts on the datablocks they make), or ""."""
    try:
        keys = list(owner.keys())
    except (AttributeError, TypeError):  # not an ID with custom properties
        return ""
    modules = [m.lower() for m in addons]
    for key in keys:
        low = str(key).lower()
        for module in modules:
            if low.startswith(module):
                return f"custom property '{key}' of the generative add-on {module}"
    return ""


def iter_entries(
    *, scenes: Iterable[Any] | None = None, untagged_media: bool = True, ai_addons: Iterable[str] | None = None
) -> Iterator[Entry]:
    """Every tagged datablock and strip, plus untagged media datablocks and strips that point at files.

    ``scenes`` limits objects and strips to those scenes (a render gate looks at one scene); other
    datablocks are always read, since any scene may use them. ``ai_addons``: also yield untagged
    datablocks a generative add-on made (``Entry.ai_marker`` says how that was seen).
    """
    addons = list(ai_addons or [])
    bpy = _bpy()
    chosen = list(bpy.data.scenes) if scenes is None else list(scenes)
    chosen_names = {scene.name for scene in chosen}
    deliverable = {scene.name for scene in bpy.data.scenes if stored_values(scene).get("deliverable")}
    in_deliverable: set[str] = set()
    for scene in bpy.data.scenes:
        if scene.name in deliverable:
            in_deliverable.update(obj.name for obj in scene.objects)
    any_deliverable = bool(deliverable)
    object_names: set[str] | None = None
    if scenes is not None:
        object_names = set()
        for scene in chosen:
            object_names.update(obj.name for obj in scene.objects)

    for collection, rna_name, label in DATABLOCKS:
        registered = _registered(rna_name)
        for owner in getattr(bpy.data, collection):
            if object_names is not None and collection == "objects" and owner.name not in object_names:
                continue
            if collection == "scenes" and owner.name not in chosen_names:
                continue
            text = stored_tag(owner, registered)
            files = media_files(collection, owner) if collection in MEDIA_COLLECTIONS else []
            marker = generative_addon(owner, addons) if addons and not text else ""
            if not text and not (untagged_media and files) and not marker:
                continue
            name = owner.name  # an RNA read each time
            if collection == "objects":
                is_deliverable = name in in_deliverable
            elif collection == "scenes":
                is_deliverable = name in deliverable
            else:
                # An image or material may be used by any scene: it is in a deliverable when any scene is.
                is_deliverable = any_deliverable
            yield Entry(
                f"{collection}:{name}",
                f"{label} {name}",  # label_of(handle), for the collection at hand
                owner,
                text,
                is_deliverable,
                files,
                ai_marker=marker,
            )

    strips_registered = _registered(strip_type_name())
    for scene in chosen:
        editor = scene.sequence_editor
        if editor is None:
            continue
        for strip in all_strips(editor):
            text = stored_tag(strip, strips_registered)
            files = strip_files(strip) if untagged_media or text else []
            if not text and not files:
                continue
            handle = strip_handle(scene.name, strip.name)
            yield Entry(handle, label_of(handle), strip, text, scene.name in deliverable, files, scene.name)


_verified: dict[str, Tag] = {}
_VERIFIED_KEPT = 50_000


def read_tag(entry: Entry, cache: dict[str, Tag | ClearanceError] | None = None) -> Tag | None:
    """Decode an entry's tag; raises ClearanceError naming the datablock when it is broken.

    A tag's text decodes to the same tag every time, so each distinct text is parsed, validated and
    digest-checked once per Blender session (``_verified``, bounded) rather than once per object and
    publish: many objects share a record, and an artist validates the same file again and again.
    ``cache`` keeps this call's answers, broken tags included.
    """
    if not entry.tag_text:
        return None
    if cache is not None and entry.tag_text in cache:
        hit = cache[entry.tag_text]
        if isinstance(hit, ClearanceError):
            raise ClearanceError(str(hit).replace("(tag)", entry.label, 1))
        return hit
    known = _verified.get(entry.tag_text)
    if known is not None:
        if cache is not None:
            cache[entry.tag_text] = known
        return known
    try:
        tag = decode_tag(entry.tag_text, "(tag)")
    except ClearanceError as exc:
        if cache is not None:
            cache[entry.tag_text] = exc
        raise ClearanceError(str(exc).replace("(tag)", entry.label, 1)) from None
    if cache is not None:
        cache[entry.tag_text] = tag
    if len(_verified) >= _VERIFIED_KEPT:
        _verified.clear()
    _verified[entry.tag_text] = tag
    return tag


def record_of_tag(tag: Tag, label: str) -> UseRecord:
    """The record a tag holds, or the record file it names (relative paths from the .blend's folder)."""
    if tag.record is not None:
        return tag.record
    if not tag.record_path:
        raise ClearanceError(f"{label}: the Clearance tag holds no record (record {tag.record_id}); re-tag it")
    record = load_record(_abspath(tag.record_path))
    if record.id != tag.record_id:
        raise ClearanceError(f"{label}: {tag.record_path} holds record {record.id}, not {tag.record_id}; re-tag it")
    if decision_digest(record) != tag.digest:
        raise ClearanceError(f"{label}: {tag.record_path} was edited after tagging (digest mismatch); re-tag it")
    return record


def untagged_generative(addons: Iterable[str] | None = None) -> list[Entry]:
    """Datablocks a generative add-on made that nobody tagged (policy hosts.ai_blender_addons by default)."""
    if addons is None:
        from clearance.hosts.status import current_policy

        addons = current_policy().hosts.ai_blender_addons
    return [e for e in iter_entries(untagged_media=False, ai_addons=addons) if e.ai_marker]


def collect_items(*, scenes: Iterable[Any] | None = None, untagged_media: bool = True) -> list[GenAIItem]:
    """The file as GenAI items for the Pyblish validators (see clearance.items)."""
    from clearance.gc_pause import paused_collector

    with paused_collector():
        return _collect_items(scenes, untagged_media)


def _collect_items(scenes: Iterable[Any] | None, untagged_media: bool) -> list[GenAIItem]:
    from clearance.hosts.status import current_policy

    cache: dict[str, Tag | ClearanceError] = {}
    items: list[GenAIItem] = []
    addons = current_policy().hosts.ai_blender_addons
    # In three passes (read the file, decode the tags, make the items) rather than item by item: each pass
    # keeps its own code and data in the processor's caches, and a first collect of 10,000 distinct tags takes
    # about a third less CPU (bench/blender.py).
    entries = list(iter_entries(scenes=scenes, untagged_media=untagged_media, ai_addons=addons))
    read: list[Tag | str | None] = []
    for entry in entries:
        try:
            read.append(read_tag(entry, cache))
        except ClearanceError as exc:
            read.append(str(exc))
    for entry, found in zip(entries, read, strict=True):
        record: UseRecord | None = None
        error: str | None = None
        tag: Tag | None = None
        if isinstance(found, str):
            error = found
        else:
            tag = found
        if tag is not None:
            try:
                record = record_of_tag(tag, entry.label)
            except ClearanceError as exc:
                error = str(exc)
        extra: dict[str, Any] = {}
        if entry.scene:
            extra["scene"] = entry.scene
        if tag is not None:
            extra["record_id"] = str(tag.record_id)
            if record is not None and tag.record is record:
                # decode_tag checked it: the embedded record's decision digest is the tag's digest, and it
                # computed the content digest with it (once per tag text and Blender session)
                extra["record_digest"] = tag.digest
                content = tag.content_digest
                if content is not None:
                    extra["content_digest"] = content
        if entry.ai_marker:
            extra["ai_node"] = entry.ai_marker
        items.append(
            host_item(
                HOST,
                entry.handle,
                entry.label,
                target_for(entry.handle),
                record=record,
                record_source=f"Blender property {PROPERTY}.tag on {entry.label}" if entry.tag_text else None,
                tag_error=error,
                files=list(entry.files),
                deliverable=entry.deliverable,
                extra=extra,
            )
        )
    return items


def write_tag(owner: Any, tag: Tag | None, *, preset: str = "", status: str = "") -> None:
    """Store (or with None, clear) a tag on a datablock or strip. Needs the extension's property registered."""
    group = getattr(owner, PROPERTY, None)
    if group is None:
        raise ClearanceError("the Clearance extension is not enabled: enable it in Preferences > Add-ons")
    if not is_editable(owner):
        library = owner.id_data.library
        raise ClearanceError(
            f"{label_of(handle_of(owner))} is linked from {library.filepath}: tag it in that file, "
            "or make it local (Object > Relations > Make Local) first"
        )
    if tag is None:
        group.tag = ""
        group.record_id = ""
        group.preset = ""
        group.status = ""
        return
    group.tag = encode_tag(tag)
    group.record_id = str(tag.record_id)
    group.preset = preset or group.preset
    group.status = status or (tag.status or "")


def is_editable(owner: Any) -> bool:
    """False for data linked from another .blend (its properties cannot be written here)."""
    id_data = getattr(owner, "id_data", owner)
    return getattr(id_data, "library", None) is None and not getattr(id_data, "override_library", None)


def select(handles: list[str]) -> None:
    """Select objects and strips by handle; other datablocks become the active image or clip where shown."""
    bpy = _bpy()
    wanted = set(handles)
    for obj in bpy.data.objects:
        try:
            obj.select_set(f"objects:{obj.name}" in wanted)
        except RuntimeError:
            # an object that is not in the view layer cannot be selected
            continue
    for scene in bpy.data.scenes:
        if scene.sequence_editor is None:
            continue
        for strip in all_strips(scene.sequence_editor):
            strip.select = strip_handle(scene.name, strip.name) in wanted
    context = bpy.context
    view_layer = getattr(context, "view_layer", None)
    if view_layer is not None:
        first = next((bpy.data.objects.get(h.partition(":")[2]) for h in handles if h.startswith("objects:")), None)
        if first is not None and first.name in view_layer.objects:
            view_layer.objects.active = first
    window_manager = getattr(bpy.data, "window_managers", None)
    images = [bpy.data.images.get(h.partition(":")[2]) for h in handles if h.startswith("images:")]
    images = [image for image in images if image is not None]
    if images and window_manager:
        for window in window_manager[0].windows:
            for area in window.screen.areas:
                if area.type == "IMAGE_EDITOR":
                    area.spaces.active.image = images[0]


def register() -> None:
    """Let Pyblish actions select Blender items (clearance.items.select_in_host)."""
    register_selector(HOST, select)
