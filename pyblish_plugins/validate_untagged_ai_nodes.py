"""clearance.untagged_ai_nodes: generative nodes and datablocks (policy hosts.ai_node_classes /
hosts.ai_blender_addons) that carry no tag block the publish, or warn (policy hosts.untagged_ai_nodes)."""

import pyblish.api

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceUntaggedNodes(plugin.ClearanceValidator):
    """Nodes that make generative content must be tagged, like files that carry AI provenance."""

    validator_id = catalog.UNTAGGED_AI_NODES.id
    order = pyblish.api.ValidatorOrder + 0.1
    actions = [clearance_actions.SelectItems]
