"""Record schema v2: version 1 records keep deciding as in release 0.1; version 2 asks what the policy asks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clearance.errors import ClearanceError
from clearance.policy import evaluate, load_policy
from clearance.record import (
    TRI_FIELDS,
    V2_FIELDS,
    UseRecord,
    content_digest,
    decision_digest,
    field_paths,
    record_from_data,
)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((ROOT / "tests" / "golden" / "v1_decisions.json").read_text(encoding="utf-8"))
POLICIES = {
    "default": load_policy([]),
    "studio": load_policy([str(ROOT / "core" / "clearance" / "examples" / "studio_policy.yaml")]),
}


def _summary(record: UseRecord, which: str) -> dict[str, Any]:
    decision = evaluate(record, POLICIES[which])
    return {"outcome": decision.outcome, "findings": sorted([f.rule, f.outcome] for f in decision.findings)}


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["name"] for c in GOLDEN["cases"]])
def test_version_1_records_decide_as_in_release_0_1(case: dict[str, Any]) -> None:
    data = case["record"]
    assert data.get("schema_version", 1) == 1
    record = UseRecord.model_validate(data)
    assert record.schema_version == 1
    for which in ("default", "studio"):
        assert _summary(record, which) == case[which], which


def test_version_1_dumps_and_digests_do_not_grow_version_2_fields() -> None:
    data = GOLDEN["cases"][0]["record"]
    record = UseRecord.model_validate(data)
    dumped = record.model_dump(mode="json")
    for dotted in V2_FIELDS:
        section, _, name = dotted.partition(".")
        section = section.removesuffix("[]")
        items = dumped.get(section) if section != "tools" else (dumped.get("tools") or [dumped.get("tool")])
        for item in items if isinstance(items, list) else [items]:
            assert item is None or name not in item, dotted
    again = UseRecord.model_validate(dumped)
    assert decision_digest(again) == decision_digest(record) and content_digest(again) == content_digest(record)


def test_a_record_answering_version_2_questions_is_version_2() -> None:
    """Its answers are read, never dropped: a record saying version 1 that answers a version 2 question."""
    data = dict(GOLDEN["cases"][0]["record"])
    data["realism"] = {**data["realism"], "photorealistic": "yes"}
    assert record_from_data(data, "old.yaml").schema_version == 2
    data = dict(GOLDEN["cases"][0]["record"])
    data["talent"] = {**data["talent"], "alteration": "new_performance"}
    assert record_from_data(data, "old.yaml").schema_version == 2
    data = dict(GOLDEN["cases"][0]["record"])
    data["realism"] = {**data["realism"], "photorealistic": "unsure"}  # unanswered: says nothing
    assert record_from_data(data, "old.yaml").schema_version == 1
    with pytest.raises(ClearanceError, match="schema_version"):
        record_from_data({**data, "schema_version": 3}, "new.yaml")


def test_field_lists_come_from_the_model() -> None:
    paths = field_paths()
    assert set(V2_FIELDS) <= set(paths)
    assert "tools[].trains_on_outputs" in TRI_FIELDS and "realism.photorealistic" in TRI_FIELDS
    assert "talent.consent_refs" in V2_FIELDS and "realism.audience_disclosure" in V2_FIELDS
