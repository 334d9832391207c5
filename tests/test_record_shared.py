"""Decision parts validated once per distinct content (record.record_and_digests, tags.decode_tag).

The oracle is full validation: every record the shared path returns must equal, field for field and with
the same fields set, what ``UseRecord.model_validate`` makes of the same data, with the same two digests;
and every tag that path cannot answer must get the same answer (or the same one-line error) as before.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from records import record_data

from clearance import record as record_module
from clearance import tags as tags_module
from clearance.errors import ClearanceError
from clearance.record import UseRecord, record_and_digests, record_digests
from clearance.tags import Tag, decode_tag, encode_tag


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    record_module._shared.clear()
    yield
    record_module._shared.clear()


def _fields_set(value: Any) -> Any:
    """Every model's fields set, nested, for comparing two records beyond ``==`` (which ignores it)."""
    if isinstance(value, BaseModel):
        return (type(value).__name__, sorted(value.model_fields_set),
                {name: _fields_set(part) for name, part in value.__dict__.items()})
    if isinstance(value, list | tuple):
        return [_fields_set(part) for part in value]
    return value


def _same_as_full(data: dict[str, Any]) -> UseRecord:
    """The shared path's answer for ``data``, checked against full validation."""
    found = record_and_digests(data)
    assert found is not None
    record, decision, content = found
    full = UseRecord.model_validate(data)
    assert record == full
    assert _fields_set(record) == _fields_set(full)
    assert record.model_dump(mode="json") == full.model_dump(mode="json")
    assert (decision, content) == record_digests(full)
    return record


def _another(data: dict[str, Any], index: int) -> dict[str, Any]:
    """The same answers on another target: a new id, target and date (what a crowd tagged one by one has)."""
    other = copy.deepcopy(data)
    other["id"] = str(uuid.UUID(int=index + 1, version=4))
    other["targets"] = [{"kind": "datablock", "ref": f"objects:Crowd{index:05d}"}]
    other["declared_at"] = f"2026-11-{1 + index % 28:02d}T10:00:00Z"
    return other


