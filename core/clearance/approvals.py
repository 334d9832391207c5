"""Signed approvals: what an approver's "yes" binds, how it is signed, and how it is checked offline.

An approval is a statement (record id, digest of the record's decision-relevant fields, production,
targets, approver, validity window, conditions, key id) and an Ed25519 signature over
``canonical_json(statement.model_dump(mode="json"))``. Anyone holding the approver's public key can
check it without the server; an edit to the record, the wrong production or target, expiry or a
revocation voids it. The same keys sign studio policy overlays and the server's revocation list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from json.encoder import encode_basestring as _json_text
from json.scanner import make_scanner
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, SafeUUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from clearance import signatures
from clearance.assembled import assembled_model
from clearance.documents import canonical_json, load_json, parse_json_text, read_bytes
from clearance.errors import ClearanceError, describe_validation_error
from clearance.record import Target, UseRecord, decision_digest

MAX_KEY_BYTES = 64 * 1024  # an Ed25519 PEM key is ~120 bytes; anything this large is not one

if TYPE_CHECKING:
    from clearance.policy.settings import Policy

ALGORITHM = "Ed25519"
DEFAULT_REVOCATION_MAX_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future an issue time may be before "not yet valid": machines' clocks drift."""
PULL_HINT = "run `clearance approvals pull`"


def _utc(value: datetime | None) -> datetime | None:
    # A naive time is read as UTC so the signed bytes never depend on the signer's time zone.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def key_id_for(public_raw: bytes) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --------------------------------------------------------------------------------------------- models


class ApprovalStatement(BaseModel):
    """What the approver said yes to. Frozen: the signed bytes are computed once and must not drift."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_id: str = Field(min_length=1, max_length=200)
    record_id: UUID
    record_digest: str = Field(description="clearance.record.decision_digest of the approved record.")
    production: str
    targets: list[str] = Field(
        default_factory=list, description='Target.key() values "kind:ref"; empty = every target of the record.'
    )
    approver: str
    issued_at: datetime
    expires_at: datetime | None = None
    conditions: str = ""
    key_id: str = Field(default="", description="The signing key; KeyRing.sign fills it in.")

    @field_validator("issued_at", "expires_at")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))


class SignedApproval(BaseModel):
    """One JSON document: the statement, the base64 Ed25519 signature over its canonical JSON, the key id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statement: ApprovalStatement
    signature: str
    key_id: str

    _canonical: bytes | None = PrivateAttr(default=None)
    _checked: tuple[bytes, bytes] | None = PrivateAttr(default=None)

    @property
    def approval_id(self) -> str:
        return self.statement.approval_id

    def canonical_bytes(self) -> bytes:
        """The signed bytes, computed once per parsed approval (verification is on the hot path)."""
        memo = self._memo()
        found: bytes | None = memo.get("_canonical")
        if found is None:
            found = memo["_canonical"] = self.statement.signed_bytes()
        return found

    def _memo(self) -> dict[str, Any]:
        # pydantic keeps private attributes in this dict; reading it directly skips a lookup that costs more
        # than the memo saves (the signed bytes are read twice per first check)
        memo = self.__pydantic_private__
        assert memo is not None
        return memo

    @property
    def checked(self) -> tuple[bytes, bytes] | None:
        """(key, signed bytes) of a signature check that succeeded in this process; never stored on disk."""
        checked: tuple[bytes, bytes] | None = self._memo().get("_checked")
        return checked

    def mark_checked(self, raw: bytes, data: bytes) -> None:
        self._memo()["_checked"] = (raw, data)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def parse_approval(data: Any, source: str = "approval") -> SignedApproval:
    """A SignedApproval from parsed JSON; ClearanceError naming the source and field when malformed."""
    if not isinstance(data, dict):
        raise ClearanceError(f"{source}: a signed approval must be a JSON object, got {type(data).__name__}")
    try:
        approval = SignedApproval.model_validate(data)
    except ValidationError as exc:
        raise ClearanceError(describe_validation_error(exc, source)) from None
    try:
        approval.canonical_bytes()
    except UnicodeEncodeError:  # JSON may escape half a character (\ud800); the signed bytes cannot hold it
        raise ClearanceError(f"{source}: the statement holds an escaped half character (a lone surrogate such as "
                             "\\ud800), which is not text, so it cannot be the signed approval; pull it again") \
            from None
    return _whole_text(approval, source)


def _whole_text(approval: SignedApproval, source: str) -> SignedApproval:
    """The approval, unless its key id or signature holds half a character: neither could be printed (an
    "unknown key" line would fail in the printing), so the file is refused as the statement would be."""
    if not (_is_text(approval.key_id) and _is_text(approval.signature)):
        raise ClearanceError(f"{source}: the key id or signature holds an escaped half character (a lone surrogate "
                             "such as \\ud800), which is not text, so it cannot be a signed approval; pull it "
                             "again")
    return approval


