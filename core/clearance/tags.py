"""The tag a host stores on a node, datablock, strip, timeline item or clip.

One format for every host, so one set of collectors and validators reads them all: a compact JSON
string holding the record (or at least its id and digest). Hosts keep it in a string property:
Nuke knob ``clearance_tag``, Blender property ``clearance.tag``, OTIO metadata ``clearance`` and a
marker named ``CLEARANCE``, Resolve marker custom data. The digest lets a reader notice a record
edited outside Clearance.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from clearance.assembled import assembled_model
from clearance.documents import DocumentError, parse_json_text, surely_within_limits, surely_within_value_limit
from clearance.errors import ClearanceError, describe_validation_error
from clearance.record import (
    DECIDING_KEYS,
    OTHER_FIELDS,
    RecordRest,
    SharedPart,
    UseRecord,
    decision_digest,
    read_only,
    record_and_digests,
    record_digests,
    record_on_part,
    remember_written,
    seen_before,
    written_part,
)

TAG_SCHEMA: Literal["clearance.tag/1"] = "clearance.tag/1"
MARKER_NAME = "CLEARANCE"
METADATA_KEY = "clearance"

Status = Literal["notify", "approved", "approval_required", "denied", "prohibited", "invalid"]
"""Where a tagged use stands: ``approval_required`` means still waiting for a valid approval."""

STATUS_LABELS: dict[str, str] = {
    "notify": "Disclosed (notify)",
    "approved": "Approved",
    "approval_required": "Needs approval",
    "denied": "Denied",
    "prohibited": "Prohibited",
    "invalid": "Broken tag",
}

# One colour per status for every host. Names are OTIO MarkerColor / Resolve marker colours.
STATUS_MARKER_COLOUR: dict[str, str] = {
    "notify": "GREEN",
    "approved": "CYAN",
    "approval_required": "ORANGE",
    "denied": "RED",
    "prohibited": "RED",
    "invalid": "MAGENTA",
}
STATUS_RGB: dict[str, tuple[float, float, float]] = {
    "notify": (0.30, 0.69, 0.31),
    "approved": (0.16, 0.62, 0.78),
    "approval_required": (0.96, 0.60, 0.10),
    "denied": (0.85, 0.16, 0.16),
    "prohibited": (0.85, 0.16, 0.16),
    "invalid": (0.80, 0.20, 0.80),
}
BLOCKING_STATUSES = frozenset({"approval_required", "denied", "prohibited", "invalid"})


class Tag(BaseModel):
    """What a host stores for one tagged target."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_min_length=0)  # see record.Section

    tag_schema: Literal["clearance.tag/1"] = Field(default=TAG_SCHEMA, alias="schema")
    record_id: uuid.UUID
    digest: str = Field(description="decision_digest of the record when it was tagged")
    record: UseRecord | None = Field(
        default=None, description="The record itself; may be left out to keep markers small"
    )
    record_path: str | None = Field(default=None, description="Where the record file lives, when not embedded")
    target_ref: str | None = Field(default=None, description="What was tagged (shot code, node or clip name)")
    status: Status | None = Field(
        default=None, description="Last known status, for display only: never trusted for a verdict"
    )
    approval_ids: list[str] = Field(default_factory=lambda: [])  # not `list`: see UseRecord.targets

    _content_digest: str | None = PrivateAttr(default=None)

    @property
    def content_digest(self) -> str | None:
        """The embedded record's content digest, computed with the digest check when the tag was decoded
        (None for a tag not decoded by ``decode_tag`` or holding no record)."""
        # pydantic keeps private attributes in this dict; reading it directly skips its slow attribute lookup
        private = self.__pydantic_private__
        return private.get("_content_digest") if private else None

    @classmethod
    def for_record(cls, record: UseRecord, *, embed: bool = True, target_ref: str | None = None, **extra: Any) -> Tag:
        return cls(
            record_id=record.id,
            digest=decision_digest(record),
            record=record if embed else None,
            target_ref=target_ref,
            **extra,
        )

    def tampered(self) -> bool:
        """True when the embedded record no longer matches the digest written with it."""
        return self.record is not None and decision_digest(self.record) != self.digest


