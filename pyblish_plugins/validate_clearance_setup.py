"""Stops the publish when Clearance cannot check it completely: a plugin file that did not load
(strict discovery), a policy that tries to switch off a locked check, or a failed collection."""

from clearance.pyblish import plugin


class ValidateClearanceSetup(plugin.ClearanceSetupValidator):
    """Every Clearance plugin loaded, the policy is allowed, and the GenAI items were collected."""