# The plain reading of an approval file, for the many files a publish reads: what ``parse_approval`` makes
# of a document exactly as ``SignedApproval.to_json`` writes it, built without pydantic's validation. Any
# other shape (a key missing or extra, a value of another type or in another spelling, a key given twice,
# text that cannot be encoded) is left to the full reader, so its answers and error messages stay the only
# ones (tests/test_approvals_plain_read.py compares both on generated documents).
_STATEMENT_ORDER = tuple(ApprovalStatement.model_fields)
_STATEMENT_FIELDS = frozenset(_STATEMENT_ORDER)
_APPROVAL_FIELDS = frozenset(SignedApproval.model_fields)
_Model = TypeVar("_Model", bound=BaseModel)
_UUID_FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_TIME_FORM = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z", re.ASCII)
_TARGETS_KEPT = 1000
"""More targets than this go to the full reader (which applies the document limits to them)."""


class _Unusual(Exception):
    """Raised inside the plain reading: leave this document to the full reader."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):  # a key given twice: the full reader names it
        raise _Unusual
    return found


_PLAIN_JSON = json.JSONDecoder(object_pairs_hook=_pairs)


def _plain_time(text: Any) -> datetime:
    # Only pydantic's own spelling of a UTC time (what to_json writes: six digits of fraction, or none when
    # they would all be 0), so that the signed bytes below are the very text read; any other spelling is
    # another byte form and goes to the full reader. (Without its "Z", which Python 3.10's fromisoformat
    # does not read.)
    if type(text) is not str or _TIME_FORM.fullmatch(text) is None or text[19:] == ".000000Z":
        raise _Unusual
    return datetime.fromisoformat(text[:-1] + "+00:00")  # tzinfo: timezone.utc itself; ValueError: 30 February


def _plain_uuid(text: str) -> UUID:
    # What UUID(text) makes of a lowercase hyphenated id (the digits as its int, safety unknown), without
    # the spellings its constructor also accepts and has to strip first.
    made = object.__new__(UUID)
    object.__setattr__(made, "int", int(text.replace("-", ""), 16))
    object.__setattr__(made, "is_safe", SafeUUID.unknown)
    return made


# the C scanner JSONDecoder.decode calls, without its two Python frames (typeshed types make_scanner as a class
# taking itself; it takes the decoder whose settings it copies)
_SCAN: Callable[[str, int], tuple[Any, int]] = make_scanner(_PLAIN_JSON)  # type: ignore[arg-type]
_SIX_TEXTS = (str,) * 6
_TEXT_MEMBERS = tuple((name, f"{_json_text(name)}:") for name in sorted(_STATEMENT_FIELDS)
                      if name not in {"targets", "expires_at"})
_EXPIRES_AT = sum(name < "expires_at" for name, _key in _TEXT_MEMBERS)
assert max(_STATEMENT_FIELDS) == "targets"


def _signed_bytes(body: dict[str, Any]) -> bytes:
    """``canonical_json(body)`` of a statement whose values were checked above (text, a list of texts, and an
    expiry that is text or null), written member by member in sorted order: the same bytes without the
    encoder's sorting and type dispatch (tests/test_approvals_plain_read.py compares them)."""
    targets = body["targets"]
    expires = body["expires_at"]
    members = [f"{key}{_json_text(body[name])}" for name, key in _TEXT_MEMBERS]
    members.insert(_EXPIRES_AT, '"expires_at":' + ("null" if expires is None else _json_text(expires)))
    members.append('"targets":[' + ",".join(map(_json_text, targets)) + "]")  # the last name in order
    return ("{" + ",".join(members) + "}").encode("utf-8")
_ONLY_TEXT = frozenset({str})


def _plain_approval(text: str) -> SignedApproval | None:
    """The approval in ``text`` when it is exactly in the form Clearance writes, else None."""
    try:
        if text[:1] != "{":
            return None
        data, end = _SCAN(text, 0)
        if text[end:].strip(" \t\n\r") or type(data) is not dict or data.keys() != _APPROVAL_FIELDS:
            return None
        body, signature, key_id = data["statement"], data["signature"], data["key_id"]
        if type(body) is not dict or body.keys() != _STATEMENT_FIELDS or type(signature) is not str \
                or type(key_id) is not str:
            return None
        approval_id, targets, record_id = body["approval_id"], body["targets"], body["record_id"]
        if (type(approval_id), type(body["record_digest"]), type(body["production"]), type(body["approver"]),
                type(body["conditions"]), type(body["key_id"])) != _SIX_TEXTS or not 1 <= len(approval_id) <= 200:
            return None
        if type(targets) is not list or len(targets) > _TARGETS_KEPT or \
                (targets and set(map(type, targets)) != _ONLY_TEXT):
            return None
        if type(record_id) is not str or _UUID_FORM.fullmatch(record_id) is None:
            return None
        issued_at = _plain_time(body["issued_at"])
        expires = body["expires_at"]
        expires_at = None if expires is None else _plain_time(expires)
        signed = _signed_bytes(body)
    except (_Unusual, StopIteration, ValueError, RecursionError, UnicodeError):
        return None
    # the model's field order, as validation leaves it (to_json writes that order, so it is usually so)
    fields = body if tuple(body) == _STATEMENT_ORDER else {name: body[name] for name in _STATEMENT_ORDER}
    fields["record_id"] = _plain_uuid(record_id)
    fields["issued_at"] = issued_at
    fields["expires_at"] = expires_at
    statement = _built(ApprovalStatement, fields, None)
    return _built(SignedApproval, {"statement": statement, "signature": signature, "key_id": key_id},
                  {"_canonical": signed, "_checked": None})


