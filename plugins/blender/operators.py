"""The Clearance operators: tag, edit, scan, submit, refresh, select. Every one reports a one-line result.

Each operator only reads and writes the ``clearance`` properties and calls the core; a ClearanceError
becomes an error report (the message names the datablock, field and fix) and leaves the file unchanged.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from clearance.documents import load_document
from clearance.errors import ClearanceError
from clearance.hosts import blender as host
from clearance.record import UseRecord, dump_record_form, parse_record, record_from_data
from clearance.tags import STATUS_LABELS, Tag

from . import status

WHAT_ITEMS = [
    ("AUTO", "From the editor", "Strips in the Sequencer, the image in the Image Editor, else selected objects"),
    ("OBJECTS", "Selected objects", ""),
    ("STRIPS", "Selected strips", "Selected strips of the current scene's sequencer"),
    ("IMAGE", "Image in the editor", "The image shown in the Image Editor (or the image named in Handles)"),
    ("MATERIALS", "Active materials", "The active material of each selected object"),
    ("SCENE", "Scene", "The current scene"),
    ("HANDLES", "By handle", "The items named in Handles, e.g. objects:Cube;images:matte.png;strips:Scene/plate"),
]


def _split(handles: str) -> list[str]:
    return [part.strip() for part in handles.split(";") if part.strip()]


def chosen_owners(context: bpy.types.Context, what: str, handles: str = "") -> list[Any]:
    """The datablocks or strips an operator acts on; raises ClearanceError when there are none."""
    scene = context.scene
    area = getattr(context, "area", None)
    area_type = area.type if area is not None else ""
    if what == "AUTO":
        what = {"SEQUENCE_EDITOR": "STRIPS", "IMAGE_EDITOR": "IMAGE"}.get(area_type, "OBJECTS")
        if handles:
            what = "HANDLES"
    owners: list[Any] = []
    if what == "HANDLES":
        for handle in _split(handles):
            owner = host.resolve(handle)
            if owner is None:
                raise ClearanceError(f"{handle}: no such datablock or strip in this file; check the name")
            owners.append(owner)
    elif what == "OBJECTS":
        owners = [obj for obj in context.view_layer.objects if obj is not None and obj.select_get()]
    elif what == "MATERIALS":
        objects = [obj for obj in context.view_layer.objects if obj is not None and obj.select_get()]
        materials = {obj.active_material.name: obj.active_material for obj in objects if obj.active_material}
        owners = list(materials.values())
    elif what == "STRIPS":
        editor = scene.sequence_editor
        owners = [strip for strip in host.all_strips(editor) if strip.select] if editor is not None else []
    elif what == "IMAGE":
        space = getattr(context, "space_data", None)
        image = getattr(space, "image", None)
        owners = [image] if image is not None else []
    elif what == "SCENE":
        owners = [scene]
    if not owners:
        raise ClearanceError(f"nothing to act on: select {what.lower()} first (or name them in Handles)")
    return owners


def _record_from_preset(preset: str, production: str, handles: list[str]) -> UseRecord:
    from clearance import presets

    targets = [host.target_for(handle) for handle in handles]
    try:
        return presets.new_record(preset, production=production, targets=targets)
    except ClearanceError as exc:
        # the core words it for the command line (--preset); here it is the panel's Preset field
        raise ClearanceError(str(exc).replace("--preset ", "preset ", 1)) from None


def load_record_file(path: str) -> UseRecord:
    """A record file to tag with. It must carry its id: every tag made from it must name the same record."""
    document = load_document(path)
    if isinstance(document.data, dict) and not document.data.get("id"):
        raise ClearanceError(
            f"{path}: field id is missing; a record tagged on several items needs a fixed id "
            "(make records with `clearance record new`, or add `id: <uuid>`)"
        )
    return record_from_data(document.data, document.source, document)


def with_targets(record: UseRecord, handles: list[str]) -> UseRecord:
    """The record with the tagged items added to its targets, so approvals can name them."""
    known = {target.key() for target in record.targets}
    extra = [host.target_for(h) for h in handles if host.target_for(h).key() not in known]
    if not extra:
        return record
    return record.model_copy(update={"targets": [*record.targets, *extra]})


def tag_owners(owners: list[Any], record: UseRecord, preset: str = "") -> status.ItemStatus | None:
    """Write one record's tag on every owner; returns the strictest status among them."""
    worst: status.ItemStatus | None = None
    for owner in owners:
        handle = host.handle_of(owner)
        result = status.judge(record, host.target_for(handle))
        tag = Tag.for_record(record, target_ref=handle, status=result.status or None)
        host.write_tag(owner, tag, preset=preset, status=result.status)
        owner.clearance.message = result.reason
        if worst is None or (result.blocking and not worst.blocking):
            worst = result
    status.reset()
    return worst


