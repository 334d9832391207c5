"""`clearance publish MANIFEST`: exit 0 published, 1 blocked (title, item, how to fix), 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from publish_fixtures import (
    approve,
    pyblish_env,  # noqa: F401 - fixture
    record_data,
    store_revocations,
    write_approval,
    write_manifest,
    write_policy,
    write_record,
)

from clearance.approvals import KeyRing
from clearance.cli.main import main


@pytest.fixture
def work(tmp_path: Path, pyblish_env: Path) -> Path:  # noqa: F811
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "sign.exr").write_bytes(b"sign")
    return folder


def _one(work: Path, kind: str = "approval", family: str = "render") -> tuple[Path, object]:
    record = write_record(work / "records" / "r.yaml", record_data(kind))
    manifest = write_manifest(work, [{"name": "sh010_sign", "files": ["sign.exr"], "records": ["records/r.yaml"]}],
                              family=family)
    return manifest, record


def test_blocked_then_approved_then_edited(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The acceptance scenario: needs approval -> blocked; approved -> published; edited after -> blocked."""
    ring = KeyRing.open(tmp_path / "keys")
    policy = write_policy(tmp_path / "policy.yaml", ring)
    store_revocations(ring)
    manifest, record = _one(work)
    args = ["publish", str(manifest), "--policy", str(policy)]

    assert main(args) == 1
    out = capsys.readouterr().out
    assert "publish blocked" in out and "nothing was published" in out
    assert "✗ Written approval missing or not valid [clearance.approval_valid]" in out
    assert "  - sh010_sign: needs written approval (FINAL-DELIVERABLE)" in out
    assert "How to fix:" in out and "Request approval" in out
    assert not (tmp_path / "publish").exists()

    approvals = tmp_path / "approvals"
    write_approval(approvals, approve(ring, record))
    assert main([*args, "--approvals", str(approvals)]) == 0
    out = capsys.readouterr().out
    dest = tmp_path / "publish"
    assert f"published 1 item(s), 1 file(s) to {dest}" in out
    assert str(dest / "sign.exr") in out and f"disclosure manifest: {dest / 'clearance-disclosure.json'}" in out
    assert (dest / "clearance-disclosure.json").is_file()

    for path in dest.iterdir():
        path.unlink()
    data = record_data("approval")
    data["id"] = str(record.id)
    data["use"]["creative_element"] = "key_visual"  # edited after approval
    write_record(work / "records" / "r.yaml", data)
    assert main([*args, "--approvals", str(approvals)]) == 1
    assert "edited after approval" in capsys.readouterr().out
    assert not any(dest.iterdir())


def test_json_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, record = _one(work)
    assert main(["publish", str(manifest), "--json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["published"] is False
    failure = next(f for f in body["failures"] if f["validator"] == "clearance.approval_valid")
    assert failure["items"][0]["name"] == "sh010_sign" and failure["items"][0]["record_id"] == str(record.id)


def _bad(capsys: pytest.CaptureFixture[str], args: list[str], *expected: str) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    for text in expected:
        assert text in captured.err


def test_bad_input_exits_2_with_one_line(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bad(capsys, ["publish", str(work / "nope.yaml")], "nope.yaml: file not found")
    (work / "broken.yaml").write_text("production: [unclosed\n")
    _bad(capsys, ["publish", str(work / "broken.yaml")], "broken.yaml:", "not valid YAML")
    manifest = write_manifest(work, [{"name": "a", "files": ["missing.exr"]}])
    _bad(capsys, ["publish", str(manifest)], "publish.yaml:", "items[0].files[0] missing.exr: file not found")
    manifest = write_manifest(work, [{"name": "a", "files": ["sign.exr"], "records": ["records/none.yaml"]}])
    _bad(capsys, ["publish", str(manifest)], "items[0].records[0] records/none.yaml: record file not found")
    data = record_data()
    del data["id"]
    write_record(work / "records" / "noid.yaml", data)
    manifest = write_manifest(work, [{"name": "a", "files": ["sign.exr"], "records": ["records/noid.yaml"]}])
    _bad(capsys, ["publish", str(manifest)], "noid.yaml: field id is required")
    (work / "records" / "bad.yaml").write_text(json.dumps({**record_data(), "use": {"stage": "sketch"}}))
    manifest = write_manifest(work, [{"name": "a", "files": ["sign.exr"], "records": ["records/bad.yaml"]}])
    _bad(capsys, ["publish", str(manifest)], "bad.yaml:", "use.stage")
    manifest.write_text("production: X\nfamily: review\ndestination: out\nitems:\n  - name: a\n    flies: [sign.exr]\n")
    _bad(capsys, ["publish", str(manifest)], "publish.yaml:6", "flies")
    manifest, _ = _one(work)
    _bad(capsys, ["publish", str(manifest), "--approvals", str(tmp_path / "none")], "--approvals expects a folder")
    _bad(capsys, ["publish", str(manifest), "--policy", str(tmp_path / "none.yaml")], "none.yaml")


def test_check_only_writes_nothing(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance.outbox import Outbox

    manifest, _ = _one(work, kind="notify", family="review")
    assert main(["publish", str(manifest), "--check"]) == 0
    assert "checks passed: 1 item(s) would publish" in capsys.readouterr().out
    assert not (tmp_path / "publish").exists()
    with Outbox() as outbox:
        assert outbox.record_ids() == []  # not even queued
    manifest, _ = _one(work, kind="approval")
    assert main(["publish", str(manifest), "--check"]) == 1
    assert "nothing was written (--check)" in capsys.readouterr().out
