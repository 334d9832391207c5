"""Tags survive OTIO -> EDL -> OTIO and OTIO -> FCP 7 XML -> OTIO through the CLEARANCE marker."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
from editorial_fixtures import cli, expected_clips, make_record, read, write_record

from clearance.tags import MARKER_NAME, METADATA_KEY


def _tag(src: Path, picks: list[str], record: Path, out: Path) -> None:
    args: list[str | Path] = ["tag", src]
    for pick in picks:
        args += ["--clip", pick]
    run = cli(*args, "--record", record, "-o", out)
    assert run.code == 0, run.err


def _reported(doc: dict) -> set[tuple[str, int, int, str]]:
    return {(c["name"], c["frame_in"], c["frame_out"], c["record_id"]) for c in doc["clips"]}


def test_otio_to_edl_to_otio_keeps_tags_through_locators(shared_data: Path, tmp_path: Path) -> None:
    record = make_record("approval")
    records = tmp_path / "records"
    record_file = write_record(records, record)
    src = shared_data / "edl" / "screening_example.edl"  # has LOC markers of its own
    tagged = tmp_path / "tagged.otio"
    _tag(src, ["ZZ100_502A (LAY3)", "ZZ100_508 (LAY2)"], record_file, tagged)

    edl = tmp_path / "cut.edl"
    otio.adapters.write_to_file(otio.adapters.read_from_file(str(tagged)), str(edl), adapter_name="cmx_3600")
    text = edl.read_text()
    assert text.count(f"{MARKER_NAME} {str(record.id).upper()}") == 2
    back = tmp_path / "back.otio"
    otio.adapters.write_to_file(read(edl), str(back))
    roundtripped = otio.adapters.read_from_file(str(back))
    assert not any(METADATA_KEY in c.metadata for c in roundtripped.find_clips())  # only the marker is left

    before = cli("check", tagged, "--json").json()
    run = cli("check", back, "--json", "--records", records)
    assert run.code == 1
    after = run.json()
    assert _reported(after) == _reported(before)
    assert {c["record_source"] for c in after["clips"]} == {"marker name"}
    assert {c["status"] for c in after["clips"]} == {"approval_required"}
    # the original locators are still there and are not mistaken for tags
    assert sum(len(c.markers) for c in roundtripped.find_clips()) == 5


def test_edl_tag_resolves_on_this_machine_and_elsewhere_needs_the_records_folder(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_file = write_record(tmp_path / "records", make_record("notify"))
    out = tmp_path / "cut.edl"
    _tag(shared_data / "edl" / "avid_example.edl", ["take_2"], record_file, out)
    run = cli("check", out, "--json")  # `clearance tag` kept the record in this machine's store
    assert run.code == 0 and run.json()["clips"][0]["status"] == "notify"

    monkeypatch.setenv("CLEARANCE_HOME", str(tmp_path / "another-machine"))
    run = cli("check", out, "--json")
    assert run.code == 1
    clip = run.json()["clips"][0]
    assert clip["name"] == "take_2" and clip["status"] == "invalid" and clip["rules"] == ["TAG-BROKEN"]
    assert "--records DIR" in clip["reasons"][0] and "take_2" in clip["reasons"][0]
    run = cli("check", out, "--records", tmp_path / "records", "--json")
    assert run.code == 0 and run.json()["clips"][0]["status"] == "notify"
    run = cli("check", out, "--records", tmp_path / "nowhere")
    assert run.code == 2 and "--records" in run.err and "folder not found" in run.err


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_a_pipe_in_the_records_folder_is_named_not_skipped(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = tmp_path / "records"
    record_file = write_record(records, make_record("notify"))
    out = tmp_path / "cut.edl"
    _tag(shared_data / "edl" / "avid_example.edl", ["take_2"], record_file, out)
    os.mkfifo(records / "late.yaml")  # a record that is not a file: reading it must not block, nor pass unsaid
    monkeypatch.setenv("CLEARANCE_HOME", str(tmp_path / "another-machine"))
    run = cli("check", out, "--records", records, "--json")
    assert run.code == 0 and run.json()["clips"][0]["status"] == "notify"
    assert any("late.yaml" in note and "pipe" in note for note in run.json()["notes"]), run.json()["notes"]


def test_edl_reference_refuses_an_edited_record(shared_data: Path, tmp_path: Path) -> None:
    record = make_record("notify")
    record_file = write_record(tmp_path / "records", record)
    out = tmp_path / "cut.edl"
    _tag(shared_data / "edl" / "avid_example.edl", ["take_1"], record_file, out)
    edited = record.model_copy(update={"use": record.use.model_copy(update={"stage": "final"})})
    write_record(tmp_path / "records", edited)  # same id, other decision-relevant content
    run = cli("check", out, "--records", tmp_path / "records", "--json")
    assert run.code == 1
    clip = run.json()["clips"][0]
    assert clip["status"] == "invalid" and "digest mismatch" in clip["reasons"][0]


def test_otio_to_fcp_xml_to_otio_keeps_full_tags_in_marker_comments(shared_data: Path, tmp_path: Path) -> None:
    record = make_record("approval")
    record_file = write_record(tmp_path, record)
    src = shared_data / "otio" / "premiere_example.otio"
    expected, _rate = expected_clips(otio.adapters.read_from_file(str(src)))
    picks = [e.pick for e in expected if e.name in {"sc01_sh020_anim.mov", "track_08.wav"}]
    tagged = tmp_path / "tagged.otio"
    _tag(src, picks, record_file, tagged)

    xml = tmp_path / "cut.xml"
    assert cli("tag", tagged, "--clip", "sc01_sh030_anim.mov", "--record", record_file, "-o", xml).code == 0
    assert "<comment>CLEARANCE {" in xml.read_text()
    back = tmp_path / "back.otio"
    otio.adapters.write_to_file(read(xml), str(back))
    run = cli("check", back, "--json")  # no --records: the whole tag travelled in the marker comment
    assert run.code == 1
    doc = run.json()
    assert {c["name"] for c in doc["clips"]} == {"sc01_sh020_anim.mov", "track_08.wav", "sc01_sh030_anim.mov"}
    assert {c["record_source"] for c in doc["clips"]} == {"marker"}
    assert {c["record_id"] for c in doc["clips"]} == {str(record.id)}
    before = {(c["name"], c["frame_in"], c["frame_out"]) for c in cli("check", xml, "--json").json()["clips"]}
    assert before == {(c["name"], c["frame_in"], c["frame_out"]) for c in doc["clips"]}


def test_tag_writes_every_format_by_suffix(shared_data: Path, tmp_path: Path) -> None:
    record_file = write_record(tmp_path, make_record("notify"))
    src = shared_data / "edl" / "gap_test.edl"  # no media files: bundles can be written
    for suffix in (".otio", ".otioz", ".otiod", ".edl", ".xml"):
        out = tmp_path / f"cut{suffix}"
        run = cli("tag", src, "--clip", "shot2", "--record", record_file, "-o", out)
        assert run.code == 0, (suffix, run.err)
        check = cli("check", out, "--json", "--records", tmp_path)
        assert check.code == 0, (suffix, check.out, check.err)
        assert [(c["name"], c["timecode_in"]) for c in check.json()["clips"]] == [("shot2", "00:00:01:16")], suffix


def test_bundle_with_offline_media_is_refused_in_one_line(shared_data: Path, tmp_path: Path) -> None:
    record_file = write_record(tmp_path, make_record("notify"))
    out = tmp_path / "cut.otioz"
    run = cli("tag", shared_data / "otio" / "simple_cut.otio", "--clip", "Clip-003", "--record", record_file,
              "-o", out)
    assert run.code == 2
    assert run.err.count("\n") == 1 and "/folder/titles.mov is not on this machine" in run.err
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_marker_colour_follows_status_and_metadata_wins_over_marker(shared_data: Path, tmp_path: Path) -> None:
    record_file = write_record(tmp_path, make_record("approval"))
    out = tmp_path / "cut.otio"
    _tag(shared_data / "otio" / "simple_cut.otio", ["Clip-001"], record_file, out)
    clip = next(c for c in otio.adapters.read_from_file(str(out)).find_clips() if c.name == "Clip-001")
    markers = [m for m in clip.markers if m.name.startswith(MARKER_NAME)]
    assert len(markers) == 1 and markers[0].color == otio.schema.MarkerColor.ORANGE
    assert markers[0].comment.startswith("CLEARANCE {")
    # re-tagging replaces the marker instead of adding a second one
    notify = write_record(tmp_path, make_record("notify"))
    again = tmp_path / "again.otio"
    _tag(out, ["Clip-001"], notify, again)
    clip = next(c for c in otio.adapters.read_from_file(str(again)).find_clips() if c.name == "Clip-001")
    markers = [m for m in clip.markers if m.name.startswith(MARKER_NAME)]
    assert len(markers) == 1 and markers[0].color == otio.schema.MarkerColor.GREEN
    # --remove takes it all off
    clean = tmp_path / "clean.otio"
    assert cli("tag", again, "--clip", "Clip-001", "--remove", "-o", clean).code == 0
    assert cli("check", clean).code == 0


def test_otio_to_fcpx_xml_keeps_tags_through_marker_names(shared_data: Path, tmp_path: Path) -> None:
    """FCP X XML keeps a marker's name (not its note nor clip metadata): the tag resolves through it."""
    record = make_record("approval")
    record_file = write_record(tmp_path / "records", record)
    src = shared_data / "otio" / "simple_cut.otio"
    out = tmp_path / "cut.fcpxml"
    _tag(src, ["Clip-002"], record_file, out)
    assert "<fcpxml" in out.read_text()
    back = read(out)
    clip = next(c for c in back.find_clips() if c.name == "Clip-002")
    assert METADATA_KEY not in clip.metadata and clip.markers[0].name.startswith(f"{MARKER_NAME} ")
    run = cli("check", out, "--json")
    assert run.code == 1, run.err
    expected = {e.name: e for e in expected_clips(read(src))[0]}["Clip-002"]
    assert _reported(run.json()) == {("Clip-002", expected.frame_in, expected.frame_out, str(record.id))}
    assert cli("check", out, "--records", tmp_path / "records", "--json").code == 1
