"""`clearance approvals verify|list|sign-overlay` and the approval cache, offline, as real subprocesses."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from approvals_fixtures import approve, make_record

from clearance.approvals import KeyRing, TrustedKeys
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.errors import ClearanceError
from clearance.record import dump_record

NOW = datetime.now(timezone.utc)


def clearance(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in this process (fast); CLEARANCE_HOME is already ``home`` (autouse fixture)."""
    assert os.environ["CLEARANCE_HOME"] == str(home)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def clearance_process(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLEARANCE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "clearance.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.fixture
def signed(tmp_path: Path):  # type: ignore[no-untyped-def]
    ring = KeyRing.open(tmp_path / "keys")
    record = make_record()
    approval = approve(ring, record, issued_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(days=7),
                       targets=["shot:sh010"])
    (tmp_path / "approval.json").write_text(approval.to_json())
    (tmp_path / "record.yaml").write_text(dump_record(record))
    (tmp_path / "keys.json").write_text(json.dumps(ring.public_keys_document()))
    return ring, record, approval


def store_revocations(ring: KeyRing, entries: list[dict[str, str]], generated: datetime = NOW) -> None:
    """Cache a revocation list signed by ``ring`` (clearing the held ones: lists otherwise only accumulate)."""
    cache = ApprovalCache()
    cache.revocations_path.unlink(missing_ok=True)
    document = ring.sign_document({"revocations": entries, "generated_at": generated.isoformat()})
    cache.store_revocations(document, TrustedKeys.from_document(ring.public_keys_document()))


def test_verify_without_a_revocation_list_refuses(tmp_path: Path, signed, clearance_home: Path) -> None:
    """Fail closed: no signed revocation list means the approval cannot be verified (exit 1, how to fix)."""
    out = clearance_process("approvals", "verify", str(tmp_path / "approval.json"),
                            "--record", str(tmp_path / "record.yaml"), "--keys", str(tmp_path / "keys.json"),
                            "--target", "shot:sh010", home=clearance_home)
    assert out.returncode == 1, out.stdout
    assert "no signed revocation list" in out.stderr and "clearance approvals pull" in out.stderr


def test_verify_refusals_exit_1_with_the_reason(tmp_path: Path, signed, clearance_home: Path) -> None:
    ring, record, approval = signed
    store_revocations(ring, [])
    base = ["approvals", "verify", str(tmp_path / "approval.json"), "--keys", str(tmp_path / "keys.json")]
    ok = clearance(*base, "--record", str(tmp_path / "record.yaml"), "--target", "shot:sh010", home=clearance_home)
    assert ok.returncode == 0, ok.stderr
    assert "conditions: background only" in ok.stdout
    record.use.creative_element = "secondary_character"
    (tmp_path / "edited.yaml").write_text(dump_record(record))
    edited = clearance(*base, "--record", str(tmp_path / "edited.yaml"), home=clearance_home)
    assert edited.returncode == 1
    assert edited.stderr.startswith("refused: changed since approval: the record was edited after approval")
    target = clearance(*base, "--record", str(tmp_path / "record.yaml"), "--target", "shot:sh020", home=clearance_home)
    assert target.returncode == 1 and "does not cover target shot:sh020" in target.stderr
    store_revocations(ring, [{"approval_id": approval.approval_id, "revoked_at": NOW.isoformat(),
                              "reason": "consent withdrawn"}])
    revoked = clearance(*base, "--record", str(tmp_path / "record.yaml"), "--target", "shot:sh010",
                        home=clearance_home)
    assert revoked.returncode == 1 and "revoked" in revoked.stderr and "consent withdrawn" in revoked.stderr


def test_verify_with_a_stale_revocation_list_refuses(tmp_path: Path, signed, clearance_home: Path) -> None:
    ring, _, _ = signed
    store_revocations(ring, [], generated=NOW - timedelta(days=3))
    out = clearance("approvals", "verify", str(tmp_path / "approval.json"), "--record", str(tmp_path / "record.yaml"),
                    "--keys", str(tmp_path / "keys.json"), "--target", "shot:sh010", home=clearance_home)
    assert out.returncode == 1 and "clearance approvals pull" in out.stderr and "older than" in out.stderr


def test_verify_bad_input_exits_2_with_one_line(tmp_path: Path, signed, clearance_home: Path) -> None:
    (tmp_path / "junk.json").write_text('{"statement": {"approval_id": "x"}, "signature": "", "key_id": "k"}')
    bad = clearance("approvals", "verify", str(tmp_path / "junk.json"), "--record", str(tmp_path / "record.yaml"),
                    "--keys", str(tmp_path / "keys.json"), home=clearance_home)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "junk.json" in bad.stderr
    nokeys = clearance("approvals", "verify", str(tmp_path / "approval.json"), "--record",
                       str(tmp_path / "record.yaml"), home=clearance_home)
    assert nokeys.returncode == 2 and "no approver keys are trusted" in nokeys.stderr
    missing = clearance("approvals", "verify", str(tmp_path / "nope.json"), "--record", str(tmp_path / "record.yaml"),
                        home=clearance_home)
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_verify_with_keys_from_the_policy(tmp_path: Path, signed, clearance_home: Path) -> None:
    ring, _, _ = signed
    store_revocations(ring, [])
    key = ring.public_keys_document()["keys"][0]
    policy = tmp_path / "studio.yaml"
    policy.write_text(yaml.safe_dump({"approvals": {"trusted_keys": [
        {"key_id": key["key_id"], "public_key": key["public_key"]}]}}))
    out = clearance("approvals", "verify", str(tmp_path / "approval.json"), "--record", str(tmp_path / "record.yaml"),
                    "--policy", str(policy), "--target", "shot:sh010", home=clearance_home)
    assert out.returncode == 0, out.stderr


def test_cache_roundtrip_and_folder_loading(tmp_path: Path, signed) -> None:
    ring, record, approval = signed
    cache = ApprovalCache()
    path = cache.add_approval(approval)
    assert path.parent.name == str(record.id) and path.name == f"{approval.approval_id}.json"
    held = cache.approvals_for(record.id)
    assert [a.approval_id for a in held] == [approval.approval_id]
    assert cache.approvals_for(record.id)[0] is held[0]  # parsed once, memo kept
    assert not list(path.parent.glob(".*.tmp"))
    folder = tmp_path / "shipped"
    folder.mkdir()
    other = approve(ring, make_record())
    (folder / "a.json").write_text(other.to_json())
    loaded = cache.load_folder(folder)
    assert [a.approval_id for a in loaded] == [other.approval_id]
    assert cache.approvals_for(other.statement.record_id)[0].approval_id == other.approval_id
    (folder / "bad.json").write_text("{not json")
    with pytest.raises(ClearanceError, match=r"bad\.json"):
        cache.load_folder(folder)


def test_damaged_cached_approval_is_skipped_and_reported(signed) -> None:
    _, record, approval = signed
    cache = ApprovalCache()
    cache.add_approval(approval)
    (cache.root / "approvals" / str(record.id) / "broken.json").write_text("{")
    assert len(cache.approvals_for(record.id)) == 1
    assert cache.problems and "broken.json" in cache.problems[0]


def test_tampered_signed_revocation_list_counts_as_missing(signed) -> None:
    ring, _, approval = signed
    cache = ApprovalCache()
    doc = ring.sign_document({"revocations": [{"approval_id": approval.approval_id,
                                                "revoked_at": NOW.isoformat(), "reason": "r"}],
                              "generated_at": NOW.isoformat()})
    keys = TrustedKeys.from_document(ring.public_keys_document())
    cache.store_revocations(doc, keys)
    assert approval.approval_id in cache.revocations(keys).revoked  # type: ignore[union-attr]
    stored = json.loads(cache.revocations_path.read_text())
    stored["documents"][0]["revocations"] = []  # someone hides the revocation
    cache.revocations_path.write_text(json.dumps(stored))
    assert cache.revocations(keys) is None and "badly signed" in cache.problems[-1]
    assert str(cache.revocations_path) in cache.problems[-1]


def test_sign_overlay_cli_and_the_policy_loader_accepts_it(tmp_path: Path, signed, clearance_home: Path) -> None:
    ring, _, _ = signed
    key = ring.public_keys_document()["keys"][0]
    studio = tmp_path / "studio.yaml"
    studio.write_text(yaml.safe_dump({"approvals": {"revocations_max_age_hours": 24, "trusted_keys": [
        {"key_id": key["key_id"], "public_key": key["public_key"]}]}}))
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("approvals:\n  revocations_max_age_hours: 72\n")  # weaker: allowed only when signed
    out = clearance("approvals", "sign-overlay", str(overlay), "--keys-dir", str(tmp_path / "keys"),
                    "-o", str(tmp_path / "signed.yaml"), home=clearance_home)
    assert out.returncode == 0, out.stderr
    from clearance.policy import load_policy

    policy = load_policy([str(studio), str(tmp_path / "signed.yaml")])
    assert policy.approvals.revocations_max_age_hours == 72
    with pytest.raises(ClearanceError):
        load_policy([str(studio), str(overlay)])
    nokeys = clearance("approvals", "sign-overlay", str(overlay), "--keys-dir", str(tmp_path / "empty"),
                       "-o", str(tmp_path / "x.yaml"), home=clearance_home)
    assert nokeys.returncode == 2 and "no signing keys" in nokeys.stderr


def test_list_shows_cached_approvals(signed, clearance_home: Path) -> None:
    _, record, approval = signed
    ApprovalCache().add_approval(approval)
    out = clearance("approvals", "list", "--json", home=clearance_home)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["approvals"]
    # the record itself is not on this machine: the approval is listed, its standing cannot be judged
    assert rows[0]["approval_id"] == approval.approval_id and rows[0]["state"] == "record unknown"
    text = clearance("approvals", "list", home=clearance_home)
    assert str(record.id) in text.stdout and "none held" in text.stdout
    assert "conditions: background only" in text.stdout
