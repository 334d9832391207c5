"""Where a tagged use stands in a host: the policy's decision plus the approvals held on this machine.

Every host panel (Nuke, Resolve, Blender) shows the same status words (``clearance.tags.Status``) and
every render gate refuses on the same ones (``BLOCKING_STATUSES``), so the answer is computed once,
here, from the policy engine (``clearance.policy``) and the offline approval cache (``clearance.cache``).
Nothing here talks to a server: a host must stay usable offline and on render farms.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clearance.decision import Decision
from clearance.errors import ClearanceError
from clearance.record import Target, UseRecord
from clearance.tags import BLOCKING_STATUSES, STATUS_LABELS, Status


class Standing(BaseModel):
    """The status of one record on one target, and the one line that explains it."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    decision: Decision | None = None
    reason: str = Field(default="", description="Why: the deciding finding, or why no approval is valid")
    approval_id: str | None = None

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def line(self) -> str:
        """``Needs approval: CREATIVE-KEY ...`` for a panel or a message box."""
        return f"{self.label}: {self.reason}" if self.reason else self.label


class Judge:
    """Decides many records against one policy and one approval cache (both loaded once)."""

    def __init__(self, policy: Any = None, cache: Any = None) -> None:
        from clearance.policy import load_policy

        self.policy = policy if policy is not None else load_policy(None)
        if cache is None:
            from clearance.cache import ApprovalCache

            cache = ApprovalCache()
        self.cache = cache
        self._keys: Any = None

    def keys(self) -> Any:
        if self._keys is None:
            from clearance.approvals import TrustedKeys

            # Keys pulled into the cache are trusted only through the policy (approvals.keys_file).
            self._keys = TrustedKeys.from_policy(self.policy)
        return self._keys

    def decide(self, record: UseRecord) -> Decision:
        from clearance.policy import evaluate

        return evaluate(record, self.policy)

    def standing(
        self, record: UseRecord | None, target: Target | None = None, *, tag_error: str | None = None
    ) -> Standing:
        if tag_error or record is None:
            return Standing(status="invalid", reason=tag_error or "the tag holds no record: re-tag it")
        try:
            decision = self.decide(record)
        except ClearanceError as exc:
            return Standing(status="invalid", reason=str(exc))
        deciding = [f for f in decision.findings if f.outcome == decision.outcome]
        why = "; ".join(f"{f.rule}: {f.message}" for f in deciding[:2])
        if decision.outcome == "prohibited":
            return Standing(status="prohibited", decision=decision, reason=why)
        if decision.outcome == "notify":
            return Standing(status="notify", decision=decision, reason="disclose only; no approval needed")
        from clearance.approvals import find_valid_approval

        hours = float(self.policy.approvals.revocations_max_age_hours)
        try:
            keys = self.keys()
        except ClearanceError as exc:
            return Standing(status="approval_required", decision=decision, reason=f"{why} — {exc}")
        verification = find_valid_approval(
            record,
            list(self.cache.approvals_for(record.id)),
            keys=keys,
            revocations=self.cache.revocations(keys),
            target=target,
            max_revocation_age=timedelta(hours=hours),
        )
        if verification.valid:
            approval_id = verification.approval.approval_id if verification.approval is not None else None
            return Standing(status="approved", decision=decision, reason=verification.reason, approval_id=approval_id)
        return Standing(status="approval_required", decision=decision, reason=f"{why} — {verification.reason}")


def standing_of(record: UseRecord | None, target: Target | None = None, *, tag_error: str | None = None) -> Standing:
    """One-off status with the default policy and this machine's approval cache."""
    return Judge().standing(record, target, tag_error=tag_error)