VARIANTS: dict[str, dict[str, Any]] = {
    "version 1, one tool": record_data("approval"),
    "version 1, prohibited": record_data("prohibited"),
    "version 1 answering a version 2 question (read as version 2)": {
        **record_data("notify"), "use": {**record_data("notify")["use"], "human_contribution": "yes"}},
    "version 2, no use (prominence unsure)": {"schema_version": 2, "production": "P", "tool": {"name": "Firefly"}},
    "version 2, a chain with terms and step inputs": {
        "schema_version": 2, "production": "P", "tools": [
            {"name": "Firefly", "terms": {"licence_tier": "enterprise", "reviewed_on": "2026-01-02"}},
            {"name": "Runway", "inputs": {"personal_data": "YES "}}]},
    "no tool at all": {"production": "P"},
    "answers to normalise (booleans, case, blanks)": {
        "production": "P", "tool": {"name": "Firefly", "environment": " Enterprise", "trains_on_inputs": False},
        "use": {"stage": "FINAL", "in_final_deliverable": True, "media": "Image"}, "inputs": {"personal_data": None}},
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_shared_decision_part_gives_the_record_full_validation_gives(name: str) -> None:
    data = {**VARIANTS[name], "id": str(uuid.uuid4()), "targets": [{"kind": "datablock", "ref": "objects:First"}]}
    first = _same_as_full(data)  # full validation, remembered
    assert len(record_module._shared) == 1
    seconds = [_same_as_full(_another(data, index)) for index in range(3)]  # validated against the memo
    assert len(record_module._shared) == 1
    assert len({str(r.id) for r in [first, *seconds]}) == 4


def test_records_sharing_a_decision_part_share_no_object() -> None:
    data = {**record_data("approval"), "id": str(uuid.uuid4())}
    first = _same_as_full(data)
    second = _same_as_full(_another(data, 1))
    third = _same_as_full(_another(data, 2))
    assert second.use is not third.use and second.tools is not third.tools
    assert second.tools[0] is not third.tools[0] and second.tools[0].inputs is not third.tools[0].inputs
    second.use.stage = "temp"
    second.tools[0].name = "Edited"
    second.tools.append(second.tools[0].model_copy())
    assert third.use.stage == first.use.stage == "final"
    assert [t.name for t in third.tools] == ["Firefly"]
    assert _same_as_full(_another(data, 3)).use.stage == "final"  # the memo is untouched too


@pytest.mark.parametrize("broken", [
    {"targets": [{"kind": "teapot", "ref": "x"}]},
    {"id": "not-a-uuid"},
    {"unknown_field": 1},
    {"description": 7},
])
def test_an_error_outside_the_decision_part_goes_to_full_validation(broken: dict[str, Any]) -> None:
    data = record_data("approval")
    _same_as_full(data)
    assert record_and_digests({**_another(data, 1), **broken}) is None


def test_a_broken_decision_part_is_never_remembered() -> None:
    data = {**record_data("approval"), "use": {"stage": "sometime"}}
    assert record_and_digests(data) is None
    assert not record_module._shared
    both = {**record_data("approval"), "tools": [{"name": "A"}]}  # `tool` and `tools` together
    assert record_and_digests(both) is None


def _tag_text(data: dict[str, Any]) -> str:
    return encode_tag(Tag.for_record(UseRecord.model_validate(data)))


def _full_path_answer(text: str, where: str) -> Any:
    """What decode_tag answers with the shared path switched off (the behaviour before it existed)."""
    saved = tags_module._decode_embedded
    tags_module._decode_embedded = lambda data: None
    try:
        tag = decode_tag(text, where)
    except ClearanceError as exc:
        return str(exc)
    finally:
        tags_module._decode_embedded = saved
    return tag


def _answer(text: str, where: str) -> Any:
    try:
        return decode_tag(text, where)
    except ClearanceError as exc:
        return str(exc)


def _edits(text: str) -> list[str]:
    """Tags made from a good one the ways a tag goes wrong: edited answers with the old digest, a digest
    recomputed over different bytes, a key given twice, a record id that differs, reformatted JSON."""
    data = json.loads(text)
    out = []
    edited = copy.deepcopy(data)
    edited["record"]["use"]["stage"] = "ideation"
    out.append(json.dumps(edited))
    named = copy.deepcopy(data)
    named["record_id"] = str(uuid.uuid4())
    out.append(json.dumps(named))
    retargeted = copy.deepcopy(data)
    retargeted["record"]["targets"] = [{"kind": "datablock", "ref": "objects:Other"}]
    out.append(json.dumps(retargeted))  # not a decision field: the digest still matches
    out.append(json.dumps(data, indent=2, sort_keys=True))
    out.append(text.replace('"record":{', '"record":{"production":"OTHER",', 1))  # a key twice
    upper = copy.deepcopy(data)
    upper["record"]["use"]["stage"] = upper["record"]["use"]["stage"].upper()  # the same answer, other bytes
    out.append(json.dumps(upper))
    fake = copy.deepcopy(data)
    fake["digest"] = "sha256:" + "0" * 64
    out.append(json.dumps(fake))
    return out


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_decode_tag_answers_as_before(name: str) -> None:
    data = {**VARIANTS[name], "targets": [{"kind": "datablock", "ref": "objects:First"}]}
    good = _tag_text(data)
    texts = [good, _tag_text(_another(data, 1)), *_edits(_tag_text(_another(data, 2)))]
    for text in texts:
        before = _full_path_answer(text, "Object Crowd")
        for _twice in range(2):  # the first time fills the memo, the second reads it
            after = _answer(text, "Object Crowd")
            if isinstance(before, str):
                assert after == before
            else:
                assert isinstance(after, Tag) and after == before
                assert after.content_digest == record_digests(before.record)[1]
                assert _fields_set(after) == _fields_set(before)


_ANSWER = st.sampled_from(["yes", "no", "unsure", "YES", " No", None, True, False])


@settings(max_examples=60, deadline=None)
@given(
    answers=st.dictionaries(st.sampled_from(["studio_proprietary", "personal_data", "third_party_material",
                                             "talent_material", "third_party_cleared"]), _ANSWER),
    stage=st.sampled_from(["ideation", "previs", "temp", "final", "Final", "later"]),
    version=st.sampled_from([None, 1, 2]),
    tools=st.integers(min_value=0, max_value=2),
    count=st.integers(min_value=1, max_value=3),
)
def test_shared_records_match_full_validation(answers: dict[str, Any], stage: str, version: int | None,
                                              tools: int, count: int) -> None:
    data: dict[str, Any] = {"production": "P", "inputs": answers, "use": {"stage": stage}}
    if version is not None:
        data["schema_version"] = version
    if tools == 1:
        data["tool"] = {"name": "Firefly"}
    elif tools == 2:
        data["tools"] = [{"name": "Firefly"}, {"name": "Runway", "environment": "consumer"}]
    for index in range(count):
        one = _another(data, index)
        try:
            UseRecord.model_validate(one)
        except ValueError:
            assert record_and_digests(one) is None
            continue
        _same_as_full(one)