class ClearanceOperator(bpy.types.Operator):
    """Turns ClearanceError into an error report instead of a traceback."""

    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            message = self.run(context)
        except ClearanceError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        except Exception as exc:  # a bug: one line for the artist, the traceback on the console for the TD
            traceback.print_exc()
            self.report({"ERROR"}, f"Clearance failed unexpectedly ({type(exc).__name__}: {exc}); see the console")
            return {"CANCELLED"}
        if message:
            self.report({"INFO"}, message)
        return {"FINISHED"}

    def run(self, context: bpy.types.Context) -> str:
        raise NotImplementedError


class CLEARANCE_OT_tag(ClearanceOperator):
    """Tag the selected items as one GenAI use, made from a preset"""

    bl_idname = "clearance.tag"
    bl_label = "Tag with preset"

    preset: StringProperty(name="Preset", description="Preset name (empty: the one chosen in the panel)")
    production: StringProperty(name="Production", description="Production code (empty: from the panel or preset)")
    what: EnumProperty(name="What", items=WHAT_ITEMS, default="AUTO")
    handles: StringProperty(name="Handles", description="Items to tag, separated by ';' (with What = By handle)")
    record_file: StringProperty(
        name="Record file",
        description="Tag with an existing record file (YAML or JSON) instead of a preset",
        subtype="FILE_PATH",
    )

    def run(self, context: bpy.types.Context) -> str:
        owners = chosen_owners(context, self.what, self.handles)
        ui = context.window_manager.clearance_ui
        handles = [host.handle_of(owner) for owner in owners]
        if self.record_file:
            record = with_targets(load_record_file(bpy.path.abspath(self.record_file)), handles)
            source = os.path.basename(self.record_file)
            preset = ""
        else:
            preset = self.preset or ui.preset
            if not preset:
                raise ClearanceError("no preset chosen: pick one in the Clearance panel (or pass preset=...)")
            production = self.production or ui.production or os.environ.get("CLEARANCE_PRODUCTION", "")
            record = _record_from_preset(preset, production, handles)
            source = preset
        replaced = sum(1 for owner in owners if owner.clearance.record_id not in ("", str(record.id)))
        worst = tag_owners(owners, record, preset)
        shown = STATUS_LABELS.get(worst.status, worst.status) if worst else ""
        note = f"; replaced the earlier tag of {replaced}" if replaced else ""
        return f"Tagged {len(owners)} item(s) as record {str(record.id)[:8]} ({source}): {shown}{note}"


class CLEARANCE_OT_untag(ClearanceOperator):
    """Remove the Clearance tag from the selected items"""

    bl_idname = "clearance.untag"
    bl_label = "Remove tag"

    what: EnumProperty(name="What", items=WHAT_ITEMS, default="AUTO")
    handles: StringProperty(name="Handles")

    def run(self, context: bpy.types.Context) -> str:
        owners = chosen_owners(context, self.what, self.handles)
        for owner in owners:
            host.write_tag(owner, None)
            owner.clearance.message = ""
        status.reset()
        return f"Removed the tag from {len(owners)} item(s)"


def _text_name(record: UseRecord) -> str:
    return f"clearance-{str(record.id)[:8]}.yaml"