def encode_tag(tag: Tag) -> str:
    """The tag as compact JSON. An embedded record's decision members come first and together (JSON members
    have no order, so every reader reads it the same): a reader finds them as one piece of text, and the
    many tags that share them (a crowd tagged from one preset) are validated once (``_decode_written``)."""
    data = tag.model_dump(mode="json", by_alias=True, exclude_none=True)
    record = data.get("record")
    if isinstance(record, dict):
        data["record"] = {**{k: v for k, v in record.items() if k in DECIDING_KEYS},
                          **{k: v for k, v in record.items() if k not in DECIDING_KEYS}}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_tag(text: str | bytes | dict[str, Any], where: str) -> Tag:
    """Parse a stored tag. ``where`` names the node, clip or item for the error message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if isinstance(text, str):
        written = _decode_written(text)
        if written is not None:
            return written
        try:
            data = parse_json_text(text, where)
        except DocumentError as exc:
            problem = exc.problem if exc.problem.startswith(("is ", "has ", "holds ")) else f"is {exc.problem}"
            raise ClearanceError(f"{where}: the Clearance tag {problem}; re-tag it") from None
    else:
        data = text
    if not isinstance(data, dict):
        raise ClearanceError(f"{where}: the Clearance tag is not a JSON object; re-tag it")
    fast = _decode_embedded(data) if seen_before(data.get("digest")) else None
    if fast is not None:
        tag, part = fast
        if tag.content_digest is not None:
            if isinstance(text, str):
                _remember_members_text(text, data, part)
            return tag
        # a mismatch is worded by the full path below, which finds it again
    try:
        tag = Tag.model_validate(data)
    except ValidationError as exc:
        raise ClearanceError(describe_validation_error(exc, f"{where}: Clearance tag") + "; re-tag it") from None
    if tag.record is not None and tag.record.id != tag.record_id:
        raise ClearanceError(
            f"{where}: the Clearance tag names record {tag.record_id} but holds {tag.record.id}; re-tag it"
        )
    if tag.record is not None:
        # one encoding of the record for both digests (every text in it is whole: record.Section refuses half
        # of a surrogate pair, which no digest could encode)
        decision, content = record_digests(tag.record)
        if decision != tag.digest:
            raise ClearanceError(
                f"{where}: the record in the Clearance tag was edited outside Clearance (digest mismatch); re-tag it"
            )
        tag._content_digest = content
        read_only(tag.record)  # as every record read from a tag: its answers may be shared with later ones
    return tag


_TagRest: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "TagRest", __config__=Tag.model_config,
    **{name: (info.annotation, info) for name, info in Tag.model_fields.items() if name != "record"},
)
"""A tag but its record, with Tag's own field definitions and settings: validating it is validating those
fields of a tag (tests/test_record_shared.py compares the tags both paths make)."""

_TagWithRest: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "TagWithRest", __config__=Tag.model_config,
    **{name: (info.annotation, info) for name, info in _TagRest.model_fields.items()},
    record=(RecordRest, ...),
)
"""A tag whose record holds only its plain fields (``RecordRest``): a tag read with its record's decision
members left out (``_decode_written``) validates its own fields and its record's rest in one call."""

_TAG_PRIVATE = {name: attr.get_default() for name, attr in Tag.__private_attributes__.items()}
_TAG_FIELDS = tuple(Tag.model_fields)


