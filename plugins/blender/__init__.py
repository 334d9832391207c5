"""Clearance for Blender: tag GenAI use on datablocks and strips, see decisions and approvals, gate renders.

The logic lives in the ``clearance`` Python package (the core), bundled as wheels in this extension or
installed by the studio on Blender's Python path. Without it, the extension registers only a panel that
says so, instead of failing to enable.
"""

from __future__ import annotations

import bpy

try:
    import clearance  # noqa: F401  (the core; every module below needs it)

    CORE_ERROR = ""
except ImportError as exc:  # the extension still enables and tells the artist what is missing
    CORE_ERROR = f"the Clearance core is not installed ({exc}); see the Clearance docs, hosts/blender"


class CLEARANCE_PT_missing_core(bpy.types.Panel):
    bl_label = "Clearance"
    bl_idname = "CLEARANCE_PT_missing_core"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Clearance"

    def draw(self, context: bpy.types.Context) -> None:
        self.layout.label(text="Clearance core not found", icon="ERROR")
        self.layout.label(text="Install the clearance package on Blender's Python path")
        self.layout.label(text="Deliverable scenes are not rendered until it is")


def _modules() -> list:
    from . import handlers, operators, panels, preferences, properties

    return [preferences, properties, operators, panels, handlers]


def register() -> None:
    if CORE_ERROR:
        from . import failsafe

        print(f"Clearance: {CORE_ERROR}")
        bpy.utils.register_class(CLEARANCE_PT_missing_core)
        failsafe.register(CORE_ERROR)  # deliverable scenes are not rendered ungated
        return
    from clearance.hosts import blender as host

    for module in _modules():
        module.register()
    host.register()


def unregister() -> None:
    if CORE_ERROR:
        from . import failsafe

        failsafe.unregister()
        bpy.utils.unregister_class(CLEARANCE_PT_missing_core)
        return
    from . import status

    for module in reversed(_modules()):
        module.unregister()
    status.reset()
