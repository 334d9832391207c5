"""Where a use stands: the one answer to "may this go out?", computed here and nowhere else.

For a record as it is now and a target, a ``Standing`` says one of:

=============  ==========================================================================================
not_needed     the policy asks for no approval (disclose only)
approved       a signed approval by a trusted key covers this version and target (approver, conditions,
               expiry)
waiting        approval was requested and nobody has decided yet (requested by, since when)
denied         an approver denied this version (by whom, why)
revoked        the approval of this version was revoked (by whom, why, when)
stale          an earlier version was approved; the record changed since (which fields)
expired        the approval of this version expired
prohibited     the policy forbids the use; no approval can allow it
missing        approval is needed and was never requested (or does not cover this target)
unverified     an approval is held but cannot be trusted: keys, signature, revocation list missing,
               unsigned or stale, the clock; blocked, with one line saying why and how to fix
=============  ==========================================================================================

Only ``not_needed`` and ``approved`` let material out. The Pyblish checks, `clearance check`, the hosts'
status and panels, `clearance status`, `approvals list/verify` and the service all ask a ``Judge``.

What the service said of a record (waiting, denied, who revoked) is not signed: it can only explain or
tighten a standing, never let anything out. What lets material out is a signed approval, checked here
against trusted keys and a signed, current revocation list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from clearance.approvals import Checker, SignedApproval, Verification, _utc, check_signatures, uncovered_targets
from clearance.assembled import assembled_model
from clearance.decision import Decision, Outcome
from clearance.record import Target, UseRecord, decision_digest
from clearance.trust import TrustInputs

Verdict = Literal[
    "not_needed", "approved", "waiting", "denied", "revoked", "stale", "expired", "prohibited", "missing",
    "unverified",
]
PASSING: frozenset[str] = frozenset({"not_needed", "approved"})
LABELS: dict[str, str] = {
    "not_needed": "No approval needed",
    "approved": "Approved",
    "waiting": "Waiting for approval",
    "denied": "Denied",
    "revoked": "Approval revoked",
    "stale": "Changed since approval",
    "expired": "Approval expired",
    "prohibited": "Prohibited",
    "missing": "Needs approval",
    "unverified": "Approval not verified",
}
# Verification codes of clearance.approvals.verify that mean "the trust inputs fail", not "the approval does".
_UNVERIFIED_CODES = frozenset(
    {"unknown_key", "bad_signature", "not_yet_valid", "revocations_missing", "revocations_stale"}
)
PULL = "`clearance approvals pull`"


# ------------------------------------------------------------------------------------------ people's times


def when(moment: datetime | None) -> str:
    """``2026-11-30 11:23 UTC``: how people read a time."""
    if moment is None:
        return "never"
    value = _utc(moment)
    assert value is not None
    return value.strftime("%Y-%m-%d %H:%M UTC")


def relative(moment: datetime, now: datetime) -> str:
    """``in 12 days``, ``3 hours ago``, ``in 5 minutes``."""
    delta = (_utc(moment) or moment) - (_utc(now) or now)
    future = delta.total_seconds() >= 0
    seconds = abs(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "in under a minute" if future else "just now"


def when_relative(moment: datetime | None, now: datetime) -> str:
    return "never" if moment is None else f"{when(moment)} ({relative(moment, now)})"


# ---------------------------------------------------------------------------------------------- the answer


class Standing(BaseModel):
    """The standing of one record version on one target, with everything people need to act on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict: Verdict
    record_id: str | None = None
    target: str | None = Field(default=None, description='"kind:ref", or None for the record as a whole')
    outcome: Outcome | None = Field(default=None, description="The policy's decision for the record")
    rules: list[str] = Field(default_factory=list, description="The rules behind the outcome")
    reason: str = Field(default="", description="Why, in one line")
    fix: str = Field(default="", description="What to do, in one line ('' when nothing is needed)")
    version: int | None = Field(default=None, description="The service's version number of this record, if known")
    approval_id: str | None = None
    approver: str | None = None
    key_id: str | None = None
    conditions: str = ""
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    requested_by: str | None = None
    requested_at: datetime | None = None
    denied_by: str | None = None
    denied_at: datetime | None = None
    denial_reason: str | None = None
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    approved_version: int | None = None
    changed_fields: list[str] = Field(default_factory=list)
    judged_at: datetime
    basis: str = Field(default="", description="What it was judged from, e.g. the cache as of a time")

    _approval: SignedApproval | None = PrivateAttr(default=None)
    _decision: Decision | None = PrivateAttr(default=None)

    @property
    def passes(self) -> bool:
        return self.verdict in PASSING

    @property
    def blocking(self) -> bool:
        return not self.passes

    @property
    def label(self) -> str:
        return LABELS[self.verdict]

    @property
    def approval(self) -> SignedApproval | None:
        """The signed approval that makes it ``approved`` (for the disclosure manifest)."""
        # read from pydantic's dict of private attributes: its attribute hook costs more, once per item
        private = self.__pydantic_private__
        found: SignedApproval | None = private.get("_approval") if private else None
        return found

    @property
    def decision(self) -> Decision | None:
        private = self.__pydantic_private__
        found: Decision | None = private.get("_decision") if private else None
        return found

    def describe(self) -> str:
        """One line for people: what stands, who said so, until when, and what to do."""
        now = self.judged_at
        v = self.verdict
        if v == "approved":
            text = f"approved by {self.approver} on {when(self.issued_at)}"
            text += f", expires {when_relative(self.expires_at, now)}" if self.expires_at else ", no expiry"
            if self.conditions:
                text += f"; conditions: {self.conditions}"
            return text
        if v == "not_needed":
            return "no approval needed: disclosed only"
        if v == "waiting":
            who = f" (requested by {self.requested_by})" if self.requested_by else ""
            since = f" since {when_relative(self.requested_at, now)}" if self.requested_at else ""
            return f"waiting for approval{since}{who}"
        if v == "denied":
            why = f": {self.denial_reason}" if self.denial_reason else ""
            on = f" on {when(self.denied_at)}" if self.denied_at else ""
            return f"denied by {self.denied_by or 'an approver'}{on}{why}{self._fix()}"
        if v == "revoked":
            who = f" by {self.revoked_by}" if self.revoked_by else ""
            on = f" on {when(self.revoked_at)}" if self.revoked_at else ""
            why = f": {self.revocation_reason}" if self.revocation_reason else ""
            return f"approval {self.approval_id} revoked{who}{on}{why}{self._fix()}"
        if v == "stale":
            which = f"version {self.approved_version}" if self.approved_version else "an earlier version"
            fields = f"; changed: {', '.join(self.changed_fields)}" if self.changed_fields else ""
            return f"the record was edited after approval ({which} was approved{fields}){self._fix()}"
        if v == "expired":
            return f"the approval by {self.approver} expired {when_relative(self.expires_at, now)}{self._fix()}"
        return f"{self.reason}{self._fix()}" if self.reason else f"{self.label}{self._fix()}"

    def _fix(self) -> str:
        return f": {self.fix}" if self.fix else ""

    def line(self) -> str:
        """``Approved: approved by sam on ...`` for a panel or a terminal."""
        return f"{self.label}: {self.describe()}"


