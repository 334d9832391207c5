"""Approvals in `clearance check`: signed with a real KeyRing, trusted through a policy file."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from editorial_fixtures import approvals_setup, cli, make_record, sign, write_record

from clearance.approvals import KeyRing


def _cut(shared_data: Path, tmp_path: Path, record_kind: str = "approval", **record_fields: object):  # type: ignore[no-untyped-def]
    record = make_record(record_kind, **record_fields)
    record_file = write_record(tmp_path / "records", record)
    out = tmp_path / "cut.otio"
    run = cli("tag", shared_data / "otio" / "screening_example.otio", "--clip", "ZZ100_504C (LAY1)",
              "--clip", "ZZ100_507C (LAY2)", "--record", record_file, "-o", out)
    assert run.code == 0, run.err
    return record, out


def test_valid_approval_makes_the_cut_deliverable(shared_data: Path, tmp_path: Path) -> None:
    record, cut = _cut(shared_data, tmp_path)
    ring = KeyRing.open(tmp_path / "keyring")
    approval = sign(ring, record)
    policy, folder = approvals_setup(tmp_path, [approval], ring)

    blocked = cli("check", cut, "--policy", policy, "--json")
    assert blocked.code == 1
    assert {c["approval"]["status"] for c in blocked.json()["clips"]} == {"missing"}

    run = cli("check", cut, "--policy", policy, "--approvals", folder, "--json", "--report", tmp_path / "r.csv")
    assert run.code == 0, run.out + run.err
    doc = run.json()
    assert doc["verdict"] == "deliverable"
    assert [c["status"] for c in doc["clips"]] == ["approved", "approved"]
    assert {c["approval"]["approval_id"] for c in doc["clips"]} == {approval.approval_id}
    assert doc["summary"]["by_status"] == {"approved": 2}
    rows = [r for r in csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())) if r["Group"].isdigit()]
    # one group (same record, same approval): its approval written once, both clips listed under it
    assert [r["Clip"] for r in rows] == ["ZZ100_504C (LAY1)", "ZZ100_507C (LAY2)"]
    assert rows[0]["Approval"] == approval.approval_id and rows[0]["Approver"] == "sam.approver"
    assert rows[0]["Status"] == "Approved" and {r["Group"] for r in rows} == {"1"}


def test_expired_or_untrusted_or_edited_approvals_block(shared_data: Path, tmp_path: Path) -> None:
    record, cut = _cut(shared_data, tmp_path)
    ring = KeyRing.open(tmp_path / "keyring")
    expired = sign(ring, record, expires_in=timedelta(hours=-1))
    policy, folder = approvals_setup(tmp_path, [expired], ring)
    run = cli("check", cut, "--policy", policy, "--approvals", folder, "--json")
    assert run.code == 1
    clip = run.json()["clips"][0]
    assert clip["approval"]["status"] == "expired" and clip["approval"]["approval_id"] == expired.approval_id
    assert any("expired" in r for r in clip["reasons"])

    other_ring = KeyRing.open(tmp_path / "other")
    stranger = sign(other_ring, record)
    (folder / f"{expired.approval_id}.json").unlink()
    (folder / f"{stranger.approval_id}.json").write_text(stranger.to_json())
    run = cli("check", cut, "--policy", policy, "--approvals", folder, "--json")
    assert run.code == 1 and run.json()["clips"][0]["approval"]["status"] == "unverified"


def test_approval_for_other_targets_does_not_cover_the_clip(shared_data: Path, tmp_path: Path) -> None:
    record, cut = _cut(shared_data, tmp_path, targets=[{"kind": "shot", "ref": "ZZ100_504C"}])
    ring = KeyRing.open(tmp_path / "keyring")
    approval = sign(ring, record, targets=["shot:ZZ100_504C"])
    policy, folder = approvals_setup(tmp_path, [approval], ring)
    run = cli("check", cut, "--policy", policy, "--approvals", folder, "--json")
    statuses = {c["name"]: c["approval"]["status"] for c in run.json()["clips"]}
    # the clip of shot ZZ100_504C is covered; the other clip was tagged with a target the approval lacks
    assert statuses == {"ZZ100_504C (LAY1)": "valid", "ZZ100_507C (LAY2)": "missing"}
    assert run.code == 1


def test_bad_approvals_folder_is_input_error(shared_data: Path, tmp_path: Path) -> None:
    _record, cut = _cut(shared_data, tmp_path)
    folder = tmp_path / "approvals"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"statement": {}}))
    run = cli("check", cut, "--approvals", folder)
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1 and "a.json" in run.err
    run = cli("check", cut, "--approvals", tmp_path / "missing")
    assert run.code == 2 and "folder" in run.err


def test_server_unreachable_falls_back_to_the_cache_with_a_warning(shared_data: Path, tmp_path: Path) -> None:
    _record, cut = _cut(shared_data, tmp_path)
    run = cli("check", cut, "--server", "http://127.0.0.1:9")  # discard port: nothing listens
    assert run.code == 1
    assert "warning:" in run.err and "cached on this machine" in run.err


def test_keys_planted_in_the_cache_are_not_trusted(shared_data: Path, tmp_path: Path) -> None:
    """Only the policy says which approver keys count: a keys.json in the local cache is data, not trust."""
    from clearance.cache import ApprovalCache

    record, cut = _cut(shared_data, tmp_path)
    studio = KeyRing.open(tmp_path / "studio")
    policy, folder = approvals_setup(tmp_path, [], studio)
    rogue = KeyRing.open(tmp_path / "rogue")
    forged = sign(rogue, record)
    (folder / f"{forged.approval_id}.json").write_text(forged.to_json())
    ApprovalCache().store_keys(rogue.public_keys_document())

    run = cli("check", cut, "--policy", policy, "--approvals", folder, "--json")
    assert run.code == 1
    assert {c["status"] for c in run.json()["clips"]} == {"approval_required"}
