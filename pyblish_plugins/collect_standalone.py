"""Standalone (farm, command-line) collector: GenAI items from a publish manifest.

``context.data["clearance_manifest"]`` is the manifest's path (or a loaded manifest); see
clearance.pyblish.manifest for the format. ``clearance publish MANIFEST`` sets it.
"""

import pyblish.api

from clearance.items import CONTEXT_KEY
from clearance.pyblish import collect


class CollectClearanceStandalone(pyblish.api.ContextPlugin):
    """Read the publish manifest: one GenAI item per (item, record), record-less items for the AI scan."""

    label = "Clearance: publish manifest"
    order = pyblish.api.CollectorOrder
    hosts = ["standalone", "shell"]

    def process(self, context):
        manifest = collect.manifest_of(context)
        context.data["clearance_production"] = manifest.production
        context.data["clearance_family"] = manifest.family
        context.data["clearance_destination"] = str(manifest.destination)
        items = collect.standalone_items(manifest)
        context.data.setdefault(CONTEXT_KEY, []).extend(items)
        self.log.info("%d item(s) from %s", len(items), manifest.source)