_DEFAULTS: dict[str, Any] = {
    name: field.default for name, field in Standing.model_fields.items() if not field.is_required()
}
"""Every optional field's default, given in full to model_construct (which otherwise copies each default)."""
_EVERY_FIELD = frozenset(Standing.model_fields)


# --------------------------------------------------------------------------------------------- the judge


_NO_REVOCATIONS: dict[str, dict[str, Any]] = {}
"""What the service reported revoked of a record it said nothing of (shared: only ever read)."""


class _Held:
    """The approvals of one record version, each checked once (signature, digest, time, revocation), and what
    the service said of it: everything a standing needs that does not depend on the target."""

    __slots__ = ("_names", "approved", "checked", "denial", "facts", "record", "revoked_by_service", "valid")

    def __init__(self, checked: list[tuple[SignedApproval, Verification]], facts: _Facts, record: UseRecord) -> None:
        self.checked = checked
        self.facts = facts
        self.record = record
        if facts.data:
            self.revoked_by_service = facts.revoked()
            self.denial = facts.denial()
        else:  # nothing pulled of this record: the service reported nothing revoked or denied
            self.revoked_by_service = _NO_REVOCATIONS
            self.denial = None
        revoked = self.revoked_by_service
        # valid approvals the service does not report revoked, newest first, with the targets they list
        if len(checked) == 1:  # the usual case: one approval, nothing to sort
            approval, verification = checked[0]
            self.valid = [(approval, frozenset(approval.statement.targets))] \
                if verification.valid and approval.approval_id not in revoked else []
        else:
            self.valid = sorted(
                ((a, frozenset(a.statement.targets)) for a, v in checked
                 if v.valid and a.approval_id not in revoked),
                key=lambda pair: pair[0].statement.issued_at, reverse=True)
        self.approved: dict[str, Standing] = {}  # approval id -> its standing for the record as a whole
        self._names: list[str] | None = None

    @property
    def names(self) -> list[str]:
        """The record's targets ("kind:ref"), worked out when a standing first needs them."""
        names = self._names
        if names is None:
            names = self._names = [t.key() for t in self.record.targets]
        return names

    def covering(self, key: str | None) -> SignedApproval | None:
        """The newest valid approval that covers target ``key`` ("kind:ref"; None: every target of the record)."""
        for approval, listed in self.valid:
            if key is not None and key in listed:
                return approval
            if not listed and not self.names:
                return approval
            if key is None and all(n in listed for n in self.names):
                return approval
        return None


