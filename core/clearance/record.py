"""The GenAI use record: one use of generative AI on a production (docs/spec/use-record.md).

Field names are the contract between vendor and studio: never rename or repurpose one. A missing
tri-state answer means "unsure"; YAML's bare yes/no (read as booleans) are accepted as "yes"/"no".
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_serializer,
    model_validator,
)

from clearance.assembled import assembled_model, set_fields_set
from clearance.documents import (
    Document,
    Layout,
    canonical_json,
    canonical_laid_out,
    canonical_layout,
    canonical_members,
    canonical_object,
    load_document,
    parse_text,
)
from clearance.errors import ClearanceError, describe_validation_error

SCHEMA_VERSION = 2
"""The version new records are written in (presets, ``clearance record new``). Version 1 records (release 0.1)
are still read and decided exactly as before; ``clearance record migrate`` rewrites them as version 2."""

UNSTATED_VERSION: Literal[1] = 1
"""A record that does not state ``schema_version`` is version 1, the only version release 0.1 knew: files,
tags and fixtures written before version 2 keep deciding as they did."""

V2: dict[str, Any] = {"since": 2}
"""``json_schema_extra`` of a field added in version 2: a version 1 record may not set it, and it is left out
of a version 1 record's dumps (so its digests, and the approvals bound to them, do not change)."""


def _tri(value: Any) -> Any:
    if value is None:
        return "unsure"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        return value.strip().lower()
    return value


Tri = Annotated[Literal["yes", "no", "unsure"], BeforeValidator(_tri)]
"""A tri-state answer. Missing or null means "unsure", which is never treated as "yes"."""

Environment = Literal["enterprise", "self_hosted", "consumer", "unknown"]
Media = Literal["image", "video", "audio", "voice", "text", "3d", "other"]
Stage = Literal["ideation", "previs", "temp", "final"]
CreativeElement = Literal[
    "none", "background", "secondary_character", "main_character", "key_visual", "central_setting"
]
Prominence = Literal["none", "incidental", "story_relevant", "unsure"]
ContentType = Literal["fiction", "documentary", "unscripted", "marketing"]
ReplicaException = Literal["none", "as_performed", "unsafe_activity", "unrecognizable"]
Alteration = Literal["none", "customary", "tonal", "new_performance", "significant"]
AudienceDisclosure = Literal["none", "credits", "on_screen_label", "unsure"]
TargetKind = Literal["shot", "asset", "node", "datablock", "clip", "file"]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _maybe_tri(value: Any) -> Any:
    return None if value is None else _tri(value)


StepTri = Annotated[Literal["yes", "no", "unsure"] | None, BeforeValidator(_maybe_tri)]
"""A tri-state answer for one chain step; missing (null) means "as the record's inputs say"."""


class Section(BaseModel):
    # str_min_length=0 limits nothing, but pydantic then reads every text as UTF-8, which refuses half of a
    # surrogate pair: JSON can escape one ("\ud800") and Python keeps it, but no digest, file or database can
    # hold it, so it is refused here, naming the field, rather than failing later (tests/test_whole_text.py)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_min_length=0)

    def __setattr__(self, name: str, value: Any) -> None:
        if type(self.__pydantic_fields_set__) is _SharedFields:
            raise TypeError(_read_only_message(self))
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if type(self.__pydantic_fields_set__) is _SharedFields:
            raise TypeError(_read_only_message(self))
        super().__delattr__(name)


class _SharedFields(set[str]):
    """The fields set of a section of a record read from a tag: its type marks the section read-only, since
    records read with the same answers share their sections (see ``SharedPart``). A copy of the section
    (``model_copy``, ``copy.deepcopy``, pickling) gets a plain set, so it is the caller's own, editable."""

    __slots__ = ()

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: Any) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (set, (list(self),))


def _read_only_message(section: Section) -> str:
    return (f"this {type(section).__name__} belongs to a record read from a Clearance tag, whose answers are shared "
            "with the other records read with the same answers: it is read-only; edit a copy "
            "(record.model_copy(deep=True))")


def read_only(record: UseRecord) -> None:
    """Mark ``record``'s sections, at every depth, read-only (its own targets stay editable): what every record
    read from a tag is, however it was read."""
    for name in _SECTION_FIELDS:
        _mark(record.__dict__[name])


def _mark(value: Any) -> None:
    kind = type(value)
    if kind is list:
        for item in value:
            _mark(item)
        return
    nested = _NESTED.get(kind)
    if nested is None:
        # a type first seen (pydantic's isinstance runs Python code: asked once per type)
        if value is None or not isinstance(value, Section):
            return
        nested = _NESTED[kind] = _mutable_fields(type(value))
    fields = value.__pydantic_fields_set__
    if type(fields) is not _SharedFields:  # not yet marked (a part's sections are marked once)
        set_fields_set(value, _SharedFields(fields))
        for name in nested:
            _mark(value.__dict__[name])


_NESTED: dict[type, tuple[str, ...]] = {}
"""``_mutable_fields`` of each section type met, by type (asked for every section of every record marked)."""


