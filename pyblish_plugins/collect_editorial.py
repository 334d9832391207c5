"""Collect the GenAI items of an editorial timeline (Pyblish hosts ``editorial`` and ``resolve``).

Reads the timeline file named by ``context.data["clearance_timeline"]`` (.otio, .otioz, .otiod, .edl,
.xml, .aaf): one item per clip tagged with a Clearance tag, and one per untagged clip whose media is a
file on this machine, so the untagged-AI check can scan it. ``context.data["clearance_records"]`` may
name folders of record files, for tags that carry only a reference (after an EDL round trip).
"""

import pyblish.api


class CollectEditorialGenAIItems(pyblish.api.ContextPlugin):
    """GenAI items from an OTIO, EDL or FCP XML timeline."""

    order = pyblish.api.CollectorOrder
    hosts = ["editorial", "resolve"]
    label = "Collect GenAI items (timeline)"

    def process(self, context):
        from pathlib import Path

        from clearance.editorial.items import file_items
        from clearance.errors import ClearanceError
        from clearance.items import CONTEXT_KEY

        path = context.data.get("clearance_timeline")
        if not path:
            raise ClearanceError(
                "editorial publish: context.data['clearance_timeline'] is not set; set it to the timeline file "
                "(.otio, .edl, .xml) to check"
            )
        records = [Path(p) for p in context.data.get("clearance_records") or []]
        host = "resolve" if "resolve" in pyblish.api.registered_hosts() else "editorial"
        items = file_items(path, host=host, records_dirs=records, rate=float(context.data.get("clearance_rate", 24)))
        context.data.setdefault(CONTEXT_KEY, []).extend(items)
        if not context.data.get("currentFile"):
            context.data["currentFile"] = str(path)
        tagged = sum(1 for item in items if item.record is not None or item.tag_error)
        self.log.info("Timeline %s: %d tagged clip(s), %d untagged clip(s) with media files",
                      path, tagged, len(items) - tagged)
