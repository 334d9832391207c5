"""The publish gate through real pyblish.util.publish, plugins discovered from PYBLISHPLUGINPATH:
blocked publishes extract nothing, a valid approval publishes and writes the disclosure manifest."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from publish_fixtures import (
    NOW,
    approve,
    errors,
    pyblish_env,  # noqa: F401 - fixture
    ran,
    record_data,
    run_publish,
    store_revocations,
    write_approval,
    write_manifest,
    write_policy,
    write_record,
)

from clearance.approvals import KeyRing
from clearance.outbox import Outbox
from clearance.policy import load_policy
from clearance.record import content_digest

EXTRACT_AND_INTEGRATE = {
    "ExtractClearanceDisclosure", "IntegrateClearanceOutbox", "IntegrateClearanceStandaloneFiles",
    "IntegrateClearanceManifest",
}


@pytest.fixture
def studio(tmp_path: Path, pyblish_env: Path) -> dict:  # noqa: F811
    """A work folder with one plate, a trusted key ring, a policy trusting it and a fresh revocation list."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "sh010_sign.exr").write_bytes(b"not really an exr, but bytes to publish\n")
    ring = KeyRing.open(tmp_path / "keys")
    policy_path = write_policy(tmp_path / "policy.yaml", ring)
    store_revocations(ring)
    return {"work": work, "ring": ring, "policy": load_policy([str(policy_path)]), "policy_path": policy_path,
            "dest": tmp_path / "publish", "approvals": tmp_path / "approvals"}


def _manifest(studio: dict, kind: str = "approval", family: str = "render", **changes: object):
    data = record_data(kind, **changes)
    record = write_record(studio["work"] / "records" / "sign.yaml", data)
    manifest = write_manifest(studio["work"], [{"name": "sh010_sign", "files": ["sh010_sign.exr"],
                                                "records": ["records/sign.yaml"]}], family=family)
    return record, data, manifest


def _blocked(context, studio: dict, plugin: str) -> str:
    failed = errors(context)
    assert plugin in failed, f"expected {plugin} to fail; failures: {failed}"
    assert not EXTRACT_AND_INTEGRATE & set(ran(context)), "an extractor or integrator ran after failed validation"
    assert not studio["dest"].exists() or not any(studio["dest"].iterdir())
    return str(failed[plugin])


def test_missing_approval_blocks_and_extracts_nothing(studio: dict) -> None:
    record, _, manifest = _manifest(studio)
    context = run_publish(manifest, studio["policy"])
    message = _blocked(context, studio, "ValidateClearanceApproval")
    assert "sh010_sign" in message and "never requested" in message
    assert "How to fix" in message and "FINAL-DELIVERABLE" in message
    assert context.data["clearance_failures"]["clearance.approval_valid"][0].record_id == str(record.id)


def test_valid_approval_publishes_and_writes_the_disclosure_manifest(studio: dict) -> None:
    record, _, manifest = _manifest(studio)
    approval = approve(studio["ring"], record)
    write_approval(studio["approvals"], approval)
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert errors(context) == {}
    assert set(ran(context)) >= EXTRACT_AND_INTEGRATE
    dest = studio["dest"]
    published = dest / "sh010_sign.exr"
    assert published.read_bytes() == (studio["work"] / "sh010_sign.exr").read_bytes()
    disclosure = json.loads((dest / "clearance-disclosure.json").read_text())
    rid = str(record.id)
    assert disclosure["policy_version"] == "test-policy-1"
    assert disclosure["production"] == "EXAMPLE_S01"
    assert disclosure["decisions"][rid]["outcome"] == "approval_required"
    assert disclosure["approvals"][approval.approval_id]["signature"] == approval.signature
    assert disclosure["records"][rid]["id"] == rid
    assert disclosure["record_digests"][rid]["content"] == content_digest(record)
    item = disclosure["items"][0]
    assert item["approval_id"] == approval.approval_id and item["record_id"] == rid
    import hashlib

    assert item["files"][0]["sha256"] == hashlib.sha256(published.read_bytes()).hexdigest()
    sidecar = json.loads((dest / "sh010_sign.exr.clearance.json").read_text())
    assert sidecar["record_ids"] == [rid]
    instance = next(i for i in context if i.data.get("family") == "clearance.genai")
    assert instance.data["clearance_record_ids"] == [rid]
    # notification before the work goes out: the record is in the outbox
    with Outbox() as outbox:
        assert outbox.is_disclosed(record.id, content_digest(record))