class ToolTerms(Section):
    """The tool's terms and conditions as reviewed for this use ("review the terms and conditions")."""

    licence_tier: str | None = Field(default=None, description="e.g. enterprise, team, pro, free.")
    data_terms: str | None = Field(
        default=None, description="What the terms say about inputs and outputs (storage, training, resale)."
    )
    reviewed_on: date | None = Field(default=None, description="When the terms were read (YYYY-MM-DD).")


class StepInputs(Section):
    """What went into one step of a chain; a missing answer means the record's own answer holds."""

    studio_proprietary: StepTri = Field(default=None, description="Studio material went into this step.")
    personal_data: StepTri = Field(default=None, description="Personal data of cast or crew went into this step.")
    talent_material: StepTri = Field(default=None, description="Performers' likeness or voice went into this step.")


class Tool(Section):
    """One tool or model. A chained workflow lists one per step, and every step is judged."""

    name: str = Field(description="The tool's name as the policy's tool registry knows it, e.g. Firefly.")
    provider: str | None = Field(default=None, description="Who makes or hosts it, e.g. Adobe.")
    version: str | None = Field(default=None, description="Model or tool version.")
    environment: Annotated[Environment, BeforeValidator(_lower)] = Field(
        default="unknown",
        description="enterprise (studio agreement), self_hosted, consumer, or unknown (judged as consumer).",
    )
    trains_on_inputs: Tri = Field(default="unsure", description="Does the tool train on what goes in or out? (P2)")
    retains_inputs: Tri = Field(default="unsure", description="Does the tool store or reuse inputs? (P2)")
    trains_on_outputs: Tri = Field(
        default="unsure",
        description="Does the tool train on, or reuse, what it generates for you? Principle 2 covers outputs too. (P2)",
        json_schema_extra=V2,
    )
    terms: ToolTerms | None = Field(
        default=None,
        description="The tool's terms as reviewed: licence tier, data terms and when they were read.",
        json_schema_extra=V2,
    )
    inputs: StepInputs = Field(
        default_factory=StepInputs,
        description=(
            "What went into this step, where a chain's steps saw different material (only the enterprise step saw "
            "the script). Missing answers mean: as the record's inputs say."
        ),
        json_schema_extra=V2,
    )


class Use(Section):
    media: Annotated[Media, BeforeValidator(_lower)] = Field(default="other", description="What was generated.")
    stage: Annotated[Stage, BeforeValidator(_lower)] = Field(
        default="final",
        description="ideation, previs, temp or final. Missing is judged as final, the riskiest stage.",
    )
    in_final_deliverable: Tri = Field(
        default="unsure", description="Will generated material be in what is delivered? (P4)"
    )
    creative_element: Annotated[CreativeElement, BeforeValidator(_lower)] = Field(
        default="none", description="What the material is in the story."
    )
    prominence: Annotated[Prominence, BeforeValidator(_lower)] = Field(
        default="none",
        description=(
            "For what appears on screen: incidental or story_relevant (none: nothing on screen). Version 2 adds "
            "unsure, and there a missing answer means unsure (judged as story_relevant)."
        ),
    )
    content_type: Annotated[ContentType, BeforeValidator(_lower)] = Field(
        default="fiction", description="fiction, documentary, unscripted or marketing."
    )
    human_contribution: Tri = Field(
        default="unsure",
        description=(
            "Does the final material carry meaningful human input (selection, arrangement, changes made by artists)? "
            "Recorded for the approver and the delivery packet."
        ),
        json_schema_extra=V2,
    )


class Inputs(Section):
    """What went INTO the tool."""

    studio_proprietary: Tri = Field(
        default="unsure", description="Unreleased assets, scripts, production images, footage, contracts."
    )
    personal_data: Tri = Field(default="unsure", description="Personal data of cast or crew.")
    third_party_material: Tri = Field(default="unsure", description="Material owned by someone else.")
    talent_material: Tri = Field(default="unsure", description="Images, voice or performance of real performers.")
    studio_proprietary_approval: str | None = Field(
        default=None,
        description="Where the explicit approval to use studio material as input is (a reference to check).",
        json_schema_extra=V2,
    )
    personal_data_approval: str | None = Field(
        default=None,
        description="Where the explicit approval to use personal data as input is.",
        json_schema_extra=V2,
    )
    third_party_cleared: Tri = Field(
        default="unsure",
        description="Is third-party material used as input (not training) cleared for this use? Read where it went in.",
        json_schema_extra=V2,
    )


class Training(Section):
    fine_tuned: Tri = Field(default="unsure", description="Was a model trained or fine-tuned for this use?")
    training_material_cleared: Tri = Field(
        default="unsure",
        description="Is every right in the training material cleared? Read only where fine_tuned is yes.",
    )


class PromptReferences(Section):
    copyrighted_work: Tri = Field(
        default="unsure", description="Do prompts or input images reference a copyrighted work?"
    )
    public_figure: Tri = Field(default="unsure", description="... a public figure?")
    deceased_person: Tri = Field(default="unsure", description="... a deceased person?")
    permissions_cleared: Tri = Field(
        default="unsure",
        description=(
            "Are the permissions for every reference obtained (rights holders, the person, estates for deceased "
            "people)? Read where a reference is made."
        ),
        json_schema_extra=V2,
    )
    permission_refs: tuple[str, ...] = Field(
        default=(),
        description="Where each permission is (references the approver can check); needed for cleared to count.",
        json_schema_extra=V2,
    )