def _built(model: type[_Model], fields: dict[str, Any], private: dict[str, Any] | None) -> _Model:
    # What model_validate leaves behind for a document giving every field, for values checked above.
    return assembled_model(model, fields, set(fields), private)


def read_approval_text(text: str, source: str) -> SignedApproval:
    """The approval in a file's text (``parse_approval`` of it, read plainly when it is in the form Clearance
    writes); ClearanceError naming ``source`` when it is not a signed approval."""
    return read_approval_and_id(text, source)[0]


def read_approval_and_id(text: str, source: str) -> tuple[SignedApproval, str]:
    """``read_approval_text`` and the approval's record id as text (``str`` of its UUID, which a file in the
    form Clearance writes holds as it is)."""
    written = _written_approval(text)
    if written is not None:
        return _whole_text(written[0], source), written[1]
    plain = _plain_approval(text)
    approval = _whole_text(plain, source) if plain is not None else \
        parse_approval(parse_json_text(text, source), source)
    return approval, str(approval.statement.record_id)


# The written reading: a file's text exactly as ``SignedApproval.to_json`` writes it (pydantic's indented JSON,
# members in model order) with no escape in any text, matched as a whole by one pattern. Every text is then the
# characters between its quotes, and the signed bytes are those very tokens put in canonical order
# (``json.encoder.encode_basestring`` writes a text without quote, backslash or control character as it is), so
# no JSON parser runs. Anything else (another layout, an escape, a key twice) goes on to the plain reading.
_TEXT = r'"([^"\\\x00-\x1f]*)"'
_WRITTEN_TIME = r'"([1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z)"'
_WRITTEN = re.compile(
    r'\{\n  "statement": \{\n    "approval_id": ' + _TEXT
    + r',\n    "record_id": "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"'
    + r',\n    "record_digest": ' + _TEXT + r',\n    "production": ' + _TEXT
    + r',\n    "targets": \[(?:((?:\n      "[^"\\\x00-\x1f]*",)*\n      "[^"\\\x00-\x1f]*")\n    )?\]'
    + r',\n    "approver": ' + _TEXT + r',\n    "issued_at": ' + _WRITTEN_TIME
    + r',\n    "expires_at": (?:null|' + _WRITTEN_TIME + r')'
    + r',\n    "conditions": ' + _TEXT + r',\n    "key_id": ' + _TEXT
    + r'\n  \},\n  "signature": ' + _TEXT + r',\n  "key_id": ' + _TEXT + r'\n\}\n?')
_WRITTEN_TARGET = re.compile(r'"([^"]*)"')


def _written_approval(text: str) -> tuple[SignedApproval, str] | None:
    """The approval in ``text`` and its record id as written (the text of the UUID), when ``text`` is exactly
    what ``to_json`` writes, with no escape in any text; else None."""
    found = _WRITTEN.fullmatch(text)
    if found is None:
        return None
    (approval_id, record_id, digest, production, listed, approver, issued, expires, conditions, statement_key,
     signature, key_id) = found.groups()
    targets = [] if listed is None else _WRITTEN_TARGET.findall(listed)
    if not len(approval_id) <= 200 or len(targets) > _TARGETS_KEPT or not approval_id \
            or issued[19:] == ".000000Z" or (expires is not None and expires[19:] == ".000000Z"):
        return None  # the full reader's refusal, or another byte form (pydantic writes no fraction of 0)
    try:
        issued_at = datetime.fromisoformat(issued[:-1] + "+00:00")  # tzinfo: timezone.utc itself
        expires_at = None if expires is None else datetime.fromisoformat(expires[:-1] + "+00:00")
        signed = (f'{{"approval_id":"{approval_id}","approver":"{approver}","conditions":"{conditions}",'
                  f'"expires_at":{"null" if expires is None else f"{_Q}{expires}{_Q}"},"issued_at":"{issued}",'
                  f'"key_id":"{statement_key}","production":"{production}","record_digest":"{digest}",'
                  f'"record_id":"{record_id}","targets":[{",".join(map(_quoted, targets))}]}}').encode()
    except (ValueError, UnicodeError):  # 30 February; half a character (which the file's own text cannot hold)
        return None
    statement = _built(ApprovalStatement, {
        "approval_id": approval_id, "record_id": _plain_uuid(record_id), "record_digest": digest,
        "production": production, "targets": targets, "approver": approver, "issued_at": issued_at,
        "expires_at": expires_at, "conditions": conditions, "key_id": statement_key}, None)
    return _built(SignedApproval, {"statement": statement, "signature": signature, "key_id": key_id},
                  {"_canonical": signed, "_checked": None}), record_id


_Q = '"'


def _quoted(text: str) -> str:
    return f'"{text}"'


class RevocationEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    approval_id: str
    revoked_at: datetime
    reason: str = ""
    revoked_by: str = ""

    @field_validator("revoked_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime | None:
        return _utc(value)


REFRESH_HINT = "run `clearance approvals pull` to fetch the service's signed list"


class Revocations(BaseModel):
    """The revoked approvals known here: the union of every signed revocation list accepted.

    A list counts only when a trusted key signed it (``from_document`` refuses anything else), and its
    age is its signed ``generated_at``: a local file's own time stamps are never believed. Lists only
    accumulate (``union``): a revocation once seen is never forgotten, whatever a later, older or
    truncated list says.
    """

    model_config = ConfigDict(extra="forbid")

    revoked: dict[str, RevocationEntry] = Field(default_factory=dict)
    generated_at: datetime | None = Field(default=None, description="The newest signed list's generated_at.")
    signed_by: str | None = None

    @field_validator("generated_at")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @classmethod
    def from_document(cls, data: Any, *, keys: TrustedKeys, source: str = "revocations") -> Revocations:
        """Read a signed GET /api/v1/revocations body ``{"revocations": [...], "generated_at", "signature"}``.

        Refused (ClearanceError naming ``source``) unless a key in ``keys`` signed exactly this list and it
        says when it was generated.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("revocations"), list):
            raise ClearanceError(f"{source}: not a revocation list (expected the signed GET /api/v1/revocations "
                                 f"document); {REFRESH_HINT}")
        if "signature" not in data:
            raise ClearanceError(f"{source}: the revocation list is not signed, so it is refused; {REFRESH_HINT}")
        check = verify_document(data, keys)
        if not check.valid:
            why = ("signed by an untrusted key " + str(check.key_id) if check.code == "unknown_key"
                   else "badly signed (edited or truncated after signing)")
            raise ClearanceError(f"{source}: the revocation list is {why}, so it is refused; {REFRESH_HINT}")
        try:
            entries = [RevocationEntry.model_validate(e) for e in data["revocations"]]
            generated = _utc(Revocations.model_validate({"generated_at": data.get("generated_at")}).generated_at)
        except ValidationError as exc:
            raise ClearanceError(describe_validation_error(exc, source)) from None
        if generated is None:
            raise ClearanceError(f"{source}: the revocation list does not say when it was generated; {REFRESH_HINT}")
        return cls(revoked={e.approval_id: e for e in entries}, generated_at=generated, signed_by=check.key_id)

    def as_of(self) -> datetime | None:
        return self.generated_at

    def union(self, other: Revocations | None) -> Revocations:
        """Every revocation either list holds; as fresh as the fresher of the two."""
        if other is None:
            return self
        merged = {**other.revoked, **self.revoked}
        newer = self if _newer_or_same(self.generated_at, other.generated_at) else other
        return Revocations(revoked=merged, generated_at=newer.generated_at, signed_by=newer.signed_by)


def _newer_or_same(a: datetime | None, b: datetime | None) -> bool:
    if a is None:
        return b is None
    return b is None or a >= b


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer of an offline check: ``valid`` and a one-line ``reason`` (what to do when refused).

    ``code`` is a stable word for scripts and validators: valid, unknown_key, bad_signature,
    wrong_record, wrong_production, record_edited, target_not_covered, not_yet_valid, expired,
    revoked, revocations_missing, revocations_stale, no_approval.
    """

    valid: bool
    reason: str
    code: str
    approval: SignedApproval | None = None
    key_id: str | None = None

    def __bool__(self) -> bool:
        return self.valid


def _is_text(value: str) -> bool:
    """Can ``value`` be written as UTF-8 (JSON can escape half a character, which cannot)?"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse(code: str, reason: str, approval: SignedApproval | None = None, key_id: str | None = None) -> Verification:
    return Verification(False, reason, code, approval, key_id)


# ----------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    key_id: str
    raw: bytes
    key: Ed25519PublicKey
    created_at: str | None = None
    active: bool = True

    def document(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "algorithm": ALGORITHM,
            "public_key": _b64(self.raw),
            "created_at": self.created_at,
            "active": self.active,
        }


def _public_info(
    key_id: str, public_b64: str, source: str, created_at: str | None = None, active: bool = True
) -> PublicKeyInfo:
    try:
        raw = _unb64(public_b64)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ClearanceError(f"{source}: key {key_id}: public_key is not valid base64") from None
    if len(raw) != 32:
        raise ClearanceError(f"{source}: key {key_id}: public_key must be 32 raw Ed25519 bytes, got {len(raw)}")
    if key_id_for(raw) != key_id:
        raise ClearanceError(
            f"{source}: key {key_id}: the key id does not match the public key (expected {key_id_for(raw)}); "
            "copy both from the server's GET /api/v1/keys"
        )
    return PublicKeyInfo(key_id, raw, Ed25519PublicKey.from_public_bytes(raw), created_at, active)


class TrustedKeys:
    """Public keys whose signatures are accepted offline, by key id (old, inactive keys still verify)."""

    def __init__(self, keys: Iterable[PublicKeyInfo] = ()) -> None:
        self._keys: dict[str, PublicKeyInfo] = {k.key_id: k for k in keys}

    @classmethod
    def from_document(cls, data: Any, source: str = "keys") -> TrustedKeys:
        """Read a GET /api/v1/keys body ``{"keys": [{"key_id", "algorithm", "public_key", ...}]}``."""
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ClearanceError(f"{source}: expected an object with a `keys` list (the GET /api/v1/keys document)")
        infos = []
        for index, entry in enumerate(data["keys"]):
            if not isinstance(entry, dict) or not isinstance(entry.get("key_id"), str):
                raise ClearanceError(f"{source}: keys[{index}] needs a key_id and a public_key")
            if entry.get("algorithm", ALGORITHM) != ALGORITHM:
                raise ClearanceError(f"{source}: keys[{index}].algorithm must be {ALGORITHM}")
            if not isinstance(entry.get("public_key"), str):
                raise ClearanceError(f"{source}: keys[{index}].public_key is missing (base64 raw Ed25519 key)")
            infos.append(
                _public_info(
                    entry["key_id"], entry["public_key"], source,
                    created_at=entry.get("created_at"), active=bool(entry.get("active", True)),
                )
            )
        return cls(infos)

    @classmethod
    def from_file(cls, path: str | Path) -> TrustedKeys:
        from clearance.documents import load_document

        doc = load_document(path)
        return cls.from_document(doc.data, doc.source)

    @classmethod
    def from_policy(cls, policy: Policy) -> TrustedKeys:
        """The policy's ``approvals.trusted_keys``, plus its ``approvals.keys_file`` when one is set."""
        settings = policy.approvals
        keys = cls(_public_info(k.key_id, k.public_key, "policy approvals.trusted_keys") for k in settings.trusted_keys)
        if settings.keys_file:
            path = Path(settings.keys_file).expanduser()
            if not path.exists():
                raise ClearanceError(
                    f"policy approvals.keys_file: {path} does not exist; run `clearance approvals pull` or fix the path"
                )
            keys = keys.merge(cls.from_file(path))
        return keys

    def merge(self, other: TrustedKeys) -> TrustedKeys:
        return TrustedKeys([*self._keys.values(), *other._keys.values()])

    def get(self, key_id: str) -> PublicKeyInfo | None:
        return self._keys.get(key_id)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._keys.values())

    def key_ids(self) -> list[str]:
        return list(self._keys)

    def document(self) -> dict[str, Any]:
        return {"keys": [k.document() for k in self._keys.values()]}


