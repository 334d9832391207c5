"""Tag and check every vendored real timeline in tests/data (OTIO, CMX 3600 EDL, FCP 7 XML) through the CLI.

Expected timecodes come from editorial_fixtures.expected_clips, which sums item durations itself.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from editorial_fixtures import cli, expected_clips, make_record, read, shared_timelines, timecode, write_record


def _cases() -> list[str]:
    return [str(p) for p in shared_timelines()]


@pytest.mark.parametrize("source", _cases(), ids=lambda s: Path(s).parent.name + "/" + Path(s).name)
def test_tag_then_check_reports_exactly_the_tagged_clips(source: str, tmp_path: Path, shared_data: Path) -> None:
    path = Path(source)
    timeline = read(path)
    expected, rate = expected_clips(timeline)
    assert expected, f"{path} has no clips"
    # the first clip, the last clip and one in the middle (may be the same clip on short timelines)
    chosen = {0: None, len(expected) // 2: None, len(expected) - 1: None}
    approval = write_record(tmp_path / "records", make_record("approval"))
    notify = write_record(tmp_path / "records", make_record("notify"))
    current = path
    for n, index in enumerate(sorted(chosen)):
        record = approval if n % 2 == 0 else notify
        out = tmp_path / f"tagged{n}.otio"
        run = cli("tag", current, "--clip", expected[index].pick, "--record", record, "-o", out)
        assert run.code == 0, run.err
        current = out

    run = cli("check", current, "--json")
    assert run.code == 1, run.err  # the approval record has no approval: blocked
    doc = run.json()
    assert doc["verdict"] == "blocked"
    got = {(c["name"], c["track"], c["frame_in"], c["frame_out"]) for c in doc["clips"]}
    want = {(expected[i].name, expected[i].track, expected[i].frame_in, expected[i].frame_out) for i in chosen}
    assert got == want
    for clip in doc["clips"]:
        assert clip["timecode_in"] == timecode(clip["frame_in"], rate)
        assert clip["timecode_out"] == timecode(clip["frame_out"], rate)
        assert clip["status"] in {"approval_required", "notify"}
        if clip["status"] == "approval_required":
            assert clip["rules"] == ["FINAL-DELIVERABLE"] and clip["blocking"]
            assert clip["approval"]["status"] == "missing"
    assert doc["summary"]["tagged"] == len(chosen)
    assert doc["summary"]["clips"] == len(expected)


@pytest.mark.parametrize("source", _cases(), ids=lambda s: Path(s).parent.name + "/" + Path(s).name)
def test_untagged_timeline_is_deliverable(source: str, shared_data: Path) -> None:
    run = cli("check", source)
    assert run.code == 0, run.out + run.err
    assert "deliverable; no tagged clips" in run.out


def test_notify_only_cut_is_deliverable(shared_data: Path, tmp_path: Path) -> None:
    record = write_record(tmp_path, make_record("notify"))
    out = tmp_path / "cut.otio"
    assert cli("tag", shared_data / "otio" / "simple_cut.otio", "--clip", "Clip-002", "--record", record,
               "-o", out).code == 0
    run = cli("check", out, "--json")
    assert run.code == 0
    doc = run.json()
    assert doc["verdict"] == "deliverable"
    assert [c["status"] for c in doc["clips"]] == ["notify"]


def test_prohibited_clip_blocks_and_names_the_rule(shared_data: Path, tmp_path: Path) -> None:
    record = write_record(tmp_path, make_record("prohibited"))
    out = tmp_path / "cut.otio"
    assert cli("tag", shared_data / "otio" / "multitrack.otio", "--clip", "KOLL-HD.mp4", "--record", record,
               "-o", out).code == 0
    run = cli("check", out)
    assert run.code == 1
    assert "KOLL-HD.mp4" in run.out and "ETHICS-MISLEADING" in run.out
    assert run.out.strip().splitlines()[-1].startswith(otio.adapters.read_from_file(str(out)).name)


def test_shot_code_tags_every_clip_of_the_shot(shared_data: Path, tmp_path: Path) -> None:
    record = write_record(tmp_path, make_record("notify"))
    out = tmp_path / "cut.otio"
    run = cli("tag", shared_data / "otio" / "premiere_example.otio", "--shot", "sc01_sh010", "--record", record,
              "-o", out)
    assert run.code == 0, run.err
    timeline = otio.adapters.read_from_file(str(out))
    tagged = [c.name for c in timeline.find_clips() if "clearance" in c.metadata]
    assert tagged and all(name.startswith("sc01_sh010") for name in tagged)
    untouched = [c.name for c in timeline.find_clips() if "clearance" not in c.metadata]
    assert all("sh010" not in name for name in untouched)


def test_a_repeated_clip_name_tags_every_clip_of_it_and_unknown_names_are_refused(
        shared_data: Path, tmp_path: Path) -> None:
    record = write_record(tmp_path, make_record("approval"))
    src = shared_data / "otio" / "premiere_example.otio"
    run = cli("tag", src, "--clip", "sc01_sh010_anim.mov", "--record", record, "-o", tmp_path / "all.otio")
    assert run.code == 0, run.err
    assert run.out.count("tagged 'sc01_sh010_anim.mov'") == 6
    checked = cli("check", tmp_path / "all.otio", "--json")
    assert checked.code == 1
    assert [c["name"] for c in checked.json()["clips"]] == ["sc01_sh010_anim.mov"] * 6
    run = cli("tag", src, "--clip", "sc01_sh010_anim.mov#2", "--record", record, "-o", tmp_path / "one.otio")
    assert run.code == 0 and run.out.count("tagged '") == 1
    second = [c for c in read(tmp_path / "one.otio").find_clips() if c.name == "sc01_sh010_anim.mov"][1]
    assert "clearance" in second.metadata
    run = cli("tag", src, "--clip", "sc01_sh010_anim.mov#7", "--record", record, "-o", tmp_path / "o.otio")
    assert run.code == 2 and "#7 is out of range (1-6)" in run.err
    run = cli("tag", src, "--clip", "sc01_sh01_anim.mov", "--record", record, "-o", tmp_path / "o.otio")
    assert run.code == 2 and "close names" in run.err and "'sc01_sh010_anim.mov'" in run.err
    assert not (tmp_path / "o.otio").exists()
    run = cli("tag", src, "--clip", "sc01_sh0*", "--all-matching", "--record", record, "-o", tmp_path / "o.otio")
    assert run.code == 0 and "wrote" in run.out
    assert run.out.count("tagged '") == 8


def test_timeline_list_shows_tagged_clips(shared_data: Path, tmp_path: Path) -> None:
    record_obj = make_record("approval")
    record = write_record(tmp_path, record_obj)
    out = tmp_path / "cut.otio"
    cli("tag", shared_data / "otio" / "screening_example.otio", "--clip", "ZZ100_504C (LAY1)", "--record", record,
        "-o", out)
    run = cli("timeline", "list", out)
    assert run.code == 0
    lines = run.out.strip().splitlines()
    assert lines[-1] == "1 tagged clip(s)"
    assert "ZZ100_504C (LAY1)" in lines[1] and str(record_obj.id) in lines[1] and "Needs approval" in lines[1]
    rows = cli("timeline", "list", out, "--json").json()
    assert [r["name"] for r in rows] == ["ZZ100_504C (LAY1)"]


@pytest.mark.parametrize("rate", [24, 25, 30, 48, 50, 60])
def test_the_check_timecode_text_is_opentimelineio_text(rate: int) -> None:
    """The check writes whole-frame timecodes itself (cheaper than a call into OpenTimelineIO per clip): the
    same text as OpenTimelineIO's to_timecode over the whole day, and the plain format outside it."""
    from clearance.editorial.check import _clock

    day = 86400 * rate
    frames = [0, 1, rate - 1, rate, 60 * rate - 1, 3600 * rate, day // 2 + 7, day - 2, day - 1]
    frames += list(range(0, day, 9973))
    for n in frames:
        assert _clock(n, rate) == timecode(n, rate), n
    for n, text in ((-1, f"-1:59:59:{rate - 1:02d}"), (day, "24:00:00:00"), (100 * 3600 * rate, "100:00:00:00")):
        assert _clock(n, rate) == text