PROMPT_MAX_CHARS = 8000
"""The longest prompt text a record holds. Tools take a few thousand characters at most, and a shared prompt is
written into a deliverable's XMP, which a JPEG holds in one 64 KB segment (XML escapes included)."""

_FORBIDDEN_IN_PROMPT = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))


def _prompt_text(value: Any) -> Any:
    """A prompt is written into XMP (XML 1.0) and C2PA assertions as given, so it must be text XML can hold:
    control characters (other than tab and line breaks) and unpaired surrogates are refused, never dropped."""
    if not isinstance(value, str):
        return value
    if any(ch in _FORBIDDEN_IN_PROMPT for ch in value):
        raise ValueError("holds a control character (only tab and line breaks may appear in a prompt); remove it")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("holds an unpaired UTF-16 surrogate, which is not text; re-type the prompt")
    return value if value.strip() else None


class Prompt(Section):
    """The prompt given to the tool, and whether the deliverables may carry it (IPTC Photo Metadata 2025.1, AI Prompt
    Information). Only `shareable: yes` lets the text out of the studio: into a signed file's XMP and Content
    Credentials, and into the delivery packet (its register, and the records it bundles). With `no` or unsure the
    text stays with the studio: the service, its record page and the hosts' tags keep it; the packet says a prompt
    was withheld. Like the description, the prompt is part of the record's content digest (an edit is a new
    version the approver sees) but not of the decision digest: the policy does not read it, so an approval still
    stands after the prompt is edited or its sharing answer changes."""

    text: Annotated[str | None, BeforeValidator(_prompt_text)] = Field(
        default=None,
        max_length=PROMPT_MAX_CHARS,
        description=(
            f"The prompt (or prompts, one a line) given to the tool, as written; at most {PROMPT_MAX_CHARS} "
            "characters. Recorded for the approver; it goes out only where shareable is yes."
        ),
        json_schema_extra={**V2, "private": True},  # errors never repeat it (clearance.errors)
    )
    shareable: Tri = Field(
        default="unsure",
        description=(
            "May the prompt text go out with the deliverables: the IPTC AI Prompt Information field in a signed "
            "file's XMP, the Clearance assertion of its Content Credentials, the delivery packet? Only yes shares "
            "it; no or unsure (missing) keep it inside the studio."
        ),
        json_schema_extra=V2,
    )

    def shared_text(self) -> str | None:
        """The prompt text when the record allows sharing it; None when it does not, or there is none."""
        return self.text if self.shareable == "yes" and self.text else None

    def withheld(self) -> bool:
        """A prompt is recorded but may not go out (what leaves the studio says so, without the text)."""
        return bool(self.text) and self.shared_text() is None


class Output(Section):
    resembles_unowned_material: Tri = Field(
        default="unsure", description="Does the output recreate identifiable traits of unowned material? (P1)"
    )


class Talent(Section):
    digital_replica: Tri = Field(
        default="unsure", description="A recognizable voice or likeness of an identifiable performer."
    )
    replica_exception: Annotated[ReplicaException, BeforeValidator(_lower)] = Field(
        default="none", description="as_performed, unsafe_activity or unrecognizable: where no extra consent is needed."
    )
    alteration: Annotated[Alteration, BeforeValidator(_lower)] = Field(
        default="none",
        description=(
            "none; customary (cosmetic, timing, clarity...); tonal (a significant change to an existing performance's "
            "tone, delivery or intent); new_performance (words, expressions or actions the performer never "
            "performed, e.g. visual ADR to new unscripted dialogue: a digital replica in the guidance's own terms). "
            "significant is the version 1 answer; in version 2 it is judged as possibly a new performance."
        ),
    )
    consent_documented: Tri = Field(default="unsure", description="Is the performer's consent documented?")
    consent_ref: str | None = Field(default=None, description="Where the signed consent lives.")
    consent_refs: tuple[str, ...] = Field(
        default=(),
        description=(
            "Consent registry entries (ids, `clearance consents list`) covering this use. In version 2 consent is "
            "checked against the registry, not trusted: each must be in force and cover this production, media, use "
            "and date."
        ),
        json_schema_extra=V2,
    )
    model_from_other_production: Tri = Field(
        default="unsure", description="Is a talent model from another production reused?"
    )
    performer_deceased: Tri = Field(
        default="unsure",
        description="Is the performer deceased? Then consent must come from the estate. Read where consent is.",
        json_schema_extra=V2,
    )
    replaces_union_work: Tri = Field(
        default="unsure", description="Does it replace work usually done by union-represented people?"
    )


class Realism(Section):
    depicts_real_people_or_events: Tri = Field(default="unsure", description="Does it depict real people or events?")
    presented_as_authentic: Tri = Field(
        default="unsure", description="Could it be taken as real footage, statements or archive?"
    )
    depicts_real_places: Tri = Field(
        default="unsure", description="Does it depict real, existing places or objects?", json_schema_extra=V2
    )
    photorealistic: Tri = Field(
        default="unsure",
        description="Is it realistic enough to falsely appear authentic to a viewer? (EU AI Act Art. 50(4))",
        json_schema_extra=V2,
    )
    audience_disclosure: Annotated[AudienceDisclosure, BeforeValidator(_lower)] = Field(
        default="unsure",
        description="How the audience is told it is generated: none, credits, on_screen_label (missing: unsure).",
        json_schema_extra=V2,
    )


