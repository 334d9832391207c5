"""The rules of the policy: one small pure function per rule code of docs/spec/policy.md.

Each function takes a :class:`Context` (the record, its tools with registry facts filled in, and the
thresholds) and returns the findings of that rule, usually none or one. Functions never read the
policy's per-rule settings (enabled, outcome override): the engine applies those.

How "unsure" is judged (policy.md, Baseline): an unsure or missing answer to a question a rule reads is
judged as the riskier of "yes" and "no", and never below ``approval_required``. Every rule below
therefore treats "unsure" exactly like the risky answer ("yes" for most questions, "no" for
``consent_documented`` and ``training_material_cleared``) and raises the result to at least
``approval_required``; the message then says the outcome comes from an unsure answer. A question is only
"read" where the other answers make it matter (e.g. ``training_material_cleared`` only where
``fine_tuned`` is not "no"; consent only where a replica or a reused talent model is involved), so an
unsure answer to a question that does not matter changes nothing.

Documented decisions where the source is silent or two codes meet:

- TALENT-REPLICA vs TALENT-NO-CONSENT: a replica with documented consent is TALENT-REPLICA
  (approval_required). Without it, or with an unsure answer ("not knowing whether consent exists is judged
  as no consent"), TALENT-NO-CONSENT (prohibited) is added. A stated exception (as performed, unsafe
  activity, unrecognizable) means no extra consent is read, but the likeness still needs written approval.
- TALENT-MODEL-REUSE: reuse with documented consent is approval_required (setting
  ``model_reuse_with_consent_outcome``); without it, or unsure, prohibited.
- TALENT-ALTERATION does not read consent: the source lists it as an escalation, not a no-go.
- ETHICS-MISLEADING: real people or events presented as authentic is prohibited; unsure on either
  question with the other one yes/unsure is judged as both yes. Real depiction in factual work (documentary,
  unscripted) escalates even when not presented as authentic.
- FINAL-DELIVERABLE fires on "yes" and "unsure"; "unsure" also adds P4 (the principle is unanswered).
- A tool chain is judged tool by tool: P2 and P3 give one finding per failing step, naming the step.
- P3: an unknown environment escalates; a consumer tool known not to train or retain passes unless a
  sensitive input (studio material, personal data, talent likeness) goes into it (setting
  ``non_enterprise_tools_need_approval`` makes every non-enterprise tool escalate).
- CREATIVE-KEY: "final-design stage" is ``use.stage: final`` by default (``creative_key_stages``); a key
  element that is, or may be, in the final deliverable escalates at any stage; ideation never does while
  ``ideation_low_risk`` holds. Secondary characters count as key by default (``creative_key_elements``):
  the source's own example is "a second killer doll".
- CREATIVE-REFERENCE also covers ``inputs.third_party_material`` (input images of works owned by others),
  and applies at the ideation stage too: the source lists references among the always-escalate categories.
- Version 2 records (``schema_version: 2``) are judged on the questions version 2 added; version 1
  records are judged exactly as in release 0.1 (the new questions are not read for them).
- Version 2, consent is checked, not trusted: a replica or new performance needs a consent registry entry
  (``talent.consent_refs``) in force that covers the production, media, use and day, given by the performer
  (the estate when ``talent.performer_deceased`` is yes or unsure; all parties for a reused talent model).
  ``alteration: significant`` in a version 2 record is judged as possibly a new performance.
- Version 2, a cleared and cited reference permission (or cleared third-party input) still tells the
  approver (``cleared_reference_outcome``, default notify); cited nothing, uncleared or unsure: approval.
- Version 2, DISCLOSURE-DEEPFAKE only reads material that may reach the audience; a credit counts as telling
  the audience for non-factual work (``deepfake_credits_suffice``), never for documentary or unscripted work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clearance.assembled import assembled_model
from clearance.consent import ConsentBook, needed_use
from clearance.decision import Finding, Outcome
from clearance.policy.rulebook import Rule, RuleSet, when
from clearance.policy.settings import Thresholds
from clearance.record import TRI_FIELDS, UseRecord

SOURCE_URL = (
    "https://partnerhelp.netflixstudios.com/hc/en-us/articles/43393929218323-Using-Generative-AI-in-Content-Production"
)

NOTIFY: Outcome = "notify"
APPROVAL: Outcome = "approval_required"
PROHIBITED: Outcome = "prohibited"
_RANK = {NOTIFY: 0, APPROVAL: 1, PROHIBITED: 2}

CORE = RuleSet("core")
"""The rules of policy.md, declared below one function each; rule packs add theirs (rulebook.py)."""

UNSURE_NOTE = (
    "You answered unsure (or left it blank); unknown is judged as {meaning}, so this needs at least written approval."
)


def _at_least(outcome: Outcome, floor: Outcome) -> Outcome:
    return outcome if _RANK[outcome] >= _RANK[floor] else floor


def _finding(rule: str, outcome: Outcome, cites: list[str], message: str, remedy: str, fields: list[str]) -> Finding:
    """A Finding built without validation: the engine makes tens of thousands per second and the values are ours.

    Equivalent to ``Finding.model_construct(...)`` with every field set, at a fraction of the cost
    (tests validate a sample of these against the model).
    """
    return assembled_model(
        Finding,
        {"rule": rule, "outcome": outcome, "cites": cites, "message": message, "remedy": remedy, "fields": fields},
        {"rule", "outcome", "cites", "message", "remedy", "fields"},
    )


@dataclass(slots=True)
class ToolView:
    """One step of the workflow with the facts the engine judges: the record's answers, with the
    registry's facts filled in where the record said unsure/unknown."""

    index: int
    name: str
    environment: str
    trains_on_inputs: str
    retains_inputs: str
    registered: bool
    inherited: tuple[str, ...] = ()
    trains_on_outputs: str = "unsure"  # read for version 2 records only
    inputs: tuple[str | None, str | None, str | None] = (None, None, None)  # this step's sensitive inputs, if said

    @property
    def label(self) -> str:
        return f"step {self.index + 1} ({self.name})" if self.name else f"step {self.index + 1}"

    def field(self, name: str) -> str:
        return f"tools[{self.index}].{name}"


@dataclass(slots=True)
class Context:
    record: UseRecord
    tools: list[ToolView]
    th: Thresholds
    key_stages: frozenset[str] = field(default_factory=frozenset)
    registry_size: int = 0  # a policy-level fact, like th: the engine's reuse of findings stays per policy
    consents: ConsentBook | None = None  # the registry to check consent references against (version 2)

    def consent_book(self) -> ConsentBook:
        if self.consents is None:
            from clearance.consent import book_in_force

            self.consents = book_in_force()
        return self.consents


# When an answer matters (for questions_read): conditions on the record, declared with the rules' reads.


def _fine_tuned(record: UseRecord) -> bool:
    return record.training.fine_tuned != "no"


def _needs_consent(record: UseRecord) -> bool:
    talent = record.talent
    return talent.digital_replica != "no" and talent.replica_exception == "none"


def _model_reused(record: UseRecord) -> bool:
    return record.talent.model_from_other_production != "no"


def _depicts_real(record: UseRecord) -> bool:
    return record.realism.depicts_real_people_or_events != "no"


def _v2(record: UseRecord) -> bool:
    return record.schema_version >= 2


def _v2_references(record: UseRecord) -> bool:
    refs = record.prompt_references
    return _v2(record) and any(v != "no" for v in (refs.copyrighted_work, refs.public_figure, refs.deceased_person))


def _v2_third_party(record: UseRecord) -> bool:
    return _v2(record) and record.inputs.third_party_material != "no"


