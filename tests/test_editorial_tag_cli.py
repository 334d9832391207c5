"""`clearance tag` as an editor uses it: shot names as editors write them, target coverage, summaries, -o = input."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
import yaml
from editorial_fixtures import cli, make_record, write_record

from clearance.editorial.tagging import read_raw_tag, shot_match
from clearance.record import load_record

RT = otio.opentime.RationalTime


def _cut(tmp_path: Path, names: list[str]) -> Path:
    timeline = otio.schema.Timeline("cut", global_start_time=RT(86400, 24))
    track = otio.schema.Track("V1")
    for name in names:
        track.append(otio.schema.Clip(name, source_range=otio.opentime.TimeRange(RT(0, 24), RT(24, 24))))
    timeline.tracks.append(track)
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def _tagged(path: Path) -> list[str]:
    timeline = otio.adapters.read_from_file(str(path))
    return [c.name for c in timeline.find_clips() if read_raw_tag(c) is not None]


@pytest.mark.parametrize(("code", "name", "how"), [
    ("ZZ100_504", "ZZ100_504C (LAY1)", "suffix"),
    ("zz100_504c", "ZZ100_504C (LAY1)", "word"),
    ("sh010", "sc01_sh010_anim.mov", "word"),
    ("sc01 sh010", "sc01_sh010_anim.mov", "word"),
    ("sh010", "sh010", "name"),
    ("sh010", "sh0100_comp", None),
    ("sh010", "xsh010_comp", None),
    ("sh010", "sh010ab_comp", None),
    ("ZZ100_50", "ZZ100_504C (LAY1)", None),
])
def test_shot_matching_rule(code: str, name: str, how: str | None) -> None:
    assert shot_match(otio.schema.Clip(name), code) == how


def test_shot_code_names_editors_clip_names(tmp_path: Path) -> None:
    cut = _cut(tmp_path, ["ZZ100_504C (LAY1)", "ZZ100_505 (LAY1)", "ZZ100_5040"])
    record = write_record(tmp_path, make_record("notify"))
    run = cli("tag", cut, "--shot", "ZZ100_504", "--record", record, "-o", cut)  # -o may be the input
    assert run.code == 0, run.err
    assert _tagged(cut) == ["ZZ100_504C (LAY1)"]


def test_whole_word_beats_a_letter_suffix_and_several_suffixes_are_refused(tmp_path: Path) -> None:
    cut = _cut(tmp_path, ["sh010_comp", "sh010a_comp", "sh020b_comp", "sh020c_comp"])
    record = write_record(tmp_path, make_record("notify"))
    assert cli("tag", cut, "--shot", "sh010", "--record", record, "-o", tmp_path / "a.otio").code == 0
    assert _tagged(tmp_path / "a.otio") == ["sh010_comp"]  # the inserted shot sh010a is another shot
    run = cli("tag", cut, "--shot", "sh020", "--record", record, "-o", tmp_path / "b.otio")
    assert run.code == 2 and not (tmp_path / "b.otio").exists()
    assert "ambiguous" in run.err and "'sh020b_comp'" in run.err and "--clip" in run.err
    run = cli("tag", cut, "--shot", "sh020", "--all-matching", "--record", record, "-o", tmp_path / "b.otio")
    assert run.code == 0 and _tagged(tmp_path / "b.otio") == ["sh020b_comp", "sh020c_comp"]


def test_tag_warns_when_the_records_targets_miss_the_clip_and_can_add_it(tmp_path: Path) -> None:
    cut = _cut(tmp_path, ["sh010_comp", "sh020_comp"])
    record = make_record("approval")
    record.targets = []
    data = yaml.safe_load(write_record(tmp_path, record).read_text())
    data["targets"] = [{"kind": "shot", "ref": "sh010"}]
    path = tmp_path / "rec.yaml"
    path.write_text(yaml.safe_dump(data))

    run = cli("tag", cut, "--shot", "sh010", "--shot", "sh020", "--record", path, "-o", tmp_path / "t.otio")
    assert run.code == 0
    assert "warning:" in run.err and "shot:sh020" in run.err and "--add-target" in run.err
    assert "shot:sh010" not in run.err.split("cover")[1]  # sh010 is covered
    assert [t.key() for t in load_record(path).targets] == ["shot:sh010"]  # nothing changed without the flag

    run = cli("tag", cut, "--shot", "sh010", "--shot", "sh020", "--record", path, "--add-target",
              "-o", tmp_path / "t.otio")
    assert run.code == 0, run.err
    assert "warning" not in run.err and "added 1 target(s)" in run.out
    assert [t.key() for t in load_record(path).targets] == ["shot:sh010", "shot:sh020"]
    check = cli("check", tmp_path / "t.otio", "--json").json()
    assert {c["target"] for c in check["clips"]} == {"shot:sh010", "shot:sh020"}


def test_many_clips_get_a_summary_not_a_line_each(tmp_path: Path) -> None:
    cut = _cut(tmp_path, [f"sq010_sh{n:04d}_comp" for n in range(60)])
    record = write_record(tmp_path, make_record("notify"))
    run = cli("tag", cut, "--clip", "sq010_sh*", "--all-matching", "--record", record, "-o", cut)
    assert run.code == 0, run.err
    lines = run.out.strip().splitlines()
    assert len(lines) == 2 and "tagged 60 clip(s)" in lines[0] and "V1" in lines[0]
    assert len(_tagged(cut)) == 60
    verbose = cli("tag", cut, "--clip", "sq010_sh*", "--all-matching", "--record", record, "-o", cut, "-v")
    assert verbose.out.count("tagged '") == 60


def test_missing_token_error_names_what_exists(tmp_path: Path) -> None:
    from clearance.cli.main import main

    with pytest.raises(SystemExit):
        main(["check", "x.otio", "--token", "t", "--approvals", "d", "--server", "http://127.0.0.1:9"])
    cut = _cut(tmp_path, ["a"])
    run = cli("check", cut, "--token", "abc")
    assert run.code == 2 and "--token is for --server" in run.err


def test_tag_warns_when_the_cut_outgrows_what_check_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clearance.editorial import timeline_io

    monkeypatch.setattr(timeline_io, "MAX_TIMELINE_BYTES", 5_000)  # the cut reads; tagged, it does not
    cut = _cut(tmp_path, ["sh010_comp", "sh020_comp"])
    record = write_record(tmp_path, make_record("notify"))
    run = cli("tag", cut, "--shot", "sh010", "--record", record, "-o", tmp_path / "t.otio")
    assert run.code == 0 and "warning:" in run.err and "--no-embed" in run.err
    assert "over the" in run.err and "`clearance check` reads" in run.err


def test_check_json_escapes_non_ascii_as_before(tmp_path: Path) -> None:
    cut = _cut(tmp_path, ["plate_café"])
    record = write_record(tmp_path, make_record("approval"))
    assert cli("tag", cut, "--clip", "plate_café", "--record", record, "-o", cut).code == 0
    run = cli("check", cut, "--json")
    assert run.code == 1 and run.out.isascii() and "plate_caf\\u00e9" in run.out
    assert run.json()["clips"][0]["name"] == "plate_café"
