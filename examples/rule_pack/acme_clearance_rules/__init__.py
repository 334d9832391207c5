"""ACME Studios' own Clearance rules: an example rule pack.

Install it next to Clearance (``pip install examples/rule_pack``); every evaluation then applies these
rules after the core ones, ``clearance policy rules`` lists them, and a policy file may raise their outcome
or (in its first layer) switch them off, by code, like any core rule.
"""

from __future__ import annotations

from clearance.decision import Finding
from clearance.policy import RuleSet
from clearance.policy.rules import Context

pack = RuleSet("acme")


@pack.rule(
    "ACME-SYNTHETIC-VOICE",
    title="Generated voice in a delivery",
    kind="escalate",
    cites=("P5",),
    triggers="use.media is voice and use.in_final_deliverable is yes or unsure.",
    why="ACME's dubbing agreement asks legal to review every generated voice that reaches a delivery.",
    resolve="Replace the voice with a recorded performance, or request approval with the dubbing agreement.",
    reads=("use.media", "use.in_final_deliverable"),
)
def synthetic_voice(ctx: Context) -> list[Finding]:
    use = ctx.record.use
    if use.media != "voice" or use.in_final_deliverable == "no":
        return []
    maybe = " may" if use.in_final_deliverable == "unsure" else ""
    return [
        Finding(
            rule="ACME-SYNTHETIC-VOICE",
            outcome="approval_required",
            cites=["P5"],
            message=f"A generated voice{maybe} reach a delivery; ACME's dubbing agreement asks legal to review it.",
            remedy="Replace it with a recorded performance, or request approval with the dubbing agreement attached.",
            fields=["use.media", "use.in_final_deliverable"],
        )
    ]
