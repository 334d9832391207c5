"""Policy settings for TDs: every soft threshold of the policy is a named setting here.

Layering: embedded defaults -> studio file -> production file -> vendor file. The first file may set
anything; every later layer may only make the policy stricter, unless it is a signed studio overlay.
Each setting says which direction is stricter in ``json_schema_extra={"stricter": KIND}``:

- ``outcome``: a higher outcome (notify < approval_required < prohibited) is stricter
- ``true`` / ``false``: that boolean value is the stricter one
- ``higher`` / ``lower``: that direction of a number is stricter
- ``superset`` / ``subset``: adding / removing list items is stricter
- ``any``: not a strictness matter (labels, addresses)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.decision import Outcome
from clearance.record import Environment, Tri


def stricter(kind: str) -> dict[str, Any]:
    return {"stricter": kind}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RuleSetting(Settings):
    """Per rule code: switch it off (only in the first layer) or raise its outcome."""

    enabled: bool = Field(default=True, json_schema_extra=stricter("true"))
    outcome: Outcome | None = Field(
        default=None,
        description="Raise every finding of this rule to at least this outcome.",
        json_schema_extra=stricter("outcome"),
    )


class ToolFacts(Settings):
    """A tool the studio knows: records that name it inherit these facts where they answered unsure."""

    provider: str | None = Field(default=None, json_schema_extra=stricter("any"))
    environment: Environment = Field(default="unknown", json_schema_extra=stricter("any"))
    trains_on_inputs: Tri = Field(default="unsure", json_schema_extra=stricter("any"))
    retains_inputs: Tri = Field(default="unsure", json_schema_extra=stricter("any"))
    aliases: list[str] = Field(default_factory=list, json_schema_extra=stricter("any"))
    notes: str = Field(default="", json_schema_extra=stricter("any"))


class TrustedKey(Settings):
    key_id: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64.")


class ApprovalSettings(Settings):
    trusted_keys: list[TrustedKey] = Field(
        default_factory=list,
        description="Approver keys whose signatures are accepted offline.",
        json_schema_extra=stricter("subset"),
    )
    keys_file: str | None = Field(
        default=None,
        description="A keys document (GET /api/v1/keys) to trust as well, e.g. the local cache.",
        json_schema_extra=stricter("any"),
    )
    revocations_max_age_hours: float = Field(
        default=24.0,
        description="A cached revocation list older than this is stale: approvals are refused until pulled again.",
        json_schema_extra=stricter("lower"),
    )
    server: str | None = Field(
        default=None, description="The disclosure service URL.", json_schema_extra=stricter("any")
    )


class ValidatorSetting(Settings):
    """AYON-style switches for one publish validator."""

    enabled: bool = Field(default=True, json_schema_extra=stricter("true"))
    optional: bool = Field(default=False, description="The artist may untick it.", json_schema_extra=stricter("false"))
    active: bool = Field(
        default=True, description="Ticked by default when optional.", json_schema_extra=stricter("true")
    )
    families: list[str] = Field(default_factory=lambda: ["*"], json_schema_extra=stricter("superset"))


class PublishSettings(Settings):
    validators: dict[str, ValidatorSetting] = Field(default_factory=dict, json_schema_extra=stricter("any"))
    final_deliverable_families: list[str] = Field(
        default_factory=lambda: ["render", "plate", "delivery", "final", "comp", "editorial"],
        description="Publish families that are final deliverables: temp, ideation and previs material may not go in.",
        json_schema_extra=stricter("superset"),
    )
    queue_disclosures: bool = Field(
        default=True,
        description="Publish queues a record that was never disclosed in the outbox before any file goes out. "
        "Off: publish is blocked until the artist submits the record.",
        json_schema_extra=stricter("false"),
    )
    block_unknown_tools: bool = Field(
        default=False,
        description="A tool missing from the policy's tool registry blocks publish (off: a visible warning).",
        json_schema_extra=stricter("true"),
    )


class EditorialSettings(Settings):
    block_delivery_write: bool = Field(
        default=False,
        description="The OTIO pre_adapter_write hook refuses to write a timeline with blocked clips.",
        json_schema_extra=stricter("true"),
    )


class HostSettings(Settings):
    render_gate: Literal["stop", "warn"] = Field(
        default="stop",
        description="Before rendering a deliverable with a missing approval: stop the render, or only warn.",
        json_schema_extra=stricter("any"),
    )


class Thresholds(Settings):
    """The soft words of the source ("where possible", "incidental", ...) as named settings.

    Filled in by the policy engine's author: every field has a conservative default and a description.
    """


class Policy(Settings):
    """The effective policy: embedded defaults with every layer applied."""

    version: str = Field(
        default="embedded-1", description="A label for reports and manifests.", json_schema_extra=stricter("any")
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    tools: dict[str, ToolFacts] = Field(default_factory=dict, json_schema_extra=stricter("any"))
    rules: dict[str, RuleSetting] = Field(default_factory=dict, json_schema_extra=stricter("any"))
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    editorial: EditorialSettings = Field(default_factory=EditorialSettings)
    hosts: HostSettings = Field(default_factory=HostSettings)
