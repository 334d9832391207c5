"""The plain reading of approval files gives exactly what the full reader (JSON within the limits, then the
pydantic model) gives: the same fields of the same types, the same signed bytes, the same error.

Generated documents in the form Clearance writes, and the same documents changed in every way the plain
reading refuses to handle (each of its guards): a key missing, added or given twice, a value of another type,
another spelling of a time or a record id, too many targets, an escaped half character.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from approvals_fixtures import approve, make_record, ring_and_keys
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.approvals import (
    ApprovalStatement,
    SignedApproval,
    _plain_approval,
    _written_approval,
    parse_approval,
    read_approval_and_id,
    read_approval_text,
)
from clearance.documents import MAX_NODES, parse_json_text
from clearance.errors import ClearanceError

SIGNATURE = "c2lnbmF0dXJl" * 8


def _full(text: str) -> SignedApproval:
    return parse_approval(parse_json_text(text, "a.json"), "a.json")


def _outcome(read: Callable[[], SignedApproval]) -> tuple[Any, ...]:
    try:
        approval = read()
    except ClearanceError as exc:
        return ("error", str(exc))
    statement = approval.statement
    return (
        "approval",
        [(name, type(value), value) for name, value in statement.__dict__.items()],
        statement.model_fields_set, statement.issued_at.tzinfo,
        [(name, type(value), value) for name, value in approval.__dict__.items() if name != "statement"],
        approval.model_fields_set, approval.canonical_bytes(), approval.checked,
    )


def _same_as_full(text: str) -> tuple[Any, ...]:
    plain = _outcome(lambda: read_approval_text(text, "a.json"))
    assert plain == _outcome(lambda: _full(text))
    _written_as_plain(text)
    return plain


def _written_as_plain(text: str) -> bool:
    """The written reading (the file's text matched as a whole) gives what the plain reading gives, memo and
    all, and the record id as ``str`` of the UUID; or leaves the text to it. True when it read the text."""
    written = _written_approval(text)
    if written is None:
        return False
    approval, record_id = written
    plain = _plain_approval(text)
    assert plain is not None  # every text the written reading takes, the plain reading takes too
    assert _outcome(lambda: approval) == _outcome(lambda: plain)
    assert approval.__pydantic_private__ == plain.__pydantic_private__
    assert record_id == str(plain.statement.record_id)
    if _outcome(lambda: plain)[0] == "approval" and all(map(_text, (plain.key_id, plain.signature))):
        assert read_approval_and_id(text, "a.json")[1] == record_id
    else:  # half a character in the key id or signature: refused as the plain path refuses it
        with pytest.raises(ClearanceError, match="lone surrogate"):
            read_approval_and_id(text, "a.json")
    return True


def _text(value: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                                timezone(timedelta(hours=-8))]))
statements = st.builds(
    ApprovalStatement,
    approval_id=st.text(min_size=1, max_size=30),
    record_id=st.uuids(),
    record_digest=st.text(max_size=70),
    production=st.text(max_size=20),
    targets=st.lists(st.text(max_size=12), max_size=4),
    approver=st.text(max_size=20),
    issued_at=times,
    expires_at=st.none() | times,
    conditions=st.text(max_size=20),
    key_id=st.text(alphabet="0123456789abcdef", max_size=16),
)


def _signed_data(tmp_path: Path) -> dict[str, Any]:
    """A real signed approval, as the JSON data a file written by Clearance holds."""
    ring, _keys = ring_and_keys(tmp_path)
    data: dict[str, Any] = json.loads(approve(ring, make_record()).to_json())
    return data


def _document(statement: ApprovalStatement) -> str:
    return SignedApproval(statement=statement, signature=SIGNATURE, key_id=statement.key_id).to_json()


@settings(max_examples=150, deadline=None)
@given(statement=statements)
def test_a_written_approval_reads_plainly_and_the_same(statement: ApprovalStatement) -> None:
    text = _document(statement)
    outcome = _same_as_full(text)
    assert outcome[0] == "approval"
    if all(t is None or t.year >= 1000 for t in (statement.issued_at, statement.expires_at)):
        assert _plain_approval(text) is not None  # the form Clearance writes takes the plain path
        # and the written path, unless a text needs an escape in JSON
        escaped = '\\' in text or any(ord(c) < 0x20 for c in text.replace("\n", ""))
        assert _written_as_plain(text) != escaped


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return change


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        (data["statement"] if len(path) == 2 else data).pop(path[-1])
    return change


OTHER_VALUES: list[Any] = [None, 7, 7.5, True, "", "x" * 201, [], ["shot:sh010", 3], {}, "2026-11-30T10:00:00Z",
                           "2026-11-30T10:00:00+00:00", "2026-11-30T10:00:00.000000Z", "2026-11-30T10:00:00.5Z",
                           "2026-11-30 10:00:00Z", "2026-11-30T10:00:00", "2026-02-30T10:00:00Z",
                           "0999-11-30T10:00:00Z", "2026-11-30T24:00:00Z", "2026-11-30T10:00:00.123456z",
                           "9D03BCA6-2FF6-4545-879D-B58C0118C3C2", "9d03bca62ff64545879db58c0118c3c2",
                           "{9d03bca6-2ff6-4545-879d-b58c0118c3c2}", "9d03bca6-2ff6-4545-879d-b58c0118c3c2",
                           "\ud800", "caf\u00e9"]
STATEMENT_KEYS = list(ApprovalStatement.model_fields)
PLACES = [*STATEMENT_KEYS, "top.signature", "top.key_id"]


def _changed(text: str, where: str, value: Any, how: str) -> str:
    data = json.loads(text)
    path = (where.removeprefix("top."),) if where.startswith("top.") else ("statement", where)
    if how == "set":
        _set(path, value)(data)
    elif how == "drop":
        _drop(path)(data)
    else:
        (data["statement"] if len(path) == 2 else data)[f"{path[-1]}_extra"] = value
    return json.dumps(data, indent=2, ensure_ascii=False)


def test_every_change_reads_the_same_as_the_full_reader(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    record = make_record()
    written = [approve(ring, record).to_json(), approve(ring, record, expires_at=None, targets=[]).to_json(),
               approve(ring, record, issued_at=datetime(2026, 11, 30, 10, 0, 0, 250000, tzinfo=timezone.utc),
                       approver="José").to_json()]
    errors = 0
    for text in written:
        for where in PLACES:
            for how in ("set", "drop", "add"):
                for value in OTHER_VALUES if how != "drop" else [None]:
                    errors += _same_as_full(_changed(text, where, value, how))[0] == "error"
    assert errors > 100  # the changes reach the refusals, not only the lenient spellings
    assert sum(_written_as_plain(_changed(text, where, value, "set")) for text in written for where in PLACES
               for value in OTHER_VALUES) > 20  # the written reading takes some changed texts too


@pytest.mark.parametrize("change", [
    lambda t: t.replace("\n", "\r\n"),  # another layout
    lambda t: t.replace('": ', '":'),
    lambda t: t.rstrip("\n") + "\n\n",
    lambda t: "\ufeff" + t,
    lambda t: t.replace('"sam.approver"', '"sam\\u002eapprover"'),  # an escape: the same text, other bytes
    lambda t: t.replace('"sam.approver"', '"sam\tapprover"'),  # a raw control character: not JSON
    lambda t: t.replace('"approver": "sam.approver",', '"approver": "sam.approver",\n    "approver": "eve",'),
    lambda t: t.replace('"targets": [\n      "shot:sh010",\n      "shot:sh020"\n    ]',
                        '"targets": [\n      "shot:sh010",\n      "shot:sh020",\n    ]'),
    lambda t: t.replace('"targets": [\n      "shot:sh010",\n      "shot:sh020"\n    ]',
                        '"targets": [\n      "shot:sh010"\n      "shot:sh020"\n    ]'),
    lambda t: t.replace('"targets": [\n      "shot:sh010",\n      "shot:sh020"\n    ]', '"targets": [\n    ]'),
    lambda t: t.replace("Z\"", ".000000Z\"", 1),
    lambda t: t.replace("T", "T", 1).replace('"issued_at": "2026-11-21', '"issued_at": "2026-02-30'),
    lambda t: t.replace('"record_id": "', '"record_id": "X', 1),
    lambda t: t.replace('"key_id": "', '"key_id": "\ud800', 1),
], ids=["crlf", "no space", "two newlines", "byte-order mark", "escape", "tab", "key twice", "trailing comma",
        "missing comma", "empty lines", "zero fraction", "30 February", "record id", "half a character"])
def test_the_written_reading_takes_only_what_to_json_writes(tmp_path: Path, change: Callable[[str], str]) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    text = approve(ring, make_record(), approver="sam.approver").to_json()
    assert _written_as_plain(text)
    changed = change(text)
    assert changed != text
    assert _written_approval(changed) is None
    _same_as_full(changed)


@settings(max_examples=120, deadline=None)
@given(statement=statements, where=st.sampled_from(PLACES),
       value=st.sampled_from(OTHER_VALUES), how=st.sampled_from(["set", "drop", "add"]))
def test_any_change_to_any_approval_reads_the_same_as_the_full_reader(
        statement: ApprovalStatement, where: str, value: Any, how: str) -> None:
    _same_as_full(_changed(_document(statement), where, value, how))


@pytest.mark.parametrize("spelling", [
    "2026-11-30T10:00:00.000000Z",  # pydantic writes no fraction when it is 0: other signed bytes
    "2026-11-30T10:00:00+00:00",
    "2026-11-30T15:30:00+05:30",
    "0999-11-30T10:00:00Z",
    "2026-02-30T10:00:00Z",
])
def test_another_spelling_of_a_time_is_left_to_the_full_reader(tmp_path: Path, spelling: str) -> None:
    data = _signed_data(tmp_path)
    data["statement"]["issued_at"] = spelling
    text = json.dumps(data)
    assert _plain_approval(text) is None
    _same_as_full(text)


@pytest.mark.parametrize("spelling", ["9D03BCA6-2FF6-4545-879D-B58C0118C3C2", "9d03bca62ff64545879db58c0118c3c2",
                                      "urn:uuid:9d03bca6-2ff6-4545-879d-b58c0118c3c2"])
def test_another_spelling_of_a_record_id_is_left_to_the_full_reader(tmp_path: Path, spelling: str) -> None:
    data = _signed_data(tmp_path)
    data["statement"]["record_id"] = spelling
    text = json.dumps(data)
    assert _plain_approval(text) is None
    outcome = _same_as_full(text)
    assert outcome[0] == "approval"  # the model reads it, and signs its own spelling of it


def test_a_key_given_twice_is_refused_as_the_full_reader_does(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    text = approve(ring, make_record(), approver="sam.approver").to_json()
    twice = text.replace('"approver": "sam.approver",', '"approver": "sam.approver",\n    "approver": "eve",')
    assert twice != text
    outcome = _same_as_full(twice)
    assert outcome[0] == "error" and "'approver' twice" in outcome[1]


def test_an_escaped_half_character_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    data = _signed_data(tmp_path)
    data["statement"]["approver"] = "\ud800"
    outcome = _same_as_full(json.dumps(data))
    assert outcome[0] == "error" and "lone surrogate" in outcome[1] and "a.json" in outcome[1]


@pytest.mark.parametrize("field", ["key_id", "signature"])
def test_half_a_character_in_the_key_id_or_signature_is_one_line_not_a_traceback(tmp_path: Path, field: str) -> None:
    data = _signed_data(tmp_path)
    data[field] = data[field][:4] + "\ud800"
    outcome = _same_as_full(json.dumps(data))
    assert outcome[0] == "error" and "lone surrogate" in outcome[1] and "a.json" in outcome[1]
    assert outcome[1].encode("utf-8")  # the line itself can be printed


def test_more_targets_than_the_document_limit_are_refused_as_the_full_reader_does(tmp_path: Path) -> None:
    data = _signed_data(tmp_path)
    data["statement"]["targets"] = ["s"] * MAX_NODES
    outcome = _same_as_full(json.dumps(data))
    assert outcome[0] == "error" and "values" in outcome[1]


def test_the_plain_reading_keeps_the_signed_bytes_of_the_model(tmp_path: Path) -> None:
    ring, _keys = ring_and_keys(tmp_path)
    approval = approve(ring, make_record(), targets=["shot:sh010", "shot:sh020"])
    plain = _plain_approval(approval.to_json())
    assert plain is not None and plain.canonical_bytes() == approval.statement.signed_bytes()
    assert plain.statement.record_id == approval.statement.record_id and isinstance(plain.statement.record_id,
                                                                                    uuid.UUID)