def test_record_edited_after_approval_blocks(studio: dict) -> None:
    record, data, manifest = _manifest(studio)
    write_approval(studio["approvals"], approve(studio["ring"], record))
    data["tool"]["version"] = "4"  # a decision-relevant edit after approval
    write_record(studio["work"] / "records" / "sign.yaml", data)
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "edited after approval" in _blocked(context, studio, "ValidateClearanceApproval")


def test_expired_approval_blocks(studio: dict) -> None:
    record, _, manifest = _manifest(studio)
    write_approval(studio["approvals"], approve(studio["ring"], record, issued_at=NOW - timedelta(days=40),
                                                expires_at=NOW - timedelta(days=1)))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "expired" in _blocked(context, studio, "ValidateClearanceApproval")


def test_revoked_approval_blocks(studio: dict) -> None:
    record, _, manifest = _manifest(studio)
    approval = approve(studio["ring"], record)
    write_approval(studio["approvals"], approval)
    store_revocations(studio["ring"], [approval.approval_id])
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "revoked" in _blocked(context, studio, "ValidateClearanceApproval")


def test_forged_approvals_block(studio: dict, tmp_path: Path) -> None:
    record, _, manifest = _manifest(studio)
    # signed by a key the policy does not trust
    write_approval(studio["approvals"], approve(KeyRing.open(tmp_path / "rogue"), record))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "not trusted" in _blocked(context, studio, "ValidateClearanceApproval")
    # a genuine approval whose statement was altered by hand (expiry pushed out)
    shutil.rmtree(studio["approvals"])
    approval = approve(studio["ring"], record)
    path = write_approval(studio["approvals"], approval)
    body = json.loads(path.read_text())
    body["statement"]["expires_at"] = (NOW + timedelta(days=3650)).isoformat()
    path.write_text(json.dumps(body))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "altered or forged" in _blocked(context, studio, "ValidateClearanceApproval")


def test_approval_for_another_target_blocks(studio: dict) -> None:
    record, _, manifest = _manifest(studio, targets=[{"kind": "shot", "ref": "sh010_sign"},
                                                     {"kind": "shot", "ref": "sh020"}])
    write_approval(studio["approvals"], approve(studio["ring"], record, targets=["shot:sh020"]))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "does not cover target shot:sh010_sign" in _blocked(context, studio, "ValidateClearanceApproval")


def test_prohibited_blocks(studio: dict) -> None:
    _, _, manifest = _manifest(studio, kind="prohibited")
    context = run_publish(manifest, studio["policy"])
    assert "ETHICS-MISLEADING" in _blocked(context, studio, "ValidateClearanceNotProhibited")


def test_temp_material_in_final_family_blocks(studio: dict) -> None:
    _, _, manifest = _manifest(studio, kind="notify", family="comp")
    context = run_publish(manifest, studio["policy"])
    message = _blocked(context, studio, "ValidateClearanceTempNotFinal")
    assert "ideation material going into family comp" in message


def test_temp_material_in_review_family_publishes(studio: dict) -> None:
    _, _, manifest = _manifest(studio, kind="notify", family="review")
    context = run_publish(manifest, studio["policy"])
    assert errors(context) == {}
    assert (studio["dest"] / "clearance-disclosure.json").is_file()


def test_untagged_ai_media_blocks(studio: dict, shared_data: Path) -> None:
    shutil.copy(shared_data / "provenance" / "ocsp.jpg", studio["work"] / "poster.jpg")
    manifest = write_manifest(studio["work"], [{"name": "poster", "files": ["poster.jpg"]}])
    context = run_publish(manifest, studio["policy"])
    message = _blocked(context, studio, "ValidateClearanceUntaggedMedia")
    assert "poster" in message and "ai_generated" in message and "Adobe Firefly" in message


def test_untagged_camera_file_publishes(studio: dict) -> None:
    manifest = write_manifest(studio["work"], [{"name": "plate", "files": ["sh010_sign.exr"]}])
    context = run_publish(manifest, studio["policy"])
    assert errors(context) == {}