def _v2_needs_consent(record: UseRecord) -> bool:
    return _v2(record) and (_needs_consent(record) or record.talent.alteration in ("new_performance", "significant"))


def _v2_shown_real(record: UseRecord) -> bool:
    realism = record.realism
    return _v2(record) and record.use.in_final_deliverable != "no" and (
        realism.depicts_real_people_or_events != "no" or realism.depicts_real_places != "no"
    )


# --------------------------------------------------------------------------------------------- baseline


@CORE.rule(
    'BASELINE',
    title='Every use is disclosed',
    kind='baseline',
    triggers='Always present: every intended use of GenAI, whatever its size.',
    why='The source asks vendors to disclose every intended GenAI use to the studio contact in advance.',
    resolve='Nothing to resolve: submit the record before the work goes ahead.',
    reads=(),
)
def baseline(ctx: Context) -> list[Finding]:
    """Every intended use is disclosed in advance, whatever its size: the lowest outcome is notify."""
    return [
        _finding(
            "BASELINE",
            NOTIFY,
            [],
            "Every use of generative AI is disclosed to the studio before the work goes ahead; this record is that"
            " notice.",
            "Submit the record (`clearance submit`) before using the material.",
            [],
        )
    ]


# ------------------------------------------------------------------------------------------ principles


@CORE.rule(
    'P1',
    title='Does not recreate unowned material',
    kind='principle',
    cites=('P1',),
    triggers='output.resembles_unowned_material is yes or unsure.',
    why=(
        'Outputs must not replicate or substantially recreate identifiable traits of unowned or copyrighted '
        'material.'
    ),
    resolve='Change the output, or request approval with the rights clearance.',
    reads=("output.resembles_unowned_material",),
)
def p1_unowned_material(ctx: Context) -> list[Finding]:
    value = ctx.record.output.resembles_unowned_material
    if value == "no":
        return []
    if value == "yes":
        msg = "The output recreates identifiable traits of material the production does not own."
    else:
        msg = (
            "You don't know whether the output recreates identifiable traits of material the production does not own. "
            + UNSURE_NOTE.format(meaning="yes")
        )
    return [
        _finding(
            "P1",
            APPROVAL,
            ["P1"],
            msg,
            "Change the output until it no longer resembles the other work, or request written approval with the rights"
            " clearance attached.",
            ["output.resembles_unowned_material"],
        )
    ]


def _unregistered_note(ctx: Context, tool: ToolView) -> str:
    if tool.registered or not tool.name:
        return ""
    return f" {tool.name} is not in the studio's tool registry, so its terms are unknown."


@CORE.rule(
    'P2',
    title='Tools do not store or train on inputs',
    kind='principle',
    cites=('P2',),
    triggers=(
        'Any tool step with trains_on_inputs or retains_inputs yes or unsure (after the tool registry fills '
        'in what the record left unsure), or no tool named.'
    ),
    why='Tools must not store, reuse or train on production inputs or outputs; unknown terms count as unsure.',
    resolve='Use an enterprise or registered tool known not to train or retain, or request approval.',
    reads=("schema_version",),
    step_reads=("name", "environment", "trains_on_inputs", "retains_inputs", "trains_on_outputs"),
    source=(
        'Version 2: "Principle 2 covers outputs as well as inputs: a tool that trains on or reuses generated '
        'outputs fails P2" (policy.md, Refinements); tools[].trains_on_outputs is read for version 2 records.'
    ),
)
def p2_no_training_or_retention(ctx: Context) -> list[Finding]:
    if not ctx.tools:
        return [
            _finding(
                "P2",
                APPROVAL,
                ["P2"],
                "The record names no tool, so whether it stores or trains on your inputs is unknown. "
                + UNSURE_NOTE.format(meaning="yes"),
                "Name the tool (`tool:` or `tools:` for a chain) and answer trains_on_inputs and retains_inputs.",
                ["tools"],
            )
        ]
    out: list[Finding] = []
    for tool in ctx.tools:
        bad: list[str] = []
        unsure = False
        parts: list[str] = []
        for name, value, yes_words, unsure_words in (
            (
                "trains_on_inputs",
                tool.trains_on_inputs,
                "trains on what goes in or comes out",
                "may train on what goes in or comes out",
            ),
            ("retains_inputs", tool.retains_inputs, "stores or reuses your inputs", "may store or reuse your inputs"),
            *(
                [("trains_on_outputs", tool.trains_on_outputs, "trains on or reuses what it generates",
                  "may train on or reuse what it generates")]
                if ctx.record.schema_version >= 2 else []
            ),
        ):
            if value == "no":
                continue
            bad.append(tool.field(name))
            unsure = unsure or value == "unsure"
            parts.append(unsure_words if value == "unsure" else yes_words)
        if not bad:
            continue
        msg = f"The tool at {tool.label} {' and '.join(parts)}."
        from_registry = [
            f for f in ("trains_on_inputs", "retains_inputs", "trains_on_outputs")
            if f in tool.inherited and tool.field(f) in bad
        ]
        if from_registry:
            msg += f" (The studio's tool registry says so: {', '.join(from_registry)}.)"
        if unsure:
            msg += _unregistered_note(ctx, tool) + " " + UNSURE_NOTE.format(meaning="yes")
        out.append(
            _finding(
                "P2",
                APPROVAL,
                ["P2"],
                msg,
                "Use a tool with an enterprise agreement or one known not to train on or keep inputs (ask your TD to"
                " add it to the tool registry), or request written approval.",
                bad,
            )
        )
    return out


_SENSITIVE_INPUTS = (
    ("studio_proprietary", "studio material"),
    ("personal_data", "personal data"),
    ("talent_material", "performers' likeness or voice"),
)


@CORE.rule(
    'P3',
    title='Enterprise-secured environment',
    kind='principle',
    cites=('P3',),
    triggers=(
        'A tool step whose environment is unknown; a non-enterprise step that receives sensitive inputs '
        '(studio material, personal data, talent likeness); every non-enterprise step when '
        'non_enterprise_tools_need_approval is set; an unregistered tool when require_registered_tools is '
        'set. A tool missing from a non-empty registry otherwise gets a notify note.'
    ),
    why='Where possible tools run in an enterprise-secured environment that protects inputs.',
    resolve='Use an enterprise-agreement tool, or request approval.',
    reads=("inputs.studio_proprietary", "inputs.personal_data", "inputs.talent_material"),
    step_reads=("name", "environment", "inputs.studio_proprietary", "inputs.personal_data", "inputs.talent_material"),
    source=(
        '"A custom workflow chained from several tools or models is judged tool by tool" (policy.md, '
        'Baseline); version 2 lets each step say what went into it (tools[].inputs), so a consumer upscaler '
        'that saw only generated frames is not judged on the script an enterprise step read.'
    ),
)
def p3_secured_environment(ctx: Context) -> list[Finding]:
    if not ctx.tools:
        return [
            _finding(
                "P3",
                APPROVAL,
                ["P3"],
                "The record names no tool, so where it runs and whether it protects your inputs is unknown. "
                + UNSURE_NOTE.format(meaning="a consumer service"),
                "Name the tool and its environment (enterprise, self_hosted or consumer).",
                ["tools"],
            )
        ]
    inputs = ctx.record.inputs
    out: list[Finding] = []
    for tool in ctx.tools:
        # A chain step that says what went into it is judged on that (version 2: only the enterprise step saw
        # the script); otherwise on the record's inputs.
        sensitive = [
            (name if said is None else f"tools[{tool.index}].inputs.{name}", words)
            for (name, words), said in zip(_SENSITIVE_INPUTS, tool.inputs, strict=True)
            if (getattr(inputs, name) if said is None else said) != "no"
        ]
        finding = _p3_step(ctx, tool, sensitive)
        if finding is None and ctx.registry_size and not tool.registered:
            # A studio that keeps a registry wants to hear about tools it does not know, even harmless ones.
            finding = _finding(
                "P3",
                NOTIFY,
                ["P3"],
                f"The tool at {tool.label} is not in the studio's tool registry; it is judged on the facts this record"
                " declares.",
                "Nothing to do for this use; ask your TD to add the tool to the registry so others inherit its facts.",
                [f"tools[{tool.index}].name"],
            )
        if finding is not None:
            out.append(finding)
    return out