class CLEARANCE_OT_edit(ClearanceOperator):
    """Open the item's record as YAML in a text datablock, to edit the answers; Apply writes it back"""

    bl_idname = "clearance.edit"
    bl_label = "Edit record"
    bl_options = {"REGISTER"}

    handle: StringProperty(name="Handle", description="The tagged item (empty: the active one)")

    def run(self, context: bpy.types.Context) -> str:
        owner = host.resolve(self.handle) if self.handle else active_owner(context)
        if owner is None:
            raise ClearanceError("nothing to edit: select a tagged item first")
        entry = status.entry_for(owner)
        tag = host.read_tag(entry)
        if tag is None:
            raise ClearanceError(f"{entry.label} carries no Clearance record: tag it first")
        record = host.record_of_tag(tag, entry.label)
        name = _text_name(record)
        text = bpy.data.texts.get(name) or bpy.data.texts.new(name)
        text.clear()
        text.write(dump_record_form(record))
        for area in context.screen.areas if context.screen else ():
            if area.type == "TEXT_EDITOR":
                area.spaces.active.text = text
        return f"Record opened in text '{name}': edit it, then press Apply record"


class CLEARANCE_OT_apply_record(ClearanceOperator):
    """Write the edited record back to every item tagged with it (approvals of the old answers stop matching)"""

    bl_idname = "clearance.apply_record"
    bl_label = "Apply record"

    text: StringProperty(name="Text", description="The text datablock holding the edited record")

    def run(self, context: bpy.types.Context) -> str:
        text = bpy.data.texts.get(self.text)
        if text is None:
            raise ClearanceError(f"no text datablock named '{self.text}': press Edit record first")
        record = parse_record(text.as_string(), source=f"text '{text.name}'")
        owners = [e.owner for e in host.iter_entries(untagged_media=False) if _record_id(e) == str(record.id)]
        if not owners:
            raise ClearanceError(
                f"text '{text.name}': no item is tagged with record {record.id}; keep the record's id as it was"
            )
        worst = tag_owners(owners, record)
        shown = STATUS_LABELS.get(worst.status, worst.status) if worst else ""
        return f"Record {str(record.id)[:8]} written to {len(owners)} item(s): {shown}"


def _record_id(entry: host.Entry) -> str:
    group = getattr(entry.owner, host.PROPERTY, None)
    if group is not None and group.record_id:
        return group.record_id
    try:
        tag = host.read_tag(entry)
    except ClearanceError:
        return ""
    return str(tag.record_id) if tag else ""


class CLEARANCE_OT_scan(ClearanceOperator):
    """Scan the files behind images, movie clips, sounds and strips for AI provenance (C2PA, generator metadata)"""

    bl_idname = "clearance.scan"
    bl_label = "Scan media for AI provenance"
    bl_options = {"REGISTER"}

    def run(self, context: bpy.types.Context) -> str:
        from clearance.provenance import is_genai, scan_file

        scanned = found = untagged = 0
        for entry in host.iter_entries():
            if not entry.files:
                continue
            verdicts = []
            for path in entry.files[:1] if entry.handle.startswith(host.STRIPS) else entry.files:
                result = scan_file(path)
                scanned += 1
                verdicts.append(result)
            ai = next((r for r in verdicts if is_genai(r.verdict)), None)
            group = getattr(entry.owner, host.PROPERTY, None)
            if group is None:
                continue
            shown = ai or verdicts[0]
            group.scan_verdict = "error" if shown.error and not ai else shown.verdict
            if ai is not None:
                found += 1
                if not entry.tag_text:
                    untagged += 1
                    group.message = f"the file carries AI provenance ({ai.verdict}): tag it with a preset"
        return f"Scanned {scanned} file(s): {found} with AI provenance, {untagged} of them untagged"


