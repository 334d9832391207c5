"""What a pipeline TD sets once per machine: policy files and the disclosure service address."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty


class ClearancePreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    policy_files: StringProperty(
        name="Policy files",
        description=(
            "Studio, production and vendor policy files, in order, separated by the path separator "
            "(empty: the CLEARANCE_POLICY environment variable, else the built-in policy)"
        ),
        default="",
    )
    server: StringProperty(
        name="Disclosure service",
        description="URL of the studio's disclosure service (empty: the CLEARANCE_SERVER environment variable)",
        default="",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "policy_files")
        layout.prop(self, "server")
        layout.label(text="The access token is read from CLEARANCE_TOKEN; it is never stored in Blender's preferences.")


def register() -> None:
    bpy.utils.register_class(ClearancePreferences)


def unregister() -> None:
    bpy.utils.unregister_class(ClearancePreferences)
