"""The tag a host stores on a node, datablock, strip, timeline item or clip.

One format for every host, so one set of collectors and validators reads them all: a compact JSON
string holding the record (or at least its id and digest). Hosts keep it in a string property:
Nuke knob ``clearance_tag``, Blender property ``clearance.tag``, OTIO metadata ``clearance`` and a
marker named ``CLEARANCE``, Resolve marker custom data. The digest lets a reader notice a record
edited outside Clearance.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from clearance.documents import DocumentError, parse_json_text
from clearance.errors import ClearanceError, describe_validation_error
from clearance.record import UseRecord, decision_digest, record_and_digests, record_digests

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

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

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
    approval_ids: list[str] = Field(default_factory=list)

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
    return json.dumps(
        tag.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":"), ensure_ascii=False
    )


def decode_tag(text: str | bytes | dict[str, Any], where: str) -> Tag:
    """Parse a stored tag. ``where`` names the node, clip or item for the error message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if isinstance(text, str):
        try:
            data = parse_json_text(text, where)
        except DocumentError as exc:
            problem = exc.problem if exc.problem.startswith(("is ", "has ", "holds ")) else f"is {exc.problem}"
            raise ClearanceError(f"{where}: the Clearance tag {problem}; re-tag it") from None
    else:
        data = text
    if not isinstance(data, dict):
        raise ClearanceError(f"{where}: the Clearance tag is not a JSON object; re-tag it")
    fast = _decode_embedded(data)
    if fast is not None:
        tag, decision, content = fast
        if tag.record is not None and tag.record.id == tag.record_id and decision == tag.digest:
            tag._content_digest = content
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
        decision, content = record_digests(tag.record)  # one encoding of the record for both digests
        if decision != tag.digest:
            raise ClearanceError(
                f"{where}: the record in the Clearance tag was edited outside Clearance (digest mismatch); re-tag it"
            )
        tag._content_digest = content
    return tag


def _decode_embedded(data: dict[str, Any]) -> tuple[Tag, str, str] | None:
    """The tag with its embedded record, validated through ``record_and_digests`` (a decision part seen before
    in this process is not validated, dumped or encoded again), and the record's two digests; None for
    anything else (no embedded record, or any error: ``decode_tag``'s full path then decides and words it)."""
    embedded = data.get("record")
    if not isinstance(embedded, dict):
        return None
    found = record_and_digests(embedded)
    if found is None:
        return None
    try:
        tag = Tag.model_validate({key: value for key, value in data.items() if key != "record"})
    except ValidationError:
        return None
    record, decision, content = found
    tag.record = record  # set as validation sets it: the field counts as given
    return tag, decision, content
