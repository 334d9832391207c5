"""Bench: `clearance check` on a big timeline against OpenTimelineIO's own read of the same file.

Generates a 3-track timeline (30,000 clips, and 3,000 for linearity) with 10% of the clips tagged, each
tag embedding its record (one record per 10 tagged clips, as a shot's versions share one), then measures
in fresh subprocesses, best of --repeat runs:

- read:   ``otio.adapters.read_from_file(path)``
- check:  ``clearance.editorial.check.check_file(path)`` (reads the file too: the ratio is the whole cost)
- cli:    ``clearance check PATH --json`` as a user runs it, against ``python -c "read_from_file"``

Memory is the peak resident set (ru_maxrss) of each subprocess minus its resident set after imports,
so it measures the work, not the interpreter and libraries. Targets: check <= 1.5x read, in time and memory.

    .venv/bin/python bench/timeline.py [--clips 30000 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TAGGED_EVERY = 10
CLIPS_PER_RECORD = 10


def generate(path: Path, clips: int, tracks: int = 3) -> int:
    import opentimelineio as otio

    from clearance.editorial.tagging import apply_tag
    from clearance.record import UseRecord
    from clearance.tags import Tag

    rt = otio.opentime.RationalTime
    timeline = otio.schema.Timeline(f"bench {clips}", global_start_time=rt(86400, 24))
    per_track = clips // tracks
    tags: list[Tag] = []
    tagged = 0
    for t in range(tracks):
        track = otio.schema.Track(f"V{t + 1}")
        for i in range(per_track):
            shot = f"sq{i // 100:03d}_sh{i % 100:03d}0"
            clip = otio.schema.Clip(
                f"{shot}_comp_v{t + 1:03d}.mov",
                media_reference=otio.schema.ExternalReference(
                    target_url=f"/mnt/show/{shot}/comp_v{t + 1:03d}.mov",
                    available_range=otio.opentime.TimeRange(rt(1001, 24), rt(200, 24)),
                ),
                source_range=otio.opentime.TimeRange(rt(1001 + i % 7, 24), rt(24 + i % 60, 24)),
            )
            if i % TAGGED_EVERY == 0:
                index = tagged // CLIPS_PER_RECORD
                if index == len(tags):
                    record = UseRecord.model_validate({
                        "production": "BENCH", "description": f"generated set extension {index}",
                        "tool": {"name": "Firefly", "environment": "enterprise", "trains_on_inputs": "no",
                                 "retains_inputs": "no"},
                        "use": {"media": "image", "stage": "final", "in_final_deliverable": "yes",
                                "creative_element": "background", "prominence": "incidental"},
                    })
                    tags.append(Tag.for_record(record, target_ref=f"shot:{shot}", status="approval_required"))
                apply_tag(clip, tags[index])
                tagged += 1
            track.append(clip)
        timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(path))
    return tagged


_PROBE = r"""
import json, os, resource, sys, time
def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
mode, path = sys.argv[1], sys.argv[2]
import logging
import opentimelineio as otio
otio.plugins.ActiveManifest()
if mode == "check":
    from clearance.editorial.check import CheckOptions, check_file
    from clearance.policy import default_policy
    policy = default_policy()
    import clearance.approvals, clearance.cache, clearance.provenance  # noqa: F401  imports are not the work
base = rss_kb()
start = time.perf_counter()
if mode == "read":
    result = otio.adapters.read_from_file(path)
    n = len(list(result.find_clips()))
    extra = {"clips": n}
else:
    report = check_file(path, CheckOptions(policy=policy))
    extra = {"clips": report.summary.clips, "tagged": report.summary.tagged, "verdict": report.verdict}
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak, "base_kb": base, **extra}))
"""


def probe(mode: str, path: Path) -> dict:
    env = {**os.environ, "CLEARANCE_HOME": tempfile.mkdtemp(prefix="clearance-bench-")}
    done = subprocess.run([sys.executable, "-c", _PROBE, mode, str(path)], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def wall(cmd: list[str]) -> float:
    env = {**os.environ, "CLEARANCE_HOME": tempfile.mkdtemp(prefix="clearance-bench-")}
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def bench(clips: int, repeat: int, folder: Path) -> dict:
    path = folder / f"bench_{clips}.otio"
    tagged = generate(path, clips)
    reads = [probe("read", path) for _ in range(repeat)]
    checks = [probe("check", path) for _ in range(repeat)]
    read_s = min(r["seconds"] for r in reads)
    check_s = min(c["seconds"] for c in checks)
    read_mem = min(r["peak_kb"] - r["base_kb"] for r in reads)
    check_mem = min(c["peak_kb"] - c["base_kb"] for c in checks)
    clearance = str(Path(sys.executable).with_name("clearance"))
    read_cmd = [sys.executable, "-c", "import sys, opentimelineio as o; o.adapters.read_from_file(sys.argv[1])",
                str(path)]
    cli_read = min(wall(read_cmd) for _ in range(repeat))
    cli_check = min(wall([clearance, "check", str(path), "--json"]) for _ in range(repeat))
    assert checks[0]["clips"] == reads[0]["clips"] == clips - clips % 3, (checks[0], reads[0])
    assert checks[0]["tagged"] == tagged
    return {
        "clips": clips, "tagged": tagged, "file_mb": path.stat().st_size / 1e6,
        "read_s": read_s, "check_s": check_s, "time_ratio": check_s / read_s,
        "read_mb": read_mem / 1024, "check_mb": check_mem / 1024, "mem_ratio": check_mem / read_mem,
        "cli_read_s": cli_read, "cli_check_s": cli_check, "cli_ratio": cli_check / cli_read,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[30000, 3000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        for clips in args.clips:
            rows.append(bench(clips, args.repeat, Path(tmp)))
    print("| clips | tagged | file MB | OTIO read s | check s | time x | read MB | check MB | memory x "
          "| CLI: python read s | CLI: clearance check s | CLI x |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['clips']:,} | {r['tagged']:,} | {r['file_mb']:.1f} | {r['read_s']:.3f} | {r['check_s']:.3f} "
              f"| {r['time_ratio']:.2f} | {r['read_mb']:.0f} | {r['check_mb']:.0f} | {r['mem_ratio']:.2f} "
              f"| {r['cli_read_s']:.2f} | {r['cli_check_s']:.2f} | {r['cli_ratio']:.2f} |")
    if len(rows) >= 2:
        big, small = max(rows, key=lambda r: r["clips"]), min(rows, key=lambda r: r["clips"])
        growth = (big["check_s"] / small["check_s"]) / (big["clips"] / small["clips"])
        print(f"linearity: check time per clip at {big['clips']:,} / at {small['clips']:,} = {growth:.2f} "
              "(1.00 = linear)")
    worst = max(max(r["time_ratio"], r["mem_ratio"]) for r in rows)
    print(f"target check <= 1.5x OTIO read (time and memory): {'met' if worst <= 1.5 else 'NOT met'} "
          f"(worst {worst:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