class CLEARANCE_OT_submit(ClearanceOperator):
    """Disclose every record tagged in this file to the studio (queued in the outbox first, sent when reachable)"""

    bl_idname = "clearance.submit"
    bl_label = "Submit disclosures"
    bl_options = {"REGISTER"}

    def run(self, context: bpy.types.Context) -> str:
        from clearance.client import DisclosureClient

        records = tagged_records()
        if not records:
            raise ClearanceError("no tagged item in this file: nothing to disclose")
        states: dict[str, int] = {}
        problems: list[str] = []
        with DisclosureClient(server=_pref("server") or None) as client:
            for record in records.values():
                result = client.submit(record)
                states[result.state] = states.get(result.state, 0) + 1
                if result.needs_fix and result.error:
                    problems.append(f"record {result.record_id[:8]}: {result.error}")
        summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        if problems:
            raise ClearanceError(f"{summary}; the service refused {problems[0]}")
        return f"{len(records)} record(s): {summary} (queued ones stay in the outbox until the service answers)"


class CLEARANCE_OT_refresh(ClearanceOperator):
    """Pull approvals and revocations from the disclosure service, reload the policy and recompute every status"""

    bl_idname = "clearance.refresh"
    bl_label = "Refresh approvals"
    bl_options = {"REGISTER"}

    offline: BoolProperty(name="Offline", description="Only recompute from the local approval cache", default=False)

    def run(self, context: bpy.types.Context) -> str:
        note = ""
        if not self.offline:
            from clearance.client import DisclosureClient

            with DisclosureClient(server=_pref("server") or None) as client:
                try:
                    pulled = client.pull_approvals()
                except ClearanceError as exc:
                    note = f" (not pulled: {exc})"
                else:
                    note = f" ({pulled.approvals} new approval(s) pulled)"
        counts = status.refresh_all()
        summary = ", ".join(f"{n} {STATUS_LABELS.get(s, s).lower()}" for s, n in sorted(counts.items())) or "no tags"
        return f"Statuses refreshed: {summary}{note}"


class CLEARANCE_OT_select_offending(ClearanceOperator):
    """Select every item whose GenAI use blocks a deliverable (missing approval, prohibited, broken tag)"""

    bl_idname = "clearance.select_offending"
    bl_label = "Select offending items"
    bl_options = {"REGISTER", "UNDO"}

    def run(self, context: bpy.types.Context) -> str:
        handles = [e.handle for e in host.iter_entries(untagged_media=False) if status.status_of(e).blocking]
        host.select(handles)
        if not handles:
            return "Nothing offending: every tagged item is disclosed or approved"
        return f"Selected {len(handles)} offending item(s)"


class CLEARANCE_OT_select_untagged_ai(ClearanceOperator):
    """Select the datablocks generative add-ons made that carry no tag (policy hosts.ai_blender_addons)"""

    bl_idname = "clearance.select_untagged_ai"
    bl_label = "Select untagged AI datablocks"
    bl_options = {"REGISTER", "UNDO"}

    def run(self, context: bpy.types.Context) -> str:
        found = host.untagged_generative()
        host.select([e.handle for e in found])
        if not found:
            return "Every datablock made by a generative add-on is tagged"
        return f"Selected {len(found)} untagged AI datablock(s): {', '.join(e.label for e in found[:5])}"


class CLEARANCE_OT_tag_untagged_ai(ClearanceOperator):
    """Tag every untagged datablock a generative add-on made, as one use from the chosen preset"""

    bl_idname = "clearance.tag_untagged_ai"
    bl_label = "Tag untagged AI datablocks"

    preset: StringProperty(name="Preset", description="Preset name (empty: the one chosen in the panel)")

    def run(self, context: bpy.types.Context) -> str:
        found = host.untagged_generative()
        if not found:
            return "Nothing to tag: every datablock made by a generative add-on is tagged"
        ui = context.window_manager.clearance_ui
        preset = self.preset or ui.preset
        if not preset:
            raise ClearanceError("no preset chosen: pick one in the Clearance panel (or pass preset=...)")
        production = ui.production or os.environ.get("CLEARANCE_PRODUCTION", "")
        handles = [e.handle for e in found]
        record = _record_from_preset(preset, production, handles)
        worst = tag_owners([e.owner for e in found], record, preset)
        shown = STATUS_LABELS.get(worst.status, worst.status) if worst else ""
        return f"Tagged {len(found)} AI datablock(s) as record {str(record.id)[:8]} ({preset}): {shown}"