def _p3_step(ctx: Context, tool: ToolView, sensitive: list[tuple[str, str]]) -> Finding | None:
    th = ctx.th
    env = tool.environment
    if env == "unknown":
        msg = (
            f"You don't know where the tool at {tool.label} runs.{_unregistered_note(ctx, tool)} "
            + UNSURE_NOTE.format(meaning="a consumer service")
        )
        return _finding(
            "P3",
            APPROVAL,
            ["P3"],
            msg,
            "Find out whether the tool runs under an enterprise agreement, on your own machines or as a"
            " consumer service, and set its environment (or ask your TD to add it to the tool registry).",
            [tool.field("environment")],
        )
    if not tool.registered and th.require_registered_tools:
        return _finding(
            "P3",
            APPROVAL,
            ["P3"],
            f"The tool at {tool.label} is not in the studio's tool registry, and this policy only accepts"
            " registered tools without approval.",
            "Ask your TD to add the tool to the registry, use a registered tool, or request written approval.",
            [f"tools[{tool.index}].name"],
        )
    if env == "enterprise" or (env == "self_hosted" and th.self_hosted_is_enterprise):
        return None
    where = "a consumer service" if env == "consumer" else "a self-hosted setup this policy does not count as secured"
    if sensitive:
        words = ", ".join(w for _, w in sensitive)
        return _finding(
            "P3",
            APPROVAL,
            ["P3"],
            f"Sensitive inputs ({words}) went into the tool at {tool.label}, which runs as {where}, not in an "
            "enterprise-secured environment.",
            "Use an enterprise-agreement tool for this material, or request written approval.",
            [tool.field("environment")] + [n if n.startswith("tools[") else f"inputs.{n}" for n, _ in sensitive],
        )
    if th.non_enterprise_tools_need_approval:
        return _finding(
            "P3",
            APPROVAL,
            ["P3"],
            f"The tool at {tool.label} runs as {where}; this policy asks for approval for every tool outside an"
            " enterprise-secured environment.",
            "Use an enterprise-agreement tool, or request written approval.",
            [tool.field("environment")],
        )
    return None


@CORE.rule(
    'P4',
    title='Generated material is temporary',
    kind='principle',
    cites=('P4',),
    triggers='use.in_final_deliverable is unsure (yes is FINAL-DELIVERABLE).',
    why='Generated material should be temporary and not part of the final deliverables.',
    resolve='Answer in_final_deliverable; keep generated material out of deliverables or request approval.',
    reads=("use.in_final_deliverable", "use.stage"),
)
def p4_temporary(ctx: Context) -> list[Finding]:
    use = ctx.record.use
    if use.in_final_deliverable == "no" and use.stage == "final" and ctx.th.final_stage_is_not_temporary:
        return [
            _finding(
                "P4",
                APPROVAL,
                ["P4"],
                "The generated material is at the final stage, so it is not temporary: principle P4 expects generated"
                " material to stay temporary even when it is not delivered.",
                "If the material is only for ideation, previs or temp, set use.stage accordingly; otherwise request"
                " written approval.",
                ["use.stage", "use.in_final_deliverable"],
            )
        ]
    if use.in_final_deliverable != "unsure":
        return []
    return [
        _finding(
            "P4",
            APPROVAL,
            ["P4"],
            "You don't know whether the generated material stays temporary or ends up in the final deliverable. "
            + UNSURE_NOTE.format(meaning="in the final deliverable"),
            'Answer use.in_final_deliverable: "no" if the material is only for ideation, previs or temp, otherwise'
            " request written approval.",
            ["use.in_final_deliverable"],
        )
    ]


@CORE.rule(
    'P5',
    title='Talent performances need consent',
    kind='principle',
    cites=('P5',),
    triggers="inputs.talent_material is yes or unsure: performers' images, voice or performance went in.",
    why=(
        'GenAI must not replace or generate talent performances without consent; talent likeness is a '
        'sensitive input that escalates even on enterprise tools.'
    ),
    resolve="Request approval with the performer's consent attached, or leave talent material out.",
    reads=("inputs.talent_material",),
)
def p5_talent_inputs(ctx: Context) -> list[Finding]:
    value = ctx.record.inputs.talent_material
    if value == "no":
        return []
    msg = (
        "Images, voice or performance of real performers went into the tool. Talent likeness is a sensitive input and "
        "needs written approval, even on an enterprise tool."
    )
    if value == "unsure":
        msg = (
            "You don't know whether performers' images, voice or performance went into the tool. "
            + UNSURE_NOTE.format(meaning="yes")
        )
    return [
        _finding(
            "P5",
            APPROVAL,
            ["P5"],
            msg,
            "Request written approval and attach the performer's documented consent (talent.consent_ref); or leave"
            " talent material out.",
            ["inputs.talent_material"],
        )
    ]


# ------------------------------------------------------------------------------------- always escalate


def _yes_or_unsure(ctx: Context, section: str, names: tuple[str, ...]) -> tuple[list[str], bool]:
    obj = getattr(ctx.record, section)
    fields: list[str] = []
    unsure = False
    for name in names:
        value = getattr(obj, name)
        if value != "no":
            fields.append(f"{section}.{name}")
            unsure = unsure or value == "unsure"
    return fields, unsure


@CORE.rule(
    'DATA-PROPRIETARY',
    title='Studio-owned material as input',
    kind='escalate',
    cites=('P2', 'P3'),
    triggers=(
        'inputs.studio_proprietary is yes or unsure (unreleased assets, scripts, production images, footage, '
        'contracts), on any tool including enterprise ones.'
    ),
    why=(
        'Studio material in a GenAI tool can leak or train models; the source escalates it even on enterprise'
        ' tools (e.g. uploading a script to a chatbot).'
    ),
    resolve='Request approval before uploading, or work without the studio material.',
    reads=("inputs.studio_proprietary", "inputs.studio_proprietary_approval"),
)
def data_proprietary(ctx: Context) -> list[Finding]:
    value = ctx.record.inputs.studio_proprietary
    if value == "no":
        return []
    ref = ctx.record.inputs.studio_proprietary_approval
    if value == "yes" and ref:
        return [
            _finding(
                "DATA-PROPRIETARY",
                APPROVAL,
                ["P2", "P3"],
                f"Studio-owned material went into the tool under the approval you cite ({ref}); the approver checks it"
                " and records the decision here, even on an enterprise tool.",
                "Request written approval and make sure the cited approval covers this tool and this material.",
                ["inputs.studio_proprietary", "inputs.studio_proprietary_approval"],
            )
        ]
    if value == "yes":
        msg = (
            "Studio-owned material (unreleased assets, scripts, production images, footage or contracts) went into the"
            " tool. That needs written approval, even on an enterprise tool."
        )
    else:
        msg = "You don't know whether studio-owned material went into the tool. " + UNSURE_NOTE.format(meaning="yes")
    return [
        _finding(
            "DATA-PROPRIETARY",
            APPROVAL,
            ["P2", "P3"],
            msg,
            "Request written approval before uploading, or work without the studio material.",
            ["inputs.studio_proprietary"],
        )
    ]


