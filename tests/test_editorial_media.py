"""Media awareness: untagged clips whose files carry AI provenance block the cut; offline media is only noted."""

from __future__ import annotations

import shutil
from pathlib import Path

import opentimelineio as otio
from editorial_fixtures import cli, make_record, write_record

RT = otio.opentime.RationalTime


def _range(frames: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(RT(0, 24), RT(frames, 24))


def _timeline(tmp_path: Path, refs: dict[str, otio.core.MediaReference]) -> Path:
    timeline = otio.schema.Timeline("media cut")
    track = otio.schema.Track("V1")
    for name, ref in refs.items():
        track.append(otio.schema.Clip(name, media_reference=ref, source_range=_range(24)))
    timeline.tracks.append(track)
    path = tmp_path / "media.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_untagged_ai_media_blocks_and_camera_media_does_not(shared_data: Path, tmp_path: Path) -> None:
    prov = shared_data / "provenance"
    path = _timeline(tmp_path, {
        "firefly_still": otio.schema.ExternalReference(target_url=(prov / "ocsp.jpg").as_uri()),
        "plain_still": otio.schema.ExternalReference(target_url=str(prov / "no_manifest.jpg")),
        "offline": otio.schema.ExternalReference(target_url="/mnt/nowhere/plate.exr"),
        "remote": otio.schema.ExternalReference(target_url="https://example.invalid/plate.mov"),
        "nothing": otio.schema.MissingReference(),
    })
    run = cli("check", path, "--json")
    assert run.code == 1, run.out + run.err
    doc = run.json()
    [clip] = doc["clips"]
    assert clip["name"] == "firefly_still" and clip["status"] == "untagged_ai" and clip["rules"] == ["UNTAGGED-AI"]
    assert "Adobe Firefly" in clip["reasons"][0] and "no Clearance tag" in clip["reasons"][0]
    assert clip["timecode_in"] == "00:00:00:00"
    media = doc["media"]
    assert (media["files"], media["offline"], media["remote"], media["missing_reference"]) == (2, 1, 1, 1)
    assert cli("check", path, "--no-scan").code == 0

    # declaring the use (tagging the clip) is the remedy
    record = write_record(tmp_path, make_record("notify"))
    tagged = tmp_path / "tagged.otio"
    assert cli("tag", path, "--clip", "firefly_still", "--record", record, "-o", tagged).code == 0
    run = cli("check", tagged, "--json")
    assert run.code == 0
    assert [(c["name"], c["status"], c["media"]) for c in run.json()["clips"]] == [("firefly_still", "notify", "file")]


def test_image_sequence_with_ai_frames(shared_data: Path, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for n in range(1001, 1011):
        shutil.copy(shared_data / "provenance" / "comfy_sdxl_simple_example.png", frames / f"gen.{n:04d}.png")
    ref = otio.schema.ImageSequenceReference(
        target_url_base=frames.as_uri() + "/", name_prefix="gen.", name_suffix=".png", start_frame=1001,
        frame_zero_padding=4, rate=24, available_range=otio.opentime.TimeRange(RT(0, 24), RT(10, 24)),
    )
    path = _timeline(tmp_path, {"comfy_seq": ref})
    run = cli("check", path, "--json")
    assert run.code == 1
    [clip] = run.json()["clips"]
    assert clip["status"] == "untagged_ai" and "ComfyUI" in clip["reasons"][0] and clip["media"] == "sequence"
    # the same sequence, offline: noted, not fatal
    shutil.rmtree(frames)
    run = cli("check", path, "--json")
    assert run.code == 0 and run.json()["media"]["offline"] == 1