def _checked(data: dict[str, Any], record: UseRecord, decision: str, content: str) -> Tag | None:
    """The tag ``data`` holds, with ``record`` (already validated) in place of its embedded record; None when
    the rest of the tag does not validate. Its content digest is set only when the record is the one the tag
    names and its decision digest is the tag's (otherwise the caller takes the full path, which words the
    problem). Made as ``Tag.model_validate`` makes it, record given, without validating the record again."""
    try:
        rest = _TagRest.model_validate({key: value for key, value in data.items() if key != "record"})
    except ValidationError:
        return None
    return _tag_of(rest, record, decision, content)


def _tag_of(rest: BaseModel, record: UseRecord, decision: str, content: str) -> Tag:
    """The tag made of its validated fields (``rest``, a ``_TagRest`` or ``_TagWithRest``) and ``record``."""
    values = rest.__dict__
    fields_set = set(rest.__pydantic_fields_set__)
    fields_set.add("record")
    exact = record.id == values["record_id"] and decision == values["digest"]
    return assembled_model(
        Tag, {name: record if name == "record" else values[name] for name in _TAG_FIELDS}, fields_set,
        {**_TAG_PRIVATE, "_content_digest": content if exact else None},
    )


def _decode_embedded(data: dict[str, Any]) -> tuple[Tag, SharedPart] | None:
    """The tag with its embedded record, validated through ``record_and_digests`` (a decision part seen before
    in this process is not validated, dumped or encoded again), and that part; None for anything else (no
    embedded record, or any error: ``decode_tag``'s full path then decides and words it)."""
    embedded = data.get("record")
    if not isinstance(embedded, dict):
        return None
    found = record_and_digests(embedded)
    if found is None:
        return None
    record, decision, content, part = found
    tag = _checked(data, record, decision, content)
    return None if tag is None else (tag, part)


_RECORD_OPENS = '"record":{'
_REST_OPENS = re.compile(",(?:" + "|".join(re.escape(json.dumps(name)) for name in sorted(OTHER_FIELDS)) + "):")
"""Where a record's first member that is not part of its decision part starts (``,"id":``). A quote inside
a JSON string is escaped, so in valid JSON ``,"id":`` with bare quotes is a comma between members and a key,
never text inside a string; at which level of nesting is not known from the text alone (so it is checked)."""


def _members_begin(text: str) -> int | None:
    """Just inside the brace of the record a tag embeds, if it embeds one the way ``encode_tag`` writes it."""
    start = text.find(_RECORD_OPENS)
    return None if start < 0 else start + len(_RECORD_OPENS)


def _members_end(text: str, begin: int) -> int | None:
    """Just before the first member after ``begin`` that is not part of a record's decision part."""
    found = _REST_OPENS.search(text, begin)
    return None if found is None else found.start()


def _members_span(text: str) -> tuple[int, int] | None:
    """Where the decision members of the embedded record would be in a tag written by ``encode_tag``: from
    just inside the record's brace to just before the first other member. Only a guess until checked."""
    begin = _members_begin(text)
    end = None if begin is None else _members_end(text, begin)
    return None if begin is None or end is None else (begin, end)


_ID_OPENS = ',"id":'
"""Where ``encode_tag`` writes a record's first member outside its decision part (a record always has an id,
and it comes first among the others in the record's own order)."""


def _written_members(text: str) -> tuple[int, int, SharedPart] | None:
    """The span of a tag's record's decision members and the part remembered for exactly that text, or None.
    The span is tried where ``encode_tag`` puts its end (before ``,"id":``, found by a plain search) and then
    where ``_members_span`` guesses it (before the first other member); either is only a guess until the
    remembered text matches it."""
    begin = _members_begin(text)
    if begin is None:
        return None
    guessed = text.find(_ID_OPENS, begin)
    if guessed > 0:
        part = written_part(text[begin:guessed])
        if part is not None:
            return begin, guessed, part
    end = _members_end(text, begin)
    if end is None or end == guessed:  # no other member, or the same text, already not remembered
        return None
    part = written_part(text[begin:end])
    return None if part is None else (begin, end, part)


