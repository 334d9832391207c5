"""Decision parts validated once per distinct content (record.record_and_digests, tags.decode_tag).

The oracle is full validation: every record the shared path returns must equal, field for field and with
the same fields set, what ``UseRecord.model_validate`` makes of the same data, with the same two digests;
and every tag that path cannot answer must get the same answer (or the same one-line error) as before.
"""

from __future__ import annotations

import copy
import json
import pickle
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from records import record_data

from clearance import record as record_module
from clearance import tags as tags_module
from clearance.errors import ClearanceError
from clearance.record import DECIDING_KEYS, UseRecord, forget_shared_parts, record_and_digests, record_digests
from clearance.tags import Tag, decode_tag, encode_tag


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    forget_shared_parts()
    yield
    forget_shared_parts()


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
    record, decision, content, _part = found
    full = UseRecord.model_validate(data)
    assert record == full
    assert list(record.__dict__) == list(full.__dict__)  # fields in model order, as validation leaves them
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
    assert len(record_module._parts) == 1
    seconds = [_same_as_full(_another(data, index)) for index in range(3)]  # validated against the memo
    assert len(record_module._parts) == 1
    assert len({str(r.id) for r in [first, *seconds]}) == 4


def _refused(edit: Any) -> None:
    with pytest.raises(TypeError, match=r"read-only; edit a copy \(record\.model_copy\(deep=True\)\)"):
        edit()


def test_records_sharing_a_decision_part_share_its_answers_read_only() -> None:
    """Records read with the same answers share their sections (the copies each got were about a sixth of a
    first collect + validate); those sections refuse every edit in place, so no record, nor the memo, can change
    another's."""
    data = {**record_data("approval"), "id": str(uuid.uuid4())}
    first = _same_as_full(data)
    second = _same_as_full(_another(data, 1))
    third = _same_as_full(_another(data, 2))
    assert second.use is third.use is first.use and second.tools[0] is third.tools[0]
    assert second.tools is not third.tools and second.targets is not third.targets  # each record's own lists
    for record in (first, second):
        _refused(lambda record=record: setattr(record.use, "stage", "temp"))
        _refused(lambda record=record: delattr(record.use, "stage"))
        _refused(lambda record=record: setattr(record.tools[0], "name", "Edited"))
        _refused(lambda record=record: setattr(record.tools[0].inputs, "personal_data", "yes"))
    second.tools.append(second.tools[0].model_copy())  # its own list
    second.targets[0].ref = "objects:Renamed"  # its own targets
    second.use = second.use.model_copy(update={"stage": "temp"})  # a section replaced, in this record only
    edited = third.model_copy(deep=True)
    edited.use.stage = "temp"  # a deep copy is the caller's own
    edited.tools[0].name = "Edited"
    for own in (copy.copy(third.use), third.use.model_copy(), pickle.loads(pickle.dumps(third)).use):
        own.stage = "temp"  # so is any other copy of a section
    assert third.use.stage == first.use.stage == "final" and second.use.stage == "temp"
    assert [t.name for t in third.tools] == ["Firefly"] and len(second.tools) == 2
    assert third.targets[0].ref == "objects:Crowd00002"
    assert _same_as_full(_another(data, 3)).use.stage == "final"  # the memo is untouched too
    editable = UseRecord.model_validate(data)  # a record not read from a tag: as pydantic makes it
    editable.use.stage = "temp"
    assert editable.use is not first.use and first.use.stage == "final"


def test_every_record_read_from_a_tag_has_read_only_answers() -> None:
    """However it was read (the full path, the shared ones), a tag's record behaves the same."""
    record = UseRecord.model_validate({**record_data("approval"), "id": str(uuid.uuid4())})
    text = encode_tag(Tag.for_record(record))
    for _reading in range(3):  # the full path, then the embedded shared path, then the written one
        read = decode_tag(text, "tag").record
        assert read is not None
        _refused(lambda read=read: setattr(read.use, "stage", "temp"))
        _refused(lambda read=read: setattr(read.tools[0], "name", "Edited"))
    record.use.stage = "temp"  # the record the tag was written from stays the caller's
    assert decode_tag(text, "tag").record.use.stage == "final"  # type: ignore[union-attr]


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
    assert not record_module._parts
    both = {**record_data("approval"), "tools": [{"name": "A"}]}  # `tool` and `tools` together
    assert record_and_digests(both) is None


def _tag_text(data: dict[str, Any]) -> str:
    return encode_tag(Tag.for_record(UseRecord.model_validate(data)))