@CORE.rule(
    'DATA-PERSONAL',
    title='Personal data of cast or crew',
    kind='escalate',
    cites=('P2', 'P3'),
    triggers='inputs.personal_data is yes or unsure.',
    why='Personal data of cast or crew (e.g. a crew contact sheet) must not go into tools without approval.',
    resolve='Remove the personal data, or request approval.',
    reads=("inputs.personal_data", "inputs.personal_data_approval"),
)
def data_personal(ctx: Context) -> list[Finding]:
    value = ctx.record.inputs.personal_data
    if value == "no":
        return []
    ref = ctx.record.inputs.personal_data_approval
    if value == "yes" and ref:
        return [
            _finding(
                "DATA-PERSONAL",
                APPROVAL,
                ["P2", "P3"],
                f"Personal data of cast or crew went into the tool under the approval you cite ({ref}); the approver"
                " checks it and records the decision here.",
                "Request written approval and make sure the cited approval covers this tool and this data.",
                ["inputs.personal_data", "inputs.personal_data_approval"],
            )
        ]
    if value == "yes":
        msg = "Personal data of cast or crew went into the tool. That needs written approval."
    else:
        msg = "You don't know whether personal data of cast or crew went into the tool. " + UNSURE_NOTE.format(
            meaning="yes"
        )
    return [
        _finding(
            "DATA-PERSONAL",
            APPROVAL,
            ["P2", "P3"],
            msg,
            "Remove names, contacts and other personal data from the input, or request written approval.",
            ["inputs.personal_data"],
        )
    ]


@CORE.rule(
    'DATA-TRAINING',
    title='Training on uncleared material',
    kind='escalate',
    cites=('P1', 'P2'),
    triggers='training.fine_tuned is yes or unsure and training.training_material_cleared is no or unsure.',
    why=(
        "Training or fine-tuning on artists', performers' or rights holders' material without clearance (e.g."
        " a style model trained on one artist's past work)."
    ),
    resolve='Clear the rights to all training material, or request approval.',
    reads=("training.fine_tuned", when("training.training_material_cleared", _fine_tuned)),
)
def data_training(ctx: Context) -> list[Finding]:
    training = ctx.record.training
    tuned = training.fine_tuned
    if tuned == "no":
        return []
    cleared = training.training_material_cleared
    fields = ["training.fine_tuned", "training.training_material_cleared"]
    remedy = (
        "Clear the rights of every artist, performer or rights holder whose material trains the model "
        '(then answer training_material_cleared: "yes"), or request written approval.'
    )
    if cleared == "yes":
        if tuned == "unsure":
            return [
                _finding(
                    "DATA-TRAINING",
                    APPROVAL,
                    ["P1", "P2"],
                    "You don't know whether a model was trained or fine-tuned for this use. "
                    + UNSURE_NOTE.format(meaning="yes"),
                    "Find out and answer training.fine_tuned.",
                    ["training.fine_tuned"],
                )
            ]
        outcome = ctx.th.cleared_training_outcome
        if outcome == NOTIFY:
            return []
        return [
            _finding(
                "DATA-TRAINING",
                outcome,
                ["P1", "P2"],
                "A model was trained or fine-tuned for this use on cleared material; this policy still asks for"
                " approval.",
                "Request written approval.",
                fields,
            )
        ]
    lead = (
        "A model was trained or fine-tuned for this use"
        if tuned == "yes"
        else "You don't know whether a model was trained or fine-tuned for this use (judged as yes)"
    )
    if cleared == "no":
        msg = f"{lead}, on artists', performers' or other rights holders' material that is not cleared."
    else:
        msg = f"{lead}, and you don't know whether its training material is cleared (judged as not cleared)."
    if tuned == "unsure" or cleared == "unsure":
        msg += " Unknown answers need at least written approval."
    return [_finding("DATA-TRAINING", APPROVAL, ["P1", "P2"], msg, remedy, fields)]


@CORE.rule(
    'CREATIVE-KEY',
    title='Key creative elements at final design',
    kind='escalate',
    cites=('P4',),
    triggers=(
        'use.creative_element is a key element (main_character, secondary_character, key_visual, '
        'central_setting by default) at a final-design stage (final by default; ideation is always exempt), '
        'or in or maybe in the final deliverable.'
    ),
    why=(
        'Main characters, key visuals and central settings at final-design stage (e.g. a second killer doll '
        'for a game scene in a hit series). Exploring a look on a mood board is ideation and stays notify.'
    ),
    resolve='Keep GenAI to ideation for key elements, or request approval.',
    reads=("use.creative_element", "use.stage", "use.in_final_deliverable"),
)
def creative_key(ctx: Context) -> list[Finding]:
    use = ctx.record.use
    element = use.creative_element
    if element not in ctx.th.creative_key_elements:
        return []
    words = element.replace("_", " ")
    if use.stage in ctx.key_stages:
        return [
            _finding(
                "CREATIVE-KEY",
                APPROVAL,
                ["P4"],
                f"Generated material for a {words} at the {use.stage} stage counts as final design of something central"
                " to the story.",
                "Keep generated material to ideation (mood boards, exploration) and have the final design made by"
                " artists, or request written approval.",
                ["use.creative_element", "use.stage"],
            )
        ]
    final = use.in_final_deliverable
    if final == "no":
        return []
    if final == "yes":
        msg = f"Generated material for a {words} will be in the final deliverable."
    else:
        msg = f"Generated material for a {words} may end up in the final deliverable. " + UNSURE_NOTE.format(
            meaning="yes"
        )
    return [
        _finding(
            "CREATIVE-KEY",
            APPROVAL,
            ["P4"],
            msg,
            "Keep the generated material out of the final design, or request written approval.",
            ["use.creative_element", "use.in_final_deliverable"],
        )
    ]


@CORE.rule(
    'CREATIVE-REFERENCE',
    title='References to works or real people',
    kind='escalate',
    cites=('P1',),
    triggers=(
        'prompt_references.copyrighted_work, public_figure or deceased_person, or '
        'inputs.third_party_material, is yes or unsure.'
    ),
    why=(
        'Prompts or input images referencing copyrighted works, public figures or deceased people (e.g. '
        '"inspired by a famous magazine cover photo", "a character with a named movie star\'s nose").'
    ),
    resolve='Rewrite the prompt without the reference, or request approval.',
    reads=(
        "prompt_references.copyrighted_work",
        "prompt_references.public_figure",
        "prompt_references.deceased_person",
        "inputs.third_party_material",
        "schema_version",
        when("prompt_references.permissions_cleared", _v2_references),
        "prompt_references.permission_refs",
        when("inputs.third_party_cleared", _v2_third_party),
    ),
    source=(
        'Version 2: "prompts referencing copyrighted works, public figures or deceased people need appropriate'
        ' permissions" (estates too). Cleared, with the permissions cited: the approver is still told'
        " (cleared_reference_outcome, default notify); not cleared or unsure: written approval."
    ),
)
def creative_reference(ctx: Context) -> list[Finding]:
    if ctx.record.schema_version >= 2:
        return _creative_reference_v2(ctx)
    fields, unsure = _yes_or_unsure(ctx, "prompt_references", ("copyrighted_work", "public_figure", "deceased_person"))
    third = ctx.record.inputs.third_party_material
    if third != "no":
        fields.append("inputs.third_party_material")
        unsure = unsure or third == "unsure"
    if not fields:
        return []
    names = {
        "prompt_references.copyrighted_work": "a copyrighted work",
        "prompt_references.public_figure": "a public figure",
        "prompt_references.deceased_person": "a deceased person",
        "inputs.third_party_material": "material owned by someone else",
    }
    what = ", ".join(names[f] for f in fields)
    msg = (
        f"Prompts or input images reference {what} (or you don't know whether they do)."
        if unsure
        else f"Prompts or input images reference {what}."
    )
    if unsure:
        msg += " " + UNSURE_NOTE.format(meaning="yes")
    return [
        _finding(
            "CREATIVE-REFERENCE",
            APPROVAL,
            ["P1"],
            msg,
            "Rewrite the prompt without the named work or person and drop third-party input images, or request written"
            " approval.",
            fields,
        )
    ]


