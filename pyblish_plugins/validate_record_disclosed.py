"""clearance.record_disclosed: every record is sent, or safely queued, before the work goes out."""

import pyblish.api

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceRecordDisclosed(plugin.ClearanceValidator):
    """Every GenAI use is disclosed to the studio in advance, and belongs to this production."""

    validator_id = catalog.RECORD_DISCLOSED.id
    order = pyblish.api.ValidatorOrder - 0.1
    actions = [clearance_actions.SelectItems, clearance_actions.QueueDisclosure, clearance_actions.OpenRecordPage]
