"""`clearance check --server URL` against the real service (`clearance serve` on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml
from editorial_fixtures import cli, make_record, write_record
from server_fixtures import LiveServer, live_server  # noqa: F401

from clearance.client import DisclosureClient


@pytest.mark.slow
def test_check_pulls_approvals_and_denials_from_the_service(
        live_server: LiveServer, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    approved = make_record("approval")
    denied = make_record("approval", description="generated crowd in the background")
    with DisclosureClient(live_server.url, live_server.tokens["ana.artist"]) as artist, \
            DisclosureClient(live_server.url, live_server.tokens["sam.approver"]) as approver:
        for record in (approved, denied):
            assert artist.submit(record).state == "sent"
        approver.decide(approved.id, "approve", conditions="background only")
        approver.decide(denied.id, "deny", conditions="crowd must be shot practically")
    cut = shared_data / "otio" / "screening_example.otio"
    for n, (record, clip) in enumerate([(approved, "ZZ100_504C (LAY1)"), (denied, "ZZ100_508 (LAY2)")]):
        out = tmp_path / f"cut{n}.otio"
        assert cli("tag", cut, "--clip", clip, "--record", write_record(tmp_path / "r", record), "-o", out).code == 0
        cut = out
    # a fresh machine: nothing cached until --server pulls it. The studio policy names the approver keys
    # to trust (keys pulled into the cache are never trusted on their own).
    keys = requests.get(f"{live_server.url}/api/v1/keys", timeout=10).json()["keys"]
    policy = tmp_path / "studio.yaml"
    policy.write_text(yaml.safe_dump({"approvals": {"trusted_keys": [
        {"key_id": k["key_id"], "public_key": k["public_key"]} for k in keys]}}))
    monkeypatch.setenv("CLEARANCE_POLICY", str(policy))
    monkeypatch.setenv("CLEARANCE_TOKEN", live_server.tokens["ana.artist"])
    run = cli("check", cut, "--server", live_server.url, "--json")
    assert run.code == 1, run.err
    clips = {c["name"]: c for c in run.json()["clips"]}
    assert clips["ZZ100_504C (LAY1)"]["status"] == "approved"
    assert clips["ZZ100_504C (LAY1)"]["approval"]["approver"] == "sam.approver"
    assert clips["ZZ100_508 (LAY2)"]["status"] == "denied"
    assert "crowd must be shot practically" in clips["ZZ100_508 (LAY2)"]["reasons"][0]
    # offline afterwards, the pulled approval still holds and the denial pulled with it is remembered
    run = cli("check", cut, "--json")
    statuses = {c["name"]: c["status"] for c in run.json()["clips"]}
    assert statuses == {"ZZ100_504C (LAY1)": "approved", "ZZ100_508 (LAY2)": "denied"}