def _creative_reference_v2(ctx: Context) -> list[Finding]:
    record = ctx.record
    refs = record.prompt_references
    named, unsure = _yes_or_unsure(ctx, "prompt_references", ("copyrighted_work", "public_figure", "deceased_person"))
    parts: list[str] = []
    fields: list[str] = list(named)
    outcome: Outcome = NOTIFY
    cleared_outcome = ctx.th.cleared_reference_outcome
    if named:
        what = ", ".join(f.split(".")[1].replace("_", " ") for f in named)
        if unsure:
            outcome = APPROVAL
            parts.append(f"You don't know whether prompts or input images reference a {what} (judged as yes).")
        elif refs.permissions_cleared == "yes" and refs.permission_refs:
            outcome = _at_least(outcome, cleared_outcome)
            parts.append(
                f"Prompts reference a {what}; the permissions are cleared ({', '.join(refs.permission_refs)}), so the"
                " approver is told and checks them."
            )
            fields += ["prompt_references.permissions_cleared", "prompt_references.permission_refs"]
        else:
            outcome = APPROVAL
            if refs.permissions_cleared == "yes":
                why = "marked cleared, but no permission is cited (prompt_references.permission_refs)"
            elif refs.permissions_cleared == "unsure":
                why = "you don't know whether the permissions are cleared (judged as not cleared)"
            else:
                why = "the permissions are not cleared"
            parts.append(f"Prompts or input images reference a {what}, and {why}.")
            fields.append("prompt_references.permissions_cleared")
    third = record.inputs.third_party_material
    if third != "no":
        fields.append("inputs.third_party_material")
        cleared = record.inputs.third_party_cleared
        if third == "yes" and cleared == "yes":
            outcome = _at_least(outcome, cleared_outcome)
            parts.append("Third-party material went in as input, cleared for this use.")
        else:
            outcome = APPROVAL
            lead = (
                "Third-party material went in"
                if third == "yes"
                else "You don't know whether third-party material went in"
            )
            state = {"no": "not cleared", "unsure": "not known to be cleared"}.get(cleared, "cleared")
            parts.append(f"{lead} as input ({state}).")
        fields.append("inputs.third_party_cleared")
    if not parts:
        return []
    if outcome == APPROVAL and ("unsure" in (third, record.inputs.third_party_cleared) or unsure):
        parts.append(UNSURE_NOTE.format(meaning="the riskier answer"))
    return [
        _finding(
            "CREATIVE-REFERENCE",
            outcome,
            ["P1"],
            " ".join(parts),
            "Obtain and cite the permissions (rights holders, the person, or the estate) and clear third-party input,"
            " or rewrite the prompt without the reference; otherwise request written approval.",
            fields,
        )
    ]


_EXCEPTION_WORDS = {
    "as_performed": "the output stays substantially as scripted, performed or recorded",
    "unsafe_activity": "it shows an activity the performer cannot safely perform",
    "unrecognizable": "it leaves the performer unrecognizable",
}


def _consent(ctx: Context) -> tuple[str, bool]:
    """The consent answer as judged, and whether it is only 'no' because its reference is missing."""
    talent = ctx.record.talent
    value = talent.consent_documented
    if value == "yes" and ctx.th.consent_ref_required and not (talent.consent_ref or "").strip():
        return "no", True
    return value, False


def _checked_consent(ctx: Context, party: str = "", use: str | None = None) -> tuple[str, str]:
    """Version 2: consent as the registry says (yes/no and one line why); version 1: the record's answer.

    A version 2 record's consent counts only through registry entries in force that cover this production,
    media, use and day, given by the party the use needs (policy.md, Refinements), unless the policy lets a
    documented "yes" stand (consent_must_be_registered: false) and the record names no entry.
    """
    record = ctx.record
    if record.schema_version < 2 or (not ctx.th.consent_must_be_registered and not record.talent.consent_refs):
        value, missing = _consent(ctx)
        note = "talent.consent_ref does not say where the consent lives, which this policy requires" if missing else ""
        return value, note
    if not party:
        party = "estate" if record.talent.performer_deceased != "no" else "performer"
    verdict = ctx.consent_book().judge(record, party=party, use=use or needed_use(record))  # type: ignore[arg-type]
    return ("yes" if verdict.given else "no"), verdict.reason


def _new_performance(ctx: Context) -> bool:
    """Version 2: a new performance (or a significant change that may be one) needs consent like a replica."""
    return ctx.record.schema_version >= 2 and ctx.record.talent.alteration in ("new_performance", "significant")


# TALENT-REPLICA and TALENT-NO-CONSENT turn on the same answers (the replica or new performance, and the
# consent that covers it), so an answer that changes one re-decides both.
_REPLICA_CONSENT_READS = (
    "talent.digital_replica",
    "talent.replica_exception",
    when("talent.consent_documented", _needs_consent),
    "talent.consent_ref",
    "schema_version",
    "talent.alteration",
    "talent.consent_refs",
    when("talent.performer_deceased", _v2_needs_consent),
    "production",
    "use.media",
)


def _replica_needs_consent(ctx: Context) -> bool:
    talent = ctx.record.talent
    return (talent.digital_replica != "no" and talent.replica_exception == "none") or _new_performance(ctx)