def _check_private_permissions(path: Path, what: str) -> None:
    if sys.platform == "win32":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        fix = "700" if what == "folder" else "600"
        raise ClearanceError(
            f"{path}: the signing key {what} is readable by other users (mode {mode:o}); "
            f"fix it with `chmod {fix} {path}` and check who has copied the keys"
        )


class KeyRing:
    """The server's private signing keys: one PEM file per key (0600) in a 0700 folder.

    File names start with the creation time, so the newest file is the active key; rotation writes a
    new file and keeps the old ones, whose public halves stay in the keys document (active=false) so
    approvals they signed still verify. Several server processes may share the folder: each notices a
    rotation by another through the folder's modification time.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._public: dict[str, PublicKeyInfo] = {}
        self._order: list[str] = []
        self._stamp: int | None = None

    @classmethod
    def open(cls, directory: str | Path) -> KeyRing:
        """Open the key folder, creating it (0700) and a first key when there is none."""
        ring = cls(Path(directory))
        ring._prepare_folder()
        ring._load()
        if not ring._order:
            ring.rotate()
        return ring

    def _prepare_folder(self) -> None:
        if not self.directory.exists():
            self.directory.mkdir(parents=True, mode=0o700)
            if sys.platform != "win32":
                os.chmod(self.directory, 0o700)  # mkdir's mode is cut by the umask
        elif not self.directory.is_dir():
            raise ClearanceError(f"{self.directory}: expected a folder of signing keys, found a file")
        _check_private_permissions(self.directory, "folder")

    def _load(self) -> None:
        stamp = self.directory.stat().st_mtime_ns
        files = sorted(p for p in self.directory.glob("*.pem") if p.is_file())
        private: dict[str, Ed25519PrivateKey] = {}
        public: dict[str, PublicKeyInfo] = {}
        order: list[str] = []
        for path in files:
            _check_private_permissions(path, "file")
            try:
                key = serialization.load_pem_private_key(
                    read_bytes(path, limit=MAX_KEY_BYTES, what="a PEM private key"), password=None
                )
            except (ValueError, TypeError):
                raise ClearanceError(f"{path}: not an unencrypted PEM private key; remove it or restore it") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise ClearanceError(f"{path}: not an Ed25519 private key; remove it from the key folder")
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            kid = key_id_for(raw)
            created = path.name.split("-", 1)[0]
            created_iso = _created_iso(created)
            private[kid] = key
            public[kid] = PublicKeyInfo(kid, raw, key.public_key(), created_iso, False)
            if kid not in order:
                order.append(kid)
        if order:
            newest = order[-1]
            public[newest] = PublicKeyInfo(
                newest, public[newest].raw, public[newest].key, public[newest].created_at, True
            )
        self._private, self._public, self._order, self._stamp = private, public, order, stamp

    def _refresh(self) -> None:
        if self.directory.stat().st_mtime_ns != self._stamp:
            self._load()

    def rotate(self) -> str:
        """Make a new key the active one. Old keys stay so their approvals still verify. Returns its id.

        The previous active key signs an announcement of the new one (``<file>.announce.json``, served in
        the keys document as ``announced_by``), so clients that pinned the old key accept the new one
        without anyone re-pinning by hand.
        """
        previous = self._order[-1] if self._order else None
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        kid = key_id_for(raw)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        created = now_utc().strftime("%Y%m%dT%H%M%S%fZ")
        final = self.directory / f"{created}-{kid}.pem"
        temp = self.directory / f".{kid}.pem.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        if previous is not None:
            announcement = rotation_announcement(kid, raw, previous)
            signature = _b64(self._private[previous].sign(canonical_json(announcement)))
            note = {"key_id": previous, "signature": signature}
            atomic_text(self.directory / f"{created}-{kid}{ANNOUNCE_SUFFIX}", json.dumps(note, indent=2) + "\n")
        os.replace(temp, final)
        self._load()
        return kid

    def active_key_id(self) -> str:
        self._refresh()
        return self._order[-1]

    def sign(self, statement: ApprovalStatement) -> SignedApproval:
        """Sign with the active key; the statement's key_id is set to it."""
        kid = self.active_key_id()
        if statement.key_id != kid:
            statement = statement.model_copy(update={"key_id": kid})
        # model_copy skips validation; re-validate so the signed bytes are those a verifier will parse.
        statement = ApprovalStatement.model_validate(statement.model_dump())
        signature = self._private[kid].sign(statement.signed_bytes())
        return SignedApproval(statement=statement, signature=_b64(signature), key_id=kid)

    def sign_bytes(self, data: bytes) -> tuple[str, str]:
        """(key id, base64 signature) of arbitrary bytes with the active key."""
        kid = self.active_key_id()
        return kid, _b64(self._private[kid].sign(data))

    def sign_document(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``data`` with ``signature: {key_id, value}`` over the canonical JSON of the rest.

        Used for signed policy overlays and for the server's revocation list.
        """
        body = {k: v for k, v in data.items() if k != "signature"}
        kid, value = self.sign_bytes(canonical_json(_plain(body)))
        return {**body, "signature": {"key_id": kid, "value": value}}

    def public_keys(self) -> TrustedKeys:
        self._refresh()
        return TrustedKeys(self._public[k] for k in self._order)

    def announcements(self) -> dict[str, dict[str, str]]:
        """Key id -> ``{"key_id": previous key, "signature"}``: each rotation, signed by the key it replaced."""
        found: dict[str, dict[str, str]] = {}
        for path in sorted(self.directory.glob(f"*{ANNOUNCE_SUFFIX}")):
            kid = path.name[: -len(ANNOUNCE_SUFFIX)].rsplit("-", 1)[-1]
            try:
                note = load_json(path, what="a key rotation announcement")
            except ClearanceError:
                continue  # a damaged announcement only means clients ask before trusting the new key
            if isinstance(note, dict) and all(isinstance(note.get(k), str) for k in ("key_id", "signature")):
                found[kid] = {"key_id": note["key_id"], "signature": note["signature"]}
        return found

    def public_keys_document(self) -> dict[str, Any]:
        """The GET /api/v1/keys body: every key, oldest first, the active one marked ``active: true``; a key
        made by ``rotate`` carries ``announced_by``, the previous key's signature over it."""
        document = self.public_keys().document()
        notes = self.announcements()
        for entry in document["keys"]:
            if entry["key_id"] in notes:
                entry["announced_by"] = notes[entry["key_id"]]
        return document


ANNOUNCE_SUFFIX = ".announce.json"


def rotation_announcement(key_id: str, public_raw: bytes, previous_key_id: str) -> dict[str, str]:
    """What the previous key signs when a key is rotated: "key ``key_id`` succeeds me"."""
    return {"kind": "clearance.key-rotation", "key_id": key_id, "public_key": _b64(public_raw),
            "previous_key_id": previous_key_id}


def announcement_holds(entry: Mapping[str, Any], info: PublicKeyInfo, by: PublicKeyInfo) -> bool:
    """Did key ``by`` sign the rotation announcement carried by keys-document ``entry`` for key ``info``?"""
    note = entry.get("announced_by")
    if not isinstance(note, Mapping) or note.get("key_id") != by.key_id or not isinstance(note.get("signature"), str):
        return False
    try:
        signature = _unb64(note["signature"])
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    announced = canonical_json(rotation_announcement(info.key_id, info.raw, by.key_id))
    return signatures.verify(by.raw, signature, announced)


def atomic_text(path: Path, text: str) -> None:
    """Write a small file so a reader sees the old or the new content, never half of it."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def _created_iso(stamp: str) -> str | None:
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc).isoformat()
    except ValueError:
        return None


def default_keys_dir() -> Path:
    from clearance.paths import data_dir

    return data_dir() / "keys"


# ---------------------------------------------------------------------------------------- verification


def _check_signature(approval: SignedApproval, info: PublicKeyInfo) -> str | None:
    """None when the signature holds, else the reason. A success is remembered on the (frozen) approval."""
    data = approval.canonical_bytes()
    if approval.checked == (info.raw, data):
        return None
    try:
        signature = _unb64(approval.signature)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return "the signature is not valid base64: the approval file is damaged; pull it again"
    if not signatures.verify(info.raw, signature, data):
        return "the signature does not match the statement: the approval was altered or forged"
    approval.mark_checked(info.raw, data)
    return None


def check_signatures(approvals: Iterable[SignedApproval], keys: TrustedKeys) -> None:
    """Check the signatures of many approvals at once (across cores for large batches), remembering each
    success on its (in-memory) approval, so that ``verify`` then skips the signature. Failures are left for
    ``verify`` to report in words."""
    checking: list[SignedApproval] = []
    todo: list[tuple[bytes, bytes, bytes]] = []
    get = keys.get
    for approval in approvals:
        # the fields read from the model's dict: pydantic's attribute hook costs more, four times an approval
        fields = approval.__dict__
        key_id = fields["key_id"]
        info = get(key_id)
        if info is None or fields["statement"].__dict__["key_id"] != key_id:
            continue
        data = approval.canonical_bytes()
        raw = info.raw
        if approval.checked == (raw, data):
            continue
        try:
            signature = _unb64(fields["signature"])
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        checking.append(approval)
        todo.append((raw, signature, data))
    for approval, (raw, _signature, data), ok in zip(checking, todo, signatures.verify_many(todo), strict=True):
        if ok:
            approval.mark_checked(raw, data)


def signature_problem(approval: SignedApproval, keys: TrustedKeys) -> str | None:
    """Only the signature: None when a trusted key signed exactly this statement, else the reason."""
    info = keys.get(approval.key_id)
    if info is None or approval.statement.key_id != approval.key_id:
        return f"signed with key {approval.key_id}, which is not trusted here"
    return _check_signature(approval, info)


def uncovered_targets(approved: Iterable[str], targets: Iterable[Target], target: Target | None) -> list[str]:
    """The targets an approval listing ``approved`` does not cover: ``target``, or else every target of the record.

    An approval covers exactly the targets it lists. One listing none was given for a record with no
    targets: it covers that record wherever it is used while the record names no target, and no target
    added later (the approver never saw it).
    """
    return uncovered_keys(approved, [t.key() for t in targets], target.key() if target is not None else None)


def uncovered_keys(approved: Iterable[str], named: Iterable[str], wanted: str | None = None) -> list[str]:
    """``uncovered_targets`` on "kind:ref" keys (the service judges stored JSON with it)."""
    listed = set(approved)
    names = list(named)
    if not listed and not names:
        return []
    return [key for key in ([wanted] if wanted is not None else names) if key not in listed]


def verify(
    approval: SignedApproval,
    record: UseRecord,
    *,
    keys: TrustedKeys,
    revocations: Revocations | None,
    target: Target | None = None,
    production: str | None = None,
    now: datetime | None = None,
    max_revocation_age: timedelta | None = None,
    record_digest: str | None = None,
    check_targets: bool = True,
) -> Verification:
    """Check one approval for one record offline. The first failing check gives the one-line reason.

    ``revocations=None`` (no list pulled) refuses: an approval cannot be trusted without knowing it was
    not revoked. ``max_revocation_age`` defaults to 24 hours. ``record_digest`` lets a caller checking
    many approvals pass decision_digest(record) once (or use a ``Checker``).
    """
    checker = Checker(keys=keys, revocations=revocations, production=production, now=now,
                      max_revocation_age=max_revocation_age)
    return checker.check(approval, record, target=target, record_digest=record_digest, check_targets=check_targets)


class Checker:
    """``verify`` for many approvals against one snapshot of the trust inputs (keys, revocation list, the
    production, one moment): what does not depend on the approval is worked out once, not per approval."""

    __slots__ = ("keys", "limit", "moment", "production", "revocations", "stale")

    def __init__(
        self, *, keys: TrustedKeys, revocations: Revocations | None, production: str | None = None,
        now: datetime | None = None, max_revocation_age: timedelta | None = None,
    ) -> None:
        self.keys = keys
        self.revocations = revocations
        self.production = production
        self.moment = _utc(now) or now_utc()
        self.limit = max_revocation_age if max_revocation_age is not None else DEFAULT_REVOCATION_MAX_AGE
        as_of = revocations.as_of() if revocations is not None else None
        self.stale: str | None = None  # why the revocation list cannot be relied on at this moment, if so
        if revocations is not None and (as_of is None or self.moment - as_of > self.limit):
            age = "of unknown age" if as_of is None else f"from {as_of.isoformat()}"
            self.stale = f"the cached revocation list is {age}, older than {self.limit}: {PULL_HINT}"

    def check(
        self, approval: SignedApproval, record: UseRecord, *, target: Target | None = None,
        record_digest: str | None = None, check_targets: bool = True,
    ) -> Verification:
        """``verify`` of one approval for one record (the checks in the same order, the same answers)."""
        # The approval's and the record's fields read from their models' dicts: pydantic's attribute hook costs
        # more than the rest of a passing check, which a publish makes once per record version.
        fields = approval.__dict__
        st: ApprovalStatement = fields["statement"]
        said = st.__dict__
        kid = fields["key_id"]
        if said["key_id"] != kid:
            return _refuse("bad_signature", f"the key id {kid} does not match the statement's key id {st.key_id}: "
                           "the approval was altered", approval, kid)
        info = self.keys.get(kid)
        if info is None:
            return _refuse(
                "unknown_key",
                f"signed with key {kid}, which is not trusted here: add it to the policy's approvals.trusted_keys "
                f"or {PULL_HINT}",
                approval, kid,
            )
        # a signature checked in this process for these very bytes and key holds; anything else is checked
        problem = _check_signature(approval, info)
        if problem:
            return _refuse("bad_signature", problem, approval, kid)
        of_record = record.__dict__
        if said["record_id"].int != of_record["id"].int:  # UUID's own == is a Python function; its number is the id
            return _refuse("wrong_record", f"the approval is for another record ({st.record_id}), not {record.id}",
                           approval, kid)
        production = said["production"]
        wanted = self.production if self.production is not None else of_record["production"]
        if production != wanted or production != of_record["production"]:
            return _refuse(
                "wrong_production",
                f"the approval is for production {production or '(none)'}, not {wanted or '(none)'}",
                approval, kid,
            )
        digest = record_digest or decision_digest(record)
        if said["record_digest"] != digest:
            return _refuse("record_edited", "the record was edited after approval: re-request approval", approval,
                           kid)
        uncovered = uncovered_targets(said["targets"], of_record["targets"], target) if check_targets else []
        if uncovered:
            what = ", ".join(st.targets) if st.targets else "only the record as it was, with no targets"
            return _refuse("target_not_covered", f"the approval does not cover target {', '.join(uncovered)} "
                           f"(it covers {what}): request approval for it", approval, kid)
        moment = self.moment
        issued_at = said["issued_at"]
        if issued_at > moment + CLOCK_SKEW:  # not issued_at - CLOCK_SKEW: an approval dated year 1 would overflow
            return _refuse("not_yet_valid", f"the approval is not valid yet (issued {issued_at.isoformat()}): "
                           "check this machine's clock", approval, kid)
        expires_at = said["expires_at"]
        if expires_at is not None and expires_at <= moment:
            return _refuse("expired", f"the approval expired at {expires_at.isoformat()}: request a new one",
                           approval, kid)
        revocations = self.revocations
        if revocations is None:
            return _refuse("revocations_missing", f"no revocation list is cached: {PULL_HINT}", approval, kid)
        approval_id = said["approval_id"]
        entry = revocations.revoked.get(approval_id)
        if entry is not None:
            why = f": {entry.reason}" if entry.reason else ""
            return _refuse("revoked", f"the approval was revoked at {entry.revoked_at.isoformat()}{why}", approval,
                           kid)
        if self.stale is not None:
            return _refuse("revocations_stale", self.stale, approval, kid)
        return Verification(True, f"valid approval {approval_id} by {said['approver']} (key {kid})", "valid",
                            approval, kid)


def find_valid_approval(
    record: UseRecord,
    approvals: list[SignedApproval],
    *,
    keys: TrustedKeys,
    revocations: Revocations | None,
    target: Target | None = None,
    now: datetime | None = None,
    production: str | None = None,
    max_revocation_age: timedelta | None = None,
) -> Verification:
    """The first valid approval for the record (and target); else why the newest one is refused."""
    if not approvals:
        return _refuse("no_approval", f"no approval is held for record {record.id}: request one "
                       f"(`clearance submit`) and {PULL_HINT}")
    digest = decision_digest(record)
    newest: Verification | None = None
    newest_at: datetime | None = None
    for approval in approvals:
        result = verify(
            approval, record, keys=keys, revocations=revocations, target=target, production=production,
            now=now, max_revocation_age=max_revocation_age, record_digest=digest,
        )
        if result.valid:
            return result
        issued = approval.statement.issued_at
        if newest_at is None or issued > newest_at:
            newest, newest_at = result, issued
    assert newest is not None
    if len(approvals) == 1:
        return newest
    return _refuse(newest.code, f"none of the {len(approvals)} approvals is valid; the newest: {newest.reason}",
                   newest.approval, newest.key_id)


# ------------------------------------------------------------------------------------- signed documents


def _plain(value: Any) -> Any:
    # YAML reads unquoted dates as date objects; the signed form must be plain JSON on both sides.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def verify_document(data: Mapping[str, Any], keys: TrustedKeys) -> Verification:
    """Check a document's top-level ``signature: {key_id, value}`` over the canonical JSON of the rest."""
    sig = data.get("signature")
    if not isinstance(sig, Mapping) or not isinstance(sig.get("key_id"), str) or not isinstance(sig.get("value"), str):
        return _refuse("unsigned", "the document has no `signature: {key_id, value}`: sign it with "
                       "`clearance approvals sign-overlay`")
    kid = sig["key_id"]
    half = ("holds an escaped half character (a lone surrogate such as \\ud800), which is not text, so it cannot"
            " be what was signed; fetch the document again")
    if not _is_text(kid):  # it would be named in the refusal, and could not be printed
        return _refuse("bad_signature", f"the signature's key id {half}")
    info = keys.get(kid)
    if info is None:
        return _refuse("unknown_key", f"signed with key {kid}, which is not trusted here: add it to the policy's "
                       "approvals.trusted_keys", key_id=kid)
    try:
        signature = _unb64(sig["value"])
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return _refuse("bad_signature", "the signature is not valid base64", key_id=kid)
    body = {k: v for k, v in data.items() if k != "signature"}
    try:
        signed = canonical_json(_plain(body))
    except UnicodeEncodeError:
        return _refuse("bad_signature", f"the document {half}", key_id=kid)
    if not signatures.verify(info.raw, signature, signed):
        return _refuse("bad_signature", "the signature does not match: the document was edited after signing",
                       key_id=kid)
    return Verification(True, f"signed by key {kid}", "valid", key_id=kid)


def sign_overlay(data: Mapping[str, Any], keyring: KeyRing) -> dict[str, Any]:
    """Sign a studio policy overlay (a signed overlay may weaken settings; see docs/approvals.md)."""
    return keyring.sign_document(data)


def verify_overlay(data: Mapping[str, Any], keys: TrustedKeys) -> Verification:
    """Is this overlay signed by a trusted key? (The policy loader uses it before allowing weakening.)"""
    return verify_document(data, keys)
