"""What a deliverable discloses about each GenAI use: the record's tools, decision and held approval.

One reading serves Content Credentials and the delivery packet, so a file's credential and the packet's
register never tell the same use two ways. Record v2 fields (consent references, tool terms, prompt
sharing, audience disclosure) are read when the record has them; a v1 record simply has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from clearance.approvals import SignedApproval, find_valid_approval
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
            for extra in ("licence_tier", "license_tier", "data_terms", "terms_reviewed_on"):
                value = getattr(tool, extra, None) or _nested(tool, "terms", extra)
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
        """The prompt text, only when the record says it may be shared with the audience (v2); else None."""
        share = getattr(self.record, "share_prompt", None) or _nested(self.record, "prompt", "shareable")
        if share not in (True, "yes"):
            return None
        text = getattr(self.record, "prompt_text", None) or _nested(self.record, "prompt", "text")
        return str(text) if text else None

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
    """The approvals this machine holds, the keys it trusts and the revocations it knows (the local cache)."""

    def __init__(self, policy: Any, cache: Any | None = None, approvals_dir: str | None = None) -> None:
        from clearance.cache import ApprovalCache, revocations_in, trusted_keys

        self.cache = cache or ApprovalCache()
        trust = trusted_keys(policy, self.cache)
        self.keys = trust.keys
        self.warning = trust.warning
        self.revocations = self.cache.revocations(self.keys)
        if approvals_dir:
            from clearance.pyblish.checks import _newest

            # the same merge publish applies to a folder's list (one rule for what a folder may change)
            self.cache.load_folder(approvals_dir)
            self.revocations = _newest(self.revocations, revocations_in(approvals_dir, self.keys))
        self.max_age = timedelta(hours=policy.approvals.revocations_max_age_hours)

    def facts(self, record: UseRecord, decision: Decision) -> UseFacts:
        found = UseFacts(record=record, decision=decision)
        if decision.outcome != "approval_required":
            return found
        check = find_valid_approval(record, self.cache.approvals_for(record.id), keys=self.keys,
                                    revocations=self.revocations, max_revocation_age=self.max_age)
        if check.valid and check.approval is not None:
            found.approval = held(check.approval)
            found.signed_approval = check.approval
        else:
            found.approval_problem = check.reason
        return found


def decide(records: Iterable[UseRecord], policy: Any) -> list[tuple[UseRecord, Decision]]:
    from clearance.policy.engine import evaluate

    return [(r, evaluate(r, policy)) for r in records]


def cleared_facts(records: list[UseRecord], policy: Any, book: ApprovalBook) -> list[UseFacts]:
    """Facts for records that may go out; a prohibited use or a missing approval refuses, in one line."""
    out = []
    for record, decision in decide(records, policy):
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