@CORE.rule(
    'TALENT-REPLICA',
    title='Digital replica of real talent',
    kind='escalate',
    cites=('P5',),
    triggers=(
        'talent.digital_replica is yes or unsure (voice clone, de-ageing, digital double), including the '
        'stated exceptions, which need no extra consent but still need approval for the likeness.'
    ),
    why=(
        'A digital performer, voice or likeness of real talent needs explicit, documented consent and guild '
        'compliance.'
    ),
    resolve='Document consent (consent_documented, consent_ref), then request approval.',
    reads=_REPLICA_CONSENT_READS,
    consents=True,
    source=(
        'Version 2: "A new performance of real talent ... such as visual ADR that alters lip-sync or facial '
        "performance to match new, unscripted dialogue, is a digital replica in the guidance's own "
        'definition"; "consent is checked, not trusted: a consent reference counts only when it names a '
        'registry entry that is in force and covers this production, media kind, use and date" (policy.md, '
        'Refinements).'
    ),
)
def talent_replica(ctx: Context) -> list[Finding]:
    talent = ctx.record.talent
    replica = talent.digital_replica
    if _new_performance(ctx) and (replica == "no" or talent.replica_exception != "none"):
        return _new_performance_finding(ctx)
    if replica == "no":
        return []
    prefix = ""
    if replica == "unsure":
        prefix = (
            "You don't know whether the output is a recognizable voice or likeness of a real performer (judged as"
            " yes). "
        )
    fields = ["talent.digital_replica"]
    if talent.replica_exception != "none":
        why = _EXCEPTION_WORDS[talent.replica_exception]
        outcome = ctx.th.talent_exception_outcome
        if replica == "unsure":
            outcome = _at_least(outcome, APPROVAL)
        return [
            _finding(
                "TALENT-REPLICA",
                outcome,
                ["P5"],
                prefix
                + f"No extra consent is needed because {why}, but a performer's likeness in the output still needs"
                " written approval.",
                "Request written approval; keep the performer's agreement on file.",
                [*fields, "talent.replica_exception"],
            )
        ]
    if ctx.record.schema_version >= 2:
        return _replica_v2(ctx, prefix)
    consent, _ = _consent(ctx)
    fields.append("talent.consent_documented")
    if consent == "yes":
        ref = talent.consent_ref
        msg = (
            prefix
            + "A digital replica of a real performer (voice, likeness or digital double) needs explicit, documented"
            " consent and guild compliance."
        )
        msg += (
            f" Consent is on file ({ref})."
            if ref
            else " Consent is marked as documented; add where it lives (talent.consent_ref)."
        )
        return [
            _finding(
                "TALENT-REPLICA",
                APPROVAL,
                ["P5"],
                msg,
                "Request written approval with the consent reference and guild paperwork attached.",
                fields + (["talent.consent_ref"] if not ref else []),
            )
        ]
    return [
        _finding(
            "TALENT-REPLICA",
            APPROVAL,
            ["P5"],
            prefix
            + "A digital replica of a real performer needs explicit, documented consent and guild compliance before it"
            " can be approved.",
            'Get the performer\'s signed consent, record it (consent_documented: "yes", consent_ref), then request'
            " written approval.",
            fields,
        )
    ]


def _replica_v2(ctx: Context, prefix: str) -> list[Finding]:
    consent, why = _checked_consent(ctx)
    lead = (
        prefix + "A digital replica of a real performer (voice, likeness or digital double) needs explicit, documented"
        " consent and guild compliance."
    )
    if consent == "yes":
        return [
            _finding(
                "TALENT-REPLICA",
                APPROVAL,
                ["P5"],
                f"{lead} Checked: {why}.",
                "Request written approval with the guild paperwork attached.",
                ["talent.digital_replica", "talent.consent_refs"],
            )
        ]
    return [
        _finding(
            "TALENT-REPLICA",
            APPROVAL,
            ["P5"],
            f"{lead} No consent holds: {why}.",
            "Have legal register the performer's signed consent (`clearance consents list` shows the entries), name"
            " it in talent.consent_refs, then request written approval.",
            ["talent.digital_replica", "talent.consent_refs"],
        )
    ]


def _new_performance_finding(ctx: Context) -> list[Finding]:
    consent, why = _checked_consent(ctx)
    alteration = ctx.record.talent.alteration
    lead = (
        "A new performance of real talent (words, expressions or actions they never performed, such as visual ADR to"
        " new unscripted dialogue) is a digital replica in the guidance's own definition."
    )
    if alteration == "significant":
        lead = (
            "A significant change to a performance may be a new performance (answer talent.alteration: tonal or"
            " new_performance); judged as a new performance, which is a digital replica in the guidance's definition."
        )
    state = f"Checked: {why}." if consent == "yes" else f"No consent holds: {why}."
    return [
        _finding(
            "TALENT-REPLICA",
            APPROVAL,
            ["P5"],
            f"{lead} {state}",
            "Name the registry entry of the performer's consent covering a new performance (talent.consent_refs), then"
            " request written approval.",
            ["talent.alteration", "talent.consent_refs"],
        )
    ]


@CORE.rule(
    'TALENT-ALTERATION',
    title='Significant change to a performance',
    kind='escalate',
    cites=('P5',),
    triggers=(
        'talent.alteration is significant. Customary alterations (cosmetics, wardrobe, noise reduction, '
        'timing, continuity, pitch, clarity, dubbing or doubles allowed by agreements) are not this rule.'
    ),
    why=(
        "A significant change to a performance's tone, delivery or intent (e.g. visual ADR: lip-sync altered "
        'to new unscripted dialogue).'
    ),
    resolve="Request approval with the performer's consent.",
    reads=("talent.alteration",),
    source=(
        'Version 2: "A tonal change to an existing performance stays TALENT-ALTERATION" (policy.md, '
        'Refinements); a new performance is TALENT-REPLICA / TALENT-NO-CONSENT.'
    ),
)
def talent_alteration(ctx: Context) -> list[Finding]:
    alteration = ctx.record.talent.alteration
    if alteration == "tonal":
        return [
            _finding(
                "TALENT-ALTERATION",
                ctx.th.significant_alteration_outcome,
                ["P5"],
                "The tone, delivery or intent of an existing performance is changed significantly.",
                "Request written approval with the performer's consent; customary changes need none (alteration:"
                " customary); words or actions never performed are a new_performance.",
                ["talent.alteration"],
            )
        ]
    if alteration != "significant":
        return []
    return [
        _finding(
            "TALENT-ALTERATION",
            ctx.th.significant_alteration_outcome,
            ["P5"],
            "The performance's tone, delivery or intent is changed significantly (for example lip-sync altered to new"
            " dialogue).",
            "Request written approval with the performer's consent; customary changes (cosmetics, timing, clarity,"
            " pitch, noise reduction, continuity) need none and can be declared as alteration: customary.",
            ["talent.alteration"],
        )
    ]


@CORE.rule(
    'FINAL-DELIVERABLE',
    title='Generated material in final deliverables',
    kind='escalate',
    cites=('P4',),
    triggers=(
        'use.in_final_deliverable is yes or unsure. Incidental background may be configured down to notify '
        '(incidental_background_outcome); story-relevant material always escalates.'
    ),
    why=(
        'Generated material in final deliverables, even in the background (signage, posters, documents, news '
        'clippings).'
    ),
    resolve='Replace with artist-made or licensed material, or request approval.',
    reads=("use.in_final_deliverable", "use.prominence", "use.creative_element"),
)
def final_deliverable(ctx: Context) -> list[Finding]:
    use = ctx.record.use
    final = use.in_final_deliverable
    if final == "no":
        return []
    fields = ["use.in_final_deliverable"]
    unsure = final == "unsure"
    lead = (
        "Generated material will be in the final deliverable"
        if not unsure
        else "Generated material may be in the final deliverable"
    )
    th = ctx.th
    if use.prominence == "story_relevant":
        outcome: Outcome = APPROVAL
        msg = f"{lead}, and it is story-relevant (read aloud, referenced or plot-bearing), which always needs approval."
        fields.append("use.prominence")
    elif use.prominence == "incidental" and use.creative_element in th.incidental_creative_elements:
        outcome = th.incidental_background_outcome
        fields.append("use.prominence")
        if outcome == NOTIFY:
            msg = f"{lead} as incidental background; this policy lets incidental background go ahead on notification."
        else:
            msg = f"{lead}, even if only as incidental background (signage, posters, documents)."
    else:
        outcome = APPROVAL
        msg = f"{lead}, even in the background (signage, posters, documents, news clippings)."
    if unsure:
        msg += " " + UNSURE_NOTE.format(meaning="yes")
        outcome = _at_least(outcome, APPROVAL)
    return [
        _finding(
            "FINAL-DELIVERABLE",
            outcome,
            ["P4"],
            msg,
            "Replace it with artist-made or licensed material before delivery, or request written approval.",
            fields,
        )
    ]


