"""A tag's rest (its text without the record's decision members) validated straight from its text gives what
the strict reader and validation give, on usual, unusual and broken texts (tags._rest_validated against
tags._rest_parsed), and tags decoded that way are the tags full validation makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from clearance.errors import ClearanceError
from clearance.presets import new_record
from clearance.record import Target, forget_shared_parts
from clearance.tags import Tag, _rest_parsed, _rest_validated, _written_members, decode_tag, encode_tag

ID = "d1512469-c5d8-419d-8c72-3ccd3aeb5872"
DIGEST = "sha256:" + "9f" * 32


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    forget_shared_parts()
    yield
    forget_shared_parts()


def _rest(record: str = "", tag: str = "", targets: str = '[{"kind":"datablock","ref":"objects:Crowd7"}]') -> str:
    return ('{"schema":"clearance.tag/1","record_id":"' + ID + '","digest":"' + DIGEST + '","record":{"id":"' + ID
            + '","declared_by":"root","declared_at":"2026-12-01T04:46:35Z","description":"Shop signs","targets":'
            + targets + record + "}" + tag + ',"approval_ids":[]}')


def _given(model: Any) -> Any:
    """Every model's values and fields set, nested: ``==`` alone ignores what was given."""
    if isinstance(model, BaseModel):
        return (type(model).__name__, sorted(model.model_fields_set),
                {name: _given(value) for name, value in model.__dict__.items()})
    if isinstance(model, list):
        return [_given(value) for value in model]
    return model


def _same(rest: str) -> BaseModel | None:
    """Never passes what the careful way refuses; passes the same tag when it passes. None leaves the text to
    decode_tag's full path, which always decides (only slower)."""
    fast, careful = _rest_validated(rest), _rest_parsed(rest)
    if careful is None:
        assert fast is None, rest
    if fast is not None:
        assert _given(fast) == _given(careful)
    return fast