def _full_path_answer(text: str, where: str) -> Any:
    """What decode_tag answers with the shared path switched off (the behaviour before it existed)."""
    saved = tags_module._decode_embedded, tags_module._decode_written
    tags_module._decode_embedded = lambda data: None
    tags_module._decode_written = lambda text: None
    try:
        tag = decode_tag(text, where)
    except ClearanceError as exc:
        return str(exc)
    finally:
        tags_module._decode_embedded, tags_module._decode_written = saved
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


def test_the_tag_writer_puts_the_decision_members_first_and_together() -> None:
    record = UseRecord.model_validate({**record_data("approval"), "vendor": "V"})
    text = encode_tag(Tag.for_record(record))
    keys = list(json.loads(text)["record"])
    deciding = [key for key in keys if key in DECIDING_KEYS]
    assert keys[:len(deciding)] == deciding and len(deciding) >= 9
    assert json.loads(text)["record"] == record.model_dump(mode="json", exclude_none=True)  # only the order moved
    assert decode_tag(text, "x").record == record


def _counting_written_hits(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    hits: list[bool] = []
    real = tags_module._decode_written

    def counted(text: str) -> Tag | None:
        tag = real(text)
        hits.append(tag is not None)
        return tag

    monkeypatch.setattr(tags_module, "_decode_written", counted)
    return hits


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_tags_sharing_members_text_parse_only_the_rest(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hits = _counting_written_hits(monkeypatch)
    data = {**VARIANTS[name], "targets": [{"kind": "datablock", "ref": "objects:First"}]}
    texts = [_tag_text(_another(data, index)) for index in range(4)]
    answers = [decode_tag(text, "Object A") for text in texts]
    assert hits == [False, False, True, True]  # the first read in full, the second shared and remembered
    for text, answer in zip(texts, answers, strict=True):
        before = _full_path_answer(text, "Object A")
        assert isinstance(before, Tag) and answer == before and _fields_set(answer) == _fields_set(before)
        assert answer.content_digest == record_digests(before.record)[1]


def test_an_older_layout_is_read_in_full_and_still_shared() -> None:
    data = record_data("approval")
    for index in range(3):
        record = UseRecord.model_validate(_another(data, index))
        old = json.dumps(Tag.for_record(record).model_dump(mode="json", by_alias=True, exclude_none=True),
                         separators=(",", ":"))  # the record in its model order: id before production
        assert old.index('"id":') < old.index('"production":')
        assert decode_tag(old, "x") == _full_path_answer(old, "x")
    assert not record_module._written and len(record_module._parts) == 1


def _variations(text: str) -> list[str]:
    """A good tag changed where only the text path could be fooled: in the rest of the record (after its
    remembered members), around the members and in the rest of the tag."""
    start = text.index('"record":{') + len('"record":{')
    end = text.index(',"id":')
    members = text[start:end]
    after_id = text.index('"', end + len(',"id":"')) + 1  # just after the id's value
    record_end = text.index(',"approval_ids":') - 1  # the record's closing brace
    assert text[record_end] == "}"
    return [
        text[:after_id] + ',"production":"OTHER"' + text[after_id:],  # a decision key again, in the rest
        text[:record_end] + ',"use":{"stage":"temp"}' + text[record_end:],  # and at the end of the record
        text[:record_end] + ',"tool":null' + text[record_end:],
        text[:record_end] + ',"tools":[]' + text[record_end:],
        text[:record_end] + ',"id":"' + str(uuid.UUID(int=9, version=4)) + '"' + text[record_end:],  # id twice
        text[:record_end] + ',"extra":1' + text[record_end:],
        text[:-1] + ',"record":{"id":"x"}}',  # a second record key
        text[:start] + text[end + 1:],  # no decision members at all
        text[:start] + members + "," + members + text[end:],  # the members twice
        text.replace(',"id":', ', "id":', 1),  # a space: another layout
        text.replace(',"id":"', ',"id":"X', 1),  # a broken id
        text.replace(',"id":"', ',"id":"' + "0" * 70, 1),
        text.replace('"digest":"sha256:', '"digest":"sha256:0', 1),
        text.replace('"schema":"clearance.tag/1"', '"schema":"clearance.tag/2"', 1),
        text.replace('"record":{', '"reckord":{', 1),
        text.replace('"record_id":"', '"record_id":"1', 1),
        text[:after_id] + ',"schema_version":1' + text[after_id:],
        text[: len(text) // 2],
        text + " ",
        "\ufeff" + text,
        text.replace('"approval_ids":[]', '"approval_ids":[' + "[" * 80 + "]" * 80 + "]", 1),  # too deep
    ]


def test_variations_of_a_remembered_tag_get_the_full_answer() -> None:
    data = {**record_data("approval"), "vendor": "V"}
    decode_tag(_tag_text(data), "warm")
    decode_tag(_tag_text(_another(data, 5)), "warm")  # a second record: its members text is now remembered
    assert record_module._written
    assert tags_module._decode_written(_tag_text(_another(data, 1))) is not None
    for index, text in enumerate(_variations(_tag_text(_another(data, 1)))):
        before = _full_path_answer(text, "Object A")
        after = _answer(text, "Object A")
        assert (after == before) if isinstance(before, str) else (isinstance(after, Tag) and after == before), index


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=2000), length=st.integers(min_value=0, max_value=3),
       insert=st.text(alphabet='{}[]",:\\ aeiou01-', max_size=3))
def test_any_small_edit_of_a_remembered_tag_gets_the_full_answer(position: int, length: int, insert: str) -> None:
    data = {**record_data("approval"), "vendor": "V", "id": str(uuid.UUID(int=7, version=4))}
    good = _tag_text(data)
    decode_tag(good, "warm")
    decode_tag(_tag_text(_another(data, 5)), "warm")
    where = position % (len(good) + 1)
    text = good[:where] + insert + good[where + length:]
    before = _full_path_answer(text, "Object A")
    after = _answer(text, "Object A")
    if isinstance(before, str):
        assert after == before
    else:
        assert isinstance(after, Tag) and after == before and _fields_set(after) == _fields_set(before)
        assert after.content_digest == record_digests(before.record)[1]


def test_a_lookalike_of_the_boundary_inside_a_string_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    hits = _counting_written_hits(monkeypatch)
    data = record_data("approval")
    decode_tag(_tag_text(data), "warm")
    decode_tag(_tag_text(_another(data, 5)), "warm")
    tricky = {**_another(data, 1), "description": 'a ","id":"x", and \\"record\\":{ too', "vendor": ',"id":'}
    text = _tag_text(tricky)
    assert decode_tag(text, "Object A") == _full_path_answer(text, "Object A")
    assert hits == [False, False, True]


def test_limits_count_the_remembered_members_too() -> None:
    """A tag just over the document limits, whose rest alone is within them, is refused as before."""
    from clearance.documents import MAX_NODES, parse_json_text

    data = record_data("approval")
    decode_tag(_tag_text(data), "warm")
    decode_tag(_tag_text(_another(data, 5)), "warm")
    assert record_module._written
    record = UseRecord.model_validate(_another(data, 1))
    text = encode_tag(Tag.for_record(record, approval_ids=["a"] * (MAX_NODES - 30)))
    start = text.index('"record":{') + len('"record":{')
    end = text.index(',"id":')
    parse_json_text(text[:start] + text[end + 1:], "rest")  # the rest alone is within the limits
    before = _full_path_answer(text, "Object A")
    assert isinstance(before, str) and f"more than {MAX_NODES} values" in before
    assert _answer(text, "Object A") == before


def test_a_decision_part_seen_once_costs_no_memo() -> None:
    """Records that share nothing (every answer differs) keep nothing but a hint each, and read as before."""
    texts = [_tag_text({**record_data("approval"), "production": f"P{index}"}) for index in range(5)]
    for text in texts:
        assert decode_tag(text, "x") == _full_path_answer(text, "x")
    assert not record_module._parts and not record_module._written
    assert decode_tag(texts[0], "x") == _full_path_answer(texts[0], "x")  # the same digest again: now shared
    assert len(record_module._parts) == 1


def test_a_stated_digest_is_only_a_hint() -> None:
    """Two tags stating the same digest over different decision parts: each gets its own answer."""
    good = json.loads(_tag_text(record_data("approval")))
    other = copy.deepcopy(good)
    other["record"]["use"]["stage"] = "temp"  # the digest no longer matches: edited outside Clearance
    texts = [json.dumps(good), json.dumps(other), json.dumps(other), json.dumps(good)]
    for text in texts:
        before = _full_path_answer(text, "x")
        assert _answer(text, "x") == before
    assert isinstance(_full_path_answer(texts[1], "x"), str)


def test_a_record_on_many_targets_is_shared_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """More brackets than the nesting limit (a record on 100 objects) is not too deep: its text path applies,
    and one nested too deep is refused as before."""
    hits = _counting_written_hits(monkeypatch)
    data = record_data("approval")

    def on_many(index: int) -> dict[str, Any]:
        many = _another(data, index)
        many["targets"] = [{"kind": "datablock", "ref": f"objects:Crowd{index}.{n:03d}"} for n in range(100)]
        return many

    texts = [_tag_text(on_many(index)) for index in range(3)]
    answers = [decode_tag(text, "x") for text in texts]
    assert hits == [False, False, True]
    for text, answer in zip(texts, answers, strict=True):
        before = _full_path_answer(text, "x")
        assert isinstance(before, Tag) and answer == before
    deep = texts[2].replace('"approval_ids":[]', '"approval_ids":[' + "[" * 70 + "]" * 70 + "]", 1)
    before = _full_path_answer(deep, "x")
    assert isinstance(before, str) and "nested deeper" in before
    assert _answer(deep, "x") == before


_V2_TOOL = st.fixed_dictionaries({"name": st.sampled_from(["Firefly", "Runway"])}, optional={
    "environment": st.sampled_from(["enterprise", "consumer", "Self_Hosted", None]),
    "trains_on_outputs": _ANSWER,
    "terms": st.fixed_dictionaries({}, optional={"licence_tier": st.sampled_from(["pro", None]),
                                                 "reviewed_on": st.sampled_from(["2026-01-02", None])}),
    "inputs": st.fixed_dictionaries({}, optional={"personal_data": _ANSWER, "talent_material": _ANSWER}),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    version=st.sampled_from([None, 1, 2]),
    tools=st.lists(_V2_TOOL, max_size=2),
    one_tool=st.booleans(),
    use=st.fixed_dictionaries({}, optional={"stage": st.sampled_from(["final", "temp", "Final"]),
                                            "prominence": st.sampled_from(["none", "incidental", "unsure"]),
                                            "human_contribution": _ANSWER}),
    talent=st.fixed_dictionaries({}, optional={"consent_refs": st.lists(st.sampled_from(["C-1", "C-2"]), max_size=2),
                                               "alteration": st.sampled_from(["none", "tonal", "significant"]),
                                               "digital_replica": _ANSWER}),
    refs=st.lists(st.sampled_from(["ref-1", "ref-2"]), max_size=2),
    realism=st.fixed_dictionaries({}, optional={"photorealistic": _ANSWER, "audience_disclosure":
                                                st.sampled_from(["none", "credits", "UNSURE"])}),
)
def test_tags_of_generated_records_read_as_before(
    version: int | None, tools: list[dict[str, Any]], one_tool: bool, use: dict[str, Any], talent: dict[str, Any],
    refs: list[str], realism: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Version 1 and 2 records with chains, terms, step inputs and references, through both paths: the
    three tags of one record's answers (full, shared, shared text) read exactly as the full path reads them."""
    forget_shared_parts()
    hits = _counting_written_hits(monkeypatch)
    data: dict[str, Any] = {"production": "P", "use": use, "talent": talent, "realism": realism,
                            "prompt_references": {"permission_refs": refs}}
    if version is not None:
        data["schema_version"] = version
    if one_tool and len(tools) == 1:
        data["tool"] = tools[0]
    else:
        data["tools"] = tools
    records = []
    for index in range(3):
        try:
            records.append(UseRecord.model_validate(_another(data, index)))
        except ValueError:
            return  # a combination the model refuses (a version 1 record answering a version 2 question...)
    texts = [encode_tag(Tag.for_record(record)) for record in records]
    answers = [decode_tag(text, "x") for text in texts]
    assert hits == [False, False, True]
    for text, answer, record in zip(texts, answers, records, strict=True):
        before = _full_path_answer(text, "x")
        assert isinstance(before, Tag) and answer == before
        assert _fields_set(answer) == _fields_set(before)
        # Not `answer.record == record`: a version 1 record given an empty version 2 section (`terms: {}`) holds
        # it in memory but never writes it, so every reader reads it back without; what must hold is the form.
        assert record_digests(answer.record) == record_digests(record)
        assert answer.record.model_dump(mode="json") == record.model_dump(mode="json")
        assert answer.content_digest == record_digests(before.record)[1]


def test_a_huge_decision_part_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    hits = _counting_written_hits(monkeypatch)
    data = {**record_data("approval"), "tool": {"name": "x" * (record_module.PART_BYTES_KEPT + 1)}}
    texts = [_tag_text(_another(data, index)) for index in range(3)]
    for text in texts:
        assert decode_tag(text, "x") == _full_path_answer(text, "x")
    assert hits == [False, False, False]
    assert not record_module._parts and not record_module._written
    part = record_module.SharedPart({}, "sha256:0")
    record_module.remember_written("x" * (record_module.PART_BYTES_KEPT + 1), part)
    record_module.remember_written("y", part)
    assert list(record_module._written) == ["y"]


def test_the_plain_fields_are_those_no_validator_or_serializer_reads_across() -> None:
    """Only these are validated alone on the shared path; a field added to the record must be judged here."""
    from clearance.record import PLAIN_REST, V2, RecordRest

    assert sorted(PLAIN_REST) == ["declared_at", "declared_by", "description", "id", "targets", "vendor"]
    for name in PLAIN_REST:
        info = UseRecord.model_fields[name]
        assert info.json_schema_extra != V2
        assert RecordRest.model_fields[name].annotation == info.annotation
        assert RecordRest.model_fields[name].metadata == info.metadata
        assert RecordRest.model_json_schema()["properties"][name] == UseRecord.model_json_schema()["properties"][name]
    assert not UseRecord.__private_attributes__  # a shared record is assembled with none


def test_data_with_a_field_outside_the_plain_ones_takes_the_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {**record_data("approval"), "description": "d"}
    _same_as_full(data)
    monkeypatch.setattr(record_module, "PLAIN_REST", record_module.PLAIN_REST - {"description"})
    assert record_and_digests(_another(data, 1)) is None
    rest = {key: value for key, value in _another(data, 1).items() if key not in DECIDING_KEYS}
    assert record_module.record_with_part(next(iter(record_module._parts.values())), rest) is None


_REST = st.fixed_dictionaries({}, optional={
    "vendor": st.sampled_from(["V", "", None, 3]),
    "declared_by": st.sampled_from(["me", None]),
    "declared_at": st.sampled_from(["2026-11-30T10:00:00Z", "2026-11-30T10:00:00+02:00", "2026-11-30", None,
                                    "yesterday", 1764496800]),
    "description": st.text(max_size=8) | st.just("x" * 20001),
    "targets": st.lists(st.fixed_dictionaries({"kind": st.sampled_from(["datablock", "SHOT", "teapot"]),
                                               "ref": st.sampled_from(["a", ""])},
                                              optional={"path": st.sampled_from(["/p", None]),
                                                        "sha256": st.sampled_from(["ab" * 32, "AB"])}), max_size=2),
    "id": st.sampled_from([str(uuid.UUID(int=5, version=4)), "not-a-uuid", uuid.UUID(int=6, version=4).hex]),
})


@settings(max_examples=120, deadline=None)
@given(rest=_REST, name=st.sampled_from(sorted(VARIANTS)))
def test_plain_fields_validate_and_dump_on_the_shared_path_as_in_full(rest: dict[str, Any], name: str) -> None:
    forget_shared_parts()
    _same_as_full({**VARIANTS[name], "id": str(uuid.uuid4())})  # the part, remembered
    data = {**VARIANTS[name], "id": str(uuid.UUID(int=4, version=4)), **rest}  # an id made up would differ
    try:
        UseRecord.model_validate(data)
    except ValueError:
        assert record_and_digests(data) is None
        return
    _same_as_full(data)


def test_shared_answers_refuse_edits_at_every_depth_and_fields_set_stay_apart() -> None:
    data = {**record_data("approval"), "tools": [{"name": "Firefly", "terms": {"licence_tier": "pro"},
                                                  "inputs": {"personal_data": "no"}}], "schema_version": 2}
    data.pop("tool", None)
    data["prompt_references"] = {"permission_refs": ["ref-1"]}
    data["targets"] = [{"kind": "datablock", "ref": "objects:First"}]
    first = _same_as_full(data)
    second, third = (_same_as_full(_another(data, index)) for index in (1, 2))
    _refused(lambda: setattr(second.tools[0].terms, "licence_tier", "free"))
    _refused(lambda: setattr(second.tools[0].inputs, "talent_material", "yes"))
    _refused(lambda: setattr(second.prompt_references, "permission_refs", ("ref-2",)))
    second.targets.append(second.targets[0])
    for other in (first, third, _same_as_full(_another(data, 3))):
        assert other.tools[0].terms.licence_tier == "pro"  # type: ignore[union-attr]
        step = other.tools[0].inputs
        assert step.talent_material is None and "talent_material" not in step.model_fields_set
        assert other.prompt_references.permission_refs == ("ref-1",)
        assert len(other.targets) == 1
