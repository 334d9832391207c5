"""The tag every host stores: encode, decode, tamper detection, one-line errors."""

from __future__ import annotations

import json

import pytest

from clearance.errors import ClearanceError
from clearance.record import parse_record
from clearance.tags import Tag, decode_tag, encode_tag


@pytest.fixture
def record():
    return parse_record("production: P\ntool: {name: Firefly}\nuse: {stage: temp}\n", "r.yaml")


def test_round_trip(record) -> None:
    tag = Tag.for_record(record, target_ref="sh010", status="approval_required")
    text = encode_tag(tag)
    assert json.loads(text)["schema"] == "clearance.tag/1"
    back = decode_tag(text, "clip sh010")
    assert back.record == record and back.digest == tag.digest and back.target_ref == "sh010"
    slim = decode_tag(encode_tag(Tag.for_record(record, embed=False)), "clip sh010")
    assert slim.record is None and slim.record_id == record.id


def test_tampered_record_is_refused(record) -> None:
    data = json.loads(encode_tag(Tag.for_record(record)))
    data["record"]["use"]["stage"] = "ideation"
    with pytest.raises(ClearanceError, match=r"^clip A: the record in the Clearance tag was edited outside Clearance"):
        decode_tag(json.dumps(data), "clip A")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "is not valid JSON"),
        ("[1]", "is not a JSON object"),
        ('{"schema": "clearance.tag/1"}', "field record_id is required"),
        ('{"schema": "other/9", "record_id": "7d3c1a52-5a0c-4f7e-9a43-0d2f6c1b9e11", "digest": "x"}', "field schema"),
    ],
)
def test_broken_tags_name_the_place(text: str, match: str) -> None:
    with pytest.raises(ClearanceError) as info:
        decode_tag(text, "node Read1")
    assert str(info.value).startswith("node Read1")
    assert match in str(info.value)
    assert "\n" not in str(info.value)


def test_record_id_mismatch(record) -> None:
    data = json.loads(encode_tag(Tag.for_record(record)))
    data["record_id"] = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClearanceError, match="names record"):
        decode_tag(data, "strip S")
