"""clearance.approval_valid: a use that needs written approval has a valid signed one (locked: no bypass)."""

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceApproval(plugin.ClearanceValidator):
    """Signed approval covering this target, production and record as it is now; not expired or revoked."""

    validator_id = catalog.APPROVAL_VALID.id
    actions = [clearance_actions.SelectItems, clearance_actions.RequestApproval, clearance_actions.OpenRecordPage]
