"""Generic Clearance collector: evaluates every GenAI item's record and makes one instance per item.

Runs after the host collectors (CollectorOrder + 0.4), which put ``clearance.items.GenAIItem``s in
``context.data["clearance_items"]``. This file also marks a folder as a Clearance plugin folder for
strict discovery.
"""

import pyblish.api

from clearance.pyblish import collect, settings


class CollectClearanceItems(pyblish.api.ContextPlugin):
    """Decide on every collected record (policy from the context or CLEARANCE_POLICY) and list the items."""

    label = "Clearance: GenAI items"
    order = pyblish.api.CollectorOrder + 0.4
    hosts = ["*"]

    def process(self, context):
        policy = settings.context_policy(context)
        checks = collect.collect_checks(context)
        self.log.info("%d GenAI item(s) collected, policy %s", len(checks), policy.version)
