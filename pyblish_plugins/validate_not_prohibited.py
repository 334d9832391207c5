"""clearance.not_prohibited: a no-go use never publishes (locked: no bypass)."""

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceNotProhibited(plugin.ClearanceValidator):
    """Prohibited uses cannot be approved through a vendor workflow."""

    validator_id = catalog.NOT_PROHIBITED.id
    actions = [clearance_actions.SelectItems, clearance_actions.OpenRecordPage]
