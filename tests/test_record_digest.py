"""The two record digests are the canonical JSON of the record's forms, byte for byte.

Approvals already signed are bound to these digests, so the way they are computed (one dump, members
encoded once and assembled) must give exactly what hashing ``canonical_json`` of each form gives.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from records import make_record

from clearance.documents import canonical_json
from clearance.errors import ClearanceError
from clearance.record import (
    DECISION_FIELDS,
    Target,
    Tool,
    UseRecord,
    content_digest,
    decision_digest,
    load_record,
    record_digests,
)
from clearance.tags import Tag, decode_tag, encode_tag

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "core" / "clearance" / "examples").rglob("*.yaml"))


def _reference(record: UseRecord) -> tuple[str, str]:
    """The digests as release 0.1 defined them: sha256 over canonical_json of each form."""
    dumped = record.model_dump(mode="json")
    relevant: dict[str, Any] = {k: dumped[k] for k in DECISION_FIELDS if k in dumped}
    if "tool" in dumped:
        relevant["tools"] = [dumped["tool"]]
    return ("sha256:" + hashlib.sha256(canonical_json(relevant)).hexdigest(),
            "sha256:" + hashlib.sha256(canonical_json(dumped)).hexdigest())


def _records() -> list[UseRecord]:
    out = [load_record(path) for path in EXAMPLES if "policy" not in path.name]
    out += [make_record(kind) for kind in ("notify", "approval", "prohibited")]
    chain = make_record("approval")
    chain.tools = [Tool(name="Midjourney"), Tool(name="Magnific")]
    out.append(chain)
    none = make_record("notify")
    none.tools = []
    out.append(none)
    odd = make_record("notify", description='quotes " and \\ back\\slashes, accents é, CJK 字, emoji 🎬, \u2028, tab\t')
    odd.targets = [Target(kind="shot", ref="EP101_SC12_SH010 \"take 2\""), Target(kind="datablock", ref="objects:Ä")]
    out.append(odd)
    out.append(UseRecord.model_validate({"schema_version": 1, "production": "OLD"}))
    return out


@pytest.mark.parametrize("record", _records(), ids=lambda r: str(r.description or r.production)[:24])
def test_digests_are_the_canonical_json_of_each_form(record: UseRecord) -> None:
    decision, content = _reference(record)
    assert decision_digest(record) == decision
    assert content_digest(record) == content
    assert record_digests(record) == (decision, content)


def test_examples_were_found() -> None:
    assert len(EXAMPLES) >= 10


def test_an_edit_to_a_decision_field_changes_the_decision_digest_only_then() -> None:
    record = make_record("approval")
    before = record_digests(record)
    record.description = "another description"
    after = record_digests(record)
    assert after[0] == before[0] and after[1] != before[1]
    record.output.resembles_unowned_material = "yes" if record.output.resembles_unowned_material != "yes" else "no"
    assert record_digests(record)[0] != before[0]


def test_a_decoded_tag_carries_its_records_content_digest_and_a_hand_edit_is_still_caught() -> None:
    record = make_record("approval")
    text = encode_tag(Tag.for_record(record))
    tag = decode_tag(text, "Object Crowd")
    assert tag.record is not None and tag.content_digest == content_digest(tag.record) == content_digest(record)
    data = json.loads(text)
    data["record"]["description"] = "edited by hand"  # not a decision field: the tag stays readable
    edited = decode_tag(json.dumps(data), "Object Crowd")
    assert edited.content_digest == content_digest(edited.record) != tag.content_digest  # type: ignore[arg-type]
    data["record"]["use"]["stage"] = "temp" if record.use.stage != "temp" else "final"
    with pytest.raises(ClearanceError, match="edited outside Clearance"):
        decode_tag(json.dumps(data), "Object Crowd")
    assert Tag.for_record(record).content_digest is None  # only decode_tag vouches for it


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_canonical_json_is_the_standard_librarys_sorted_compact_json(value: Any) -> None:
    """canonical_json reuses one C encoder instead of json.dumps' per-call one: the bytes must not differ
    (floats, NaN, escapes, non-ASCII text, bare strings and nesting included)."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        encoded = expected.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: both refuse it the same way
        with pytest.raises(UnicodeEncodeError):
            canonical_json(value)
        return
    assert canonical_json(value) == encoded


def test_canonical_json_refuses_what_json_refuses() -> None:
    for bad in ({"a": object()}, [b"bytes"], {"a": {1, 2}}):
        with pytest.raises(TypeError):
            canonical_json(bad)
    with pytest.raises(TypeError):
        canonical_json({1: "x", "a": "y"})  # keys of two types cannot be sorted


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(fixed=st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=6),
       changing=st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=6))
def test_a_laid_out_object_is_its_canonical_json(fixed: dict[str, Any], changing: dict[str, Any]) -> None:
    from clearance.documents import canonical_laid_out, canonical_layout, canonical_members

    changing = {key: value for key, value in changing.items() if key not in fixed}
    layout = canonical_layout(canonical_members(fixed), changing)
    assert canonical_laid_out(layout, changing) == canonical_json({**fixed, **changing})
    if changing:  # a value missing, or one key more than laid out, is never laid out wrongly
        missing = dict(list(changing.items())[1:])
        assert canonical_laid_out(layout, missing) is None
        assert canonical_laid_out(layout, {**missing, "\x00other": 1}) is None