def _remember_members_text(text: str, data: dict[str, Any], part: SharedPart) -> None:
    """After a full parse of ``text``: remember ``part`` by the text of its members when that text is exactly
    the record's decision members (parsed alone, it gives exactly them). A tag laid out otherwise (written by
    an older Clearance, or by hand) is just not remembered this way."""
    span = _members_span(text)
    if span is None:
        return
    members = text[span[0]:span[1]]
    deciding = {key: value for key, value in data["record"].items() if key in DECIDING_KEYS}
    try:
        alone = parse_json_text("{" + members + "}", "tag")
    except DocumentError:
        return
    if alone == deciding and list(alone) == list(deciding):
        remember_written(members, part)


def _rest_validated(rest: str) -> BaseModel | None:
    """A tag's text without its record's decision members, validated as ``_TagWithRest`` (the tag's fields and
    its record's plain fields; any other field is refused); None on anything the full path must decide.

    The usual tag is validated straight from its text, which is half the work of parsing it into Python
    values and validating those, when that gives exactly what the strict reader and validation would. That
    reader refuses a key given twice in one object, which parsed values keep once. So the text goes this way
    only when it holds no backslash (every quote then opens or closes a string: no key is written with escapes,
    and the colons outside strings are found by splitting at quotes) and the keys it holds, those colons, are
    exactly the fields validation counts as given (a key given twice is counted once: the text then goes the
    full way). Numbers need nothing more: the strict reader's integer limit is there for Python's integer
    parsing, which slows with the square of the digits, and no field of a tag's rest takes an integer beyond a
    date's. Any other text is parsed by the strict reader and validated (tests/test_tag_rest.py compares the
    two ways on every kind of text, broken and unusual ones included)."""
    if "\\" in rest or not surely_within_limits(rest):
        return _rest_parsed(rest)
    try:
        checked = _TagWithRest.model_validate_json(rest)
    except ValidationError:
        return None
    record = checked.__dict__["record"]
    given = len(checked.__pydantic_fields_set__) + len(record.__pydantic_fields_set__)
    given += sum(len(target.__pydantic_fields_set__) for target in record.__dict__["targets"])
    keys = '"'.join(rest.split('"')[0::2]).count(":")  # the colons outside strings: one per key
    return checked if keys == given else None


def _rest_parsed(rest: str) -> BaseModel | None:
    """``_rest_validated`` the careful way: parsed by the strict reader, then validated."""
    try:
        data = parse_json_text(rest, "tag")
    except DocumentError:
        return None
    record_data = data.get("record") if isinstance(data, dict) else None
    if not isinstance(record_data, dict) or not DECIDING_KEYS.isdisjoint(record_data):
        return None
    try:
        return _TagWithRest.model_validate(data)
    except ValidationError:
        return None


def _decode_written(text: str) -> Tag | None:
    """A tag whose record's decision members are, text for text, members already validated in this process:
    only the rest of the tag is parsed and validated. None whenever this does not apply or anything fails
    (``decode_tag`` then parses and validates the whole tag, and words any problem).

    Exact: the members text was checked, when remembered, to be a complete run of members holding exactly
    the decision part, so the tag parses to that part plus what the text holds without it. The rest is parsed
    with the same reader and limits (a key given twice, in the rest or once in each, goes the full way), and
    the tag is checked like any other: record id, decision digest. The limits hold for the whole tag: its
    nesting, because the members sit where they sat in the tag they were checked in (inside the record, in
    the tag) and the rest is checked; its number of values, bounded from the whole text (a tag too large to
    be sure of goes the full way)."""
    found = _written_members(text)
    if found is None or not surely_within_value_limit(text):
        return None
    begin, end, part = found
    checked = _rest_validated(text[:begin] + text[end + 1:])  # the members and their comma out
    if checked is None:
        return None
    record, decision, content = record_on_part(part, checked.__dict__["record"])
    tag = _tag_of(checked, record, decision, content)
    return tag if tag.content_digest is not None else None
