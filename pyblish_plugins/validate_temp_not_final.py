"""clearance.temp_not_final: ideation, previs and temp material stays out of final-deliverable families."""

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceTempNotFinal(plugin.ClearanceValidator):
    """Families listed in policy.publish.final_deliverable_families take no temporary GenAI material."""

    validator_id = catalog.TEMP_NOT_FINAL.id
    actions = [clearance_actions.SelectItems, clearance_actions.OpenRecordPage]
