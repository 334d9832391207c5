"""clearance.untagged_ai_media: files with AI provenance (C2PA, generator metadata) but no record block."""

import pyblish.api

from clearance.pyblish import actions as clearance_actions
from clearance.pyblish import catalog, plugin


class ValidateClearanceUntaggedMedia(plugin.ClearanceValidator):
    """Scans the files of items that carry no record with the provenance scanner."""

    validator_id = catalog.UNTAGGED_AI_MEDIA.id
    order = pyblish.api.ValidatorOrder + 0.1
    actions = [clearance_actions.SelectItems]
