"""Which trust inputs a standing may rely on: approver keys, revocation lists, approvals.

Fail closed: every input here is either verified or refused with one line naming where it came from.

- **Keys.** Keys pinned in the policy (``approvals.trusted_keys``, ``approvals.keys_file``) are the
  studio's trust anchor and win over everything. Without them, the keys of the first service pulled from
  are pinned on first use, like SSH's known_hosts: a later pull that removes or replaces a pinned key is
  refused, naming the old and the new fingerprints, unless ``clearance approvals pull --accept-new-keys``.
  A rotation the service announces (the new key signed by a key already pinned, written by
  ``clearance admin keys rotate``) is accepted without asking.
- **Revocations.** A list counts only when a trusted key signed it; its age is its signed
  ``generated_at``. Lists from the cache, an approvals folder and the service are merged (union): a
  revocation once seen is never forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from clearance.approvals import (
    PublicKeyInfo,
    Revocations,
    SignedApproval,
    TrustedKeys,
    announcement_holds,
    now_utc,
)
from clearance.cache import ApprovalCache, revocations_in
from clearance.errors import ClearanceError

ACCEPT_HINT = "`clearance approvals pull --accept-new-keys`"


def fingerprint(key: PublicKeyInfo) -> str:
    """How a key is named to people: its id (the first 16 hex digits of the SHA-256 of the public key)."""
    return f"{key.key_id}"


@dataclass(frozen=True, slots=True)
class KeyTrust:
    """The approver keys a standing may trust, where they come from, and a note for people when useful."""

    keys: TrustedKeys
    source: str  # "policy", "pinned", "none"
    note: str | None = None

    @property
    def warning(self) -> str | None:  # the name 0.1's callers used
        return self.note


def trusted_keys(policy: Any, cache: ApprovalCache | None = None) -> KeyTrust:
    """The keys that count, the same for publish, hosts, `clearance check`, `approvals verify` and status.

    ``approvals.trust_pulled_keys: false`` refuses keys pinned on first use: only the policy's count.
    """
    settings = policy.approvals
    pinned_by_policy = TrustedKeys.from_policy(policy)
    if len(pinned_by_policy) or settings.keys_file:
        return KeyTrust(pinned_by_policy, "policy")
    if not settings.trust_pulled_keys:
        return KeyTrust(pinned_by_policy, "none",
                        "the policy trusts no approver key (approvals.trust_pulled_keys is false and "
                        "approvals.trusted_keys is empty): pin the service's keys in the policy")
    cache = cache or ApprovalCache()
    pulled = cache.keys()
    if not len(pulled):
        return KeyTrust(pulled, "none")
    document = cache.keys_document() or {}
    server = document.get("server") or "the service"
    return KeyTrust(
        pulled, "pinned",
        f"approver keys {', '.join(pulled.key_ids())} were pinned on first use from {server} "
        f"({cache.keys_path}); pin them in the studio policy (approvals.trusted_keys) to rely on no first use",
    )


@dataclass
class PinResult:
    """What a pull did to the pinned keys."""

    pinned: list[str] = field(default_factory=list)  # newly trusted key ids
    announced: list[str] = field(default_factory=list)  # of which accepted through a rotation announcement
    first_use: bool = False
    refused: str | None = None  # the one-line refusal when the service's keys were not accepted


def pin_keys(cache: ApprovalCache, document: dict[str, Any], server: str | None, *,
             accept_new: bool = False) -> PinResult:
    """Pin a service's GET /api/v1/keys document on first use; afterwards accept only announced rotations.

    Refused (``PinResult.refused``, nothing written) when the service drops or replaces a pinned key or adds
    one no pinned key announced, unless ``accept_new``.
    """
    offered = TrustedKeys.from_document(document, f"{server or 'the service'} keys document")
    held = cache.keys()
    result = PinResult()
    if not len(held):
        cache.store_keys(document, server=server)
        result.pinned, result.first_use = offered.key_ids(), True
        return result
    entries = {e["key_id"]: e for e in document.get("keys", []) if isinstance(e, dict) and "key_id" in e}
    trusted = {k.key_id: k for k in held}
    added = True
    while added:  # a chain of rotations: k1 announces k2, k2 announces k3
        added = False
        for key in offered:
            if key.key_id in trusted:
                continue
            entry = entries.get(key.key_id, {})
            by = entry.get("announced_by", {}).get("key_id") if isinstance(entry.get("announced_by"), dict) else None
            if by in trusted and announcement_holds(entry, key, trusted[by]):
                trusted[key.key_id] = key
                result.announced.append(key.key_id)
                added = True
    dropped = [k for k in held if k.key_id not in offered]
    unknown = [k for k in offered if k.key_id not in trusted]
    if (dropped or unknown) and not accept_new:
        old = ", ".join(fingerprint(k) for k in held)
        new = ", ".join(fingerprint(k) for k in offered)
        result.refused = (
            f"the keys of {server or 'the service'} do not match the keys pinned here: pinned {old}; offered {new}"
            f"{' (drops ' + ', '.join(k.key_id for k in dropped) + ')' if dropped else ''}"
            f"{' (unannounced ' + ', '.join(k.key_id for k in unknown) + ')' if unknown else ''}; "
            f"if the studio changed its keys, confirm with its admin and run {ACCEPT_HINT}"
        )
        result.announced = []
        return result
    result.pinned = [k.key_id for k in offered if k.key_id not in held]
    if result.pinned or dropped or accept_new:
        cache.store_keys(document, server=server)
    return result


@dataclass
class TrustInputs:
    """Everything a standing is judged from besides the record and the policy: one snapshot.

    ``problems`` are one-line refusals of inputs (an unsigned revocation list in the cache, a damaged
    approval file): each made an input count as missing, never as valid.
    """

    keys: TrustedKeys
    key_source: str
    revocations: Revocations | None
    max_revocation_age: timedelta
    approvals_for: Callable[[str], list[SignedApproval]]
    facts_for: Callable[[str], dict[str, Any] | None]
    cache: ApprovalCache | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    now: datetime | None = None

    def clock(self) -> datetime:
        return self.now or now_utc()


def load_trust(
    policy: Any,
    *,
    cache: ApprovalCache | None = None,
    approvals_dir: str | Path | None = None,
    now: datetime | None = None,
    extra_keys: TrustedKeys | None = None,
    approvals: list[SignedApproval] | None = None,
) -> TrustInputs:
    """The trust inputs on this machine: pinned keys, the union of signed revocation lists (cache and
    ``approvals_dir``), approvals (cache and ``approvals_dir``, or exactly ``approvals``) and the service's
    last known view of each record.

    A revocation list in ``approvals_dir`` that is not signed by a trusted key raises ClearanceError naming
    the file.
    """
    cache = cache or ApprovalCache()
    trust = trusted_keys(policy, cache)
    keys = trust.keys if extra_keys is None else trust.keys.merge(extra_keys)
    revocations = cache.revocations(keys)
    if approvals_dir is not None:
        folder = Path(approvals_dir)
        if approvals is None:
            cache.load_folder(folder)
        given = revocations_in(folder, keys)
        if given is not None:
            revocations = given if revocations is None else revocations.union(given)
    if approvals is not None:
        fixed: dict[str, list[SignedApproval]] = {str(a.statement.record_id): [] for a in approvals}
        for approval in approvals:
            fixed[str(approval.statement.record_id)].append(approval)

        def approvals_for(record_id: str) -> list[SignedApproval]:
            return list(fixed.get(str(record_id), []))
    else:
        approvals_for = cache.approvals_for
    hours = float(policy.approvals.revocations_max_age_hours)
    notes = [trust.note] if trust.note else []
    return TrustInputs(
        keys=keys, key_source=trust.source if extra_keys is None else "given", revocations=revocations,
        max_revocation_age=timedelta(hours=hours), approvals_for=approvals_for, facts_for=cache.facts,
        cache=cache, notes=notes, problems=cache.problems, now=now,
    )


def require_keys(trust: TrustInputs) -> None:
    if not len(trust.keys):
        raise ClearanceError(
            "no approver keys are trusted here: run `clearance approvals pull` (pins the service's keys on first "
            "use) or pin them in the policy's approvals.trusted_keys"
        )


def known_record(cache: ApprovalCache, record_id: str) -> Any:
    """The record as this machine knows it: the newest version in the outbox, else the service's latest
    version as last pulled; None when neither holds it."""
    from clearance.outbox import Outbox
    from clearance.record import UseRecord

    try:
        with Outbox() as outbox:
            entries = outbox.entries(record_id)
        if entries:
            return max(entries, key=lambda e: e.created_at).record()
    except ClearanceError:
        pass
    facts = cache.facts(record_id) or {}
    versions = [v for v in facts.get("versions") or [] if isinstance(v, dict) and isinstance(v.get("record"), dict)]
    if versions:
        return UseRecord.model_validate(max(versions, key=lambda v: v.get("version") or 0)["record"])
    return None


ONLINE_BUDGET_S = 3.0
"""How long publish, check and the hosts wait for the service in all before judging from the cache."""


def refresh_online(
    policy: Any, record_ids: list[str], *, cache: ApprovalCache | None = None, budget: float = ONLINE_BUDGET_S,
    server: str | None = None, token: str | None = None,
) -> str | None:
    """When a service is configured (CLEARANCE_SERVER or the policy's approvals.server) and answers within
    ``budget`` seconds in all, refresh the pinned keys (first use or announced rotations only), the signed
    revocation list and the approvals and status of ``record_ids`` (a few batch requests for thousands).

    Returns one line to show people when something could not be refreshed (judging from the cache then), or
    None. Never raises for the network: offline, the cache is the judge.
    """
    import os
    import time

    server = server or os.environ.get("CLEARANCE_SERVER") or policy.approvals.server
    if not server:
        return None
    from clearance.client import DisclosureClient

    started = time.monotonic()
    cache = cache or ApprovalCache()
    notes: list[str] = []

    def left() -> float:
        return max(0.2, budget - (time.monotonic() - started))

    with DisclosureClient(server=server, token=token, cache=cache, timeout=(min(1.0, budget), budget)) as client:
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("keys", client.refresh_keys),
            ("revocation list", lambda: client.refresh_revocations(trusted_keys(policy, cache).keys)),
        ]
        if record_ids:
            steps.append(("approvals", lambda: client.lookup(record_ids)))
        for what, step in steps:
            if time.monotonic() - started >= budget:
                notes.append(f"{what}: no time left")
                continue
            client.timeout = (min(1.0, left()), left())
            try:
                result = step()
            except ClearanceError as exc:
                notes.append(f"{what}: {exc}")
                if getattr(exc, "transient", False) and exc.__class__.__name__ == "ServerUnreachable":
                    break  # the service does not answer: no use trying the rest
                continue
            if isinstance(result, PinResult) and result.refused:
                notes.append(f"keys: {result.refused}")
    if not notes:
        return None
    return f"could not refresh everything from {server} ({'; '.join(notes)}); judged from what this machine holds"