@CORE.rule(
    'UNION-WORK',
    title='Replacing union-covered work',
    kind='escalate',
    cites=('P5',),
    triggers='talent.replaces_union_work is yes or unsure.',
    why=(
        'Replacing or materially affecting work usually done by union-represented people without approvals or'
        ' agreements (e.g. a generated crowd replacing booked background actors).'
    ),
    resolve='Check the union agreements, then request approval.',
    reads=("talent.replaces_union_work",),
)
def union_work(ctx: Context) -> list[Finding]:
    value = ctx.record.talent.replaces_union_work
    if value == "no":
        return []
    if value == "yes":
        outcome = ctx.th.union_work_outcome
        msg = (
            "It replaces or materially affects work usually done by union-represented people (for example booked"
            " background actors)."
        )
    else:
        outcome = _at_least(ctx.th.union_work_outcome, APPROVAL)
        msg = "You don't know whether it replaces work usually done by union-represented people. " + UNSURE_NOTE.format(
            meaning="yes"
        )
    return [
        _finding(
            "UNION-WORK",
            outcome,
            ["P5"],
            msg,
            "Check the union agreements with production, then request written approval.",
            ["talent.replaces_union_work"],
        )
    ]


# ------------------------------------------------------------------------------------------------ no-go


@CORE.rule(
    'ETHICS-MISLEADING',
    title='Could be mistaken for real',
    kind='no-go',
    triggers=(
        'realism.depicts_real_people_or_events and realism.presented_as_authentic are yes or unsure '
        '(prohibited). Real depiction in factual work (documentary, unscripted) not presented as authentic: '
        'approval_required.'
    ),
    why=(
        'Content that could be mistaken for real events, people or statements that never happened, presented '
        "as authentic (fabricated footage, dialogue, archival images, a real journalist's fabricated "
        'statement); most acute in documentary and factual work.'
    ),
    resolve='Do not present it as authentic; make it a clearly labelled reconstruction.',
    reads=(
        "realism.depicts_real_people_or_events",
        when("realism.presented_as_authentic", _depicts_real),
        "use.content_type",
    ),
)
def ethics_misleading(ctx: Context) -> list[Finding]:
    realism = ctx.record.realism
    real = realism.depicts_real_people_or_events
    if real == "no":
        return []
    authentic = realism.presented_as_authentic
    fields = ["realism.depicts_real_people_or_events", "realism.presented_as_authentic"]
    if authentic != "no":
        unsure = real == "unsure" or authentic == "unsure"
        msg = (
            "It could be mistaken for real events, people or statements that never happened, presented as authentic "
            "(fabricated footage, dialogue, archival images, a real journalist's statement), even in the background."
        )
        if unsure:
            msg += " You answered unsure; unknown is judged as yes, and this is a no-go."
        return [
            _finding(
                "ETHICS-MISLEADING",
                PROHIBITED,
                [],
                msg,
                "Do not use it as authentic material. Make it clearly a reconstruction (labelled, stylised, not "
                'passed off as real), then answer presented_as_authentic: "no".',
                fields,
            )
        ]
    th = ctx.th
    if ctx.record.use.content_type in th.factual_content_types:
        outcome = th.factual_real_depiction_outcome
        if real == "unsure":
            outcome = _at_least(outcome, APPROVAL)
        return [
            _finding(
                "ETHICS-MISLEADING",
                outcome,
                [],
                f"Generated material depicts real people or events in {ctx.record.use.content_type} work, where "
                "misleading the audience is most acute, even when not presented as authentic.",
                "Label it clearly as a reconstruction, and request written approval.",
                [*fields, "use.content_type"],
            )
        ]
    if real == "unsure":
        return [
            _finding(
                "ETHICS-MISLEADING",
                APPROVAL,
                [],
                "You don't know whether it depicts real people or events. " + UNSURE_NOTE.format(meaning="yes"),
                "Answer realism.depicts_real_people_or_events, or request written approval.",
                ["realism.depicts_real_people_or_events"],
            )
        ]
    return []


@CORE.rule(
    'TALENT-NO-CONSENT',
    title='Replica without consent',
    kind='no-go',
    cites=('P5',),
    triggers=(
        'talent.digital_replica is yes or unsure, no exception applies (replica_exception: none), and '
        'talent.consent_documented is no or unsure.'
    ),
    why=(
        'A digital replica or new performance of real talent without documented consent; not knowing whether '
        'consent exists is judged as no consent.'
    ),
    resolve="Get and record the performer's written consent, then request approval.",
    reads=_REPLICA_CONSENT_READS,
    consents=True,
    source=(
        'Version 2: a new performance or replica "without documented consent that covers it, TALENT-NO-'
        'CONSENT (prohibited), as a declared replica is"; consent given by "the performer; an estate for '
        'deceased people; all parties for a model reused elsewhere" (policy.md, Refinements).'
    ),
)
def talent_no_consent(ctx: Context) -> list[Finding]:
    if not _replica_needs_consent(ctx):
        return []
    if ctx.record.schema_version >= 2:
        return _no_consent_v2(ctx)
    consent, missing_ref = _consent(ctx)
    if consent == "yes":
        return []
    talent = ctx.record.talent
    msg = "A digital replica or new performance of a real performer without documented consent is a no-go."
    if missing_ref:
        msg += (
            " Consent is marked as documented but talent.consent_ref does not say where it lives, and this policy"
            " requires it."
        )
    elif consent == "unsure":
        msg += " You answered unsure about consent; not knowing whether consent exists is judged as no consent."
    if talent.digital_replica == "unsure":
        msg += " (You were unsure whether it is a replica; judged as yes.)"
    fields = ["talent.digital_replica", "talent.consent_documented"] + (["talent.consent_ref"] if missing_ref else [])
    return [
        _finding(
            "TALENT-NO-CONSENT",
            PROHIBITED,
            ["P5"],
            msg,
            "Stop and get the performer's explicit written consent (and guild compliance); then record it "
            '(consent_documented: "yes", consent_ref) and request approval. If the output stays as performed, '
            "shows an unsafe activity or is unrecognizable, set talent.replica_exception.",
            fields,
        )
    ]


def _no_consent_v2(ctx: Context) -> list[Finding]:
    consent, why = _checked_consent(ctx)
    if consent == "yes":
        return []
    talent = ctx.record.talent
    what = "new performance" if _new_performance(ctx) and talent.digital_replica == "no" else "digital replica"
    msg = f"A {what} of a real performer without consent that covers it is a no-go: {why}."
    if talent.digital_replica == "unsure" and what == "digital replica":
        msg += " (You were unsure whether it is a replica; judged as yes.)"
    return [
        _finding(
            "TALENT-NO-CONSENT",
            PROHIBITED,
            ["P5"],
            msg,
            "Stop. Have legal register the performer's (or estate's) signed consent covering this production, media"
            " and use, name it in talent.consent_refs, then request approval.",
            ["talent.digital_replica", "talent.alteration", "talent.consent_refs"],
        )
    ]


