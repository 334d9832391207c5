"""Helpers for the policy tests: a record that passes every rule, changed field by field."""

from __future__ import annotations

import copy
from typing import Any

from records import clean_answers

from clearance.decision import Decision
from clearance.policy import Policy, evaluate
from clearance.record import UseRecord, record_from_data

CLEAN: dict[str, Any] = {
    "schema_version": 1,
    "production": "EXAMPLE_S01",
    "vendor": "Example VFX",
    "declared_by": "jdoe",
    "description": "test record",
    "tool": {
        "name": "Firefly",
        "provider": "Adobe",
        "version": "3",
        "environment": "enterprise",
        "trains_on_inputs": "no",
        "retains_inputs": "no",
    },
    "use": {
        "media": "image",
        "stage": "ideation",
        "in_final_deliverable": "no",
        "creative_element": "none",
        "prominence": "none",
        "content_type": "fiction",
    },
    **clean_answers(),
    "targets": [{"kind": "shot", "ref": "sh010"}],
}
# Spelled out where the policy tests start from other than "no" (unread while fine_tuned is "no").
CLEAN["training"]["training_material_cleared"] = "unsure"
CLEAN["talent"].update(replica_exception="none", alteration="none", consent_ref=None)


def record_data(**changes: Any) -> dict[str, Any]:
    """The clean record with dotted-path changes: ``record_data(**{"use.stage": "final"})``."""
    data = copy.deepcopy(CLEAN)
    for dotted, value in changes.items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[part]
        if value is ...:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return data


def record(**changes: Any) -> UseRecord:
    return record_from_data(record_data(**changes))


def decide(policy: Policy | None = None, **changes: Any) -> Decision:
    from clearance.policy import default_policy

    return evaluate(record(**changes), policy or default_policy())


def rules_at(decision: Decision, outcome: str | None = None) -> set[str]:
    return {f.rule for f in decision.findings if outcome is None or f.outcome == outcome}