class CLEARANCE_OT_select_item(ClearanceOperator):
    """Select this item"""

    bl_idname = "clearance.select_item"
    bl_label = "Select"
    bl_options = {"REGISTER", "UNDO"}

    handle: StringProperty(name="Handle")

    def run(self, context: bpy.types.Context) -> str:
        if host.resolve(self.handle) is None:
            raise ClearanceError(f"{self.handle}: no such datablock or strip in this file (renamed or deleted?)")
        host.select([self.handle])
        return ""


class CLEARANCE_OT_check_publish(ClearanceOperator):
    """Run the Clearance publish checks on this file (collect and validate only: nothing is written)"""

    bl_idname = "clearance.check_publish"
    bl_label = "Check for publish"
    bl_options = {"REGISTER"}

    def run(self, context: bpy.types.Context) -> str:
        global last_publish_check
        problems = publish_problems()
        if not problems:
            last_publish_check = ["Publish check passed: every GenAI item is disclosed and cleared"]
            return last_publish_check[0]
        last_publish_check = [f"{title}: {', '.join(items) or detail}" for title, items, detail in problems]
        for line in last_publish_check:
            print(f"Clearance: publish check: {line}")
        raise ClearanceError(
            f"publish blocked: {last_publish_check[0]}"
            + (f" (+{len(problems) - 1} more check(s); see the Clearance panel)" if len(problems) > 1 else "")
        )


last_publish_check: list[str] = []


def publish_problems() -> list[tuple[str, list[str], str]]:
    """(check title, offending items, detail) for every failed check of a Pyblish collect + validate."""
    import pyblish.api
    import pyblish.util

    from clearance.pyblish import register

    register(host.HOST)
    context = pyblish.util.collect(pyblish.api.Context())
    pyblish.util.validate(context)
    problems: list[tuple[str, list[str], str]] = []
    for result in context.data.get("results", []):
        error = result.get("error")
        if error is None:
            continue
        failures = getattr(error, "failures", None)
        if failures is not None:
            problems.append((error.title, [f.name for f in failures], getattr(error, "detail", "")))
        else:
            plugin = result.get("plugin")
            problems.append((getattr(plugin, "label", None) or str(plugin), [], str(error).splitlines()[0]))
    return problems


def tagged_records() -> dict[str, UseRecord]:
    """Every readable record tagged in the file, by id."""
    records: dict[str, UseRecord] = {}
    cache: dict = {}
    for entry in host.iter_entries(untagged_media=False):
        try:
            tag = host.read_tag(entry, cache)
            record = host.record_of_tag(tag, entry.label) if tag is not None else None
        except ClearanceError:
            continue  # a broken tag is shown in the panel and fails the publish check; nothing to disclose
        if record is not None:
            records[str(record.id)] = record
    return records


def active_owner(context: bpy.types.Context) -> Any | None:
    """The item the panel shows: active strip in the Sequencer, shown image in the Image Editor, else active object."""
    area = getattr(context, "area", None)
    kind = area.type if area is not None else ""
    if kind == "SEQUENCE_EDITOR":
        editor = context.scene.sequence_editor
        return editor.active_strip if editor is not None else None
    if kind == "IMAGE_EDITOR":
        return getattr(getattr(context, "space_data", None), "image", None)
    return getattr(context, "active_object", None) or context.view_layer.objects.active


def _pref(name: str) -> str:
    addon = bpy.context.preferences.addons.get(__package__) if __package__ else None
    return str(getattr(addon.preferences, name, "")) if addon is not None else ""


CLASSES = (
    CLEARANCE_OT_tag,
    CLEARANCE_OT_untag,
    CLEARANCE_OT_edit,
    CLEARANCE_OT_apply_record,
    CLEARANCE_OT_scan,
    CLEARANCE_OT_submit,
    CLEARANCE_OT_refresh,
    CLEARANCE_OT_select_offending,
    CLEARANCE_OT_select_untagged_ai,
    CLEARANCE_OT_tag_untagged_ai,
    CLEARANCE_OT_select_item,
    CLEARANCE_OT_check_publish,
)


register, unregister = bpy.utils.register_classes_factory(CLASSES)
