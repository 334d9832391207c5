"""The editorial Pyblish collector in a real publish: timeline clips become GenAI items for the validators."""

from __future__ import annotations

import shutil
from pathlib import Path

import opentimelineio as otio
import publish_fixtures
import pyblish.api
import pyblish.util
from editorial_fixtures import cli, make_record, write_record

pyblish_env = publish_fixtures.pyblish_env


def _cut(shared_data: Path, tmp_path: Path) -> Path:
    timeline = otio.adapters.read_from_file(str(shared_data / "otio" / "simple_cut.otio"))
    ai_still = tmp_path / "still.jpg"
    shutil.copy(shared_data / "provenance" / "ocsp.jpg", ai_still)
    clip = next(c for c in timeline.find_clips() if c.name == "Clip-004")
    clip.media_reference = otio.schema.ExternalReference(target_url=str(ai_still))
    staged = tmp_path / "staged.otio"
    otio.adapters.write_to_file(timeline, str(staged))
    record = write_record(tmp_path / "records", make_record("approval"))
    out = tmp_path / "cut.otio"
    assert cli("tag", staged, "--clip", "Clip-002", "--record", record, "-o", out).code == 0
    return out


def _publish(cut: Path) -> pyblish.api.Context:
    pyblish.api.deregister_host("standalone", quiet=True)
    pyblish.api.register_host("editorial")
    context = pyblish.api.Context()
    context.data["clearance_timeline"] = str(cut)
    pyblish.util.publish(context)
    return context


def test_collector_feeds_the_validators(pyblish_env: Path, shared_data: Path, tmp_path: Path) -> None:
    cut = _cut(shared_data, tmp_path)
    context = _publish(cut)
    items = {item.label: item for item in context.data["clearance_items"]}
    assert set(items) == {"Clip-002", "Clip-004"}
    tagged, untagged = items["Clip-002"], items["Clip-004"]
    assert tagged.host == "editorial" and tagged.record is not None and tagged.tag_error is None
    assert tagged.extra["timecode_in"] == "00:00:00:03" and tagged.handle == "Track-001/Clip-002@00:00:00:03"
    assert untagged.record is None and untagged.files == [str(tmp_path / "still.jpg")]
    assert context.data["currentFile"] == str(cut)
    failed = {r["plugin"].__name__ for r in context.data["results"] if r["error"] is not None}
    assert any("Approval" in name for name in failed), failed
    assert any("Untagged" in name for name in failed), failed


def test_collector_without_a_timeline_fails_loudly(pyblish_env: Path) -> None:
    pyblish.api.deregister_host("standalone", quiet=True)
    pyblish.api.register_host("editorial")
    context = pyblish.util.publish(pyblish.api.Context())
    errors = [str(r["error"]) for r in context.data["results"]
              if r["error"] is not None and r["plugin"].__name__ == "CollectEditorialGenAIItems"]
    assert errors and "clearance_timeline" in errors[0]
