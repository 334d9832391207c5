"""Image sequences: one item per sequence, with its frame range and gaps; every frame is read."""

from __future__ import annotations

import json
from pathlib import Path

from clearance.provenance import samples as s
from clearance.provenance import scan_path, scan_paths
from clearance.provenance.sequences import frame_range

RECORD = "0b1f3c9e-6c1d-4c2a-9a59-3f3b8e2d1a01"


def make_sequence(folder: Path, frames: list[int], tagged: set[int] = frozenset(), broken: set[int] = frozenset(),
                  head: str = "sh010_comp_v003.", width: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        strings = {"software": "Nuke 15.1v3"}
        if frame in tagged:
            strings["clearance/record_ids"] = RECORD
        data = s.exr(strings)
        if frame in broken:
            data = data[:120]
        (folder / f"{head}{frame:0{width}d}.exr").write_bytes(data)


def test_sequence_is_one_item_with_range_and_gaps(tmp_path: Path) -> None:
    frames = [f for f in range(1001, 1021) if f not in (1005, 1006, 1013)]
    make_sequence(tmp_path / "renders", frames, tagged={1017})
    (tmp_path / "renders" / "notes.txt").write_text("not media")
    results = scan_paths([tmp_path / "renders"])
    seq = next(r for r in results if r.frames)
    assert seq.path.endswith("sh010_comp_v003.####.exr")
    assert seq.frames == "1001-1020" and seq.frame_count == len(frames) == seq.files
    assert seq.missing_frames == [1005, 1006, 1013]
    # Only frame 1017 carries the record: every frame was read to find it.
    assert seq.verdict == "ai_composite" and seq.record_ids == [RECORD]
    assert seq.evidence[0].frames == "1017"
    assert seq.error is None
    assert [Path(r.path).name for r in results if not r.frames] == ["notes.txt"]


def test_sequence_frame_errors_do_not_stop_the_scan(tmp_path: Path) -> None:
    make_sequence(tmp_path, list(range(1, 11)), tagged={3, 4, 5}, broken={7, 9}, head="plate_", width=3)
    [seq] = scan_paths([tmp_path])
    assert seq.path.endswith("plate_###.exr")
    assert seq.verdict == "ai_composite" and seq.evidence[0].frames == "3-5"
    assert seq.error is not None and seq.error.startswith("2 of 10 frames: frame 7: truncated")


def test_sequence_patterns_as_input(tmp_path: Path) -> None:
    make_sequence(tmp_path, [1001, 1002, 1003], tagged={1002})
    for pattern in ("sh010_comp_v003.####.exr", "sh010_comp_v003.%04d.exr"):
        result = scan_path(tmp_path / pattern)
        assert result.frames == "1001-1003" and result.verdict == "ai_composite", pattern
    missing = scan_path(tmp_path / "other.####.exr")
    assert missing.error == "file not found"


def test_sequences_split_by_padding_and_name(tmp_path: Path) -> None:
    make_sequence(tmp_path, [1, 2], head="a.", width=4)
    make_sequence(tmp_path, [1, 2], head="b.", width=4)
    (tmp_path / "single.0001.exr").write_bytes(s.exr())
    names = sorted(Path(r.path).name for r in scan_paths([tmp_path]))
    assert names == ["a.####.exr", "b.####.exr", "single.0001.exr"]


def test_frame_range_text() -> None:
    assert frame_range([1001, 1002, 1003, 1007, 1009, 1010]) == "1001-1003,1007,1009-1010"
    assert frame_range([]) == ""


def test_cli_shows_sequence(tmp_path: Path, capsys) -> None:
    from clearance.cli.main import main

    make_sequence(tmp_path, [1001, 1002, 1004], tagged={1004})
    assert main(["scan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "frames 1001-1004 (3 files, missing 1003)" in out
    assert "clearance/record_ids" in out


def test_cli_accepts_a_sequence_pattern(tmp_path: Path, capsys) -> None:
    from clearance.cli.main import main

    make_sequence(tmp_path, [1001, 1002, 1003], tagged={1003})
    assert main(["scan", "--json", str(tmp_path / "sh010_comp_v003.%04d.exr")]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["frames"] == "1001-1003" and row["verdict"] == "ai_composite" and row["record_ids"] == [RECORD]
    assert main(["scan", str(tmp_path / "nothing.####.exr")]) == 2