class Judge:
    """Answers standings for many records against one policy and one snapshot of trust inputs.

    Each record version (record id, decision digest) is decided and its approvals verified once per
    Judge: make a new one after pulling (hosts do, per panel reload, save, render or Refresh). Nothing
    "verified" is ever written to disk.
    """

    def __init__(self, policy: Any, trust: TrustInputs, *, production: str | None = None) -> None:
        self.policy = policy
        self.trust = trust
        self.production = production
        now = _utc(trust.clock())
        assert now is not None
        self.now = now  # a Judge is a snapshot: one clock for all its answers
        self._decisions: dict[tuple[str, str], Decision] = {}
        # keyed by a record id's number: a UUID's own hash is a Python function, asked several times a record
        self._held: dict[tuple[int, str], _Held] = {}
        self._approvals: dict[str, list[SignedApproval]] = {}
        self._ids: dict[int, str] = {}
        # the rules behind each decision judged (a publish shares one decision among records judged alike),
        # kept with the decision itself so that its id cannot be taken by another
        self._rules: dict[int, tuple[Decision, tuple[str, ...]]] = {}
        self._outbox: Any = None
        # one moment and one revocation list for every approval this Judge checks
        self._checker = Checker(keys=trust.keys, revocations=trust.revocations, production=production, now=now,
                                max_revocation_age=trust.max_revocation_age)

    # -- inputs

    def decide(self, record: UseRecord, digest: str | None = None) -> Decision:
        from clearance.policy import evaluate

        key = (str(record.id), digest or decision_digest(record))
        found = self._decisions.get(key)
        if found is None:
            found = self._decisions[key] = evaluate(record, self.policy)
        return found

    def _held_for(self, record: UseRecord, digest: str) -> _Held:
        key = (record.id.int, digest)
        held = self._held.get(key)
        if held is None:
            record_id = self._record_id(record)
            check = self._checker.check
            checked = [(approval, check(approval, record, record_digest=digest, check_targets=False))
                       for approval in self._approvals_for(record_id)]
            said = self.trust.facts_for(record_id)
            held = self._held[key] = _Held(checked, _NO_FACTS if said is None else _Facts(said, digest), record)
        return held

    def _record_id(self, record: UseRecord) -> str:
        # a record's id as text, once per Judge (UUID's str() is a Python function, asked several times a record)
        number = record.id.int
        found = self._ids.get(number)
        if found is None:
            found = self._ids[number] = str(record.id)
        return found

    def _approvals_for(self, record_id: str) -> list[SignedApproval]:
        # read once per Judge (a snapshot): prime() and the standings asked next share one read
        held = self._approvals.get(record_id)
        if held is None:
            held = self._approvals[record_id] = self.trust.approvals_for(record_id)
        return held

    def prime(self, records: Iterable[UseRecord]) -> None:
        """Read the approvals held for these records in one pass and check their signatures in one batch
        (spread over the cores when there are many first checks); the standings asked next reuse both."""
        ids = dict.fromkeys(self._record_id(r) for r in records)
        wanted = [rid for rid in ids if rid not in self._approvals]
        cache = self.trust.cache
        if wanted and cache is not None and self.trust.approvals_for == cache.approvals_for:
            self._approvals.update(cache.approvals_for_many(wanted))  # one listing, not one per record
        check_signatures([a for rid in ids for a in self._approvals_for(rid)], self.trust.keys)

    # -- the answer

    def standing(
        self, record: UseRecord, target: Target | None = None, *, decision: Decision | None = None,
        digest: str | None = None,
    ) -> Standing:
        digest = digest or decision_digest(record)
        decision = decision or self.decide(record, digest)
        key = target.key() if target is not None else None
        if decision.outcome == "approval_required":  # the common case first: an approval that covers it
            held = self._held_for(record, digest)
            approval = held.covering(key)
            if approval is not None:
                made = held.approved.get(approval.approval_id)
                if made is not None:
                    return _retargeted(made, key)
                denial = held.denial
                if denial is None or _later(approval.statement.issued_at, denial.get("denied_at")):
                    # one standing per approval, copied per target: a record on 10 shots is judged once
                    made = held.approved[approval.approval_id] = self._approved(record, key, decision, approval, held)
                    return made
        base = self._base(record, key, decision, None)
        if decision.outcome == "prohibited":
            deciding = [f for f in decision.findings if f.outcome == decision.outcome]
            why = "; ".join(f"{f.rule}: {f.message}" for f in deciding[:2])
            return self._made(decision, None, verdict="prohibited", reason=f"prohibited by {why}",
                              fix=next((f.remedy for f in deciding if f.remedy), ""), **base)
        if decision.outcome == "notify":
            return self._made(decision, None, verdict="not_needed", **base)
        held = self._held_for(record, digest)
        facts = held.facts
        base["version"] = facts.version
        valid = [a for a, _listed in held.valid]
        revoked_by_service = held.revoked_by_service
        denial = held.denial
        rules = ", ".join(base["rules"])
        if denial is not None:
            return self._made(
                decision, None, verdict="denied", denied_by=denial.get("denied_by"),
                denied_at=_time(denial.get("denied_at")), denial_reason=denial.get("reason") or None,
                fix="change the use and submit the record again, or take the material out", **base)
        current = [(a, v) for a, v in held.checked if v.code not in {"record_edited", "wrong_record"}]
        for approval, _v in sorted(current, key=lambda pair: pair[0].statement.issued_at, reverse=True):
            revoked = self._revocation(approval, revoked_by_service)
            if revoked is not None:
                return self._made(
                    decision, approval, verdict="revoked", approval_id=approval.approval_id,
                    approver=approval.statement.approver, revoked_by=revoked.get("by") or None,
                    revoked_at=_time(revoked.get("at")), revocation_reason=revoked.get("reason") or None,
                    fix="request approval again (`clearance submit RECORD`)", **base)
        expired = [(a, v) for a, v in current if v.code == "expired"]
        if expired:
            approval = max(expired, key=lambda pair: pair[0].statement.issued_at)[0]
            return self._made(
                decision, approval, verdict="expired", approval_id=approval.approval_id,
                approver=approval.statement.approver, expires_at=approval.statement.expires_at,
                issued_at=approval.statement.issued_at,
                fix="request a new approval (`clearance submit RECORD`)", **base)
        unverified = [(a, v) for a, v in current if v.code in _UNVERIFIED_CODES]
        if unverified:
            approval, verification = max(unverified, key=lambda pair: pair[0].statement.issued_at)
            reason, fix = _unverified_reason(verification, self.trust)
            return self._made(decision, approval, verdict="unverified", approval_id=approval.approval_id,
                              approver=approval.statement.approver, key_id=approval.key_id,
                              reason=f"needs written approval ({rules}); the approval held cannot be verified: "
                                     f"{reason}",
                              fix=fix, **base)
        # the outbox keeps the service's answer at submission: only a guess when nothing newer was pulled
        waiting = facts.waiting() if facts.data else self._waiting_in_outbox(record)
        if waiting is not None:
            return self._made(decision, None, verdict="waiting", requested_by=waiting.get("requested_by"),
                              requested_at=_time(waiting.get("requested_at")),
                              **base | {"version": waiting.get("version") or base["version"]})
        if valid:
            approval = valid[0]
            covered = ", ".join(approval.statement.targets) or "the record as it was, with no targets"
            missing = ", ".join(uncovered_targets(approval.statement.targets, record.targets, target))
            return self._made(
                decision, approval, verdict="missing", approval_id=approval.approval_id,
                reason=f"needs written approval ({rules}): the approval held does not cover target {missing} "
                       f"(it covers {covered})",
                fix="request approval for the new target (`clearance submit RECORD`)", **base)
        stale = [(a, v) for a, v in held.checked if v.code == "record_edited"]
        if stale:
            approval = max(stale, key=lambda pair: pair[0].statement.issued_at)[0]
            approved_version, changed = facts.approved_version(approval, record)
            return self._made(
                decision, approval, verdict="stale", approval_id=approval.approval_id,
                approver=approval.statement.approver, approved_version=approved_version, changed_fields=changed,
                fix="submit the record and request approval again (`clearance submit RECORD`)", **base)
        elsewhere = [v for _a, v in held.checked if v.code == "wrong_production"]
        if elsewhere:  # an approval given in another production does not count here
            return self._made(
                decision, None, verdict="missing", reason=f"needs written approval ({rules}): {elsewhere[0].reason}",
                fix="request approval in this production (`clearance submit RECORD`)", **base)
        return self._made(
            decision, None, verdict="missing", reason=f"needs written approval ({rules}); never requested",
            fix="request it (`clearance submit RECORD`), then publish again once approved", **base)

    def _rules_of(self, decision: Decision) -> list[str]:
        """The rules behind a decision's outcome, each once, in the order of its findings (a list of its own for
        each standing)."""
        known = self._rules.get(id(decision))
        if known is None or known[0] is not decision:
            outcome = decision.outcome
            rules = () if outcome == "notify" else \
                tuple(dict.fromkeys([f.rule for f in decision.findings if f.outcome == outcome]))
            known = self._rules[id(decision)] = (decision, rules)
        return list(known[1])

    def _base(self, record: UseRecord, key: str | None, decision: Decision, held: _Held | None) -> dict[str, Any]:
        """The fields every standing of this record version on this target carries."""
        base: dict[str, Any] = {
            "record_id": self._record_id(record), "target": key, "outcome": decision.outcome, "judged_at": self.now,
            "rules": self._rules_of(decision),
        }
        if held is not None:
            base["version"] = held.facts.version
        return base

    def _approved(self, record: UseRecord, key: str | None, decision: Decision, approval: SignedApproval,
                  held: _Held) -> Standing:
        """``_made(verdict="approved", ...)`` with the fields of ``_base``, built in one step: every approved
        item of a publish makes one (tests/test_standing_fast.py compares both ways)."""
        said = approval.statement.__dict__  # the statement's fields, without pydantic's attribute hook
        return assembled_model(Standing, {
            **_DEFAULTS, "rules": self._rules_of(decision), "changed_fields": [], "record_id": self._record_id(record),
            "target": key, "outcome": decision.outcome, "judged_at": self.now, "version": held.facts.version,
            "verdict": "approved", "approval_id": said["approval_id"], "approver": said["approver"],
            "key_id": approval.key_id, "conditions": said["conditions"], "issued_at": said["issued_at"],
            "expires_at": said["expires_at"]}, set(_EVERY_FIELD), {"_approval": approval, "_decision": decision})

    def _revocation(self, approval: SignedApproval, by_service: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        revocations = self.trust.revocations
        entry = revocations.revoked.get(approval.approval_id) if revocations is not None else None
        said = by_service.get(approval.approval_id)
        if entry is None and said is None:
            return None
        out: dict[str, Any] = dict(said or {})
        if entry is not None:
            out.update(at=entry.revoked_at, reason=entry.reason or out.get("reason"),
                       by=entry.revoked_by or out.get("by"))
        return out

    def _waiting_in_outbox(self, record: UseRecord) -> dict[str, Any] | None:
        """Sent from this machine and the service answered "waiting" for this very content."""
        from clearance.record import content_digest

        try:
            if self._outbox is None:
                from clearance.outbox import Outbox

                self._outbox = Outbox()
            entries = self._outbox.entries(str(record.id))
        except Exception:  # the outbox only adds "since when"; a broken one must not break a standing
            return None
        wanted = content_digest(record)
        for entry in entries:
            response = entry.response or {}
            if entry.content_digest == wanted and response.get("status") == "waiting":
                return {"requested_by": record.declared_by or None, "requested_at": entry.sent_at,
                        "version": response.get("version")}
        return None

    @staticmethod
    def _made(decision: Decision, approval: SignedApproval | None, **fields: Any) -> Standing:
        # Built from values this module computed (typed above): validating them again would cost more than
        # the rest of a standing on a 10,000-item publish.
        # What model_construct does (every field given, so every field is "set"), without its per-call cost.
        values = {**_DEFAULTS, "rules": [], "changed_fields": [], **fields}
        return assembled_model(Standing, values, set(values), {
            "_approval": approval if fields.get("verdict") == "approved" else None, "_decision": decision})

    def standings(self, record: UseRecord, targets: Iterable[Target | None]) -> list[Standing]:
        return [self.standing(record, t) for t in targets]

    def approval_states(self, record: UseRecord) -> list[tuple[SignedApproval, str, str]]:
        """Each approval held for the record: (approval, state word, one-line reason) for listings."""
        digest = decision_digest(record)
        held = self._held_for(record, digest)
        out = []
        for approval, verification in held.checked:
            code = verification.code
            state = {"valid": "valid", "record_edited": "stale", "expired": "expired", "revoked": "revoked",
                     "wrong_record": "other record", "wrong_production": "other production",
                     "target_not_covered": "valid"}.get(code, "unverified")
            out.append((approval, state, verification.reason))
        return out


def _retargeted(standing: Standing, target: str | None) -> Standing:
    """A copy of a standing for another target: what model_copy does, without its cost (a 10,000-item publish
    makes one per item)."""
    copy = Standing.__new__(Standing)
    object.__setattr__(copy, "__dict__", {**standing.__dict__, "target": target})
    object.__setattr__(copy, "__pydantic_fields_set__", standing.__pydantic_fields_set__)
    object.__setattr__(copy, "__pydantic_extra__", None)
    object.__setattr__(copy, "__pydantic_private__", dict(standing.__pydantic_private__ or {}))
    return copy


def _unverified_reason(verification: Verification, trust: TrustInputs) -> tuple[str, str]:
    code = verification.code
    if code == "unknown_key":
        if not len(trust.keys):
            return ("no approver key is trusted on this machine",
                    f"run {PULL} (pins the service's keys) or pin them in the policy's approvals.trusted_keys")
        return (f"it is signed with key {verification.key_id}, which is not trusted here",
                f"pin the studio's key in the policy or run {PULL} from the studio's service")
    if code == "bad_signature":
        return (verification.reason, f"pull it again ({PULL}); if it persists, tell the studio")
    if code == "not_yet_valid":
        return (verification.reason, "check this machine's clock")
    revocations = trust.revocations
    problems = [p for p in trust.problems if "revocation" in p]
    if code == "revocations_missing":
        why = problems[0] if problems else "no signed revocation list is held"
        return (why, f"run {PULL} while the service answers")
    age = trust.max_revocation_age
    as_of = revocations.as_of() if revocations is not None else None
    return (f"the newest signed revocation list is from {when(as_of)}, older than the policy's limit of "
            f"{_hours(age)}", f"run {PULL} while the service answers")


def _hours(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return _utc(value)
    try:
        return _utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _later(a: datetime, b: Any) -> bool:
    other = _time(b)
    return other is None or (_utc(a) or a) > other


class _Facts:
    """The service's last known view of one record (``GET /api/v1/records/{id}``), as cached by pulls."""

    def __init__(self, data: dict[str, Any] | None, digest: str) -> None:
        self.data = data or {}
        self.digest = digest
        versions = self.data.get("versions") or []
        self.versions = {v.get("version"): v for v in versions if isinstance(v, dict)}
        mine = [n for n, v in self.versions.items() if v.get("decision_digest") == digest and isinstance(n, int)]
        self.mine = set(mine)
        self.version: int | None = max(mine) if mine else None

    def denial(self) -> dict[str, Any] | None:
        denials = [d for d in self.data.get("denials") or [] if isinstance(d, dict) and d.get("version") in self.mine]
        return max(denials, key=lambda d: str(d.get("denied_at"))) if denials else None

    def waiting(self) -> dict[str, Any] | None:
        requests = [r for r in self.data.get("requests") or []
                    if isinstance(r, dict) and r.get("status") == "waiting" and r.get("version") in self.mine]
        return min(requests, key=lambda r: str(r.get("requested_at"))) if requests else None

    def revoked(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for a in self.data.get("approvals") or []:
            if isinstance(a, dict) and a.get("revoked_at") and a.get("approval_id"):
                out[str(a["approval_id"])] = {"at": a.get("revoked_at"), "reason": a.get("revocation_reason"),
                                              "by": a.get("revoked_by")}
        return out

    def approved_version(self, approval: SignedApproval, record: UseRecord) -> tuple[int | None, list[str]]:
        number = None
        for a in self.data.get("approvals") or []:
            if isinstance(a, dict) and a.get("approval_id") == approval.approval_id:
                number = a.get("version")
        if number is None:
            numbers = [n for n, v in self.versions.items()
                       if isinstance(n, int) and v.get("decision_digest") == approval.statement.record_digest]
            number = max(numbers) if numbers else None
        old = (self.versions.get(number) or {}).get("record") if number is not None else None
        return number, changed_fields(old, record) if isinstance(old, dict) else []


_NO_FACTS = _Facts(None, "")
"""The service's view of a record it has said nothing of (shared: only ever read)."""


def changed_fields(old: dict[str, Any], record: UseRecord) -> list[str]:
    """Dotted names of the decision-relevant fields that differ between an earlier body and the record."""
    from clearance.record import DECISION_FIELDS
    from clearance.record import UseRecord as Model

    try:
        before = Model.model_validate(old).model_dump(mode="json")
    except Exception:  # an old body this version cannot read: say nothing rather than guess
        return []
    after = record.model_dump(mode="json")
    changed: list[str] = []
    for name in (*DECISION_FIELDS, "targets"):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changed.extend(f"{name}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
        else:
            changed.append(name)
    return changed
