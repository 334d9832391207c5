"""Collect the GenAI items of the open Blender file (Pyblish host ``blender``).

Reads the ``clearance`` tag of every object, image, material, movie clip, sound, text, scene and
sequencer strip, and lists untagged images, movie clips, sounds and strips that point at files, so the
untagged-AI check can scan them. Works with or without the Clearance extension enabled: the tags are
read from the file's stored properties either way (clearance.hosts.blender).
"""

import pyblish.api


class CollectBlenderGenAIItems(pyblish.api.ContextPlugin):
    """GenAI items from the open .blend file."""

    order = pyblish.api.CollectorOrder
    hosts = ["blender"]
    label = "Collect GenAI items (Blender)"

    def process(self, context):
        import bpy

        from clearance.hosts import blender as host
        from clearance.items import CONTEXT_KEY

        host.register()  # actions select the offending objects and strips in this Blender
        items = host.collect_items()
        context.data.setdefault(CONTEXT_KEY, []).extend(items)
        if bpy.data.filepath and not context.data.get("currentFile"):
            context.data["currentFile"] = bpy.data.filepath
        tagged = sum(1 for item in items if item.record is not None or item.tag_error)
        self.log.info(
            "Blender file %s: %d tagged item(s), %d untagged media item(s)",
            bpy.data.filepath or "(unsaved)",
            tagged,
            len(items) - tagged,
        )
