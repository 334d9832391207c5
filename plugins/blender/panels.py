"""Sidebar panels (N panel, tab "Clearance") in the 3D View, Image Editor and Sequencer.

Each editor shows the same three panels: the active item (its tag, decision and approval status), the
file (every tagged item with its status, the scene's deliverable switch) and the actions.
"""

from __future__ import annotations

from typing import Any

import bpy

from clearance.hosts import blender as host

from . import handlers, operators, status
from .operators import active_owner

MAX_LISTED = 30


def _draw_active(layout: Any, context: bpy.types.Context) -> None:
    owner = active_owner(context)
    if owner is None:
        layout.label(text="Nothing active", icon="INFO")
        return
    try:
        entry = status.entry_for(owner)
    except Exception as exc:  # never break drawing: show the problem instead
        layout.label(text=str(exc), icon="ERROR")
        return
    layout.label(text=entry.label, icon="OBJECT_DATA" if entry.handle.startswith("objects:") else "FILE")
    group = getattr(owner, host.PROPERTY, None)
    if not entry.tag_text:
        layout.label(text="No GenAI tag", icon="DOT")
        if group is not None and group.scan_verdict:
            layout.label(text=f"Scanner: {group.scan_verdict}", icon="VIEWZOOM")
            if group.message:
                _wrapped(layout, group.message)
        # tag just this item with the preset chosen below (the scanner's proposal, or the artist's own call)
        tag_it = layout.operator("clearance.tag", text="Tag with the chosen preset", icon="ADD")
        tag_it.what = "HANDLES"
        tag_it.handles = entry.handle
        return
    result = status.status_of(entry)
    box = layout.box()
    box.label(text=result.label, icon=status.icon_of(result))
    _wrapped(box, result.reason)
    record = status.record_of(entry)
    if record is not None:
        col = layout.column(align=True)
        col.label(text=f"Record {str(record.id)[:8]}  {record.production or '(no production)'}")
        tools = ", ".join(tool.name for tool in record.tools) or "(no tool)"
        col.label(text=f"Tool: {tools}")
        col.label(text=f"Use: {record.use.media}, {record.use.stage}, final: {record.use.in_final_deliverable}")
        if record.description:
            _wrapped(col, record.description)
    if result.decision is not None:
        rules = layout.column(align=True)
        rules.label(text=f"Decision: {result.decision.outcome}")
        for finding in result.decision.findings:
            rules.label(text=f"{finding.rule} ({finding.outcome})", icon="DOT")
    if group is not None and group.preset:
        layout.label(text=f"Preset: {group.preset}")
    row = layout.row(align=True)
    row.operator("clearance.edit", icon="TEXT").handle = entry.handle
    row.operator("clearance.untag", icon="X").handles = entry.handle
    if record is not None:
        text_name = f"clearance-{str(record.id)[:8]}.yaml"
        if text_name in bpy.data.texts:
            layout.operator("clearance.apply_record", icon="CHECKMARK").text = text_name


def _wrapped(layout: Any, text: str, width: int = 48) -> None:
    words = text.split()
    line = ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            layout.label(text=line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        layout.label(text=line)


def _draw_file(layout: Any, context: bpy.types.Context) -> None:
    scene = context.scene
    layout.prop(scene.clearance, "deliverable", text="Scene is a final deliverable")
    if handlers.last_gate_message:
        _wrapped(layout.box(), handlers.last_gate_message)
    ui = context.window_manager.clearance_ui
    entries = status.listing()
    if not entries:
        layout.label(text="No tagged items in this file")
        return
    counts: dict[str, int] = {}
    for _entry, result in entries:
        counts[result.label] = counts.get(result.label, 0) + 1
    layout.label(text=", ".join(f"{n} {label.lower()}" for label, n in sorted(counts.items())))
    col = layout.column(align=True)
    for entry, result in entries if ui.show_all else entries[:MAX_LISTED]:
        row = col.row(align=True)
        row.label(text=entry.label, icon=status.icon_of(result))
        row.label(text=result.label)
        row.operator("clearance.select_item", text="", icon="RESTRICT_SELECT_OFF").handle = entry.handle
    if len(entries) > MAX_LISTED:
        layout.prop(ui, "show_all", text=f"Show all {len(entries)}")


def _draw_actions(layout: Any, context: bpy.types.Context) -> None:
    ui = context.window_manager.clearance_ui
    layout.prop(ui, "preset")
    layout.prop(ui, "production")
    layout.operator("clearance.tag", icon="ADD")
    col = layout.column(align=True)
    col.operator("clearance.scan", icon="VIEWZOOM")
    col.operator("clearance.submit", icon="EXPORT")
    col.operator("clearance.refresh", icon="FILE_REFRESH")
    col.operator("clearance.select_offending", icon="RESTRICT_SELECT_OFF")
    row = layout.row(align=True)  # datablocks generative add-ons made, nobody tagged (hosts.ai_blender_addons)
    row.operator("clearance.select_untagged_ai", text="Find untagged AI", icon="VIEWZOOM")
    row.operator("clearance.tag_untagged_ai", text="Tag them", icon="ADD")
    layout.operator("clearance.check_publish", icon="CHECKBOX_HLT")
    if operators.last_publish_check:
        box = layout.box()
        for line in operators.last_publish_check:
            _wrapped(box, line)


def _panels_for(space: str, prefix: str) -> list[type]:
    class Active(bpy.types.Panel):
        bl_label = "GenAI: active item"
        bl_idname = f"CLEARANCE_PT_{prefix}_active"
        bl_space_type = space
        bl_region_type = "UI"
        bl_category = "Clearance"

        def draw(self, context: bpy.types.Context) -> None:
            _draw_active(self.layout, context)

    class File(bpy.types.Panel):
        bl_label = "GenAI in this file"
        bl_idname = f"CLEARANCE_PT_{prefix}_file"
        bl_space_type = space
        bl_region_type = "UI"
        bl_category = "Clearance"

        def draw(self, context: bpy.types.Context) -> None:
            _draw_file(self.layout, context)

    class Actions(bpy.types.Panel):
        bl_label = "GenAI actions"
        bl_idname = f"CLEARANCE_PT_{prefix}_actions"
        bl_space_type = space
        bl_region_type = "UI"
        bl_category = "Clearance"

        def draw(self, context: bpy.types.Context) -> None:
            _draw_actions(self.layout, context)

    return [Active, File, Actions]


CLASSES: list[type] = [
    *_panels_for("VIEW_3D", "view3d"),
    *_panels_for("IMAGE_EDITOR", "image"),
    *_panels_for("SEQUENCE_EDITOR", "sequencer"),
]


register, unregister = bpy.utils.register_classes_factory(CLASSES)
