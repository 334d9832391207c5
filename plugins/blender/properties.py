"""The ``clearance`` property group every taggable datablock and sequencer strip carries.

Only ``tag`` is the truth (the Tag JSON of clearance.tags, with the record embedded); ``status`` and
``message`` are the last computed display values and are never trusted for a verdict.
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, PointerProperty, StringProperty

# The ID types (and the sequencer strip struct) that get a ``clearance`` pointer: what an artist can tag.
ID_TYPES: tuple[str, ...] = ("Object", "Image", "Material", "MovieClip", "Sound", "Text", "Scene")


def taggable_types() -> tuple[str, ...]:
    # the strip struct is ``Strip`` from Blender 4.4 on, ``Sequence`` in 4.2 and 4.3
    return (*ID_TYPES, "Strip" if hasattr(bpy.types, "Strip") else "Sequence")


class ClearanceTag(bpy.types.PropertyGroup):
    tag: StringProperty(
        name="Tag",
        description="The Clearance tag: JSON holding the GenAI use record (written by Clearance, do not edit by hand)",
        default="",
    )
    status: StringProperty(name="Status", description="Last computed status, for display only", default="")
    message: StringProperty(name="Message", description="Why the status is what it is", default="")
    preset: StringProperty(name="Preset", description="The preset the record was made from", default="")
    record_id: StringProperty(name="Record", description="The id of the GenAI use record", default="")
    deliverable: BoolProperty(
        name="Final deliverable",
        description=(
            "Renders of this scene are final deliverables: a render with a missing approval is stopped "
            "or warned about, as the studio policy says (hosts.render_gate)"
        ),
        default=False,
    )
    scan_verdict: StringProperty(
        name="Scan verdict",
        description="What the provenance scanner found in the file behind this datablock",
        default="",
    )


def _preset_items(_self: bpy.types.PropertyGroup, _context: bpy.types.Context) -> list[tuple[str, str, str]]:
    from . import status

    return status.preset_enum_items()


class ClearanceUI(bpy.types.PropertyGroup):
    """Per-window choices in the panels: not saved with the file's data that matters."""

    preset: EnumProperty(name="Preset", description="The kind of GenAI use to record", items=_preset_items)
    production: StringProperty(
        name="Production",
        description="The production code for new records (empty: the CLEARANCE_PRODUCTION environment variable)",
        default="",
    )
    show_all: BoolProperty(name="Show all", description="List every tagged item, not only the first 30", default=False)


_CLASSES = (ClearanceTag, ClearanceUI)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    for name in taggable_types():
        getattr(bpy.types, name).clearance = PointerProperty(type=ClearanceTag)
    bpy.types.WindowManager.clearance_ui = PointerProperty(type=ClearanceUI)


def unregister() -> None:
    del bpy.types.WindowManager.clearance_ui
    for name in reversed(taggable_types()):
        rna = getattr(bpy.types, name)
        if hasattr(rna, "clearance"):
            delattr(rna, "clearance")
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
