"""The GenAI use record: one use of generative AI on a production (docs/spec/use-record.md).

Field names are the contract between vendor and studio: never rename or repurpose one. A missing
tri-state answer means "unsure"; YAML's bare yes/no (read as booleans) are accepted as "yes"/"no".
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from clearance.documents import Document, canonical_json, load_document, parse_text
from clearance.errors import ClearanceError, describe_validation_error

SCHEMA_VERSION: Literal[1] = 1


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
Prominence = Literal["none", "incidental", "story_relevant"]
ContentType = Literal["fiction", "documentary", "unscripted", "marketing"]
ReplicaException = Literal["none", "as_performed", "unsafe_activity", "unrecognizable"]
Alteration = Literal["none", "customary", "significant"]
TargetKind = Literal["shot", "asset", "node", "datablock", "clip", "file"]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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
        default="none", description="For what appears on screen: incidental or story_relevant."
    )
    content_type: Annotated[ContentType, BeforeValidator(_lower)] = Field(
        default="fiction", description="fiction, documentary, unscripted or marketing."
    )


class Inputs(Section):
    """What went INTO the tool."""

    studio_proprietary: Tri = Field(
        default="unsure", description="Unreleased assets, scripts, production images, footage, contracts."
    )
    personal_data: Tri = Field(default="unsure", description="Personal data of cast or crew.")
    third_party_material: Tri = Field(default="unsure", description="Material owned by someone else.")
    talent_material: Tri = Field(default="unsure", description="Images, voice or performance of real performers.")


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
        default="none", description="none, customary (cosmetic, timing, clarity...) or significant."
    )
    consent_documented: Tri = Field(default="unsure", description="Is the performer's consent documented?")
    consent_ref: str | None = Field(default=None, description="Where the signed consent lives.")
    model_from_other_production: Tri = Field(
        default="unsure", description="Is a talent model from another production reused?"
    )
    replaces_union_work: Tri = Field(
        default="unsure", description="Does it replace work usually done by union-represented people?"
    )


class Realism(Section):
    depicts_real_people_or_events: Tri = Field(default="unsure", description="Does it depict real people or events?")
    presented_as_authentic: Tri = Field(
        default="unsure", description="Could it be taken as real footage, statements or archive?"
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

    schema_version: Literal[1] = Field(default=SCHEMA_VERSION, description="The record format version.")
    id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="Made by the client once; submission is idempotent on it."
    )
    production: str = Field(default="", description="The production code, e.g. EXAMPLE_S01.")
    vendor: str | None = Field(default=None, description="The vendor that made the material.")
    declared_by: str | None = Field(default=None, description="Who declared the use.")
    declared_at: datetime | None = Field(default=None, description="When it was declared (ISO 8601).")
    description: str = Field(default="", max_length=20000, description="Free text: what was generated and why.")
    tools: list[Tool] = Field(
        default_factory=list,
        description="One tool, or one per step of a chained workflow (`tool:` for one, `tools:` for a chain).",
    )
    use: Use = Field(default_factory=Use)
    inputs: Inputs = Field(default_factory=Inputs)
    training: Training = Field(default_factory=Training)
    prompt_references: PromptReferences = Field(default_factory=PromptReferences)
    output: Output = Field(default_factory=Output)
    talent: Talent = Field(default_factory=Talent)
    realism: Realism = Field(default_factory=Realism)
    targets: list[Target] = Field(default_factory=list, description="What this use is attached to.")

    @model_validator(mode="before")
    @classmethod
    def _one_tool_or_chain(cls, data: Any) -> Any:
        if isinstance(data, dict) and "tool" in data:
            data = dict(data)
            tool = data.pop("tool")
            if data.get("tools"):
                raise ValueError("give either `tool` (one) or `tools` (a chain), not both")
            data["tools"] = [] if tool is None else ([tool] if isinstance(tool, dict) else tool)
        return data

    @model_serializer(mode="wrap")
    def _write_tool_or_tools(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
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
"""Every tri-state question of a record, dotted, in schema order (``tools[].`` for each chain step)."""


def _sha256(data: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(data)).hexdigest()


def decision_digest(record: UseRecord) -> str:
    """Digest of the decision-relevant fields. A record edited after approval no longer matches."""
    dumped = record.model_dump(mode="json")
    relevant = {k: dumped[k] for k in DECISION_FIELDS if k in dumped}
    if "tool" in dumped:
        relevant["tools"] = [dumped["tool"]]
    return _sha256(relevant)


def content_digest(record: UseRecord) -> str:
    """Digest of the whole record: a resubmission with the same id and digest is a retry, not a new version."""
    return _sha256(record.model_dump(mode="json"))


def record_from_data(data: Any, source: str = "record", document: Document | None = None) -> UseRecord:
    if not isinstance(data, dict):
        raise ClearanceError(f"{source}: a use record must be a mapping of fields, got {type(data).__name__}")
    try:
        return UseRecord.model_validate(data)
    except ValidationError as exc:
        raise ClearanceError(describe_validation_error(exc, source, _line_finder(data, document))) from None


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


def load_record(path: str | Path) -> UseRecord:
    """Read a record from a YAML or JSON file; raises ClearanceError naming file, line and field."""
    doc = load_document(path)
    return record_from_data(doc.data, doc.source, doc)


def parse_record(text: str, source: str = "record") -> UseRecord:
    doc = parse_text(text, source)
    return record_from_data(doc.data, source, doc)


def dump_record(record: UseRecord, fmt: str = "yaml") -> str:
    data = record.model_dump(mode="json", exclude_none=False)
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
