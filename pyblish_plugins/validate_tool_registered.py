"""clearance.tool_registered: the tool is in the policy's tool registry (a visible warning, or a block)."""

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceToolRegistered(plugin.ClearanceValidator):
    """Unknown tools are a warning unless policy.publish.block_unknown_tools is on."""

    validator_id = catalog.TOOL_REGISTERED.id
    actions = [clearance_actions.SelectItems]
