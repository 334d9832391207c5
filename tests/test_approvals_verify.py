"""Offline verification refuses forged and misused approvals, each with its own one-line reason."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from approvals_fixtures import NOW, approve, fresh_revocations, make_record, ring_and_keys

from clearance.approvals import (
    KeyRing,
    RevocationEntry,
    Revocations,
    SignedApproval,
    TrustedKeys,
    find_valid_approval,
    verify,
)
from clearance.record import Target, decision_digest


def check(approval: SignedApproval, record, keys: TrustedKeys, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("revocations", fresh_revocations())
    kw.setdefault("now", NOW)
    return verify(approval, record, keys=keys, **kw)


def roundtrip(approval: SignedApproval) -> SignedApproval:
    return SignedApproval.model_validate_json(approval.to_json())


def test_valid_approval_verifies_after_a_json_roundtrip(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = roundtrip(approve(ring, record))
    result = check(approval, record, keys, target=Target(kind="shot", ref="sh010"))
    assert result.valid, result.reason
    assert result.code == "valid" and approval.approval_id in result.reason
    assert bool(result) is True


def test_wrong_key_is_refused(tmp_path: Path) -> None:
    ring, _ = ring_and_keys(tmp_path)
    _, other_keys = ring_and_keys(tmp_path / "other")
    record = make_record()
    result = check(approve(ring, record), record, other_keys)
    assert not result.valid and result.code == "unknown_key"
    assert "not trusted" in result.reason and "\n" not in result.reason


def test_forged_with_a_key_claiming_a_trusted_id_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    forger = KeyRing.open(tmp_path / "forger")
    record = make_record()
    forged = approve(forger, record)
    data = json.loads(forged.to_json())
    data["key_id"] = data["statement"]["key_id"] = ring.active_key_id()
    result = check(SignedApproval.model_validate(data), record, keys)
    assert result.code == "bad_signature", result.reason


@pytest.mark.parametrize("position", [0, 10, 63])
def test_flipped_signature_bytes_are_refused(tmp_path: Path, position: int) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    raw = bytearray(base64.b64decode(approval.signature))
    raw[position] ^= 0x01
    data = json.loads(approval.to_json())
    data["signature"] = base64.b64encode(bytes(raw)).decode()
    result = check(SignedApproval.model_validate(data), record, keys)
    assert result.code == "bad_signature" and "altered or forged" in result.reason


def test_malformed_base64_signature_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    data = json.loads(approve(ring, record).to_json())
    data["signature"] = "not*base64!"
    result = check(SignedApproval.model_validate(data), record, keys)
    assert result.code == "bad_signature" and "base64" in result.reason


def test_edited_statement_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    data = json.loads(approve(ring, record).to_json())
    data["statement"]["expires_at"] = "2099-01-01T00:00:00Z"
    result = check(SignedApproval.model_validate(data), record, keys)
    assert result.code == "bad_signature"


def test_another_records_approval_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    approval = approve(ring, make_record())
    result = check(approval, make_record(), keys)
    assert result.code == "wrong_record" and result.reason.startswith("the approval is for another record")


def test_another_productions_approval_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    # the same record checked in the context of another production
    result = check(approval, record, keys, production="OTHER_S02")
    assert result.code == "wrong_production" and "OTHER_S02" in result.reason
    # an approval whose statement names another production than the record
    moved = approve(ring, record, production="OTHER_S02")
    assert check(moved, record, keys).code == "wrong_production"


def test_edited_record_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    record.use.creative_element = "main_character"
    result = check(approval, record, keys)
    assert result.code == "record_edited"
    assert result.reason == "the record was edited after approval: re-request approval"


def test_description_edit_does_not_void_the_approval(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    record.description = "typo fixed"
    assert check(approval, record, keys).valid


def test_target_not_covered_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record, targets=["shot:sh010"])
    assert check(approval, record, keys, target=Target(kind="shot", ref="sh010")).valid
    result = check(approval, record, keys, target=Target(kind="shot", ref="sh020"))
    assert result.code == "target_not_covered" and "shot:sh020" in result.reason


def test_an_approval_covers_only_the_targets_it_lists(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    assert check(approval, record, keys, target=Target(kind="shot", ref="sh020")).valid
    result = check(approval, record, keys, target=Target(kind="shot", ref="sh999"))
    assert result.code == "target_not_covered"


def test_an_approval_of_a_record_without_targets_does_not_cover_targets_added_later(tmp_path: Path) -> None:
    """The approver saw no target; a later version naming one (same decision fields) is not covered."""
    ring, keys = ring_and_keys(tmp_path)
    bare = make_record(targets=[])
    approval = approve(ring, bare, targets=[])
    assert check(approval, bare, keys).valid
    assert check(approval, bare, keys, target=Target(kind="node", ref="Write1")).valid
    later = bare.model_copy(update={"targets": [Target(kind="shot", ref="sh030")]})
    assert decision_digest(later) == decision_digest(bare)  # the attack: targets are not decision fields
    refused = check(approval, later, keys)
    assert refused.code == "target_not_covered" and "shot:sh030" in refused.reason
    assert check(approval, later, keys, target=Target(kind="shot", ref="sh030")).code == "target_not_covered"


def test_expired_and_not_yet_valid_are_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    expired = approve(ring, record, expires_at=NOW - timedelta(minutes=1))
    result = check(expired, record, keys)
    assert result.code == "expired" and "expired at" in result.reason
    future = approve(ring, record, issued_at=NOW + timedelta(hours=2))
    assert check(future, record, keys).code == "not_yet_valid"
    # a small clock skew is tolerated
    skewed = approve(ring, record, issued_at=NOW + timedelta(minutes=2))
    assert check(skewed, record, keys).valid


def test_revoked_is_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    revocations = Revocations(
        revoked={approval.approval_id: RevocationEntry(approval_id=approval.approval_id, revoked_at=NOW,
                                                       reason="consent withdrawn")},
        generated_at=NOW,
    )
    result = check(approval, record, keys, revocations=revocations)
    assert result.code == "revoked" and "consent withdrawn" in result.reason


def test_missing_or_stale_revocations_are_refused(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record)
    missing = check(approval, record, keys, revocations=None)
    assert missing.code == "revocations_missing" and "clearance approvals pull" in missing.reason
    stale = check(approval, record, keys, revocations=fresh_revocations(NOW - timedelta(hours=25)))
    assert stale.code == "revocations_stale" and "clearance approvals pull" in stale.reason
    ok = check(approval, record, keys, revocations=fresh_revocations(NOW - timedelta(hours=25)),
               max_revocation_age=timedelta(hours=48))
    assert ok.valid


def test_signed_revocation_list_age_comes_from_the_signed_time(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    doc = ring.sign_document({"revocations": [], "generated_at": (NOW - timedelta(days=3)).isoformat()})
    # the cache file says it was fetched just now, but the signed list is three days old
    revocations = Revocations.from_document(doc, keys=keys)
    assert revocations.signed_by == ring.active_key_id()
    record = make_record()
    assert check(approve(ring, record), record, keys, revocations=revocations).code == "revocations_stale"
    doc["revocations"] = [{"approval_id": "x", "revoked_at": NOW.isoformat()}]
    from clearance.errors import ClearanceError

    with pytest.raises(ClearanceError, match="badly signed"):
        Revocations.from_document(doc, keys=keys)


@pytest.mark.parametrize("where", ["entry", "key id"])
def test_half_a_character_in_a_revocation_list_is_refused_in_one_line(tmp_path: Path, where: str) -> None:
    """JSON can escape half a character (\\ud800), which the signed bytes cannot hold: the list is refused as
    badly signed, and the refusal can be printed, rather than a UnicodeEncodeError."""
    from clearance.errors import ClearanceError

    ring, keys = ring_and_keys(tmp_path)
    doc = ring.sign_document({"revocations": [{"approval_id": "x", "revoked_at": NOW.isoformat()}],
                              "generated_at": NOW.isoformat()})
    if where == "entry":
        doc["revocations"][0]["approval_id"] = "x\ud800"
    else:
        doc["signature"]["key_id"] = doc["signature"]["key_id"][:4] + "\ud800"
    with pytest.raises(ClearanceError, match="badly signed") as refused:
        Revocations.from_document(json.loads(json.dumps(doc)), keys=keys, source="revocations.json")
    assert str(refused.value).encode("utf-8") and "revocations.json" in str(refused.value)


def test_check_order_signature_before_record(tmp_path: Path) -> None:
    """A forged approval for another record reports the forgery, not the record mismatch."""
    ring, keys = ring_and_keys(tmp_path)
    data = json.loads(approve(ring, make_record()).to_json())
    data["signature"] = base64.b64encode(b"\0" * 64).decode()
    assert check(SignedApproval.model_validate(data), make_record(), keys).code == "bad_signature"


def test_find_valid_approval_picks_a_valid_one_and_explains_otherwise(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    old = approve(ring, record, expires_at=NOW - timedelta(days=1), issued_at=NOW - timedelta(days=9))
    good = approve(ring, record)
    found = find_valid_approval(record, [old, good], keys=keys, revocations=fresh_revocations(), now=NOW)
    assert found.valid and found.approval is good
    none = find_valid_approval(record, [], keys=keys, revocations=fresh_revocations(), now=NOW)
    assert none.code == "no_approval" and str(record.id) in none.reason
    record.use.stage = "temp"
    edited = find_valid_approval(record, [old, good], keys=keys, revocations=fresh_revocations(), now=NOW)
    assert edited.code == "record_edited" and "none of the 2 approvals" in edited.reason


def test_naive_times_are_read_as_utc_and_sign_stably(tmp_path: Path) -> None:
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = approve(ring, record, issued_at=NOW.replace(tzinfo=None) - timedelta(hours=1))
    assert approval.statement.issued_at.tzinfo is not None
    assert check(roundtrip(approval), record, keys).valid


@pytest.mark.parametrize("issued", [datetime(1, 1, 1, tzinfo=timezone.utc),
                                    datetime(9999, 12, 31, tzinfo=timezone.utc)])
def test_an_approval_dated_at_either_end_of_the_calendar_gets_a_verdict_not_an_overflow(
        tmp_path: Path, issued: datetime) -> None:
    """Signed by a trusted key but dated year 1 or 9999: the clock-skew allowance must not overflow the date."""
    ring, keys = ring_and_keys(tmp_path)
    record = make_record()
    approval = roundtrip(approve(ring, record, issued_at=issued, expires_at=None))
    result = check(approval, record, keys)
    assert result.code == ("valid" if issued.year == 1 else "not_yet_valid"), result.reason
