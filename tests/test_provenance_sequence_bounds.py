"""Numbered files that are not frames: stills named by an id or a timestamp stay separate items.

Grouped as one "sequence", 14 stills named by 8-digit ids would list some 10^8 missing frames: a scan of
a folder of such stills took minutes and gigabytes. Dense numbering still groups, gaps and all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clearance.provenance import samples as s
from clearance.provenance import scan_paths
from clearance.provenance.sequences import MAX_MISSING, group


def test_ids_and_timestamps_are_not_frames(tmp_path: Path) -> None:
    ids = [10_482_113, 23_901_577, 48_213_377, 90_417_725]
    for n in ids:
        (tmp_path / f"unit_still_{n:08d}.jpg").write_bytes(s.jpeg(xmp=s.xmp_packet("digitalCapture")))
    stamps = [1_714_557_600, 1_714_644_000]
    for n in stamps:
        (tmp_path / f"capture_{n}.png").write_bytes(s.png(text={"Software": "Substance Designer"}))
    results = scan_paths([tmp_path])
    assert len(results) == len(ids) + len(stamps)
    assert all(r.frames is None and r.missing_frames == [] for r in results)
    assert {r.verdict for r in results if r.path.endswith(".jpg")} == {"camera"}


def test_dense_numbering_still_groups_with_its_gaps(tmp_path: Path) -> None:
    every_tenth = [1001 + 10 * i for i in range(20)]  # a render of every tenth frame
    for n in every_tenth:
        (tmp_path / f"sh010.{n}.exr").write_bytes(s.exr({"software": "Nuke 15.1v3"}))
    (tmp_path / "plate_00001.jpg").write_bytes(s.jpeg())
    (tmp_path / f"plate_{2 + MAX_MISSING:05d}.jpg").write_bytes(s.jpeg())  # as many missing as allowed
    results = {r.path: r for r in scan_paths([tmp_path])}
    seq = results[str(tmp_path / "sh010.####.exr")]
    assert seq.frames == "1001-1191" and seq.frame_count == 20 and len(seq.missing_frames) == 171
    plates = results[str(tmp_path / "plate_#####.jpg")]
    assert plates.frame_count == 2 and len(plates.missing_frames) == MAX_MISSING


def test_group_decides_without_building_the_range() -> None:
    files = [f"/shots/still_{n:09d}.jpg" for n in (7, 400_000_000, 999_999_999)]
    assert group(files) == files
    at_limit = ["/a/p_00001.jpg", f"/a/p_{MAX_MISSING + 2:05d}.jpg"]
    over = ["/a/p_00001.jpg", f"/a/p_{MAX_MISSING + 3:05d}.jpg"]
    assert len(group(at_limit)) == 1 and group(over) == over


def test_cli_on_a_folder_of_id_named_stills_is_quick(tmp_path: Path) -> None:
    for n in range(30):
        (tmp_path / f"photo_{(n * 7_919_113) % 10**9:09d}.jpg").write_bytes(s.jpeg())
    proc = subprocess.run([sys.executable, "-m", "clearance.cli.main", "scan", "--json", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 30 and all(row["frames"] is None for row in rows)
