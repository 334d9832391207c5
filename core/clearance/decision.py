"""Findings and decisions: what the policy engine says about a record, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["notify", "approval_required", "prohibited"]
OUTCOME_RANK: dict[str, int] = {"notify": 0, "approval_required": 1, "prohibited": 2}
OUTCOMES: tuple[Outcome, ...] = ("notify", "approval_required", "prohibited")


def highest(outcomes: list[Outcome] | tuple[Outcome, ...]) -> Outcome:
    """The strictest of the outcomes; ``notify`` when there are none (every use is disclosed)."""
    best: Outcome = "notify"
    for outcome in outcomes:
        if OUTCOME_RANK[outcome] > OUTCOME_RANK[best]:
            best = outcome
    return best


class Finding(BaseModel):
    """One rule's verdict on one record."""

    # Built on first validation, not at import: the policy engine makes its findings without validating them
    # (model_construct), so a check or a gate that only evaluates never needs this validator.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    rule: str = Field(description="The rule code from the policy, e.g. CREATIVE-KEY or P2.")
    outcome: Outcome
    cites: list[str] = Field(default_factory=list, description="The principles (P1-P5) behind the rule.")
    message: str = Field(description="What was found, in plain words.")
    remedy: str = Field(description="What to change, or which approval to request.")
    fields: list[str] = Field(default_factory=list, description="The record fields that triggered it.")


class Decision(BaseModel):
    """The policy's decision on a record: the highest outcome of its findings."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # as Finding: the engine constructs decisions

    outcome: Outcome
    findings: list[Finding]

    @classmethod
    def of(cls, findings: list[Finding]) -> Decision:
        return cls(outcome=highest([f.outcome for f in findings]), findings=findings)

    @property
    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]
