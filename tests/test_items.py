"""``host_item`` makes the item ``GenAIItem(...)`` validation makes, without validating again."""

from __future__ import annotations

from typing import Any

import pytest

from clearance.items import GenAIItem, host_item
from clearance.presets import new_record
from clearance.record import Target

RECORD = new_record("mood-board", production="EXAMPLE_S01")
CASES: list[dict[str, Any]] = [
    {"record": RECORD, "record_source": "Blender property clearance.tag on Object A", "tag_error": None,
     "files": [], "deliverable": False, "extra": {"record_id": str(RECORD.id), "content_digest": "sha256:0"}},
    {"record": None, "record_source": "Blender property clearance.tag on Object A",
     "tag_error": "Object A: the Clearance tag is not valid JSON; re-tag it", "files": ["/shots/a.exr"],
     "deliverable": True, "extra": {}},
    {"record": None, "record_source": None, "tag_error": None, "files": ["/plates/b.mov", "/plates/c.mov"],
     "deliverable": False, "extra": {"scene": "Scene", "ai_node": "custom property 'dream_prompt'"}},
    {"record": RECORD, "record_source": None, "tag_error": None, "files": [], "deliverable": True,
     "extra": {}, "family": "render"},
]


@pytest.mark.parametrize("given", CASES)
def test_the_item_validation_makes(given: dict[str, Any]) -> None:
    target = Target(kind="datablock", ref="objects:A")
    made = host_item("blender", "objects:A", "Object A", target, **given)
    validated = GenAIItem(host="blender", handle="objects:A", label="Object A", target=target, **given)
    assert made == validated
    assert list(made.__dict__.items()) == list(validated.__dict__.items())  # every field, in model order
    assert made.model_fields_set == validated.model_fields_set
    assert made.model_dump() == validated.model_dump()
    assert GenAIItem.model_validate(made.model_dump()) == made  # nothing in it that validation would refuse
    assert made.__pydantic_extra__ is None and made.__pydantic_private__ is None


def test_every_field_of_the_item_is_made() -> None:
    """A field added to GenAIItem must be added to host_item too: this fails until it is."""
    made = host_item("blender", "objects:A", "Object A", Target(kind="datablock", ref="objects:A"),
                     record=None, record_source=None, tag_error=None, files=[], deliverable=False, extra={})
    assert tuple(made.__dict__) == tuple(GenAIItem.model_fields)