class Target(Section):
    """What a use is attached to; a target is what a validator checks."""

    kind: Annotated[TargetKind, BeforeValidator(_lower)] = Field(
        description="shot, asset, node, datablock, clip or file."
    )
    ref: str = Field(min_length=1, description="The shot code, asset name, node name, datablock or clip name, or file.")
    path: str | None = Field(default=None, description="A file path where the target is a file.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="Content hash where a file is the target."
    )

    def key(self) -> str:
        """The identity an approval covers: ``kind:ref``."""
        return f"{self.kind}:{self.ref}"


class UseRecord(Section):
    """One use of generative AI on a production."""

    schema_version: Literal[1, 2] = Field(
        default=UNSTATED_VERSION,
        description=(
            "The record format version: 2 (current; written by presets and `clearance record new`) or 1 (release"
            " 0.1, still read and decided as before). A record that does not say is version 1; one that answers a"
            " version 2 question is version 2."
        ),
    )
    id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="Made by the client once; submission is idempotent on it."
    )
    production: str = Field(default="", description="The production code, e.g. EXAMPLE_S01.")
    vendor: str | None = Field(default=None, description="The vendor that made the material.")
    declared_by: str | None = Field(default=None, description="Who declared the use.")
    declared_at: datetime | None = Field(default=None, description="When it was declared (ISO 8601).")
    description: str = Field(default="", max_length=20000, description="Free text: what was generated and why.")
    tools: list[Tool] = Field(
        default_factory=lambda: [],
        description="One tool, or one per step of a chained workflow (`tool:` for one, `tools:` for a chain).",
    )
    use: Use = Field(default_factory=Use)
    inputs: Inputs = Field(default_factory=Inputs)
    training: Training = Field(default_factory=Training)
    prompt_references: PromptReferences = Field(default_factory=PromptReferences)
    prompt: Prompt = Field(
        default_factory=Prompt,
        description=(
            "The prompt text, and whether it may go out with the deliverables. Not read by the policy and"
            " not bound by approvals, like the description; left out of the record's form while unanswered."
        ),
        json_schema_extra=V2,
    )
    output: Output = Field(default_factory=Output)
    talent: Talent = Field(default_factory=Talent)
    realism: Realism = Field(default_factory=Realism)
    # Lambdas, not `list`: pydantic reads a factory's signature when it builds the model, and a builtin's is
    # parsed from text (0.2 ms each; the first also compiles the tokenizer), on every start-up.
    targets: list[Target] = Field(default_factory=lambda: [], description="What this use is attached to.")

    @model_validator(mode="before")
    @classmethod
    def _one_tool_or_chain(cls, data: Any) -> Any:
        if isinstance(data, dict) and "tool" in data:
            data = dict(data)
            tool = data.pop("tool")
            if data.get("tools"):
                raise ValueError("give either `tool` (one) or `tools` (a chain), not both")
            data["tools"] = [] if tool is None else ([tool] if isinstance(tool, dict) else tool)
        if isinstance(data, dict) and data.get("schema_version", UNSTATED_VERSION) in (1, "1") and _v2_answered(data):
            # A record that answers a version 2 question is version 2, whatever it says: its answers are read,
            # never dropped (a host writing every field of the model lands here).
            data = {**data, "schema_version": 2}
        if isinstance(data, dict) and data.get("schema_version", UNSTATED_VERSION) != 1:
            # Version 2: a missing prominence is unsure, like every other missing answer.
            use = data.get("use")
            if use is None or (isinstance(use, dict) and "prominence" not in use):
                data = dict(data)
                data["use"] = {**(use or {}), "prominence": "unsure"}
        return data

    @model_serializer(mode="wrap")
    def _write_tool_or_tools(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if data.get("schema_version") == 1:
            _drop_v2(data)
        if "prompt" in data and _prompt_unanswered(data["prompt"]):
            # An unanswered prompt section is not written: records without a prompt (every version 1 record, and
            # version 2 records made before the section existed) keep their form and both digests.
            del data["prompt"]
        tools = data.pop("tools", [])
        ordered: dict[str, Any] = {}
        for key, value in data.items():
            ordered[key] = value
            if key == "description":
                if len(tools) == 1:
                    ordered["tool"] = tools[0]
                else:
                    ordered["tools"] = tools
        return ordered

    @property
    def tool(self) -> Tool | None:
        return self.tools[0] if self.tools else None


_V2_NAMES: dict[type[BaseModel], frozenset[str]] = {}


def _v2_names(model: type[BaseModel]) -> frozenset[str]:
    names = _V2_NAMES.get(model)
    if names is None:
        names = _V2_NAMES[model] = frozenset(
            name
            for name, info in model.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("since") == 2
        )
    return names


def _unanswered(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_unanswered(v) for v in value.values())
    if isinstance(value, list | tuple):
        return not value
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "unsure"))


def _prompt_unanswered(value: Any) -> bool:
    """No prompt text and no sharing answer. Any text counts, even the word "unsure": a prompt is never dropped."""
    if isinstance(value, Prompt):  # assignment to a validated record validates its sections as they are
        value = value.__dict__
    if not isinstance(value, dict):
        return value is None
    text = value.get("text")
    return not (isinstance(text, str) and text.strip()) and _unanswered({k: v for k, v in value.items() if k != "text"})


