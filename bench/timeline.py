"""Bench: `clearance check` on a big timeline against OpenTimelineIO's own read of the same file.

Generates a 3-track timeline (30,000 clips, and 3,000 for linearity) with 10% of the clips tagged, each
tag embedding its record (one record per 10 tagged clips, as a shot's versions share one). One untagged
clip in 20 references a real media file here (200 files: the vendored C2PA and generator samples and
plain stills, so the untagged-media scan runs and finds AI media); the rest reference an unmounted
volume (offline). Then it measures in fresh subprocesses, best of --repeat runs:

- read:   ``otio.adapters.read_from_file(path)``
- check:  ``clearance.editorial.check.check_file(path)`` (reads the file too: the ratio is the whole cost;
          a ``.otio`` file is read by the check's own JSON reader, ``clearance.editorial.otio_json``)
- otio objects: the same check on the timeline read by OpenTimelineIO (``read_timeline``), as every other
          format is read: for comparison
- cli:    ``clearance check PATH --json`` as a user runs it, against ``python -c "read_from_file"``
          (CPU time of the whole process, start-up and imports included, and wall time); and the same two
          commands on a 3-clip cut, for what starting alone costs

Time is CPU time of the measured call (the box these run on is shared, so wall time is noisy; both are
printed). Memory is the peak resident set (ru_maxrss) of each subprocess minus its resident set after imports,
so it measures the work, not the interpreter and libraries. Targets: check <= 1.3x read in CPU time, in
process and as the CLI, scanning untagged media included; memory <= 1.2x.

    .venv/bin/python bench/timeline.py [--clips 30000 3000] [--repeat 5] [--baseline OTHER/core]

``--baseline`` times another checkout's ``clearance check`` in the same rounds (CLI columns and start-up), so a
before/after compares runs made moments apart.
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

from bytecode import compile_clearance  # bench/, the script's own folder

TAGGED_EVERY = 10
CLIPS_PER_RECORD = 10
MEDIA_EVERY = 20  # one untagged clip in 20 has its media here
MEDIA_FILES = 200
SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "provenance"


def media_folder(folder: Path) -> list[Path]:
    """200 files: the vendored samples (C2PA, ComfyUI: some are AI media) and plain generated stills."""
    import shutil

    from clearance.provenance import samples as s

    folder.mkdir(parents=True, exist_ok=True)
    real = sorted(p for p in SAMPLES.iterdir() if not p.name.startswith("LICENSE"))
    out = []
    for i in range(MEDIA_FILES):
        if i % 4 == 0:
            src = real[(i // 4) % len(real)]
            dst = folder / f"{i:04d}_{src.name}"
            shutil.copyfile(src, dst)
        else:
            dst = folder / f"{i:04d}_plate.jpg"
            dst.write_bytes(s.jpeg(exif_data=s.exif(software="ARRI ALEXA 35")) + bytes(20_000))
        out.append(dst)
    return out


def generate(path: Path, clips: int, tracks: int = 3) -> int:
    import opentimelineio as otio

    from clearance.editorial.tagging import apply_tag
    from clearance.record import UseRecord
    from clearance.tags import Tag

    rt = otio.opentime.RationalTime
    timeline = otio.schema.Timeline(f"bench {clips}", global_start_time=rt(86400, 24))
    per_track = clips // tracks
    media = media_folder(path.parent / "media")
    tags: list[Tag] = []
    tagged = 0
    for t in range(tracks):
        track = otio.schema.Track(f"V{t + 1}")
        for i in range(per_track):
            shot = f"sq{i // 100:03d}_sh{i % 100:03d}0"
            url = f"/mnt/show/{shot}/comp_v{t + 1:03d}.mov"
            if i % MEDIA_EVERY == 5:
                url = str(media[(i // MEDIA_EVERY + t) % len(media)])
            clip = otio.schema.Clip(
                f"{shot}_comp_v{t + 1:03d}.mov",
                media_reference=otio.schema.ExternalReference(
                    target_url=url,
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
# Both modes import the same modules before the baseline, so the memory figures compare the work alone.
import opentimelineio as otio
otio.plugins.ActiveManifest()
from clearance.editorial.check import CheckOptions, check_file
from clearance.policy import default_policy
import clearance.approvals, clearance.cache, clearance.provenance  # noqa: F401
policy = default_policy()
base = rss_kb()
start = time.perf_counter()
cpu = time.process_time()
if mode == "read":
    result = otio.adapters.read_from_file(path)
elif mode == "check-otio":
    from clearance.editorial.check import check_timeline
    from clearance.editorial.timeline_io import read_timeline
    report = check_timeline(read_timeline(path), CheckOptions(policy=policy, source=path,
                                                              base_dir=os.path.dirname(os.path.abspath(path))))
else:
    report = check_file(path, CheckOptions(policy=policy, scan_media=mode == "check"))
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "read":
    extra = {"clips": sum(1 for _ in result.find_clips())}
else:
    extra = {"clips": report.summary.clips, "tagged": report.summary.tagged, "verdict": report.verdict,
             "scanned": report.media.scanned, "untagged_ai": report.summary.by_status.get("untagged_ai", 0)}
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_kb": peak, "base_kb": base, **extra}))
"""


