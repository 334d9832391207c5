"""The policy: settings for TDs and the engine that decides on a use record.

``evaluate(record, policy=None)`` decides (None: the policy in force, i.e. the files CLEARANCE_POLICY
names, else the embedded defaults); ``policy_in_force()`` is that one loader; ``load_policy(paths)`` layers
policy files; ``default_policy()`` is the embedded defaults. Rules are declared in ``rules.py`` (core) and
in rule packs (``rulebook.RuleSet`` behind the ``clearance.rules`` entry point).
"""

from clearance.policy.engine import evaluate
from clearance.policy.loading import default_policy, layers_in_force, load_layers, load_policy, policy_in_force
from clearance.policy.rulebook import Rule, RuleSet, all_rules, when
from clearance.policy.rules import RULE_CODES, RULES, SOURCE_URL, questions_read
from clearance.policy.settings import Policy

__all__ = [
    "RULES",
    "RULE_CODES",
    "SOURCE_URL",
    "Policy",
    "Rule",
    "RuleSet",
    "all_rules",
    "default_policy",
    "evaluate",
    "layers_in_force",
    "load_layers",
    "load_policy",
    "policy_in_force",
    "questions_read",
    "when",
]