def _v2_answered(data: dict[str, Any]) -> bool:
    try:
        _refuse_v2_answers(data)
    except ValueError:
        return True
    return False


_V2_ANSWERS = {("use", "prominence"): ("unsure",), ("talent", "alteration"): ("tonal", "new_performance")}


def _refuse_v2_answers(data: dict[str, Any]) -> None:
    """A version 1 record (release 0.1) may not answer version 2 questions: it is decided as in 0.1."""
    for name, names in _v2_sections().items():
        value = data.get(name)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for field in names.intersection(item):
                if _unanswered(item[field]):
                    continue  # an unanswered version 2 question (a host writing every field) says nothing
                where = f"{name}[{index}]" if isinstance(value, list) else name
                raise ValueError(
                    f"{where}.{field} is a version 2 question, but this record says schema_version: 1; run `clearance"
                    " record migrate FILE` (or set schema_version: 2)"
                )
    prompt = data.get("prompt")
    if prompt is not None and not _prompt_unanswered(prompt):
        raise ValueError(
            "prompt is a version 2 section, but this record says schema_version: 1; run `clearance record migrate"
            " FILE` (or set schema_version: 2)"
        )
    for (section, field), answers in _V2_ANSWERS.items():
        part = data.get(section)
        if isinstance(part, dict) and isinstance(part.get(field), str) and part[field].strip().lower() in answers:
            raise ValueError(
                f"{section}.{field}: {part[field]} is a version 2 answer, but this record says schema_version: 1; run"
                " `clearance record migrate FILE` (or set schema_version: 2)"
            )


_V2_SECTIONS: dict[str, frozenset[str]] = {}


def _v2_sections() -> dict[str, frozenset[str]]:
    if not _V2_SECTIONS:
        for name, info in UseRecord.model_fields.items():
            sub = _section_model(info.annotation)
            if sub is not None and _v2_names(sub):
                key = "tool" if name == "tools" else name
                _V2_SECTIONS[name] = _v2_names(sub)
                if key != name:
                    _V2_SECTIONS[key] = _v2_names(sub)
    return _V2_SECTIONS


def _drop_v2(data: dict[str, Any]) -> None:
    """Leave the version 2 fields out of a version 1 record's dump (its digests stay those of release 0.1)."""
    for name, info in UseRecord.model_fields.items():
        sub = _section_model(info.annotation)
        if sub is None or name not in data:
            continue
        names = _v2_names(sub)
        for item in data[name] if isinstance(data[name], list) else [data[name]]:
            if isinstance(item, dict):
                for field in names:
                    item.pop(field, None)


V2_FIELDS: tuple[str, ...] = ()  # filled below, once the model exists


DECISION_FIELDS = (
    "schema_version",
    "production",
    "tools",
    "use",
    "inputs",
    "training",
    "prompt_references",
    "output",
    "talent",
    "realism",
)
"""What an approval is bound to, besides the record id and targets: an edit to any of these voids it."""

OTHER_FIELDS: set[str] = {name for name in UseRecord.model_fields if name not in DECISION_FIELDS}
"""The rest of a record: its id, who made it and when, its description and its targets."""


def _is_tri(info: Any) -> bool:
    return any(getattr(m, "func", None) is _tri for m in info.metadata)


def field_paths(model: type[BaseModel] | None = None) -> list[str]:
    """Every answerable field of a record as a dotted path, in schema order (``use.stage``,
    ``tools[].environment``, ``targets[].kind``). Hosts build their knobs and properties from this."""
    out: list[str] = []
    for name, info in (model or UseRecord).model_fields.items():
        sub = _section_model(info.annotation)
        if sub is None:
            out.append(name)
            continue
        prefix = f"{name}[]" if _is_list(info.annotation) else name
        out.extend(f"{prefix}.{inner}" for inner in sub.model_fields)
    return out


def _is_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def _section_model(annotation: Any) -> type[BaseModel] | None:
    if _is_list(annotation):
        annotation = annotation.__args__[0]
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _tri_fields() -> tuple[str, ...]:
    out: list[str] = []
    for name, info in UseRecord.model_fields.items():
        sub = _section_model(info.annotation)
        if sub is None:
            continue
        prefix = f"{name}[]" if _is_list(info.annotation) else name
        out.extend(f"{prefix}.{inner}" for inner, sub_info in sub.model_fields.items() if _is_tri(sub_info))
    return tuple(out)


@functools.cache  # the record's fields are fixed: the engine's planner asks about the same few fields again and again
def answer_count(dotted: str) -> int:
    """How many answers a field can take (3 for a tri-state, the choices of a list; 4 for free text)."""
    section, _, name = dotted.partition(".")
    info = UseRecord.model_fields[section]
    if name:
        model = _section_model(info.annotation)
        assert model is not None
        info = model.model_fields[name]
    choices = getattr(info.annotation, "__args__", ()) if get_origin(info.annotation) is Literal else ()
    return len(choices) or 4


TRI_FIELDS: tuple[str, ...] = _tri_fields()

