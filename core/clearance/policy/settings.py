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

from collections.abc import Mapping
from typing import Annotated, Any, Literal, NoReturn, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from clearance.decision import Outcome
from clearance.record import ContentType, CreativeElement, Environment, Stage, Tri


def stricter(kind: str) -> dict[str, Any]:
    return {"stricter": kind}


K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(dict[K, V]):
    """A dict that refuses every change: a policy's tables (tools, rules, validators) are read-only once loaded.

    The engine compiles a policy once and keeps the compiled form on it; an edit in place would be silently
    ignored, so it is refused instead. Make a changed policy with :meth:`Policy.with_changes`.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a loaded policy is read-only; make a changed copy with Policy.with_changes({...})")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __copy__(self) -> FrozenMap[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenMap[K, V]:
        return self  # its values are frozen models

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (dict(self),))


def _freeze(value: Mapping[Any, Any]) -> FrozenMap[Any, Any]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


class Settings(BaseModel):
    # Frozen: the engine keeps a policy's compiled form on the object, so a policy never changes once loaded.
    model_config = ConfigDict(extra="forbid", frozen=True, str_min_length=0)  # whole texts only: see record.Section


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

    # A later layer may only move a fact towards "less known": enterprise -> unknown, "no" -> "unsure".
    provider: str | None = Field(default=None, json_schema_extra=stricter("any"))
    environment: Environment = Field(
        default="unknown",
        description="Where the tool runs: enterprise, self_hosted, consumer or unknown.",
        json_schema_extra=stricter("environment"),
    )
    trains_on_inputs: Tri = Field(
        default="unsure", description="Does it train on inputs or outputs?", json_schema_extra=stricter("tri")
    )
    retains_inputs: Tri = Field(
        default="unsure", description="Does it store or reuse inputs?", json_schema_extra=stricter("tri")
    )
    trains_on_outputs: Tri = Field(
        default="unsure",
        description="Does it train on or reuse what it generates? (read for version 2 records)",
        json_schema_extra=stricter("tri"),
    )
    aliases: tuple[str, ...] = Field(
        default=(),
        description="Other names records may use for it (case-insensitive).",
        json_schema_extra=stricter("subset"),
    )
    notes: str = Field(default="", json_schema_extra=stricter("any"))


class TrustedKey(Settings):
    """One approver key, exactly as `clearance admin keys show` (GET /api/v1/keys) prints it."""

    key_id: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64.")
    created_at: str | None = Field(default=None, description="Informative: when the service made the key.")
    active: bool = Field(default=True, description="Informative: whether the service signs with it now.")
    announced_by: dict[str, str] | None = Field(
        default=None, description="Informative: the rotation announcement the service serves with the key.")


class ApprovalSettings(Settings):
    trusted_keys: tuple[TrustedKey, ...] = Field(
        default=(),
        description=(
            "Approver keys whose signatures are accepted offline: the studio's trust anchor. A later layer may "
            "drop keys but not add any, nor drop them all (that would fall back to pulled keys)."
        ),
        json_schema_extra=stricter("subset_nonempty"),
    )
    @field_validator("trusted_keys", mode="before")
    @classmethod
    def _keys_document(cls, value: Any) -> Any:
        # `clearance admin keys show` prints {"keys": [...]}: pasting it whole under trusted_keys works too.
        if isinstance(value, dict) and isinstance(value.get("keys"), list):
            return value["keys"]
        return value

    keys_file: str | None = Field(
        default=None,
        description=(
            "A keys document (GET /api/v1/keys) to trust as well, e.g. the local cache's keys.json. Only the "
            "first layer (or a signed overlay) may set or change it."
        ),
        json_schema_extra=stricter("fixed"),
    )
    trust_pulled_keys: bool = Field(
        default=True,
        description=(
            "When the policy pins no key (neither trusted_keys nor keys_file), trust the keys `clearance approvals "
            "pull` fetched from the service into the local cache, with a warning, so a fresh machine can check "
            "approvals offline. Pinning keys always turns this off; false refuses every approval until keys are "
            "pinned."
        ),
        json_schema_extra=stricter("false"),
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
    families: tuple[str, ...] = Field(default=("*",), json_schema_extra=stricter("superset"))


class PublishSettings(Settings):
    validators: Annotated[dict[str, ValidatorSetting], AfterValidator(_freeze)] = Field(
        default_factory=FrozenMap, json_schema_extra=stricter("any")
    )
    final_deliverable_families: tuple[str, ...] = Field(
        default=("render", "plate", "delivery", "final", "comp", "editorial"),
        description="Publish families that are final deliverables: temp, ideation and previs material may not go in.",
        json_schema_extra=stricter("superset"),
    )
    queue_disclosures: bool = Field(
        default=True,
        description=(
            "Publish queues a record that was never disclosed in the outbox before any file goes out. "
            "Off: publish is blocked until the artist submits the record."
        ),
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


class NukeHostSettings(Settings):
    fail_closed: bool = Field(
        default=True,
        description=(
            "On a render node (no GUI: nuke -x, -t, -F, farms), a Clearance that fails to load stops every "
            "render with one line saying why. Off: it only prints a warning and renders ungated."
        ),
        json_schema_extra=stricter("true"),
    )
    exempt_outputs: tuple[str, ...] = Field(
        default=(),
        description=(
            "Output path patterns (fnmatch, e.g. '*/review/*') whose Write, DeepWrite and WriteGeo renders are not "
            "gated. Every other writing node is a deliverable unless its own 'not a deliverable' box is ticked."
        ),
        json_schema_extra=stricter("subset"),
    )


def _ai_node_classes() -> tuple[str, ...]:
    # Nuke's own machine-learning nodes, then widely used third-party generative gizmos and plug-ins
    return ("CopyCat", "Inference", "Cattery*", "StableDiffusion*", "SD_*", "ComfyUI*", "DepthAnything*", "Generate*")


def _ai_blender_addons() -> tuple[str, ...]:
    # Python modules of generative add-ons; a datablock carrying an ID property or node group of theirs
    # was made by them (Dream Textures, AI Render, ComfyUI-BlenderAI-node, StableGen)
    return ("dream_textures", "ai_render", "comfyui_blenderai_node", "sdn", "stablegen")


class HostSettings(Settings):
    render_gate: Literal["stop", "warn"] = Field(
        default="stop",
        description=(
            "Before rendering a deliverable with a missing approval: stop the render, or only warn. Only the first "
            "policy file sets it: a production or vendor layer cannot turn a stop into a warning."
        ),
        json_schema_extra=stricter("fixed"),
    )
    nuke: NukeHostSettings = Field(default_factory=NukeHostSettings)
    ai_node_classes: tuple[str, ...] = Field(
        default_factory=_ai_node_classes,
        description=(
            "Nuke node classes (fnmatch patterns) that make generative content: an untagged node of one of "
            "these is reported by the publish check clearance.untagged_ai_nodes."
        ),
        json_schema_extra=stricter("superset"),
    )
    ai_blender_addons: tuple[str, ...] = Field(
        default_factory=_ai_blender_addons,
        description=(
            "Python module names of generative Blender add-ons: an untagged datablock one of them made is "
            "reported by the publish check clearance.untagged_ai_nodes."
        ),
        json_schema_extra=stricter("superset"),
    )
    untagged_ai_nodes: Literal["block", "warn"] = Field(
        default="block",
        description="An untagged generative node or datablock: block the publish (and deliverable renders), or warn.",
        json_schema_extra=stricter("fixed"),
    )


class CredentialSettings(Settings):
    """Content Credentials (C2PA) written into deliverables: who signs, and which publishes sign."""

    cert_chain: str | None = Field(
        default=None,
        description="PEM certificate chain of the vendor's C2PA signing certificate, leaf first (absolute path).",
        json_schema_extra=stricter("fixed"),
    )
    key: str | None = Field(
        default=None, description="PEM private key of that certificate (mode 0600).",
        json_schema_extra=stricter("fixed"),
    )
    signer_command: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "Instead of key: a program that reads the bytes to sign on stdin and writes the raw signature on "
            "stdout (an HSM or signing service client)."
        ),
        json_schema_extra=stricter("fixed"),
    )
    algorithm: Literal["es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"] | None = Field(
        default=None, description="The signing algorithm; default: from the certificate's key type.",
        json_schema_extra=stricter("fixed"),
    )
    tsa_url: str | None = Field(
        default=None, description="An RFC 3161 time-stamp authority URL, so credentials outlive the certificate.",
        json_schema_extra=stricter("any"),
    )
    allow_test_identity: bool = Field(
        default=True,
        description="Sign with the test identity of `clearance credentials init` when no certificate is set.",
        json_schema_extra=stricter("false"),
    )
    sign_on_publish: bool = Field(
        default=True,
        description="Publish writes Content Credentials into every file of the deliverable families.",
        json_schema_extra=stricter("true"),
    )
    families: tuple[str, ...] = Field(
        default=("delivery", "final"),
        description="Publish families whose files are signed on publish (patterns; add render, comp... as needed).",
        json_schema_extra=stricter("superset"),
    )
    composite_families: tuple[str, ...] = Field(
        default=("comp", "plate"),
        description="Families whose files are composites (generated parts in other footage) when signed.",
        json_schema_extra=stricter("any"),
    )


class Thresholds(Settings):
    """The soft words of the source ("where possible", "incidental", ...) as named settings.

    Every field has a conservative default and says which direction is stricter; docs/policy-settings.md
    is the TD's guide to each.
    """

    ideation_low_risk: bool = Field(
        default=True,
        description=(
            'Source: "ideation only (mood boards, reference images, mock-ups) that follows the principles" is low '
            "risk. True: key characters, visuals and settings explored at the ideation stage are not CREATIVE-KEY. "
            "False: CREATIVE-KEY applies at every stage."
        ),
        json_schema_extra=stricter("false"),
    )
    final_stage_is_not_temporary: bool = Field(
        default=True,
        description=(
            'Source principle P4: "generated material is temporary and not part of the final deliverables". True: '
            "material at use.stage final is not temporary, so P4 asks for approval even when the record says it "
            "will not be delivered. False: only in_final_deliverable decides P4."
        ),
        json_schema_extra=stricter("true"),
    )
    creative_key_stages: tuple[Stage, ...] = Field(
        default=("final",),
        description=(
            'Source: key elements escalate "at final-design stage". The stages (besides ideation) at which a key '
            "creative element counts as final design. Default: final; previs and temp material is temporary, and "
            "a key element that may reach the deliverable escalates through in_final_deliverable anyway. Add "
            "previs and temp to treat every stage past ideation as design."
        ),
        json_schema_extra=stricter("superset"),
    )
    creative_key_elements: tuple[CreativeElement, ...] = Field(
        default=("main_character", "secondary_character", "key_visual", "central_setting"),
        description=(
            'Source: "main characters, key visual elements, or fictional settings central to the story". Default also '
            "counts secondary characters: the source's own example is a second killer doll in a hit series. "
            "Remove secondary_character to escalate only main characters."
        ),
        json_schema_extra=stricter("superset"),
    )
    incidental_background_outcome: Outcome = Field(
        default="approval_required",
        description=(
            'Source: "incidental may be low risk, story-relevant escalates". What generated material in a final '
            "deliverable gets when it is incidental background. Default: approval, like any final material; a "
            "studio may lower it to notify. Story-relevant material always escalates."
        ),
        json_schema_extra=stricter("outcome"),
    )
    incidental_creative_elements: tuple[CreativeElement, ...] = Field(
        default=("none", "background"),
        description="Which creative elements can count as incidental background at all (others always escalate).",
        json_schema_extra=stricter("subset"),
    )
    non_enterprise_tools_need_approval: bool = Field(
        default=False,
        description=(
            'Source: tools run in an enterprise-secured environment "where possible"; a non-enterprise tool "must be '
            'known not to train". False: a consumer tool known not to train or retain passes P3 when no sensitive '
            "input goes in. True: every non-enterprise tool needs approval."
        ),
        json_schema_extra=stricter("true"),
    )
    self_hosted_is_enterprise: bool = Field(
        default=True,
        description=(
            "A self-hosted tool (on the vendor's or studio's own machines) counts as an enterprise-secured environment."
        ),
        json_schema_extra=stricter("false"),
    )
    enterprise_implies_no_training: bool = Field(
        default=False,
        description=(
            "Source: enterprise agreements prevent capture, training or resale of inputs. True: on an enterprise "
            'tool an "unsure" answer about training or retention is read as "no" (the studio vouches for its '
            "agreements; the one place where unsure is not judged as the riskier answer). Default False: unsure "
            "stays unsure on every tool, as the baseline rule says."
        ),
        json_schema_extra=stricter("false"),
    )
    require_registered_tools: bool = Field(
        default=False,
        description=(
            "True: a tool that is not in the tool registry needs approval (P3) even when the record answers its facts."
        ),
        json_schema_extra=stricter("true"),
    )
    talent_exception_outcome: Outcome = Field(
        default="approval_required",
        description=(
            "Source: no extra consent is needed as performed, for unsafe activities or when unrecognizable, but "
            '"talent likeness in the output still needs written approval". The outcome of such a replica.'
        ),
        json_schema_extra=stricter("outcome"),
    )
    consent_ref_required: bool = Field(
        default=False,
        description=(
            'True: consent counts as documented only when talent.consent_ref says where it lives; a "yes" '
            "without it is judged as no consent."
        ),
        json_schema_extra=stricter("true"),
    )
    significant_alteration_outcome: Outcome = Field(
        default="approval_required",
        description='Source: a "significant" change to a performance\'s tone, delivery or intent escalates.',
        json_schema_extra=stricter("outcome"),
    )
    union_work_outcome: Outcome = Field(
        default="approval_required",
        description='Source: replacing or "materially" affecting union-represented work needs approvals or agreements.',
        json_schema_extra=stricter("outcome"),
    )
    model_reuse_with_consent_outcome: Outcome = Field(
        default="approval_required",
        description="A talent model reused for another production with every party's documented consent.",
        json_schema_extra=stricter("outcome"),
    )
    cleared_training_outcome: Outcome = Field(
        default="notify",
        description=(
            "Training or fine-tuning on material whose rights are all cleared (DATA-TRAINING only fires above notify)."
        ),
        json_schema_extra=stricter("outcome"),
    )
    factual_content_types: tuple[ContentType, ...] = Field(
        default=("documentary", "unscripted"),
        description=(
            'Source: misleading content is "most acute in documentary and factual work". Which content types are'
            " factual."
        ),
        json_schema_extra=stricter("superset"),
    )
    consent_must_be_registered: bool = Field(
        default=True,
        description=(
            'Version 2 records: consent counts only through consent registry entries (talent.consent_refs) that are in'
            ' force and cover the production, media, use and day ("consent is checked, not trusted"). False: a'
            ' version 2 record that names no entry may still rely on consent_documented, as version 1 records do.'
        ),
        json_schema_extra=stricter("true"),
    )
    cleared_reference_outcome: Outcome = Field(
        default="notify",
        description=(
            "Version 2 records: a reference to a copyrighted work, public figure or deceased person whose permissions"
            " are cleared and cited (or third-party input that is cleared). The approver is still told (notify);"
            " raise it to require approval anyway."
        ),
        json_schema_extra=stricter("outcome"),
    )
    deepfake_outcome: Outcome = Field(
        default="approval_required",
        description=(
            "DISCLOSURE-DEEPFAKE: realistic generated material depicting real people, places or events that reaches"
            " the audience without being disclosed (EU AI Act, Article 50(4))."
        ),
        json_schema_extra=stricter("outcome"),
    )
    deepfake_credits_suffice: bool = Field(
        default=True,
        description=(
            "Article 50(4) lets evidently artistic or fictional work disclose in a way that does not hamper it. True:"
            " a credit counts as telling the audience for non-factual work (factual_content_types always need an"
            " on-screen label). False: only an on-screen label counts."
        ),
        json_schema_extra=stricter("false"),
    )
    factual_real_depiction_outcome: Outcome = Field(
        default="approval_required",
        description=(
            "Generated material depicting real people or events in factual work, even when not presented as authentic."
        ),
        json_schema_extra=stricter("outcome"),
    )


class Policy(Settings):
    """The effective policy: embedded defaults with every layer applied."""

    version: str = Field(
        default="embedded-1", description="A label for reports and manifests.", json_schema_extra=stricter("any")
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    tools: Annotated[dict[str, ToolFacts], AfterValidator(_freeze)] = Field(
        default_factory=FrozenMap,
        description="The tool registry: records naming a tool inherit its facts where they answered unsure.",
        json_schema_extra=stricter("any"),
    )
    rules: Annotated[dict[str, RuleSetting], AfterValidator(_freeze)] = Field(
        default_factory=FrozenMap,
        description="Per rule code: enabled (first file only) and outcome (raise to at least).",
        json_schema_extra=stricter("any"),
    )
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    editorial: EditorialSettings = Field(default_factory=EditorialSettings)
    hosts: HostSettings = Field(default_factory=HostSettings)
    credentials: CredentialSettings = Field(default_factory=CredentialSettings)

    # The engine's compiled form of this policy (rule switches, the tool index, reused findings), made on
    # first use. A copy (model_copy) carries it along, so the engine checks it was made for this very object.
    _compiled: Any = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # Two policies are equal when their settings are; whether either has been compiled yet does not count.
        return isinstance(other, Policy) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> Policy:
        copied = super().__copy__()
        copied._compiled = None  # compiled again for the copy (model_copy(update=...) may change settings)
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Policy:
        copied = super().__deepcopy__(memo)
        copied._compiled = None
        return copied

    def with_changes(self, changes: Mapping[str, Any]) -> Policy:
        """A validated copy with dotted settings changed: ``{"thresholds.ideation_low_risk": False}``.

        Sections are merged: ``{"rules": {"P1": {"enabled": False}}}`` keeps the other rule settings.
        """
        data = self.model_dump(mode="json")
        for dotted, value in changes.items():
            *parents, last = dotted.split(".")
            node = data
            for part in parents:
                node = node.setdefault(part, {})
            if isinstance(value, Mapping) and isinstance(node.get(last), dict):
                node[last] = _merged(node[last], value)
            else:
                node[last] = value
        return Policy.model_validate(data)


def _merged(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out
