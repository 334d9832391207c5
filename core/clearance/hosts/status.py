"""Where a tagged use stands in a host: the policy's decision plus the approvals held on this machine.

Every host panel (Nuke, Resolve, Blender) shows the same status words (``clearance.tags.Status``) and
every render gate refuses on the same ones (``BLOCKING_STATUSES``). The answer itself is
``clearance.standing``'s, the same as publish, `clearance check` and the service give.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clearance.decision import Decision
from clearance.errors import ClearanceError
from clearance.record import Target, UseRecord
from clearance.standing import Standing as CoreStanding
from clearance.tags import BLOCKING_STATUSES, STATUS_LABELS, Status


class Standing(BaseModel):
    """The status of one record on one target in a host, and the one line that explains it.

    ``standing`` is the core answer (``clearance.standing.Standing``: approver, conditions, expiry, who
    denied or revoked and why, waiting since when); ``status`` is its host word for colours and gates.
    """

    model_config = ConfigDict(extra="forbid")

    status: Status
    decision: Decision | None = None
    reason: str = Field(default="", description="Why: the deciding finding, or why no approval is valid")
    approval_id: str | None = None
    standing: CoreStanding | None = None

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES

    @property
    def label(self) -> str:
        """The standing's own words where they say more than the host status (waiting, revoked, stale...)."""
        if self.standing is not None and self.standing.verdict != "not_needed":
            return self.standing.label
        return STATUS_LABELS[self.status]

    def line(self) -> str:
        """``Needs approval: CREATIVE-KEY ...`` for a panel or a message box."""
        return f"{self.label}: {self.reason}" if self.reason else self.label


# The host words for each verdict: every verdict but approved / not_needed blocks a render or a publish.
HOST_STATUS: dict[str, Status] = {
    "approved": "approved", "not_needed": "notify", "prohibited": "prohibited", "denied": "denied",
    "waiting": "approval_required", "revoked": "approval_required", "stale": "approval_required",
    "expired": "approval_required", "missing": "approval_required", "unverified": "approval_required",
}


def current_policy() -> Any:
    """The policy in force (CLEARANCE_POLICY, else the embedded defaults), re-read only when a file changed.

    Host callbacks judge on every knob edit; the one loader (``clearance.policy.loading.policy_in_force``)
    keeps the parsed policy until a file changes.
    """
    from clearance.policy.loading import policy_in_force

    return policy_in_force()


class Judge:
    """The hosts' face of ``clearance.standing.Judge``: one policy, one snapshot of this machine's trust
    inputs, host status words.

    A Judge is a snapshot: make a new one after pulling approvals (hosts do: one per panel reload, save,
    render or Refresh).
    """

    def __init__(self, policy: Any = None, cache: Any = None) -> None:
        self.policy = policy if policy is not None else current_policy()
        self.cache = cache
        self._core: Any = None
        self._trust_error: str | None = None
        # A script tags many nodes with one record: its digest is computed once per Judge (keyed on the
        # record object, kept alive here so its id is not reused)
        self._digests: dict[int, tuple[UseRecord, str]] = {}

    def digest(self, record: UseRecord) -> str:
        from clearance.record import decision_digest

        found = self._digests.get(id(record))
        if found is None or found[0] is not record:
            found = self._digests[id(record)] = (record, decision_digest(record))
        return found[1]

    def core(self) -> Any:
        """The core judge, or None when the trust inputs cannot be read (the reason is kept)."""
        if self._core is None and self._trust_error is None:
            from clearance.standing import Judge as CoreJudge
            from clearance.trust import load_trust

            try:
                self._core = CoreJudge(self.policy, load_trust(self.policy, cache=self.cache))
            except ClearanceError as exc:
                self._trust_error = str(exc)
        return self._core

    def decide(self, record: UseRecord) -> Decision:
        from clearance.policy import evaluate

        core = self.core()
        return core.decide(record, self.digest(record)) if core is not None else evaluate(record, self.policy)

    def standing(
        self, record: UseRecord | None, target: Target | None = None, *, tag_error: str | None = None
    ) -> Standing:
        if tag_error or record is None:
            return Standing(status="invalid", reason=tag_error or "the tag holds no record: re-tag it")
        try:
            decision = self.decide(record)
        except ClearanceError as exc:
            return Standing(status="invalid", reason=str(exc))
        core = self.core()
        if core is None:
            if decision.outcome == "notify":
                return Standing(status="notify", decision=decision, reason="disclose only; no approval needed")
            status: Status = "prohibited" if decision.outcome == "prohibited" else "approval_required"
            why = f"approvals cannot be checked: {self._trust_error}"
            return Standing(status=status, decision=decision, reason=why)
        found = core.standing(record, target, decision=decision, digest=self.digest(record))
        reason = "disclose only; no approval needed" if found.verdict == "not_needed" else found.describe()
        return Standing(status=HOST_STATUS[found.verdict], decision=decision, reason=reason,
                        approval_id=found.approval_id if found.passes else None, standing=found)


def standing_of(record: UseRecord | None, target: Target | None = None, *, tag_error: str | None = None) -> Standing:
    """One-off status with the policy in force and this machine's trust inputs."""
    return Judge().standing(record, target, tag_error=tag_error)


def refresh(records: Iterable[UseRecord | str], policy: Any = None) -> str | None:
    """Online when possible, for a host's Refresh, save or render: when a service is configured and answers
    within about 3 s, fetch the pinned keys' announced rotations, the signed revocation list and the
    approvals and status of these records (a few batch requests however many). Returns one line to show
    when it could not (the host then judges from the cache), else None. Make a new ``Judge`` afterwards.
    """
    from clearance.trust import refresh_online

    ids = sorted({str(r.id) if isinstance(r, UseRecord) else str(r) for r in records})
    return refresh_online(policy if policy is not None else current_policy(), ids)
