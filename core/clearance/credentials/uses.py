"""What a deliverable discloses about each GenAI use: the record's tools, decision and held approval.

One reading serves Content Credentials and the delivery packet, so a file's credential and the packet's
register never tell the same use two ways. Record v2 fields (consent references, tool terms, prompt
sharing, audience disclosure) are read when the record has them; a v1 record simply has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clearance.approvals import SignedApproval
from clearance.decision import Decision
from clearance.errors import ClearanceError
from clearance.record import UseRecord

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
SOURCE_TYPES = {"trainedAlgorithmicMedia": TRAINED, "compositeWithTrainedAlgorithmicMedia": COMPOSITE}


@dataclass
class HeldApproval:
    approval_id: str
    approver: str
    issued_at: str
    expires_at: str | None
    conditions: str
    key_id: str


@dataclass
class UseFacts:
    """One record, as a deliverable discloses it."""

    record: UseRecord
    decision: Decision
    approval: HeldApproval | None = None
    approval_problem: str | None = None
    signed_approval: SignedApproval | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def record_id(self) -> str:
        return str(self.record.id)

    def tools(self) -> list[dict[str, str]]:
        out = []
        for tool in self.record.tools:
            entry = {"name": tool.name}
            if tool.version:
                entry["version"] = tool.version
            if tool.provider:
                entry["provider"] = tool.provider
            out.append(entry)
        return out

    def tool_terms(self) -> list[dict[str, str]]:
        """Each tool with the terms the record states (environment, training and retention; v2 terms)."""
        out = []
        for tool in self.record.tools:
            terms = {"name": tool.name, "environment": tool.environment, "trains_on_inputs": tool.trains_on_inputs,
                     "retains_inputs": tool.retains_inputs}
            for extra in ("licence_tier", "data_terms", "reviewed_on"):  # record v2: tool.terms
                value = _nested(tool, "terms", extra)
                if value:
                    terms[extra] = str(value)
            out.append(terms)
        return out

    def consent_refs(self) -> list[str]:
        """Consent references: v1's consent_ref, v2's list of consent registry entries."""
        talent = self.record.talent
        refs: list[str] = []
        for name in ("consents", "consent_refs", "consent_ids"):
            value = getattr(talent, name, None) or getattr(self.record, name, None)
            if isinstance(value, list | tuple):
                refs += [_ref_text(v) for v in value]
        if talent.consent_ref:
            refs.append(talent.consent_ref)
        return list(dict.fromkeys(r for r in refs if r))

    def shared_prompt(self) -> str | None:
        """The prompt text, only when the record says it may go out with the deliverables (record v2's
        ``prompt.shareable: yes``); None for a private or unanswered one, and for a v1 record."""
        return self.record.prompt.shared_text()

    def audience_disclosure(self) -> str:
        """v2's audience disclosure (none, credits, on_screen_label); 'unsure' for a v1 record."""
        value = getattr(self.record, "audience_disclosure", None) or _nested(self.record, "realism",
                                                                               "audience_disclosure")
        return str(value) if value else "unsure"

    def summary(self, *, include_prompt: bool = True) -> dict[str, Any]:
        """The Clearance assertion's entry for this use: ids and decisions, never prompts unless shareable."""
        entry: dict[str, Any] = {
            "record_id": self.record_id,
            "production": self.record.production,
            "vendor": self.record.vendor or "",
            "decision": self.decision.outcome,
            "rules": sorted({f.rule for f in self.decision.findings if f.outcome != "notify"}),
            "tools": self.tools(),
            "approval_ids": [self.approval.approval_id] if self.approval else [],
        }
        if self.approval is not None:
            entry["approver"] = self.approval.approver
            entry["approved_at"] = self.approval.issued_at
            if self.approval.expires_at:
                entry["approval_expires_at"] = self.approval.expires_at
            if self.approval.conditions:
                entry["conditions"] = self.approval.conditions
        refs = self.consent_refs()
        if refs:
            entry["consent_refs"] = refs
        prompt = self.shared_prompt() if include_prompt else None
        if prompt:
            entry["prompt"] = prompt
        return entry


def _nested(obj: Any, section: str, name: str) -> Any:
    part = getattr(obj, section, None)
    return getattr(part, name, None) if part is not None else None


def _ref_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    for name in ("consent_id", "id", "ref"):
        found = getattr(value, name, None) or (value.get(name) if isinstance(value, dict) else None)
        if found:
            return str(found)
    return str(value)


def held(approval: SignedApproval) -> HeldApproval:
    st = approval.statement
    return HeldApproval(
        approval_id=st.approval_id, approver=st.approver, issued_at=st.issued_at.isoformat(),
        expires_at=st.expires_at.isoformat() if st.expires_at else None, conditions=st.conditions,
        key_id=approval.key_id,
    )


class ApprovalBook:
    """Where each use stands on this machine: clearance.standing's one answer, from the local trust inputs."""

    def __init__(self, policy: Any, approvals_dir: str | None = None) -> None:
        from clearance.standing import Judge
        from clearance.trust import load_trust

        self.trust = load_trust(policy, approvals_dir=approvals_dir)
        self.judge = Judge(policy, self.trust)

    def decide(self, record: UseRecord) -> Decision:
        return self.judge.decide(record)

    def facts(self, record: UseRecord, decision: Decision) -> UseFacts:
        found = UseFacts(record=record, decision=decision)
        if decision.outcome != "approval_required":
            return found
        standing = self.judge.standing(record, None, decision=decision)
        if standing.verdict == "approved" and standing.approval is not None:
            found.approval = held(standing.approval)
            found.signed_approval = standing.approval
        else:
            found.approval_problem = standing.describe()
        return found


def cleared_facts(records: list[UseRecord], policy: Any, book: ApprovalBook) -> list[UseFacts]:
    """Facts for records that may go out; a prohibited use or a missing approval refuses, in one line."""
    out = []
    for record in records:
        decision = book.decide(record)
        if decision.outcome == "prohibited":
            rules = ", ".join(f.rule for f in decision.findings if f.outcome == "prohibited")
            raise ClearanceError(f"record {record.id}: the policy prohibits this use ({rules}); a prohibited use is "
                                 "never signed as a deliverable")
        facts = book.facts(record, decision)
        if facts.approval_problem:
            raise ClearanceError(f"record {record.id}: needs a written approval and none valid is held here: "
                                 f"{facts.approval_problem}")
        out.append(facts)
    return out
