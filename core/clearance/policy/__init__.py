"""The policy: settings for TDs and the engine that decides on a use record.

``evaluate(record, policy=None)`` decides (None: the policy CLEARANCE_POLICY names, else the embedded
defaults); ``load_policy(paths)`` layers policy files; ``default_policy()`` is the embedded defaults.
"""

from clearance.policy.engine import evaluate
from clearance.policy.loading import default_policy, load_layers, load_policy
from clearance.policy.rules import RULE_CODES, RULES, SOURCE_URL, questions_read
from clearance.policy.settings import Policy

__all__ = [
    "RULES",
    "RULE_CODES",
    "SOURCE_URL",
    "Policy",
    "default_policy",
    "evaluate",
    "load_layers",
    "load_policy",
    "questions_read",
]