def probe(mode: str, path: Path) -> dict:
    env = {**os.environ, "CLEARANCE_HOME": tempfile.mkdtemp(prefix="clearance-bench-")}
    done = subprocess.run([sys.executable, "-c", _PROBE, mode, str(path)], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def wall(cmd: list[str], core: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process: user + system, start-up included); ``core``: run the
    Clearance found in that folder (a baseline's ``core``) instead of this one."""
    import resource

    env = {**os.environ, "CLEARANCE_HOME": tempfile.mkdtemp(prefix="clearance-bench-")}
    if core is not None:
        env["PYTHONPATH"] = str(core)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench(clips: int, repeat: int, folder: Path, baseline: Path | None = None) -> dict:
    path = folder / f"bench_{clips}.otio"
    tagged = generate(path, clips)
    reads, checks, noscans, objects = [], [], [], []
    for _ in range(repeat):  # interleaved, so a busy machine slows both alike
        reads.append(probe("read", path))
        checks.append(probe("check", path))
        noscans.append(probe("check-no-scan", path))
        objects.append(probe("check-otio", path))
    read_s = min(r["seconds"] for r in reads)
    check_s = min(c["seconds"] for c in checks)
    read_cpu = min(r["cpu"] for r in reads)
    check_cpu = min(c["cpu"] for c in checks)
    noscan_cpu = min(c["cpu"] for c in noscans)
    objects_cpu = min(c["cpu"] for c in objects)
    assert objects[0]["clips"] == checks[0]["clips"] and objects[0]["tagged"] == checks[0]["tagged"]
    assert objects[0]["untagged_ai"] == checks[0]["untagged_ai"] and objects[0]["verdict"] == checks[0]["verdict"]
    read_mem = min(r["peak_kb"] - r["base_kb"] for r in reads)
    check_mem = min(c["peak_kb"] - c["base_kb"] for c in checks)
    clearance = str(Path(sys.executable).with_name("clearance"))
    read_cmd = [sys.executable, "-c", "import sys, opentimelineio as o; o.adapters.read_from_file(sys.argv[1])",
                str(path)]
    cli_reads, cli_checks, cli_baselines = [], [], []
    for _ in range(repeat):
        cli_reads.append(wall(read_cmd))
        cli_checks.append(wall([clearance, "check", str(path), "--json"]))
        if baseline is not None:
            cli_baselines.append(wall([clearance, "check", str(path), "--json"], baseline))
    cli_read, cli_check = min(r[0] for r in cli_reads), min(c[0] for c in cli_checks)
    cli_read_cpu, cli_check_cpu = min(r[1] for r in cli_reads), min(c[1] for c in cli_checks)
    baseline_cpu = min(c[1] for c in cli_baselines) if cli_baselines else None
    assert checks[0]["clips"] == reads[0]["clips"] == clips - clips % 3, (checks[0], reads[0])
    assert checks[0]["tagged"] == tagged
    return {
        "clips": clips, "tagged": tagged, "file_mb": path.stat().st_size / 1e6,
        "read_s": read_s, "check_s": check_s, "wall_ratio": check_s / read_s,
        "read_cpu": read_cpu, "check_cpu": check_cpu, "time_ratio": check_cpu / read_cpu,
        "noscan_cpu": noscan_cpu, "noscan_ratio": noscan_cpu / read_cpu, "objects_ratio": objects_cpu / read_cpu,
        "read_mb": read_mem / 1024, "check_mb": check_mem / 1024, "mem_ratio": check_mem / read_mem,
        "cli_read_s": cli_read, "cli_check_s": cli_check, "cli_ratio": cli_check / cli_read,
        "cli_read_cpu": cli_read_cpu, "cli_check_cpu": cli_check_cpu, "cli_cpu_ratio": cli_check_cpu / cli_read_cpu,
        "scanned": checks[0].get("scanned", 0), "untagged_ai": checks[0].get("untagged_ai", 0),
        "baseline_cpu": baseline_cpu,
    }


def start_up(repeat: int, folder: Path, baseline: Path | None = None) -> tuple[float, float, float | None]:
    """(clearance check, the OpenTimelineIO read, the baseline's check or None): CPU seconds of each command on
    a 3-clip cut (each clip tagged), best of ``repeat``: what starting costs; the same commands as the CLI
    columns."""
    path = folder / "bench_3.otio"
    generate(path, 3)
    clearance = str(Path(sys.executable).with_name("clearance"))
    read_cmd = [sys.executable, "-c", "import sys, opentimelineio as o; o.adapters.read_from_file(sys.argv[1])",
                str(path)]
    checks, reads, baselines = [], [], []
    for _ in range(repeat):
        reads.append(wall(read_cmd)[1])
        checks.append(wall([clearance, "check", str(path), "--json"])[1])
        if baseline is not None:
            baselines.append(wall([clearance, "check", str(path), "--json"], baseline)[1])
    return min(checks), min(reads), (min(baselines) if baselines else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[30000, 3000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, metavar="CORE",
                        help="another Clearance's core folder (e.g. an older checkout's): its `clearance check` is "
                             "timed in the same rounds as this one's, for a before/after of the CLI columns")
    args = parser.parse_args()
    print(compile_clearance(), flush=True)
    baseline = args.baseline.resolve() if args.baseline else None
    if baseline is not None:
        if not (baseline / "clearance" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: not a folder holding the clearance package (pass its core)")
        import compileall

        compileall.compile_dir(str(baseline / "clearance"), quiet=1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        for clips in args.clips:
            rows.append(bench(clips, args.repeat, Path(tmp), baseline))
        # At least ten rounds: one start costs a few tenths of a second and this machine's speed swings.
        start_check, start_read, start_baseline = start_up(max(args.repeat, 10), Path(tmp) / "start-up", baseline)
    print("| clips | tagged | files scanned | untagged AI | file MB | read CPU s | check CPU s | CPU x "
          "| --no-scan CPU x | read MB | check MB | memory x | CLI: python read CPU s | CLI: clearance check CPU s "
          "| CLI CPU x | CLI wall x | OTIO-object path CPU x |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['clips']:,} | {r['tagged']:,} | {r['scanned']} | {r['untagged_ai']} | {r['file_mb']:.1f} "
              f"| {r['read_cpu']:.3f} | {r['check_cpu']:.3f} | {r['time_ratio']:.2f} | {r['noscan_ratio']:.2f} "
              f"| {r['read_mb']:.0f} | {r['check_mb']:.0f} | {r['mem_ratio']:.2f} "
              f"| {r['cli_read_cpu']:.2f} | {r['cli_check_cpu']:.2f} | {r['cli_cpu_ratio']:.2f} "
              f"| {r['cli_ratio']:.2f} | {r['objects_ratio']:.2f} |")
    if len(rows) >= 2:
        big, small = max(rows, key=lambda r: r["clips"]), min(rows, key=lambda r: r["clips"])
        growth = (big["check_cpu"] / small["check_cpu"]) / (big["clips"] / small["clips"])
        print(f"linearity: check time per clip at {big['clips']:,} / at {small['clips']:,} = {growth:.2f} "
              "(1.00 = linear)")
    print(f"start-up (a 3-clip cut, CPU): clearance check {start_check:.3f} s, OpenTimelineIO read "
          f"{start_read:.3f} s; the command's fixed extra {start_check - start_read:.3f} s")
    if baseline is not None and start_baseline is not None:
        for r in rows:
            print(f"baseline {baseline}: CLI CPU x at {r['clips']:,} clips {r['baseline_cpu'] / r['cli_read_cpu']:.2f} "
                  f"(this one {r['cli_cpu_ratio']:.2f}; same rounds)")
        print(f"baseline {baseline}: start-up fixed extra {start_baseline - start_read:.3f} s "
              f"(this one {start_check - start_read:.3f} s; same rounds)")
    big = max(rows, key=lambda r: r["clips"])
    goals = (("CPU in process", big["time_ratio"], 1.3), ("CPU as the CLI", big["cli_cpu_ratio"], 1.3),
             ("memory", big["mem_ratio"], 1.2))
    for label, value, target in goals:
        print(f"target {label} <= {target}x OTIO read at {big['clips']:,} clips: "
              f"{'met' if value <= target else 'NOT met'} ({value:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