V2_FIELDS = tuple(
    path for path in field_paths() if "." in path and path.split(".")[1] in _v2_names(
        _section_model(UseRecord.model_fields[path.split(".")[0].removesuffix("[]")].annotation)  # type: ignore[arg-type]
    )
)
"""The fields version 2 added (dotted), for hosts and docs."""
"""Every tri-state question of a record, dotted, in schema order (``tools[].`` for each chain step)."""


def _encoded_fields(record: UseRecord) -> dict[str, str]:
    """The record's JSON form, dumped once, as canonical JSON members: both digests are assembled from them
    (tests/test_record_digest.py checks the bytes are exactly ``canonical_json`` of each form)."""
    return canonical_members(record.model_dump(mode="json"))


def _object_digest(members: dict[str, str]) -> str:
    return "sha256:" + hashlib.sha256(canonical_object(members)).hexdigest()


def _decision_members(encoded: dict[str, str]) -> dict[str, str]:
    relevant = {key: encoded[key] for key in DECISION_FIELDS if key in encoded}
    if "tool" in encoded:  # one tool is written ``tool: {...}``; the decision digest always reads a chain
        relevant["tools"] = '"tools":[' + encoded["tool"][len('"tool":'):] + "]"
    return relevant


def decision_digest(record: UseRecord) -> str:
    """Digest of the decision-relevant fields. A record edited after approval no longer matches."""
    return _object_digest(_decision_members(_encoded_fields(record)))


def content_digest(record: UseRecord) -> str:
    """Digest of the whole record: a resubmission with the same id and digest is a retry, not a new version."""
    return _object_digest(_encoded_fields(record))


def record_digests(record: UseRecord) -> tuple[str, str]:
    """``(decision_digest, content_digest)`` of one record version, from one dump and one encoding."""
    encoded = _encoded_fields(record)
    return _object_digest(_decision_members(encoded)), _object_digest(encoded)


DECIDING_KEYS = frozenset((*DECISION_FIELDS, "tool"))
"""The members of a record's data that its decision part is read from (one tool is written ``tool``)."""


PLAIN_REST: frozenset[str] = frozenset(
    name for name in OTHER_FIELDS
    if not (isinstance(UseRecord.model_fields[name].json_schema_extra, dict)
            and UseRecord.model_fields[name].json_schema_extra.get("since") == 2)  # type: ignore[union-attr]
    and not _v2_names(_section_model(UseRecord.model_fields[name].annotation) or Section)
)
"""The fields outside the decision part that the record validator and serializer handle field by field (id,
vendor, who and when, description, targets): neither reads them to decide another field, nor writes them
otherwise than their own type does. A record whose data holds any other field outside its decision part (a
version 2 section, which says what version the record is) is never built from a shared part."""

RecordRest: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RecordRest",
    __config__=ConfigDict(extra="forbid", str_min_length=0),  # as Section's
    **{name: (info.annotation, info) for name, info in UseRecord.model_fields.items() if name in PLAIN_REST},
)
"""``PLAIN_REST`` alone, with UseRecord's own field definitions: validating and dumping it is validating and
dumping those fields of a record (tests/test_record_shared.py compares them)."""

_Maker = Callable[[], Any]


@dataclass(frozen=True, slots=True)
class SharedPart:
    """A decision part validated once: its canonical members as ``canonical_members`` writes them, the decision
    digest they make, and what every record built on it gets besides its own plain fields (``PLAIN_REST``):
    every field in model order with the values full validation gave (texts, numbers, and the sections, which
    every record built on the part shares: they are read-only, see ``read_only``; None in place of a list),
    a maker of each list (every record has a list of its own, of the shared sections), the names of the fields
    full validation counted as set, and the canonical members of the fields neither in the decision part nor
    plain (their defaults, as the serializer writes them)."""

    members: dict[str, str]
    decision: str
    template: dict[str, Any] = dc_field(default_factory=lambda: {})
    makers: tuple[tuple[str, _Maker], ...] = ()
    fields_set: frozenset[str] = frozenset()
    constant_members: dict[str, str] = dc_field(default_factory=lambda: {})
    layout: Layout = ((), ())
    """``canonical_layout`` of the members above with the plain fields: a record's content digest is its
    plain fields' encodings laid into it (``record_on_part``)."""


_PARTS_KEPT = 10_000
PART_BYTES_KEPT = 64 * 1024
"""A decision part larger than this (a chain of thousands of steps, a tool named with a novel) is not
remembered: the memos stay a few megabytes whatever the tags hold."""
_parts: dict[bytes, SharedPart] = {}
"""Decision parts validated in this process, by the canonical JSON of the data they were validated from. In
memory only, bounded, keyed by content; a part is remembered only once its record validated in full."""
_written: dict[str, SharedPart] = {}
"""The same parts by the exact text of their members in a tag (see ``tags.encode_tag``), remembered only once
that text was parsed in full and found to be exactly those members."""


_hinted: set[str] = set()
"""Decision digests stated by tags read in this process: a hint, never trusted, of which decision parts come
back (see ``seen_before``)."""


