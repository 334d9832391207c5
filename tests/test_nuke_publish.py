"""A real Pyblish publish with the fake ``nuke`` registered as host ``nuke``: the Nuke collector feeds the
host-neutral Clearance validators; blocked without a valid approval, passing with one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nuke_fixtures
import publish_fixtures
import pyblish.api
import pyblish.util
from nuke_fixtures import final_record, ideation_record
from pyblish_results import failures_by_validator

from clearance.hosts import nuke as host

fake_nuke = nuke_fixtures.fake_nuke
approver = nuke_fixtures.approver
pyblish_env = publish_fixtures.pyblish_env


def _publish() -> tuple[dict[str, list[str]], list[str], Any]:
    from clearance.pyblish import register

    pyblish.api.deregister_host("standalone", quiet=True)
    register("nuke")
    context = pyblish.util.publish()
    failures, other = failures_by_validator(context)
    return failures, other, context


def _script(fake_nuke: Any, tmp_path: Path, shared_data: Path) -> tuple[Any, Any]:
    plate = tmp_path / "plate.jpg"
    shutil.copy(shared_data / "provenance" / "no_manifest.jpg", plate)
    from clearance_nuke import knobs

    read = fake_nuke.nodes.Read(file=str(plate))
    knobs.tag_node(read, final_record())
    matte = fake_nuke.nodes.Read(file=str(tmp_path / "matte.jpg"))
    shutil.copy(shared_data / "provenance" / "no_manifest.jpg", tmp_path / "matte.jpg")
    knobs.tag_node(
        matte, ideation_record().model_copy(update={"use": ideation_record().use.model_copy(update={"stage": "temp"})})
    )
    write = fake_nuke.nodes.Write(file=str(tmp_path / "out" / "comp.####.exr"))
    write.setInput(0, read)
    assert write.knob("clearance_exempt") is not None, "every Write is gated: no box to tick"
    fake_nuke.fake_save_script(tmp_path / "shot.nk")  # onScriptSave queues the disclosures
    return read, matte


def test_publish_is_blocked_without_approval_and_passes_with_one(
    fake_nuke: Any, approver: Any, pyblish_env: Path, tmp_path: Path, shared_data: Path
) -> None:
    read, matte = _script(fake_nuke, tmp_path, shared_data)
    failures, other, context = _publish()
    assert other == []
    assert sorted(item.handle for item in context.data["clearance_items"]) == ["Read1", "Read2"]
    assert context.data["currentFile"] == str(tmp_path / "shot.nk")
    blocked = {handle for handles in failures.values() for handle in handles}
    assert "Read1" in blocked, failures
    assert "Read2" not in blocked, "the temp matte does not reach the deliverable Write"
    approver.approve(host.read_tag(read).record)
    failures, other, _ = _publish()
    assert other == [] and failures == {}, failures
    # the artist merges the temp matte into the deliverable comp: now it is temp material in a final
    merge = fake_nuke.nodes.Merge2()
    merge.setInput(0, read)
    merge.setInput(1, matte)
    fake_nuke.toNode("Write1").setInput(0, merge)
    failures, other, _ = _publish()
    assert other == [] and failures == {"clearance.temp_not_final": ["Read2"]}, failures


def test_untagged_ai_read_is_collected_for_the_scan(
    fake_nuke: Any, approver: Any, pyblish_env: Path, tmp_path: Path, shared_data: Path
) -> None:
    generated = tmp_path / "gen.png"
    shutil.copy(shared_data / "provenance" / "comfy_sdxl_simple_example.png", generated)
    fake_nuke.nodes.Read(file=str(generated))
    fake_nuke.fake_save_script(tmp_path / "shot.nk")
    failures, other, context = _publish()
    assert other == []
    (item,) = context.data["clearance_items"]
    assert item.record is None and item.files == [str(generated)]
    assert any("Read1" in handles for handles in failures.values()), failures


def test_untagged_generative_nodes_block_the_publish_and_warn_when_the_policy_says(
    fake_nuke: Any, approver: Any, pyblish_env: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    import json

    cat = fake_nuke.nodes.CopyCat()
    fake_nuke.nodes.Grade()
    failures, other, _context = _publish()
    assert other == [] and failures == {"clearance.untagged_ai_nodes": ["CopyCat1"]}, failures
    policy = json.loads(approver.policy_path.read_text(encoding="utf-8"))
    policy["hosts"] = {"untagged_ai_nodes": "warn"}
    approver.policy_path.write_text(json.dumps(policy), encoding="utf-8")
    failures, other, _ = _publish()
    assert other == [] and failures == {}, failures
    from clearance_nuke import knobs

    knobs.tag_node(cat, ideation_record())
    policy["hosts"] = {}
    approver.policy_path.write_text(json.dumps(policy), encoding="utf-8")
    failures, other, _ = _publish()
    assert "clearance.untagged_ai_nodes" not in failures, failures