@CORE.rule(
    'TALENT-MODEL-REUSE',
    title='Talent model reused elsewhere',
    kind='no-go',
    cites=('P5',),
    triggers=(
        'talent.model_from_other_production is yes or unsure and consent is not documented (prohibited); with'
        ' documented consent, approval_required.'
    ),
    why='A talent model reused for another production, pitch or concept without consent of all parties.',
    resolve="Get every party's written consent, then request approval.",
    reads=(
        "talent.model_from_other_production",
        when("talent.consent_documented", _model_reused),
        "talent.consent_ref",
        "schema_version",
        "talent.consent_refs",
        "production",
        "use.media",
    ),
    consents=True,
    source=(
        'Version 2: consent for "a model reused elsewhere" must come from all parties and be on the registry '
        '(policy.md, Refinements).'
    ),
)
def talent_model_reuse(ctx: Context) -> list[Finding]:
    talent = ctx.record.talent
    reuse = talent.model_from_other_production
    if reuse == "no":
        return []
    if ctx.record.schema_version >= 2:
        consent, why = _checked_consent(ctx, party="all_parties", use="model_reuse")
        lead = (
            "A talent model made for another production, pitch or concept is reused here."
            if reuse == "yes"
            else "You don't know whether a talent model from another production is reused here (judged as yes)."
        )
        fields = ["talent.model_from_other_production", "talent.consent_refs"]
        if consent == "yes":
            outcome = _at_least(ctx.th.model_reuse_with_consent_outcome, APPROVAL if reuse == "unsure" else NOTIFY)
            return [_finding("TALENT-MODEL-REUSE", outcome, ["P5"], f"{lead} Checked: {why}.",
                             "Request written approval with every party's consent attached.", fields)]
        return [
            _finding(
                "TALENT-MODEL-REUSE",
                PROHIBITED,
                ["P5"],
                f"{lead} Without the consent of all parties this is a no-go: {why}.",
                "Do not reuse the model. Have legal register the consent of all parties (uses: model_reuse), name it"
                " in talent.consent_refs, then request approval.",
                fields,
            )
        ]
    consent, _ = _consent(ctx)
    fields = ["talent.model_from_other_production", "talent.consent_documented"]
    lead = (
        "A talent model made for another production, pitch or concept is reused here."
        if reuse == "yes"
        else "You don't know whether a talent model from another production is reused here (judged as yes)."
    )
    if consent == "yes":
        outcome = _at_least(ctx.th.model_reuse_with_consent_outcome, APPROVAL if reuse == "unsure" else NOTIFY)
        return [
            _finding(
                "TALENT-MODEL-REUSE",
                outcome,
                ["P5"],
                lead + " Consent is documented; the reuse still needs approval from all parties.",
                "Request written approval with every party's consent attached.",
                fields,
            )
        ]
    note = " You answered unsure about consent; unknown is judged as no consent." if consent == "unsure" else ""
    return [
        _finding(
            "TALENT-MODEL-REUSE",
            PROHIBITED,
            ["P5"],
            lead + " Without documented consent of all parties this is a no-go." + note,
            "Do not reuse the model. Get every party's written consent, record it, then request approval.",
            fields,
        )
    ]


DEEPFAKE_TEXT = (
    "This {what} was created or altered with artificial intelligence and does not show real events."
)


@CORE.rule(
    "DISCLOSURE-DEEPFAKE",
    title="Deep fake the audience is not told about",
    kind="escalate",
    triggers=(
        "Version 2 records: material that may reach the audience (use.in_final_deliverable yes or unsure) depicts "
        "real people, events or places (realism.depicts_real_people_or_events or depicts_real_places yes or unsure), "
        "is realistic enough to pass as authentic (realism.photorealistic yes or unsure), and the audience is not "
        "told (realism.audience_disclosure none or unsure; credits count only for non-factual work while "
        "deepfake_credits_suffice holds). Outcome: deepfake_outcome (default approval_required)."
    ),
    why=(
        "EU AI Act, Article 50(4) (applies from 2 August 2026): deployers of an AI system that generates or "
        "manipulates image, audio or video content constituting a deep fake shall disclose that the content has been"
        " artificially generated or manipulated; for evidently artistic, creative, satirical or fictional work, in an"
        " appropriate manner that does not hamper the display or enjoyment of the work."
    ),
    resolve="Label it for the audience (on-screen label, or credits for fictional work), or request approval.",
    reads=(
        "schema_version",
        "use.in_final_deliverable",
        "use.content_type",
        "realism.depicts_real_people_or_events",
        "realism.depicts_real_places",
        when("realism.photorealistic", _v2_shown_real),
        "realism.audience_disclosure",
        "use.media",
    ),
    source=(
        "policy.md, Refinements: realistic synthetic or manipulated content depicting existing people, places or "
        "events that could falsely appear authentic, where the audience is not told (EU AI Act, Article 50(4))."
    ),
)
def disclosure_deepfake(ctx: Context) -> list[Finding]:
    record = ctx.record
    if record.schema_version < 2 or record.use.in_final_deliverable == "no":
        return []
    realism = record.realism
    real = [
        words
        for value, words in (
            (realism.depicts_real_people_or_events, "real people or events"),
            (realism.depicts_real_places, "real places"),
        )
        if value != "no"
    ]
    if not real or realism.photorealistic == "no":
        return []
    told = realism.audience_disclosure
    factual = record.use.content_type in ctx.th.factual_content_types
    if told == "on_screen_label" or (told == "credits" and ctx.th.deepfake_credits_suffice and not factual):
        return []
    unsure = (
        told == "unsure"
        or realism.photorealistic == "unsure"
        or "unsure" in (realism.depicts_real_people_or_events, realism.depicts_real_places)
        or record.use.in_final_deliverable == "unsure"
    )
    outcome = ctx.th.deepfake_outcome
    if unsure:
        outcome = _at_least(outcome, APPROVAL)
    how = {
        "none": "the audience is not told",
        "unsure": "you don't know whether the audience is told",
        "credits": f"only the credits tell the audience, which is not enough for {record.use.content_type} work",
    }[told]
    what = {"image": "image", "audio": "audio", "voice": "voice"}.get(record.use.media, "scene")
    msg = (
        f"Realistic generated material depicting {' and '.join(real)} may reach the audience, and {how}: a deep fake"
        " under the EU AI Act, Article 50(4), which must be disclosed."
    )
    if unsure:
        msg += " " + UNSURE_NOTE.format(meaning="the riskier answer")
    suggested = DEEPFAKE_TEXT.format(what=what)
    return [
        _finding(
            "DISCLOSURE-DEEPFAKE",
            outcome,
            [],
            msg,
            f'Label it for the audience (realism.audience_disclosure: on_screen_label). Suggested text: "{suggested}"'
            " For evidently fictional work a credit may do (credits). Otherwise request written approval.",
            [
                "realism.depicts_real_people_or_events",
                "realism.depicts_real_places",
                "realism.photorealistic",
                "realism.audience_disclosure",
            ],
        )
    ]


# ------------------------------------------------------------------------------------ derived tables

RULES: dict[str, Rule] = {rule.code: rule for rule in CORE}
"""The core rules by code, in reference order (installed packs: ``rulebook.all_rules()``)."""

RULE_CODES: tuple[str, ...] = tuple(RULES)


def questions_read(record: UseRecord) -> list[str]:
    """The tri-state questions the rules read, given the record's other answers (dotted fields).

    An unsure answer to one of these gives at least approval_required; an answer to any other question
    does not change the decision. Host panels use it to hide questions that do not matter. Derived from
    each rule's declared ``reads`` and ``step_reads`` (installed rule packs included).
    """
    from clearance.policy.rulebook import all_rules

    asked: set[str] = set()
    step: set[str] = set()
    for rule in all_rules():
        for read in rule.reads or ():
            if read.field in TRI_FIELDS and read.asked(record):
                asked.add(read.field)
        step.update(name for name in rule.step_reads if f"tools[].{name}" in TRI_FIELDS)
    out = [f"tools[{index}].{name}" for index in range(len(record.tools)) for name in sorted(step)]
    return out + [name for name in TRI_FIELDS if name in asked]