def seen_before(stated_digest: object) -> bool:
    """Whether a tag stating this decision digest was read before in this process (and note it).

    Sharing a decision part pays off from its second record on; for the first it is pure cost (the memo key,
    the copies kept). So a tag's first record takes the full path, and only a digest stated again sends its
    records through ``record_and_digests``. The stated digest only chooses the path: the memo is keyed by
    the data itself, and both paths check the digest.
    """
    if not isinstance(stated_digest, str):
        return False
    if stated_digest in _hinted:
        return True
    if len(_hinted) >= _PARTS_KEPT * 5:
        _hinted.clear()
    _hinted.add(stated_digest)
    return False


def forget_shared_parts() -> None:
    """Empty the memos and the hints (a bench's first run, a test)."""
    _parts.clear()
    _written.clear()
    _hinted.clear()


def _holds_parts(annotation: Any) -> bool:
    """Whether a field of this type can hold a section or a list (the mutable parts a copy must not share)."""
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel | list)
    if get_origin(annotation) is list:
        return True
    return any(_holds_parts(arg) for arg in getattr(annotation, "__args__", ()))


def _mutable_fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items() if _holds_parts(info.annotation))


_SECTION_FIELDS = tuple(name for name in _mutable_fields(UseRecord) if name not in PLAIN_REST)
"""A record's fields that hold its answers' sections (a chain of tools is a list of them); its targets are its own."""


def _part_of(record: UseRecord, dumped: dict[str, str]) -> SharedPart:
    """The shared part of a record just validated in full from data holding no field outside its decision part
    but plain ones; ``dumped`` is its canonical members."""
    members = {k: v for k, v in dumped.items() if k in DECIDING_KEYS}
    constant = {k: v for k, v in dumped.items() if k not in DECIDING_KEYS and k not in PLAIN_REST}
    template: dict[str, Any] = {}
    makers: list[tuple[str, _Maker]] = []
    read_only(record)  # its sections become the part's, shared by every record built on it
    for name in UseRecord.model_fields:
        value = None if name in PLAIN_REST else record.__dict__[name]
        if isinstance(value, list):  # a chain of tools: each record gets a list of its own, of the shared steps
            makers.append((name, functools.partial(list, tuple(value)) if value else list))
            value = None
        template[name] = value
    return SharedPart(
        members,
        _object_digest(_decision_members(members)),
        template,
        tuple(makers),
        frozenset(record.model_fields_set - PLAIN_REST),
        constant,
        canonical_layout({**members, **constant}, PLAIN_REST),
    )


def record_and_digests(data: dict[str, Any]) -> tuple[UseRecord, str, str, SharedPart] | None:
    """``(record, decision_digest, content_digest, part)`` of a record's JSON data, validating its decision part
    once per distinct content in this process; None when this path cannot answer (the caller validates in full).

    Records made from one preset or tagged across a crowd differ in their id, targets and dates but share
    every answer the policy reads. The decision part (``DECISION_FIELDS``) is validated, dumped and encoded
    the first time its exact data is seen, with the whole record (full validation); a later record with the
    same decision data validates only its plain fields (``PLAIN_REST``) and shares the part's sections, which
    are read-only (``read_only``: so is every section of the record returned, however it was made). The
    record validator reads only the decision part (``tool``/``tools``, version 1 or 2, a missing prominence)
    and any version 2 section, such as a prompt, which makes a version 1 record version 2 (data holding one
    outside the decision part takes the full path), and each plain field validates alone, so the result is
    the record full validation gives, fields set included (tests/test_record_shared.py compares them).
    Anything unusual answers None: data that is not JSON-encodable, any validation error (full validation
    words it).
    """
    if not PLAIN_REST.issuperset(key for key in data if key not in DECIDING_KEYS):
        return None
    deciding = {key: value for key, value in data.items() if key in DECIDING_KEYS}
    try:
        key = canonical_json(deciding)
    except (TypeError, ValueError, UnicodeEncodeError):
        return None
    if len(key) > PART_BYTES_KEPT:
        return None
    part = _parts.get(key)
    if part is not None:
        found = record_with_part(part, {key: value for key, value in data.items() if key not in DECIDING_KEYS})
        return None if found is None else (*found, part)
    try:
        record = UseRecord.model_validate(data)
    except ValidationError:
        return None
    dumped = canonical_members(record.model_dump(mode="json"))
    part = _part_of(record, dumped)
    if len(_parts) >= _PARTS_KEPT:
        _parts.clear()
    _parts[key] = part
    return record, part.decision, _object_digest(dumped), part


_rest_dump = RecordRest.__pydantic_serializer__.to_python


def record_with_part(part: SharedPart, rest: dict[str, Any]) -> tuple[UseRecord, str, str] | None:
    """``(record, decision_digest, content_digest)`` of the record made of a validated decision part and the
    rest of its data (no decision member in it); None for a field that is not plain or on any validation error
    (full validation words it)."""
    if not PLAIN_REST.issuperset(rest):
        return None
    try:
        plain = RecordRest.model_validate(rest)
    except ValidationError:
        return None
    return record_on_part(part, plain)


