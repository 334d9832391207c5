"""The Clearance publish validators: one entry per check, with the words artists and TDs see.

This catalog is the single source for titles, descriptions and "how to fix" texts: the plugin files,
the CLI's failure report and the docs all read it, so they cannot drift apart.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ValidatorInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Stable id used in policy.publish.validators and in reports.")
    title: str
    description: str = Field(description="What the check means, in plain words.")
    how_to_fix: str
    rules: tuple[str, ...] = Field(default=(), description="Policy rule codes behind the check.")
    principles: tuple[str, ...] = Field(default=(), description="Principles P1-P5 behind the check.")
    locked: bool = Field(
        default=False,
        description="Cannot be disabled, made optional or narrowed to some families by any policy file.",
    )


SETUP = ValidatorInfo(
    id="clearance.publish_setup",
    title="Clearance publish set-up is broken",
    description=(
        "Clearance could not check this publish completely: a plugin file did not load, the policy asks for "
        "something that is not allowed, or collecting the GenAI items failed. Publishing without the full "
        "check could let undisclosed or unapproved material out, so publish stops."
    ),
    how_to_fix=(
        "Read the message: it names the file or setting. Fix the plugin file (or ask your pipeline TD), "
        "correct the policy file, then publish again."
    ),
    locked=True,
)

TAG_READABLE = ValidatorInfo(
    id="clearance.tag_readable",
    title="GenAI tag cannot be read",
    description=(
        "The item carries a Clearance tag, but the tag is broken or was changed by hand, so nobody can tell "
        "which GenAI use it declares. A tag that cannot be read cannot be disclosed or approved."
    ),
    how_to_fix=(
        "Select the item and tag it again from the Clearance panel (or `clearance tag`), choosing its record. "
        "If the tag was edited by hand, restore the record from the disclosure service."
    ),
    principles=("P1", "P2", "P3", "P4", "P5"),
    locked=True,
)

RECORD_DISCLOSED = ValidatorInfo(
    id="clearance.record_disclosed",
    title="GenAI use not disclosed",
    description=(
        "Every GenAI use is disclosed to the studio before the work goes out, whatever its size. This item's "
        "record has not been sent or queued for sending, or it belongs to another production."
    ),
    how_to_fix=(
        "Run the Repair action (queues the record in the outbox) or `clearance submit RECORD`, then publish "
        "again. A record of another production must be re-declared for this one."
    ),
    principles=("P1", "P2", "P3", "P4", "P5"),
)

APPROVAL_VALID = ValidatorInfo(
    id="clearance.approval_valid",
    title="Written approval missing or not valid",
    description=(
        "The policy says this use needs written approval from the studio before it is used. No signed approval "
        "was found that covers this target, this production and the record as it is now, that has not "
        "expired and has not been revoked."
    ),
    how_to_fix=(
        "Use the Request approval action (or `clearance submit RECORD`), wait for the approver, then "
        "`clearance approvals pull` and publish again. If the record was edited after approval, the approval "
        "no longer matches: request it again. There is no local override: a waiver is an approval."
    ),
    rules=(
        "DATA-PROPRIETARY", "DATA-PERSONAL", "DATA-TRAINING", "CREATIVE-KEY", "CREATIVE-REFERENCE",
        "TALENT-REPLICA", "TALENT-ALTERATION", "FINAL-DELIVERABLE", "UNION-WORK",
    ),
    principles=("P1", "P2", "P3", "P4", "P5"),
    locked=True,
)

NOT_PROHIBITED = ValidatorInfo(
    id="clearance.not_prohibited",
    title="GenAI use is prohibited",
    description=(
        "The policy says this use is a no-go: it cannot be approved through a vendor workflow, so it never "
        "publishes."
    ),
    how_to_fix=(
        "Remove the material from the publish. If the record is wrong (for example consent is documented), "
        "correct the record and have it evaluated again; otherwise talk to the studio contact."
    ),
    rules=("ETHICS-MISLEADING", "TALENT-NO-CONSENT", "TALENT-MODEL-REUSE"),
    principles=("P5",),
    locked=True,
)

TEMP_NOT_FINAL = ValidatorInfo(
    id="clearance.temp_not_final",
    title="Temporary GenAI material in a final deliverable",
    description=(
        "The record says this material is ideation, previs or temp (or not part of the final deliverable), "
        "but it is being published into a family the studio lists as a final deliverable."
    ),
    how_to_fix=(
        "Publish it into a non-final family (e.g. review or reference), replace it with final material, or, "
        "if it really is final, update the record (stage: final, in_final_deliverable: yes) so it is "
        "evaluated and approved as final."
    ),
    rules=("FINAL-DELIVERABLE",),
    principles=("P4",),
)

TOOL_REGISTERED = ValidatorInfo(
    id="clearance.tool_registered",
    title="GenAI tool not in the studio's tool registry",
    description=(
        "The record names a tool the policy's tool registry does not know, so the studio has not confirmed "
        "how it treats inputs (training, retention, environment)."
    ),
    how_to_fix=(
        "Check the tool name's spelling in the record. If it is right, ask your pipeline TD to add the tool "
        "to the policy's `tools` registry after checking its terms."
    ),
    rules=("P2", "P3"),
    principles=("P2", "P3"),
)

UNTAGGED_AI_MEDIA = ValidatorInfo(
    id="clearance.untagged_ai_media",
    title="Untagged AI media",
    description=(
        "A file being published carries AI-generation provenance (C2PA or generator metadata) but no "
        "Clearance tag or record, so the GenAI use was never declared."
    ),
    how_to_fix=(
        "Declare the use: `clearance record new`, attach the record to the item (tag it, or list it under "
        "`records` in the publish manifest), then publish again. If the file is not AI-generated, ask your "
        "TD: the scan evidence is printed with the failure."
    ),
    principles=("P1", "P2", "P3", "P4", "P5"),
)

UNTAGGED_AI_NODES = ValidatorInfo(
    id="clearance.untagged_ai_nodes",
    title="Untagged generative nodes",
    description=(
        "The scene holds nodes or datablocks that make generative content (Nuke's CopyCat and Inference, "
        "known generative gizmos, datablocks made by generative Blender add-ons: the policy's "
        "hosts.ai_node_classes and hosts.ai_blender_addons) that carry no Clearance tag, so their use was "
        "never declared."
    ),
    how_to_fix=(
        "Select them (Select action), tag them (Nuke: Clearance > Tag untagged AI nodes; Blender: the "
        "Clearance panel's Tag), fill in the record and submit it, then publish again. If a node makes no "
        "generative content, ask your TD to narrow the policy's list."
    ),
    principles=("P1",),
)

VALIDATORS: dict[str, ValidatorInfo] = {
    v.id: v
    for v in (
        SETUP, TAG_READABLE, RECORD_DISCLOSED, APPROVAL_VALID, NOT_PROHIBITED,
        TEMP_NOT_FINAL, TOOL_REGISTERED, UNTAGGED_AI_MEDIA, UNTAGGED_AI_NODES,
    )
}
LOCKED: frozenset[str] = frozenset(v.id for v in VALIDATORS.values() if v.locked)