TEXTS = {
    "usual": _rest(),
    "vendor null": _rest(record=',"vendor":null'),
    "two targets": _rest(targets='[{"kind":"datablock","ref":"a"},{"kind":"CLIP","ref":"b","path":null}]'),
    "no targets": _rest(targets="[]"),
    "spaces": _rest().replace(":", " : ", 3).replace(",", " ,\n "),
    "a key twice in the tag": _rest(tag=',"status":"notify","status":"denied"'),
    "a key twice in the record": _rest(record=',"vendor":"A","vendor":"B"'),
    "a key twice in a target": _rest(targets='[{"kind":"datablock","ref":"a","ref":"b"}]'),
    "a key twice, spaced": _rest(record=',"vendor" :"A","vendor"\t: "B"'),
    "alias and name": _rest(tag=',"tag_schema":"clearance.tag/1"'),
    "alias and name twice": _rest(tag=',"tag_schema":"clearance.tag/1","schema":"clearance.tag/1"'),
    "an escaped key twice": _rest(record=',"vendor":"A","vend\\u006fr":"B"'),
    # escaped quotes shift where strings seem to start and end: counted naively, these colons add up
    "a key twice, hidden by escaped quotes": _rest(record=',"vendor":"a\\"","vendor":"b\\":"'),
    "escapes in a value": _rest(record=',"vendor":"A \\"B\\" \\n C"'),
    "a colon starting a value": _rest(record=',"vendor":":A"'),
    "colons and quotes in values": _rest(record=',"vendor":"a:b\\":\\"c"'),
    "a deciding key in the rest": _rest(record=',"use":{"stage":"final"}'),
    "the tool key in the rest": _rest(record=',"tool":{"name":"X"}'),
    "an unknown key": _rest(tag=',"colour":"red"'),
    "a number for a date": _rest().replace('"2026-12-01T04:46:35Z"', "1764564395"),
    "a huge number": _rest(record=',"vendor":' + "9" * 5000),
    "a huge number for a date": _rest().replace('"2026-12-01T04:46:35Z"', "9" * 5000),
    "a huge number in the tag": _rest(tag=',"status":' + "1" * 100_000),
    "NaN": _rest(record=',"vendor":NaN'),
    "a number in a list": _rest().replace('"approval_ids":[]', '"approval_ids":[1]'),
    "a byte order mark": "\ufeff" + _rest(),
    "trailing text": _rest() + "x",
    "a trailing comma": _rest()[:-1] + ",}",
    "a control character": _rest(record=',"vendor":"a\x01b"'),
    "a lone surrogate": _rest(record=',"vendor":"a\ud800b"'),
    "unicode": _rest(record=',"vendor":"Ålesund \u2028 studio"'),
    "deep": _rest(record=',"vendor":' + "[" * 300 + "]" * 300),
    "not an object": "[" + _rest() + "]",
    "no record": _rest().replace('"record":', '"recorded":'),
    "a record that is a list": _rest().replace('"record":{', '"record":[{').replace('}]},"approval_ids"',
                                                                                    '}]}],"approval_ids"'),
    "an empty ref": _rest(targets='[{"kind":"datablock","ref":""}]'),
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_validated_from_text_as_parsed_then_validated(name: str) -> None:
    _same(TEXTS[name])


def test_the_usual_text_takes_the_text_way() -> None:
    """The way this is for: a usual tag's rest is validated from its text (and passes)."""
    assert _same(TEXTS["usual"]) is not None
    assert _same(TEXTS["a key twice in the record"]) is None
    assert _same(TEXTS["a key twice in a target"]) is None


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_EDITS = st.sampled_from(["", ',"vendor":"x"', ',"status":"notify"', ",", ':"x"', ',"approval_ids":["a"]', " ", "1"])


@settings(max_examples=300, deadline=None)
@given(vendor=_TEXT, description=_TEXT, ref=_TEXT, extra=_EDITS)
def test_any_values_and_small_edits(vendor: str, description: str, ref: str, extra: str) -> None:
    rest = _rest(record=',"vendor":' + json.dumps(vendor, ensure_ascii=False) + extra,
                 targets='[{"kind":"datablock","ref":' + json.dumps(ref, ensure_ascii=False) + "}]")
    rest = rest.replace('"Shop signs"', json.dumps(description, ensure_ascii=False))
    _same(rest)


def test_tags_decoded_from_their_text_are_the_tags_full_validation_makes() -> None:
    texts = []
    for index in range(12):
        preset = "background-signage" if index % 2 else "mood-board"
        record = new_record(preset, production="EXAMPLE_S01",
                            targets=[Target(kind="datablock", ref=f"objects:Crowd{index}")])
        if index % 3 == 0:
            record = record.model_copy(update={"description": f'said "{index}": with quotes'})  # the careful way
        texts.append(encode_tag(Tag.for_record(record)))
    decoded = [decode_tag(text, "tag") for text in texts]
    assert any(_written_members(text) is not None for text in texts[2:])  # the members were remembered
    for text, tag in zip(texts, decoded, strict=True):
        full = Tag.model_validate(json.loads(text))
        assert _given(tag) == _given(full)
        assert tag.content_digest is not None


def test_a_lone_surrogate_is_refused_in_one_line_on_every_path() -> None:
    """JSON can escape half a surrogate pair; no digest can encode it. Refused on the first reading and on the
    shared paths after it (the third reading of a decision part goes the shared way), never a traceback."""
    record = new_record("mood-board", production="EXAMPLE_S01")
    good = encode_tag(Tag.for_record(record))
    broken = good.replace('"id":', '"vendor":"\\ud800","id":', 1)
    assert '"vendor":"\\ud800"' in broken
    decode_tag(good, "tag")
    decode_tag(good, "tag")
    for _reading in range(3):
        with pytest.raises(ClearanceError, match=r"field record\.vendor holds half of a UTF-16 surrogate pair"):
            decode_tag(broken, "Object A")