def record_on_part(part: SharedPart, plain: BaseModel) -> tuple[UseRecord, str, str]:
    """``record_with_part`` of the rest already validated as ``RecordRest`` (a tag validates its own fields
    and its record's rest in one call: ``tags._decode_written``)."""
    fields = part.template.copy()  # every field, in model order: the assignments below keep that order
    fields.update(plain.__dict__)
    for name, make in part.makers:
        fields[name] = make()
    fields_set = set(part.fields_set)
    fields_set.update(plain.__pydantic_fields_set__)
    record = assembled_model(UseRecord, fields, fields_set)
    dumped = _rest_dump(plain, mode="json")
    laid_out = canonical_laid_out(part.layout, dumped) if part.layout[1] else None
    if laid_out is None:  # a part made without a layout
        laid_out = canonical_object({**part.members, **part.constant_members, **canonical_members(dumped)})
    return record, part.decision, "sha256:" + hashlib.sha256(laid_out).hexdigest()


def remember_written(text: str, part: SharedPart) -> None:
    """Remember ``part`` by the exact text of its members in a tag (the caller checked the text is exactly them)."""
    if len(text) > PART_BYTES_KEPT:
        return
    if len(_written) >= _PARTS_KEPT:
        _written.clear()
    _written[text] = part


def written_part(text: str) -> SharedPart | None:
    """The decision part remembered for this exact members text, if any."""
    return _written.get(text)


def without_private_prompt(data: dict[str, Any]) -> dict[str, Any]:
    """A record's data as it may leave the studio (the delivery packet): the text of a prompt it does not allow
    sharing is removed, the rest kept as is. Fails closed: a prompt section that does not validate loses its
    text too. The decision digest does not cover the prompt, so approvals still bind the record."""
    prompt = data.get("prompt")
    if prompt is None:
        return data
    if not isinstance(prompt, dict):
        return {key: value for key, value in data.items() if key != "prompt"}
    if not prompt.get("text"):
        return data
    try:
        if Prompt.model_validate(prompt).shared_text() is not None:
            return data
    except ValidationError:
        pass
    return {**data, "prompt": {**prompt, "text": None}}


def record_from_data(data: Any, source: str = "record", document: Document | None = None) -> UseRecord:
    if not isinstance(data, dict):
        raise ClearanceError(f"{source}: a use record must be a mapping of fields, got {type(data).__name__}")
    try:
        return UseRecord.model_validate(data)
    except ValidationError as exc:
        raise ClearanceError(
            describe_validation_error(
                exc, source, _line_finder(data, document), model=UseRecord,
                reference="docs/record-reference.md lists every field; `clearance schema` prints them",
            )
        ) from None


def _line_finder(data: dict[str, Any], document: Document | None) -> Any:
    """Line lookup that maps errors in ``tools[0]`` back to a file that wrote the single ``tool:`` form."""
    if document is None:
        return None
    if "tool" not in data:
        return document.line_of

    def line_of(loc: Any) -> int | None:
        loc = tuple(loc)
        if loc[:2] == ("tools", 0):
            loc = ("tool", *loc[2:])
        return document.line_of(loc)

    return line_of


def migrate_data(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 record's data as version 2, keeping every answer given; the new questions stay unanswered
    (unsure), except ``use.prominence``, whose missing answer meant ``none`` in version 1."""
    if data.get("schema_version", 1) != 1:
        return data
    out = dict(data)
    out["schema_version"] = 2
    use = dict(out.get("use") or {})
    use.setdefault("prominence", "none")
    out["use"] = use
    return out


RECORD_SUFFIXES = (".yaml", ".yml", ".json")


def record_files_in(folder: Path, recursive: bool = True) -> list[Path]:
    """The record files in a folder, sorted: everything named like a record but folders. A pipe, device or
    broken link named x.yaml is listed, so that reading it refuses it in one line naming it: skipped in
    silence, a record left unread could make a check or a register read as complete."""
    entries = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in entries if p.suffix.lower() in RECORD_SUFFIXES and not p.is_dir())


def load_record(path: str | Path) -> UseRecord:
    """Read a record from a YAML or JSON file; raises ClearanceError naming file, line and field."""
    doc = load_document(path)
    return record_from_data(doc.data, doc.source, doc)


def parse_record(text: str, source: str = "record") -> UseRecord:
    doc = parse_text(text, source)
    return record_from_data(doc.data, source, doc)


def dump_record(record: UseRecord, fmt: str = "yaml") -> str:
    return _dump_data(record.model_dump(mode="json", exclude_none=False), fmt)


def dump_record_form(record: UseRecord, fmt: str = "yaml") -> str:
    """The record as a form to edit (Blender's Edit record): as ``dump_record``, with a version 2 record's
    unanswered prompt section written out, so that whoever edits it sees the question. Read back untouched,
    that section is unanswered again: the record does not change. (``clearance record new`` writes a new
    record's section answered ``shareable: "no"`` instead: nothing is bound to a record not yet made.)"""
    data = record.model_dump(mode="json", exclude_none=False)
    if data.get("schema_version") == 2 and "prompt" not in data:
        form: dict[str, Any] = {}
        for name, part in data.items():
            form[name] = part
            if name == "prompt_references":  # where the model declares it
                form["prompt"] = Prompt().model_dump(mode="json")
        data = form
    return _dump_data(data, fmt)


def _dump_data(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def json_schema() -> dict[str, Any]:
    schema = UseRecord.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Clearance GenAI use record"
    # The file form also accepts `tool` (one step) in place of `tools`.
    schema.setdefault("properties", {})["tool"] = {
        "$ref": "#/$defs/Tool",
        "description": "One tool (same as a one-entry `tools`).",
    }
    return schema