def test_broken_tag_blocks(studio: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyblish.api
    import pyblish.util

    from clearance.items import GenAIItem
    from clearance.record import Target

    manifest = write_manifest(studio["work"], [{"name": "plate", "files": ["sh010_sign.exr"]}])
    context = pyblish.api.Context()
    context.data["clearance_manifest"] = str(manifest)
    context.data["clearance_policy"] = studio["policy"]
    context.data["clearance_items"] = [GenAIItem(
        host="standalone", handle="Read1", label="Read1", target=Target(kind="node", ref="Read1"),
        tag_error="the tag's JSON is cut off at byte 212")]
    pyblish.util.publish(context)
    message = _blocked(context, studio, "ValidateClearanceTagReadable")
    assert "Read1" in message and "cut off" in message


def test_every_failure_names_each_item_and_select_picks_exactly_them(studio: dict) -> None:
    import pyblish.plugin

    from clearance.items import register_selector
    from clearance.pyblish.actions import SelectItems

    records = studio["work"] / "records"
    items = []
    for name, kind in (("a", "approval"), ("b", "notify"), ("c", "approval"), ("d", "prohibited")):
        write_record(records / f"{name}.yaml", record_data(kind))
        (studio["work"] / f"{name}.exr").write_bytes(name.encode())
        items.append({"name": name, "files": [f"{name}.exr"], "records": [f"records/{name}.yaml"]})
    manifest = write_manifest(studio["work"], items, family="review")
    context = run_publish(manifest, studio["policy"])
    failed = errors(context)
    assert set(failed) == {"ValidateClearanceApproval", "ValidateClearanceNotProhibited"}
    approval_plugin = next(r["plugin"] for r in context.data["results"]
                           if r["plugin"].__name__ == "ValidateClearanceApproval")
    assert "  - a:" in str(failed["ValidateClearanceApproval"]) and "  - c:" in str(failed["ValidateClearanceApproval"])
    selected: list[list[str]] = []
    register_selector("standalone", selected.append)
    result = pyblish.plugin.process(approval_plugin, context, None, action=SelectItems.id)
    assert result["success"], result["error"]
    assert selected == [["a", "c"]]


def test_not_disclosed_blocks_when_auto_queue_is_off(studio: dict, tmp_path: Path) -> None:
    import pyblish.plugin

    from clearance.pyblish.actions import QueueDisclosure

    policy_path = write_policy(tmp_path / "strict.yaml", studio["ring"], publish={"queue_disclosures": False})
    policy = load_policy([str(policy_path)])
    record, _, manifest = _manifest(studio, kind="notify", family="review")
    context = run_publish(manifest, policy)
    assert "never sent or queued" in _blocked(context, studio, "ValidateClearanceRecordDisclosed")
    plugin = next(r["plugin"] for r in context.data["results"]
                  if r["plugin"].__name__ == "ValidateClearanceRecordDisclosed")
    assert pyblish.plugin.process(plugin, context, None, action=QueueDisclosure.id)["success"]
    with Outbox() as outbox:
        assert outbox.is_disclosed(record.id, content_digest(record))
    context = run_publish(manifest, policy)
    assert errors(context) == {}


def test_record_of_another_production_blocks(studio: dict) -> None:
    _, _, manifest = _manifest(studio, kind="notify", family="review", production="OTHER_S02")
    context = run_publish(manifest, studio["policy"])
    assert "production OTHER_S02" in _blocked(context, studio, "ValidateClearanceRecordDisclosed")


def test_unknown_tool_is_a_visible_warning_or_blocks(studio: dict, tmp_path: Path) -> None:
    _, _, manifest = _manifest(studio, kind="notify", family="review", tool={"name": "DreamBrush"})
    context = run_publish(manifest, studio["policy"])
    assert errors(context) == {}
    warnings = context.data["clearance_warnings"]["clearance.tool_registered"]
    assert [w.name for w in warnings] == ["sh010_sign"] and "DreamBrush" in warnings[0].message
    shutil.rmtree(studio["dest"])
    policy = load_policy([str(write_policy(tmp_path / "p.yaml", publish={"block_unknown_tools": True}))])
    context = run_publish(manifest, policy)
    assert "DreamBrush" in _blocked(context, studio, "ValidateClearanceToolRegistered")


def test_manifest_file_is_yaml_or_json(studio: dict) -> None:
    _, _, manifest = _manifest(studio, kind="notify", family="review")
    as_json = manifest.with_suffix(".json")
    as_json.write_text(json.dumps(yaml.safe_load(manifest.read_text())))
    context = run_publish(as_json, studio["policy"])
    assert errors(context) == {}


def test_approval_naming_the_target_passes_and_covers_only_it(studio: dict) -> None:
    record, _, manifest = _manifest(studio, targets=[{"kind": "shot", "ref": "sh010_sign"},
                                                     {"kind": "shot", "ref": "sh020"}])
    write_approval(studio["approvals"], approve(studio["ring"], record, targets=["shot:sh010_sign"]))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert errors(context) == {}
    check = context.data["clearance_checks"][0]
    assert check.item.target.key() == "shot:sh010_sign" and check.approval is not None


def test_one_record_on_many_items_is_judged_per_target(studio: dict) -> None:
    """Items sharing one record: an approval for some targets passes those and names the others."""
    shots = ["sh010", "sh020", "sh030"]
    data = record_data("approval", targets=[{"kind": "shot", "ref": s} for s in shots])
    record = write_record(studio["work"] / "records" / "shared.yaml", data)
    items = []
    for shot in shots:
        (studio["work"] / f"{shot}.exr").write_bytes(shot.encode())
        items.append({"name": shot, "files": [f"{shot}.exr"], "records": ["records/shared.yaml"]})
    manifest = write_manifest(studio["work"], items, family="review")
    write_approval(studio["approvals"], approve(studio["ring"], record, targets=["shot:sh010", "shot:sh030"]))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    failures = context.data["clearance_failures"]["clearance.approval_valid"]
    assert [f.name for f in failures] == ["sh020"]
    assert "does not cover target shot:sh020" in failures[0].message
    assert not studio["dest"].exists()


def test_standalone_publish_without_a_manifest_is_blocked(studio: dict) -> None:
    import pyblish.api
    import pyblish.util

    context = pyblish.api.Context()
    context.data["clearance_policy"] = studio["policy"]
    pyblish.util.publish(context)
    message = str(_blocked(context, studio, "ValidateClearanceSetup"))
    assert "collecting failed in Clearance: publish manifest" in message and "clearance_manifest" in message


def test_open_record_page_opens_each_failed_record(studio: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    import pyblish.plugin

    from clearance.pyblish.actions import OpenRecordPage

    record, _, manifest = _manifest(studio)
    context = run_publish(manifest, studio["policy"])
    plugin = next(r["plugin"] for r in context.data["results"] if r["plugin"].__name__ == "ValidateClearanceApproval")
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setenv("CLEARANCE_SERVER", "https://clearance.studio.example")
    assert pyblish.plugin.process(plugin, context, None, action=OpenRecordPage.id)["success"]
    assert opened == [f"https://clearance.studio.example/records/{record.id}"]


def test_revocations_in_the_approvals_folder(studio: dict) -> None:
    """A signed revocation list shipped with --approvals adds revocations (union with the cache); an unsigned
    one is refused with one line naming the file, and never makes a stale cache fresh."""
    record, _, manifest = _manifest(studio)
    approval = approve(studio["ring"], record)
    write_approval(studio["approvals"], approval)
    moment = NOW.isoformat()
    listed = {"revocations": [{"approval_id": approval.approval_id, "revoked_at": moment, "reason": "withdrawn"}],
              "generated_at": moment}
    folder_list = studio["approvals"] / "revocations.json"
    folder_list.write_text(json.dumps(studio["ring"].sign_document(listed)))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "revoked" in _blocked(context, studio, "ValidateClearanceApproval")
    # the same list unsigned: refused, naming the file
    folder_list.write_text(json.dumps(listed))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    said = [str(r["error"]) for r in context.data["results"] if r.get("error")]
    assert any("revocations.json: the revocation list is not signed" in e for e in said), said
    assert not (studio["dest"]).exists() or not any(studio["dest"].iterdir())
    # a stale cached list stays stale next to an older signed empty list in the folder
    from clearance.cache import ApprovalCache

    ApprovalCache().revocations_path.unlink()
    store_revocations(studio["ring"], at=NOW - timedelta(days=3))
    older = {"revocations": [], "generated_at": (NOW - timedelta(days=4)).isoformat()}
    folder_list.write_text(json.dumps(studio["ring"].sign_document(older)))
    context = run_publish(manifest, studio["policy"], studio["approvals"])
    assert "revocation list" in _blocked(context, studio, "ValidateClearanceApproval")
