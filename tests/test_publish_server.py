"""End to end with the real disclosure service: blocked publish, Request approval action, approve over
HTTP, pull, publish passes; revoke over HTTP, pull, publish is blocked again."""

from __future__ import annotations

import json
from pathlib import Path

import pyblish.plugin
import pytest
import yaml
from publish_fixtures import (
    errors,
    pyblish_env,  # noqa: F401 - fixture
    record_data,
    run_publish,
    write_manifest,
    write_record,
)
from server_fixtures import LiveServer, live_server  # noqa: F401

from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.client import DisclosureClient
from clearance.policy import load_policy
from clearance.pyblish.actions import RequestApproval

pytestmark = pytest.mark.slow


def test_submit_approve_pull_publish(
    live_server: LiveServer, pyblish_env: Path, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", live_server.tokens["ana.artist"])
    work = tmp_path / "work"
    work.mkdir()
    (work / "sign.exr").write_bytes(b"generated signage plate")
    record = write_record(work / "records" / "sign.yaml", record_data("approval"))
    manifest = write_manifest(work, [{"name": "sh010_sign", "files": ["sign.exr"], "records": ["records/sign.yaml"]}],
                              family="render")
    # the studio's policy trusts the approver keys pulled from its own service
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump({"version": "studio-1", "approvals": {
        "keys_file": str(ApprovalCache().keys_path)}, "tools": {"Firefly": {"provider": "Adobe"}}}))
    with DisclosureClient() as client:
        client.pull_approvals()  # keys and revocation list, before any approval exists

    # 1. blocked; the artist uses the Request approval action, which submits and prints the record page
    policy = load_policy([str(policy_file)])
    context = run_publish(manifest, policy)
    assert "ValidateClearanceApproval" in errors(context)
    plugin = next(r["plugin"] for r in context.data["results"] if r["plugin"].__name__ == "ValidateClearanceApproval")
    result = pyblish.plugin.process(plugin, context, None, action=RequestApproval.id)
    assert result["success"], result["error"]
    assert f"{live_server.url}/records/{record.id}" in capsys.readouterr().out
    assert not (tmp_path / "publish").exists()

    # 2. the approver approves over HTTP; the artist pulls; the publish passes
    response = live_server.post(f"/records/{record.id}/decision", live_server.tokens["sam.approver"],
                                {"decision": "approve", "version": 1, "conditions": "background only"})
    assert response.status_code in (200, 201), response.text
    with DisclosureClient() as client:
        assert client.pull_approvals().approvals == 1
    assert main(["publish", str(manifest), "--policy", str(policy_file)]) == 0
    disclosure = json.loads((tmp_path / "publish" / "clearance-disclosure.json").read_text())
    approval_id = disclosure["items"][0]["approval_id"]
    assert approval_id and disclosure["approvals"][approval_id]["statement"]["approver"] == "sam.approver"

    # 3. the studio revokes; after a pull the same publish is blocked again
    for path in (tmp_path / "publish").iterdir():
        path.unlink()
    with DisclosureClient(live_server.url, live_server.tokens["sam.approver"]) as approver:
        approver.revoke(approval_id, "signage rights withdrawn")
    with DisclosureClient() as client:
        client.pull_approvals()
    capsys.readouterr()
    assert main(["publish", str(manifest), "--policy", str(policy_file)]) == 1
    assert "revoked" in capsys.readouterr().out
    assert not any((tmp_path / "publish").iterdir())
