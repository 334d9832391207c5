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


def current_policy() -> Any:
    """The policy in force (CLEARANCE_POLICY, else the embedded defaults), re-read only when a file changed.

    Host callbacks judge on every knob edit; the one loader (``clearance.policy.loading.policy_in_force``)
    keeps the parsed policy until a file changes.
    """
    from clearance.policy.loading import policy_in_force

    return policy_in_force()


class Judge:
    """Decides many records against one policy and one approval cache (both loaded once).

    A Judge is a snapshot: it reads each record's approvals and the revocation list once. Make a new one
    after pulling approvals (hosts do: one per panel reload, save, render or Refresh).
    """

    def __init__(self, policy: Any = None, cache: Any = None) -> None:
        self.policy = policy if policy is not None else current_policy()
        if cache is None:
            from clearance.cache import ApprovalCache

            cache = ApprovalCache()
        self.cache = cache
        self._keys: Any = None
        # A script tags many nodes with few records: decide each record once, read each record's
        # approvals and the revocation list from disk once per Judge.
        self._decisions: dict[int, tuple[UseRecord, Decision]] = {}
        self._approvals: dict[str, list[Any]] = {}
        self._revocations: Any = None
        self._revocations_read = False
        self._digests: dict[int, tuple[UseRecord, str]] = {}

    def keys(self) -> Any:
        if self._keys is None:
            from clearance.cache import trusted_keys

            # the same trust as publish: the policy's keys, else the pulled ones (see cache.trusted_keys)
            self._keys = trusted_keys(self.policy).keys
        return self._keys

    def decide(self, record: UseRecord) -> Decision:
        from clearance.policy import evaluate

        # keyed on the record object (kept alive here, so its id is not reused): hosts hand the same
        # instance for every target that shares a record
        found = self._decisions.get(id(record))
        if found is None or found[0] is not record:
            found = self._decisions[id(record)] = (record, evaluate(record, self.policy))
        return found[1]

    def _approvals_for(self, record: UseRecord) -> list[Any]:
        key = str(record.id)
        if key not in self._approvals:
            self._approvals[key] = list(self.cache.approvals_for(record.id))
        return self._approvals[key]

    def _revocation_list(self, keys: Any) -> Any:
        if not self._revocations_read:
            self._revocations = self.cache.revocations(keys)
            self._revocations_read = True
        return self._revocations

    def _digest(self, record: UseRecord) -> str:
        from clearance.record import decision_digest

        found = self._digests.get(id(record))
        if found is None or found[0] is not record:
            found = self._digests[id(record)] = (record, decision_digest(record))
        return found[1]

    def _verify(self, record: UseRecord, target: Target | None, keys: Any) -> Any:
        """clearance.approvals.find_valid_approval, with the record's digest computed once per record."""
        from clearance.approvals import find_valid_approval, verify

        approvals = self._approvals_for(record)
        revocations = self._revocation_list(keys)
        max_age = timedelta(hours=float(self.policy.approvals.revocations_max_age_hours))
        digest = self._digest(record)
        for approval in approvals:
            result = verify(
                approval,
                record,
                keys=keys,
                revocations=revocations,
                target=target,
                max_revocation_age=max_age,
                record_digest=digest,
            )
            if result.valid:
                return result
        # none valid: the core's own search words the refusal (the newest approval's reason, or none held)
        return find_valid_approval(
            record, approvals, keys=keys, revocations=revocations, target=target, max_revocation_age=max_age
        )

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
        try:
            keys = self.keys()
        except ClearanceError as exc:
            return Standing(status="approval_required", decision=decision, reason=f"{why} — {exc}")
        verification = self._verify(record, target, keys)
        if verification.valid:
            approval_id = verification.approval.approval_id if verification.approval is not None else None
            return Standing(status="approved", decision=decision, reason=verification.reason, approval_id=approval_id)
        return Standing(status="approval_required", decision=decision, reason=f"{why} — {verification.reason}")


def standing_of(record: UseRecord | None, target: Target | None = None, *, tag_error: str | None = None) -> Standing:
    """One-off status with the default policy and this machine's approval cache."""
    return Judge().standing(record, target, tag_error=tag_error)
