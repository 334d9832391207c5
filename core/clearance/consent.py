"""Consent: registry entries of talent consent, and the check a record's consent references must pass.

The guidance asks for "explicit and documented consent", use "solely for the production in question",
"within the scope of work agreed upon with the talent", "express consent of all parties" for a model
reused elsewhere, and compliance with guild requirements. A yes/no in the record cannot say any of that,
so a version 2 record names consent *registry entries* (``talent.consent_refs``), and the TALENT rules check
each one: it must exist, not be withdrawn, be in force on the day, cover the record's production, media
kind and use, and come from the party the use needs (the performer; an estate for a deceased person; all
parties for a talent model reused elsewhere).

Entries live on the disclosure service (created and withdrawn by the production's ``legal`` role, every
change audited). The service hands them out as one list signed with its approval key, like the revocation
list; ``clearance consents pull`` caches it for offline checks. An unsigned, badly signed, untrusted or
stale list counts as no list at all: every consent reference is then unverifiable, which is judged as no
consent (fail closed), with one line saying how to refresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clearance.errors import ClearanceError, describe_validation_error
from clearance.record import Media, UseRecord

ConsentParty = Literal["performer", "estate", "all_parties"]
ConsentUse = Literal["digital_replica", "new_performance", "voice", "likeness", "model_reuse", "training"]
CONSENTS_FILE = "consents.json"


class ConsentScope(BaseModel):
    """What a consent covers. Empty lists never mean "everything": an entry must name what it allows."""

    # Built on first validation, not at import: only records that need consent read the registry, so most
    # checks and gates never validate a consent entry.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, str_min_length=0)

    productions: tuple[str, ...] = Field(min_length=1, description="Production codes the consent is given for.")
    media: tuple[Media, ...] = Field(min_length=1, description="Media kinds: image, video, audio, voice, 3d ...")
    uses: tuple[ConsentUse, ...] = Field(
        min_length=1, description="digital_replica, new_performance, voice, likeness, model_reuse, training."
    )
    territory: tuple[str, ...] = Field(default=("worldwide",), description="Where the material may be shown.")
    starts_on: date = Field(description="First day the consent is in force.")
    ends_on: date | None = Field(default=None, description="Last day it is in force (none: until withdrawn).")


class ConsentEntry(BaseModel):
    """One consent on the registry. The signed document itself never leaves legal: only its digest."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, str_min_length=0)  # as ConsentScope

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    production: str = Field(min_length=1, description="The production that registered it.")
    talent: str = Field(min_length=1, max_length=300, description="Who the consent is about (performer name).")
    given_by: ConsentParty = Field(description="performer, estate (deceased people) or all_parties.")
    scope: ConsentScope
    guild_terms: str = Field(default="", max_length=2000, description="Guild agreement terms it complies with.")
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the signed consent document.")
    status: Literal["active", "withdrawn"] = "active"
    created_by: str = ""
    created_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None

    @field_validator("created_at", "withdrawn_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


@dataclass(frozen=True, slots=True)
class ConsentVerdict:
    """Whether a record's consent references hold, and one line saying why (or why not)."""

    given: bool
    reason: str
    refs: tuple[str, ...] = ()


def needed_use(record: UseRecord) -> str:
    """What the consent must allow for this record."""
    talent = record.talent
    if talent.alteration in ("new_performance", "significant") and record.schema_version >= 2:
        return "new_performance"
    return "digital_replica"


class ConsentBook:
    """The consent entries known here (from the service, or pulled into the cache), ready to check against."""

    def __init__(self, entries: list[ConsentEntry] | None = None, *, source: str = "", problem: str | None = None,
                 as_of: datetime | None = None) -> None:
        self.entries = {entry.id: entry for entry in entries or []}
        self.source = source
        self.problem = problem  # why the list could not be used: every reference is then unverifiable
        self.as_of = as_of
        digest = hashlib.sha256(
            json.dumps(sorted(e.model_dump(mode="json").__repr__() for e in self.entries.values())).encode()
            + (problem or "").encode()
        ).hexdigest()
        self.token = digest[:16]  # changes whenever the entries or their usability change (engine reuse key)

    def judge(self, record: UseRecord, *, party: ConsentParty = "performer", use: str | None = None,
              today: date | None = None) -> ConsentVerdict:
        """Do the record's consent references cover this use? Each reference must hold; at least one must exist."""
        refs = tuple(r.strip() for r in record.talent.consent_refs if r.strip())
        if not refs:
            return ConsentVerdict(False, "the record names no consent registry entry (talent.consent_refs)")
        if self.problem:
            return ConsentVerdict(False, f"consent cannot be checked: {self.problem}", refs)
        use = use or needed_use(record)
        today = today or datetime.now(timezone.utc).date()
        for ref in refs:
            entry = self.entries.get(ref)
            why = _why_not(entry, ref, record, party, use, today)
            if why:
                return ConsentVerdict(False, why, refs)
        return ConsentVerdict(True, f"consent {', '.join(refs)} is in force and covers this use", refs)


_PARTIES_OK: dict[str, tuple[str, ...]] = {
    "performer": ("performer", "all_parties"),
    "estate": ("estate", "all_parties"),
    "all_parties": ("all_parties",),
}


def _why_not(entry: ConsentEntry | None, ref: str, record: UseRecord, party: str, use: str, today: date) -> str:
    if entry is None:
        return f"consent {ref} is unknown to the registry (`clearance consents pull`, then `clearance consents list`)"
    scope = entry.scope
    if entry.status == "withdrawn":
        when = f" on {entry.withdrawn_at:%Y-%m-%d}" if entry.withdrawn_at else ""
        by = f" by {entry.withdrawn_by}" if entry.withdrawn_by else ""
        reason = f": {entry.withdrawn_reason}" if entry.withdrawn_reason else ""
        return f"consent {ref} was withdrawn{when}{by}{reason}"
    if today < scope.starts_on:
        return f"consent {ref} is not in force before {scope.starts_on:%Y-%m-%d}"
    if scope.ends_on is not None and today > scope.ends_on:
        return f"consent {ref} expired on {scope.ends_on:%Y-%m-%d}"
    if record.production not in scope.productions:
        return (
            f"consent {ref} covers {', '.join(scope.productions)}, not this production ({record.production or 'unset'})"
        )
    if record.use.media not in scope.media:
        return f"consent {ref} covers {', '.join(scope.media)} media, not {record.use.media}"
    allowed = set(scope.uses)
    if use not in allowed and not (use == "digital_replica" and allowed & {"voice", "likeness"}):
        return f"consent {ref} allows {', '.join(scope.uses)}, not {use.replace('_', ' ')}"
    if entry.given_by not in _PARTIES_OK[party]:
        need = {"estate": "the estate", "all_parties": "all parties"}.get(party, "the performer")
        return f"consent {ref} was given by {entry.given_by.replace('_', ' ')}; this use needs consent of {need}"
    return ""


# ---------------------------------------------------------------------------------- the signed list


def book_from_document(data: Any, keys: Any, *, source: str, max_age: timedelta | None = None,
                       now: datetime | None = None) -> ConsentBook:
    """Read a GET /api/v1/consents body ``{"production", "generated_at", "consents": [...], "signature"}``.

    The signature must hold with a trusted key and the list must be younger than ``max_age`` (judged from its
    signed ``generated_at``): otherwise the book carries a problem and no reference verifies.
    """
    from clearance.approvals import verify_document

    if not isinstance(data, dict) or not isinstance(data.get("consents"), list):
        return ConsentBook(source=source, problem=f"{source} is not a consent list (GET /api/v1/consents)")
    check = verify_document(data, keys)
    if not check.valid:
        return ConsentBook(source=source, problem=f"{source}: {check.reason}")
    try:
        entries = [ConsentEntry.model_validate(e) for e in data["consents"]]
        generated = datetime.fromisoformat(str(data.get("generated_at")).replace("Z", "+00:00"))
    except (ValidationError, ValueError) as exc:
        detail = describe_validation_error(exc, source) if isinstance(exc, ValidationError) else f"{source}: {exc}"
        return ConsentBook(source=source, problem=detail)
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    if max_age is not None and now - generated > max_age:
        hours = max_age.total_seconds() / 3600
        return ConsentBook(
            source=source,
            problem=f"the consent list {source} is from {generated:%Y-%m-%d %H:%M} UTC, older than {hours:g} h; run "
            "`clearance consents pull`",
        )
    return ConsentBook(entries, source=source, as_of=generated)


def consents_path(cache: Path | None = None) -> Path:
    from clearance.paths import cache_dir

    return (cache or cache_dir()) / CONSENTS_FILE


def save_document(document: dict[str, Any], cache: Path | None = None) -> Path:
    from clearance.cache import atomic_write

    path = consents_path(cache)
    atomic_write(path, json.dumps(document, indent=2, sort_keys=True))
    return path


class _InForce:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[Any, ...] | None = None
        self.policy: Any = None
        self.book: ConsentBook | None = None
        self.recheck_at = 0.0


_in_force = _InForce()


def book_in_force(policy: Any = None) -> ConsentBook:
    """The consent list pulled into the local cache, verified with the keys trusted here; looked at again at most
    once a second (re-read when the file changed) and re-judged for age every minute. No list at all: a book
    whose problem says to pull one. The engine asks on every version 2 evaluation, so the common case is one
    clock read."""
    from clearance.policy.loading import policy_in_force

    policy = policy if policy is not None else policy_in_force()
    state = _in_force
    now = time.monotonic()
    if state.book is not None and state.policy is policy and now < state.recheck_at:
        return state.book
    from clearance.trust import trusted_keys

    path = consents_path()
    try:
        info = os.stat(path)
        stamp: tuple[Any, ...] = (str(path), info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = (str(path), -1, -1)
    minute = int(datetime.now(timezone.utc).timestamp() // 60)
    key = (stamp, minute)
    with state.lock:
        state.recheck_at = now + 1.0
        if state.book is not None and state.key == key and state.policy is policy:
            return state.book
        if stamp[1] == -1:
            book = ConsentBook(source=str(path), problem="no consent list is held here; run `clearance consents pull`")
        else:
            from clearance.documents import load_document

            try:
                data = load_document(path).data
            except ClearanceError as exc:
                book = ConsentBook(source=str(path), problem=str(exc))
            else:
                max_age = timedelta(hours=policy.approvals.revocations_max_age_hours)
                book = book_from_document(data, trusted_keys(policy).keys, source=str(path), max_age=max_age)
        state.key, state.policy, state.book = key, policy, book
    return book


def document_digest(path: str | Path) -> str:
    """SHA-256 of a signed consent document (what the registry keeps instead of the document)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
