"""Signing keys on disk: safe permissions, rotation, the public keys document, signed overlays."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
import yaml
from approvals_fixtures import NOW, approve, fresh_revocations, make_record

from clearance.approvals import KeyRing, TrustedKeys, key_id_for, sign_overlay, verify, verify_overlay
from clearance.errors import ClearanceError
from clearance.policy.settings import Policy

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


@posix_only
def test_keyring_creates_private_files_and_folder(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ring = KeyRing.open(tmp_path / "keys")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    files = list((tmp_path / "keys").glob("*.pem"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert files[0].read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert ring.active_key_id() in files[0].name


@posix_only
def test_group_readable_key_is_refused_with_the_fix(tmp_path: Path) -> None:
    KeyRing.open(tmp_path / "keys")
    key_file = next((tmp_path / "keys").glob("*.pem"))
    key_file.chmod(0o640)
    with pytest.raises(ClearanceError, match=r"readable by other users .*chmod 600"):
        KeyRing.open(tmp_path / "keys")


@posix_only
def test_open_folder_is_refused(tmp_path: Path) -> None:
    KeyRing.open(tmp_path / "keys")
    (tmp_path / "keys").chmod(0o755)
    with pytest.raises(ClearanceError, match="chmod 700"):
        KeyRing.open(tmp_path / "keys")


def test_reopen_keeps_the_key(tmp_path: Path) -> None:
    first = KeyRing.open(tmp_path / "keys").active_key_id()
    assert KeyRing.open(tmp_path / "keys").active_key_id() == first


def test_rotation_signs_with_the_new_key_and_old_approvals_still_verify(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "keys")
    record = make_record()
    old_key = ring.active_key_id()
    before = approve(ring, record)
    new_key = ring.rotate()
    assert new_key != old_key and ring.active_key_id() == new_key
    after = approve(ring, record)
    assert before.key_id == old_key and after.key_id == new_key
    doc = ring.public_keys_document()
    listed = {k["key_id"]: k for k in doc["keys"]}
    assert listed[old_key]["active"] is False and listed[new_key]["active"] is True
    assert all(k["algorithm"] == "Ed25519" and k["created_at"] for k in doc["keys"])
    keys = TrustedKeys.from_document(doc)
    for approval in (before, after):
        result = verify(approval, record, keys=keys, revocations=fresh_revocations(), now=NOW)
        assert result.valid, result.reason


def test_another_process_rotation_is_noticed(tmp_path: Path) -> None:
    server_a = KeyRing.open(tmp_path / "keys")
    server_b = KeyRing.open(tmp_path / "keys")
    new_key = server_b.rotate()
    # directory mtime granularity can be coarse; force a visible change
    os.utime(tmp_path / "keys", ns=(server_a._stamp + 10**9, server_a._stamp + 10**9))  # type: ignore[operator]
    assert server_a.active_key_id() == new_key


def test_keys_document_with_a_mismatched_key_id_is_refused(tmp_path: Path) -> None:
    doc = KeyRing.open(tmp_path / "keys").public_keys_document()
    doc["keys"][0]["key_id"] = "0000000000000000"
    with pytest.raises(ClearanceError, match="does not match the public key"):
        TrustedKeys.from_document(doc, "keys.json")
    with pytest.raises(ClearanceError, match=r"keys\.json: expected an object with a `keys` list"):
        TrustedKeys.from_document({"nope": 1}, "keys.json")


def test_trusted_keys_from_policy_and_keys_file(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "keys")
    entry = ring.public_keys_document()["keys"][0]
    other = KeyRing.open(tmp_path / "other")
    keys_file = tmp_path / "keys.json"
    import json

    keys_file.write_text(json.dumps(other.public_keys_document()))
    policy = Policy.model_validate({"approvals": {
        "trusted_keys": [{"key_id": entry["key_id"], "public_key": entry["public_key"]}],
        "keys_file": str(keys_file),
    }})
    keys = TrustedKeys.from_policy(policy)
    assert set(keys.key_ids()) == {ring.active_key_id(), other.active_key_id()}
    policy = policy.with_changes({"approvals.keys_file": str(tmp_path / "missing.json")})
    with pytest.raises(ClearanceError, match="clearance approvals pull"):
        TrustedKeys.from_policy(policy)


def test_key_id_is_derived_from_the_public_key() -> None:
    assert key_id_for(b"\1" * 32) == key_id_for(b"\1" * 32)
    assert len(key_id_for(b"\1" * 32)) == 16


def test_signed_overlay_verifies_and_an_edit_is_detected(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "keys")
    keys = ring.public_keys()
    overlay = yaml.safe_load("version: studio-2\nrules:\n  P3:\n    enabled: false\nvalid_from: 2026-11-01\n")
    signed = sign_overlay(overlay, ring)
    reread = yaml.safe_load(yaml.safe_dump(signed))
    assert verify_overlay(reread, keys).valid
    reread["rules"]["P3"]["enabled"] = True
    assert verify_overlay(reread, keys).code == "bad_signature"
    assert verify_overlay(overlay, keys).code == "unsigned"
    stranger = KeyRing.open(tmp_path / "stranger").public_keys()
    assert verify_overlay(signed, stranger).code == "unknown_key"
