"""clearance.tag_readable: a tag that cannot be read (broken or edited by hand) blocks publish."""

import pyblish.api

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceTagReadable(plugin.ClearanceValidator):
    """A GenAI tag that cannot be read hides which use it declares: retag the item."""

    validator_id = catalog.TAG_READABLE.id
    order = pyblish.api.ValidatorOrder - 0.2
    actions = [clearance_actions.SelectItems]
