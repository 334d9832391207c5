"""Bad input: one clear line naming the file or the clip, exit 2 for unreadable input, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import opentimelineio as otio
import pytest
from editorial_fixtures import cli, make_record, write_record

from clearance.errors import ClearanceError
from clearance.tags import METADATA_KEY


def _one_line_error(run, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert run.code == 2, (run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("clearance: error: ")
    assert "Traceback" not in run.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def _simple(shared_data: Path) -> dict:
    return json.loads((shared_data / "otio" / "simple_cut.otio").read_text())


@pytest.mark.parametrize(("content", "needle"), [
    ('{"OTIO_SCHEMA": "Timeline.1", "tracks": ', "not a readable otio_json timeline"),
    ("", "The document is empty"),
    ("[1, 2]", "holds a JSON list, not a timeline"),
    ('{"OTIO_SCHEMA": "WeirdThing.1"}', "unknown schema WeirdThing.1"),
])
def test_broken_otio_files(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "cut.otio"
    path.write_text(content)
    _one_line_error(cli("check", path), str(path), needle)


def test_unknown_schema_inside_names_the_object_and_schema(shared_data: Path, tmp_path: Path) -> None:
    data = _simple(shared_data)
    data["tracks"]["children"][0]["children"][1]["media_reference"]["OTIO_SCHEMA"] = "S3Reference.1"
    path = tmp_path / "cut.otio"
    path.write_text(json.dumps(data))
    _one_line_error(cli("check", path), "'Clip-002'", "S3Reference.1")
    data["tracks"]["children"][0]["children"][1]["media_reference"]["OTIO_SCHEMA"] = "ExternalReference.7"
    path.write_text(json.dumps(data))
    _one_line_error(cli("check", path), "ExternalReference.7", "upgrade OpenTimelineIO")


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("garbage.edl", bytes(range(256)) * 4, "not a readable cmx_3600 timeline"),
    ("bad.xml", b"<xmeml><sequence><name>x</name>", "not a readable fcp_xml timeline"),
    ("bad.aaf", b"not an aaf file", "not a readable AAF timeline"),
    ("cut.fcpxml", b'<fcpxml version="1.9"></fcpxml>', "holds no timeline"),
    ("cut.mov", b"\x00\x00", "no timeline format for '.mov'"),
])
def test_unreadable_interchange_files(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    _one_line_error(cli("check", path), needle)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    _one_line_error(cli("check", tmp_path / "nothere.otio"), "file not found")
    _one_line_error(cli("check", tmp_path), "is a folder")
    _one_line_error(cli("timeline", "list", tmp_path / "nothere.edl"), "file not found")


def test_non_utf8_edl_is_read(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / "edl" / "avid_example.edl").read_bytes().replace(b"take_1", "prise_été".encode("latin-1"))
    path = tmp_path / "latin1.edl"
    path.write_bytes(raw)
    record = write_record(tmp_path, make_record("notify"))
    out = tmp_path / "tagged.otio"
    run = cli("tag", path, "--clip", "prise_été", "--record", record, "-o", out)
    assert run.code == 0, run.err
    run = cli("check", out, "--json")
    assert run.code == 0
    assert [c["name"] for c in run.json()["clips"]] == ["prise_été"]


def _tagged(shared_data: Path, tmp_path: Path, kind: str = "notify") -> tuple[Path, otio.schema.Timeline]:
    record = write_record(tmp_path, make_record(kind))
    out = tmp_path / "tagged.otio"
    assert cli("tag", shared_data / "otio" / "simple_cut.otio", "--clip", "Clip-002", "--record", record,
               "-o", out).code == 0
    return out, otio.adapters.read_from_file(str(out))


def _clip(timeline: otio.schema.Timeline, name: str = "Clip-002") -> otio.schema.Clip:
    return next(c for c in timeline.find_clips() if c.name == name)


def _check_broken(path: Path, *needles: str) -> dict:
    run = cli("check", path, "--json")
    assert run.code == 1, (run.out, run.err)
    doc = run.json()
    [clip] = doc["clips"]
    assert clip["status"] == "invalid" and clip["rules"] == ["TAG-BROKEN"] and clip["blocking"]
    assert "Clip-002" in clip["reasons"][0]
    for needle in needles:
        assert needle in clip["reasons"][0]
    text = cli("check", path)
    assert "Broken tag" in text.out and "Clip-002" in text.out.splitlines()[-1]
    return clip


def test_broken_tag_json_in_metadata(shared_data: Path, tmp_path: Path) -> None:
    path, timeline = _tagged(shared_data, tmp_path)
    _clip(timeline).metadata[METADATA_KEY] = '{"schema": "clearance.tag/1", "record_id": '
    otio.adapters.write_to_file(timeline, str(path))
    _check_broken(path, "not valid JSON")


def test_broken_marker_json_when_metadata_is_gone(shared_data: Path, tmp_path: Path) -> None:
    path, timeline = _tagged(shared_data, tmp_path)
    clip = _clip(timeline)
    del clip.metadata[METADATA_KEY]
    clip.markers[0].comment = "CLEARANCE {not json"
    del clip.markers[0].metadata["fcp_xml"]
    otio.adapters.write_to_file(timeline, str(path))
    _check_broken(path, "not valid JSON")


def test_tampered_record_in_the_tag(shared_data: Path, tmp_path: Path) -> None:
    path, timeline = _tagged(shared_data, tmp_path, "approval")
    clip = _clip(timeline)
    tag = json.loads(clip.metadata[METADATA_KEY])
    tag["record"]["use"]["in_final_deliverable"] = "no"  # someone "fixes" the answer by hand
    clip.metadata[METADATA_KEY] = json.dumps(tag)
    otio.adapters.write_to_file(timeline, str(path))
    _check_broken(path, "edited outside Clearance")


def test_marker_named_clearance_without_a_tag(shared_data: Path, tmp_path: Path) -> None:
    timeline = otio.adapters.read_from_file(str(shared_data / "otio" / "simple_cut.otio"))
    _clip(timeline).markers.append(otio.schema.Marker(name="CLEARANCE", color=otio.schema.MarkerColor.RED))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    _check_broken(path, "holds no tag")


def test_unembedded_tag_finds_its_record_file_or_says_where(shared_data: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    records = tmp_path / "records"
    record = write_record(records, make_record("notify"))
    out = tmp_path / "cut.otio"
    assert cli("tag", shared_data / "otio" / "simple_cut.otio", "--clip", "Clip-002", "--record", record,
               "--no-embed", "-o", out).code == 0
    timeline = otio.adapters.read_from_file(str(out))
    assert "record_path" in json.loads(_clip(timeline).metadata[METADATA_KEY])
    assert cli("check", out).code == 0  # found through the relative record_path
    record.unlink()
    assert cli("check", out).code == 0  # this machine kept a copy when it tagged the clip
    monkeypatch.setenv("CLEARANCE_HOME", str(tmp_path / "another-machine"))
    _check_broken(out, "--records DIR")


def test_odd_items_do_not_crash(shared_data: Path, tmp_path: Path) -> None:
    """Gaps, transitions, generator references, a zero-length clip, a nested stack: all tagged and checked."""
    timeline = otio.schema.Timeline("odd", global_start_time=otio.opentime.RationalTime(86400, 24))
    track = otio.schema.Track("V1")
    rt = otio.opentime.RationalTime
    track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(rt(0, 24), rt(10, 24))))
    track.append(otio.schema.Clip("title", media_reference=otio.schema.GeneratorReference(generator_kind="SMPTEBars"),
                                  source_range=otio.opentime.TimeRange(rt(0, 24), rt(20, 24))))
    track.append(otio.schema.Transition(in_offset=rt(5, 24), out_offset=rt(5, 24)))
    track.append(otio.schema.Clip("flash", source_range=otio.opentime.TimeRange(rt(0, 24), rt(0, 24))))
    nested = otio.schema.Stack("nest", source_range=otio.opentime.TimeRange(rt(0, 24), rt(12, 24)))
    inner = otio.schema.Track("inner")
    inner.append(otio.schema.Clip("deep", media_reference=otio.schema.MissingReference(),
                                  source_range=otio.opentime.TimeRange(rt(0, 24), rt(30, 24))))
    nested.append(inner)
    track.append(nested)
    timeline.tracks.append(track)
    path = tmp_path / "odd.otio"
    otio.adapters.write_to_file(timeline, str(path))
    record = write_record(tmp_path, make_record("notify"))
    out = tmp_path / "tagged.otio"
    run = cli("tag", path, "--clip", "title", "--clip", "flash", "--clip", "deep", "--record", record, "-o", out)
    assert run.code == 0, run.err
    run = cli("check", out, "--json")
    assert run.code == 0, run.err
    clips = {c["name"]: c for c in run.json()["clips"]}
    assert (clips["title"]["timecode_in"], clips["title"]["timecode_out"]) == ("01:00:00:10", "01:00:01:06")
    assert clips["title"]["media"] == "generator"
    assert clips["flash"]["timecode_in"] == clips["flash"]["timecode_out"] == "01:00:01:06"
    assert any("zero-length" in r for r in clips["flash"]["reasons"])
    # the nested clip is 30 frames long but its stack shows only 12
    assert (clips["deep"]["timecode_in"], clips["deep"]["timecode_out"]) == ("01:00:01:06", "01:00:01:18")
    assert clips["deep"]["nested_in"] == "nest > inner" and clips["deep"]["media"] == "missing"


def test_clip_of_unknown_length_is_reported_not_fatal(shared_data: Path, tmp_path: Path) -> None:
    timeline = otio.adapters.read_from_file(str(shared_data / "otio" / "simple_cut.otio"))
    clip = _clip(timeline, "Clip-004")
    clip.media_reference = otio.schema.ExternalReference(target_url="/mnt/offline/plate.mov")  # no available range
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    record = write_record(tmp_path, make_record("notify"))
    out = tmp_path / "tagged.otio"
    assert cli("tag", path, "--clip", "Clip-004", "--record", record, "-o", out).code == 0
    run = cli("check", out, "--json")
    assert run.code == 0
    [reported] = run.json()["clips"]
    assert reported["timecode_in"] == reported["timecode_out"] == "00:00:00:13"
    assert any("length is unknown" in r for r in reported["reasons"])


def test_otio_json_encodings(tmp_path: Path) -> None:
    """Plain UTF-8 is parsed by OTIO from the file; a byte-order mark still reads; bad UTF-8 is one line."""
    from clearance.editorial.timeline_io import read_timeline

    timeline = otio.schema.Timeline("Café cut")
    track = otio.schema.Track("V1")
    track.append(otio.schema.Clip("plate_é", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24, 24))))
    timeline.tracks.append(track)
    text = otio.adapters.write_to_string(timeline, "otio_json")
    plain = tmp_path / "plain.otio"
    plain.write_bytes(text.encode("utf-8"))
    assert read_timeline(plain).name == "Café cut"
    bom = tmp_path / "bom.otio"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert [c.name for c in read_timeline(bom).find_clips()] == ["plate_é"]
    bad = tmp_path / "bad.otio"
    bad.write_bytes(text.encode("utf-8").replace("é".encode(), b"\xe9"))
    with pytest.raises(ClearanceError, match="not UTF-8"):
        read_timeline(bad)
