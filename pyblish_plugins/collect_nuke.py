"""Collect the GenAI items of the open Nuke script (Pyblish host ``nuke``).

Reads the ``clearance_tag`` knob of every node (inside groups too) and lists untagged Read nodes with
their files, so the untagged-AI check can scan them. Works with or without the Clearance menu loaded:
the tags are plain knobs saved in the .nk file (clearance.hosts.nuke).
"""

import pyblish.api


class CollectNukeGenAIItems(pyblish.api.ContextPlugin):
    """GenAI items from the open Nuke script."""

    order = pyblish.api.CollectorOrder
    hosts = ["nuke"]
    label = "Collect GenAI items (Nuke)"

    def process(self, context):
        import nuke

        from clearance.hosts import nuke as host
        from clearance.items import CONTEXT_KEY, register_selector

        register_selector(host.HOST, host.select)  # actions select the offending nodes in this Nuke
        items = host.collect_items()
        context.data.setdefault(CONTEXT_KEY, []).extend(items)
        script = nuke.root().name()
        if script and script != "Root" and not context.data.get("currentFile"):
            context.data["currentFile"] = script
        tagged = sum(1 for item in items if item.record is not None or item.tag_error)
        self.log.info(
            "Nuke script %s: %d tagged node(s), %d untagged Read node(s)",
            script if script != "Root" else "(unsaved)",
            tagged,
            len(items) - tagged,
        )
