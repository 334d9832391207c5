"""Benchmark: `clearance scan` against exiftool on the same corpus, in the same run.

Builds a corpus (default 2,400 files) in a temp dir: hardlinks/copies of the real C2PA/ComfyUI samples,
generated PNGs (A1111 parameters, plain), JPEGs (XMP DigitalSourceType, C2PA, plain, with real-sized scan
data), WebP/WAV/MP4 with C2PA, and an EXR sequence (Nuke-style, some frames carrying clearance/ records).
Then scans it with Clearance (in-process, scan_paths) and with ONE long-running exiftool
(`-stay_open True -@ -`, `-fast2 -j` per batch), and prints files/s for both, the ratio, the bytes
Clearance read per file (median, max) and a detection comparison.

The HEADLINE, printed last, is what a held-out check measures: one `clearance scan -r --json DIR` process
against one `exiftool -fast2 -j -r DIR` process, start-up included on both sides, over ``--rounds``
alternating rounds; wall and CPU ratios per round, median, best and worst.

    .venv/bin/python bench/scan.py [--files 2400] [--jobs 1] [--keep DIR] [--rounds 5]
    .venv/bin/python bench/scan.py --corpus real [--files 2000]
    .venv/bin/python bench/scan.py --corpus stills [--files 1000]   # unlike ours: XMP stills named by ids
    .venv/bin/python bench/scan.py --corpus real --keep scan-real --processes-only   # headline only

``--corpus DIR`` scans a folder of your own media as it is (held-out corpora). ``--corpus real`` builds
the corpus of bench/scan_corpus.py instead: the vendored C2PA and generator
samples plus generated variants sized like a delivery folder (MP4/MOV up to 1.2 GB and 40-120 MB TIFF/DNG
among small stills, JPEG, PNG, WebP, WAV, MP3; large payloads are sparse). Both also profile each format:
files/s for both tools and the bytes Clearance read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode import compile_clearance  # bench/, the script's own folder

from clearance.provenance import samples as s
from clearance.provenance import scan_paths
from clearance.provenance.model import VERDICT_RANK
from clearance.provenance.scanner import read_raw
from clearance.provenance.signals import looks_like_a1111, source_type_verdict, tool_name

SHARED = Path(__file__).resolve().parents[1] / "tests" / "data" / "provenance"
A1111 = ("portrait of an astronaut, studio light\nNegative prompt: blurry\n"
         "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: {seed}, Size: 768x768, Model: sdxl_base")


def build_corpus(root: Path, total: int) -> int:
    """Write the corpus; returns the number of files."""
    root.mkdir(parents=True, exist_ok=True)
    real = sorted(p for p in SHARED.iterdir() if not p.name.startswith("LICENSE"))
    share = {"real": 0.30, "png_a1111": 0.10, "png_plain": 0.10, "jpeg_xmp": 0.08, "jpeg_c2pa": 0.05,
             "jpeg_plain": 0.10, "riff_bmff": 0.05, "exr": 0.22}
    counts = {k: max(1, int(total * v)) for k, v in share.items()}
    counts["real"] += total - sum(counts.values())
    n = 0
    sub = root / "samples"
    sub.mkdir()
    for i in range(counts["real"]):
        src = real[i % len(real)]
        dst = sub / f"{i:05d}-{src.name}"  # a leading number: copies stay separate items, not a sequence
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        n += 1
    gen = root / "generated"
    gen.mkdir()
    pixels = os.urandom(300_000)  # stands in for compressed image data: exiftool and Clearance both skip it
    store = s.c2pa_store([{"label": "urn:c2pa:gen", "actions": [s.created("trainedAlgorithmicMedia", "Midjourney")]},
                          {"label": "urn:c2pa:edit", "actions": [{"action": "c2pa.color_adjustments"}]}])
    for i in range(counts["png_a1111"]):
        (gen / f"txt2img_{i:05d}.png").write_bytes(s.png(text={"parameters": A1111.format(seed=i)}, size=64))
    for i in range(counts["png_plain"]):
        (gen / f"texture_{i:05d}.png").write_bytes(s.png(text={"Software": "Substance Designer"}, size=64))
    for i in range(counts["jpeg_xmp"]):
        term = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "digitalCapture")[i % 3]
        data = s.jpeg(xmp=s.xmp_packet(term, creator_tool="Adobe Photoshop 26.0"))
        (gen / f"still_{i:05d}.jpg").write_bytes(data[:-2] + pixels[: 50_000 + i % 1000] + b"\xff\xd9")
    for i in range(counts["jpeg_c2pa"]):
        data = s.jpeg(c2pa=store)
        (gen / f"c2pa_{i:05d}.jpg").write_bytes(data[:-2] + pixels[:80_000] + b"\xff\xd9")
    for i in range(counts["jpeg_plain"]):
        data = s.jpeg(exif_data=s.exif(software="Canon EOS R5 Firmware 1.8", description="plate"))
        (gen / f"plate_photo_{i:05d}.jpg").write_bytes(data[:-2] + pixels[: 120_000] + b"\xff\xd9")
    for i in range(counts["riff_bmff"]):
        kind = i % 3
        if kind == 0:
            (gen / f"vo_{i:05d}.wav").write_bytes(s.wav(c2pa=store, data_size=400_000))
        elif kind == 1:
            (gen / f"gen_{i:05d}.mp4").write_bytes(s.mp4(c2pa=store, mdat_size=400_000))
        else:
            (gen / f"gen_{i:05d}.webp").write_bytes(s.webp(xmp=s.xmp_packet("trainedAlgorithmicMedia")))
    seq = root / "renders" / "sh010"
    seq.mkdir(parents=True)
    body = bytes(200_000)  # stands in for the pixel chunks
    for i in range(counts["exr"]):
        frame = 1001 + i
        strings = {"software": "Nuke 15.1v3", "nuke/node_hash": f"{frame:x}"}
        if 1100 <= frame < 1150:
            strings["clearance/record_ids"] = "0b1f3c9e-6c1d-4c2a-9a59-3f3b8e2d1a01"
        (seq / f"sh010_comp_v003.{frame:04d}.exr").write_bytes(s.exr(strings) + body)
    n += sum(v for k, v in counts.items() if k != "real")
    return n


def exiftool_verdict(row: dict) -> str:
    """What exiftool's output says, judged by the same rules Clearance applies to its own readings."""
    best = "none"

    def consider(verdict: str) -> None:
        nonlocal best
        if VERDICT_RANK[verdict] > VERDICT_RANK[best]:
            best = verdict

    for key, value in row.items():
        name = key.split(":")[-1]
        values = value if isinstance(value, list) else [value]
        for v in values:
            text = str(v)
            if name.endswith("DigitalSourceType"):
                consider(source_type_verdict(text)[0])
            elif (
                (name in ("Parameters", "UserComment") and looks_like_a1111(text))
                or (name in ("Prompt", "Workflow") and text.lstrip().startswith("{"))
                or name in ("Invokeai_metadata", "InvokeaiMetadata")
            ):
                consider("ai_generated")
            elif "Clearance" in name and "Record" in name:
                consider("ai_composite")
            elif name in ("Software", "CreatorTool", "Credit", "Creator", "Comment", "Comments",
                          "ActionsSoftwareAgent", "AISystemUsed") and tool_name(text):
                consider("ai_generated")
    return best


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc); CPU time is less sensitive than wall time to a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def run_exiftool(files: list[str], batch: int) -> tuple[float, float, dict[str, dict]]:
    proc = subprocess.Popen(["exiftool", "-stay_open", "True", "-@", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert proc.stdin and proc.stdout
    rows: dict[str, dict] = {}

    def ask(args: list[str]) -> str:
        proc.stdin.write("\n".join(args) + "\n-execute\n")
        proc.stdin.flush()
        out = []
        for line in proc.stdout:
            if line.strip() == "{ready}":
                break
            out.append(line)
        return "".join(out)

    ask(["-ver"])  # start-up (Perl compile) is outside the measurement, as for a long-running service
    cpu_started = _cpu_seconds(proc.pid)
    started = time.perf_counter()
    for i in range(0, len(files), batch):
        # no -q: it also silences the {ready} marker; the "N image files read" summary follows the JSON
        text = ask(["-fast2", "-j", "-a", "-G1", *files[i : i + batch]])
        for row in json.loads(text[: text.rfind("]") + 1] or "[]"):
            rows[row["SourceFile"]] = row
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds(proc.pid) - cpu_started
    proc.stdin.write("-stay_open\nFalse\n")
    proc.stdin.flush()
    proc.wait(timeout=30)
    return elapsed, cpu, rows


def per_format(files: list[str], per_file: dict[str, tuple], batch: int) -> None:
    """Files/s of each tool and bytes Clearance read, format by format (suffix)."""
    by_suffix: dict[str, list[str]] = {}
    for f in files:
        by_suffix.setdefault(Path(f).suffix.lower(), []).append(f)
    print("| format | files | median size | clearance files/s | exiftool files/s | x | bytes read/file "
          "(median, max) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for suffix, group in sorted(by_suffix.items()):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for f in group:
                read_raw(f)
            best = min(best, time.perf_counter() - started)
        theirs, _cpu, _rows = run_exiftool(group, batch)
        read = sorted(per_file[f][2] for f in group)
        size = statistics.median(os.path.getsize(f) for f in group)
        ours_rate, theirs_rate = len(group) / best, len(group) / theirs
        print(f"| {suffix} | {len(group)} | {size / 1e6:,.2f} MB | {ours_rate:,.0f} | {theirs_rate:,.0f} "
              f"| {ours_rate / theirs_rate:.1f} | {statistics.median(read):,.0f}, {max(read):,} |")


def _clearance_command() -> list[str]:
    """The installed `clearance` command beside this Python, as a user runs it; else the module."""
    script = Path(sys.executable).with_name("clearance")
    return [str(script)] if script.exists() else [sys.executable, "-m", "clearance.cli.main"]


def _run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU time (user + system, from the kernel's accounting of the waited-for child) of one run."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # exiftool says 1 when some file had no metadata it could read
        raise SystemExit(f"{' '.join(cmd[:3])}... exited {done.returncode}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def processes(folder: Path, n: int, rounds: int) -> None:
    """The headline: one `clearance scan -r --json DIR` process against one `exiftool -fast2 -j -r DIR`
    process, start-up included on both sides, as a held-out check runs them. Rounds alternate the two tools
    so a change of load hits both; each round's ratio is the pair's, and best/median/worst are over rounds.
    `clearance scan -r DIR` (the human listing) is timed too."""
    ours_json = [*_clearance_command(), "scan", "-r", "--json", str(folder)]
    ours_text = [*_clearance_command(), "scan", "-r", str(folder)]
    theirs_cmd = ["exiftool", "-fast2", "-j", "-r", str(folder)]
    _run_process(ours_json)  # warm the page cache (exiftool reads the same files)
    rows: list[tuple[float, float, float, float, float, float]] = []
    for _ in range(rounds):
        wall_json, cpu_json = _run_process(ours_json)
        wall_text, cpu_text = _run_process(ours_text)
        wall_x, cpu_x = _run_process(theirs_cmd)
        rows.append((wall_json, cpu_json, wall_text, cpu_text, wall_x, cpu_x))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    def column(k: int) -> list[float]:
        return [r[k] for r in rows]

    def spread(values: list[float]) -> str:
        return f"best {min(values):.3f} s, median {statistics.median(values):.3f} s"

    def ratios(ours_k: int, theirs_k: int) -> list[float]:
        return sorted(r[theirs_k] / max(r[ours_k], 1e-9) for r in rows)

    wall_json_x, cpu_json_x = ratios(0, 4), ratios(1, 5)
    wall_text_x, cpu_text_x = ratios(2, 4), ratios(3, 5)
    print()
    print("=" * 100)
    print(f"HEADLINE: one process each, start-up included ({n} files, {rounds} alternating rounds, "
          f"load average {load:.2f})")
    print(f"  clearance scan -r --json DIR : wall {spread(column(0))}; CPU {spread(column(1))} "
          f"({n / statistics.median(column(0)):,.0f} files/s)")
    print(f"  clearance scan -r DIR        : wall {spread(column(2))}; CPU {spread(column(3))}")
    print(f"  exiftool -fast2 -j -r DIR    : wall {spread(column(4))}; CPU {spread(column(5))} "
          f"({n / statistics.median(column(4)):,.0f} files/s)")
    for name, wall_x, cpu_x in (("--json", wall_json_x, cpu_json_x), ("text  ", wall_text_x, cpu_text_x)):
        print(f"  RATIO {name} (exiftool / clearance, per round): wall median {statistics.median(wall_x):.1f}x "
              f"(best {wall_x[-1]:.1f}x, worst {wall_x[0]:.1f}x); CPU median {statistics.median(cpu_x):.1f}x "
              f"(best {cpu_x[-1]:.1f}x, worst {cpu_x[0]:.1f}x)   target >= 25x")
    print("=" * 100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2400)
    parser.add_argument("--corpus", default="synthetic", metavar="synthetic|real|stills|DIR",
                        help="synthetic: many small generated files; real: samples plus delivery-sized media; "
                             "stills: stills with large XMP packets named by ids, and video XMP; "
                             "or a folder of your own media, scanned as it is (nothing is written to it)")
    parser.add_argument("--jobs", type=int, default=1, help="Clearance worker processes")
    parser.add_argument("--batch", type=int, default=200, help="files per exiftool -execute")
    parser.add_argument("--keep", help="build the corpus here and keep it (an existing one there is reused)")
    parser.add_argument("--rounds", type=int, default=5, help="process-to-process rounds (the headline)")
    parser.add_argument("--processes-only", action="store_true",
                        help="only the headline: one process each, start-up included")
    args = parser.parse_args()
    print(compile_clearance(), flush=True)
    if not shutil.which("exiftool"):
        print("exiftool is not installed (apt install libimage-exiftool-perl)", file=sys.stderr)
        return 2
    own = args.corpus not in ("synthetic", "real", "stills")
    if own and not Path(args.corpus).is_dir():
        print(f"--corpus {args.corpus}: give synthetic, real or a folder of media", file=sys.stderr)
        return 2
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="clearance-bench-scan-"))
    corpus = Path(args.corpus).resolve() if own else tmp / "corpus"
    try:
        if own or (args.keep and corpus.is_dir()):
            n = sum(1 for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif args.corpus in ("real", "stills"):
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from scan_corpus import build_real_corpus, build_stills_corpus

            build = build_real_corpus if args.corpus == "real" else build_stills_corpus
            n = sum(build(corpus, args.files).values())
        else:
            n = build_corpus(corpus, args.files)
        # Hidden files are skipped by the scanner's folder walk, so by this list too.
        files = sorted(str(p) for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
        assert len(files) == n
        if args.processes_only:
            processes(corpus, n, args.rounds)
            return 0
        # Clearance: the whole public path (walk, sequence grouping, results as models), best of 3.
        timings, cpu_timings = [], []
        for _ in range(3):
            started, cpu_started = time.perf_counter(), time.process_time()
            results = scan_paths([corpus], recursive=True, jobs=args.jobs)
            timings.append(time.perf_counter() - started)
            cpu_timings.append(time.process_time() - cpu_started)
        ours, ours_cpu = min(timings), min(cpu_timings)
        theirs, theirs_cpu, rows = run_exiftool(files, args.batch)
        per_file = {f: read_raw(f) for f in files}  # instrumented pass (not timed): bytes read per file
        read = sorted(raw[2] for raw in per_file.values())
        sizes = [os.path.getsize(f) for f in files]

        ours_rate, theirs_rate = n / ours, n / theirs
        print(f"corpus: {n} files, {sum(sizes) / 1e6:.1f} MB, {len(results)} items (sequences grouped)")
        print(f"clearance: {ours:.3f} s  {ours_rate:,.0f} files/s  (jobs={args.jobs}, best of 3)")
        print(f"exiftool : {theirs:.3f} s  {theirs_rate:,.0f} files/s  (one -stay_open process, -fast2 -j, "
              f"batches of {args.batch})")
        print(f"ratio    : {ours_rate / theirs_rate:.1f}x exiftool's files/s in process (start-up excluded on both "
              "sides; the HEADLINE at the end is the process-to-process figure)")
        if args.jobs == 1:
            print(f"cpu time : clearance {ours_cpu:.3f} s, exiftool {theirs_cpu:.3f} s -> "
                  f"{theirs_cpu / max(ours_cpu, 1e-9):.1f}x less CPU per file (steadier on a busy machine)")
        print(f"bytes read per file by Clearance: median {statistics.median(read):,.0f}, max {max(read):,} "
              f"(median file size {statistics.median(sizes):,.0f})")
        if args.corpus != "synthetic":
            per_format(files, per_file, args.batch)

        # Detections: per file, Clearance's verdict vs what exiftool's output shows.
        ours_by_file = {f: max((h.verdict for h in raw[3]), key=VERDICT_RANK.__getitem__, default="none")
                        for f, raw in per_file.items()}
        theirs_by_file = {f: exiftool_verdict(rows.get(f, {})) for f in files}
        missed = [f for f in files if VERDICT_RANK[ours_by_file[f]] < VERDICT_RANK[theirs_by_file[f]]]
        extra = [f for f in files if VERDICT_RANK[ours_by_file[f]] > VERDICT_RANK[theirs_by_file[f]]]
        genai = ("ai_generated", "ai_composite")
        print(f"detections (GenAI): clearance {sum(v in genai for v in ours_by_file.values())}, "
              f"exiftool {sum(v in genai for v in theirs_by_file.values())}; "
              f"any verdict: clearance {sum(v != 'none' for v in ours_by_file.values())}, "
              f"exiftool {sum(v != 'none' for v in theirs_by_file.values())}")
        print(f"exiftool finds, Clearance misses: {len(missed)}")
        for f in missed[:10]:
            print(f"   {f}: clearance {ours_by_file[f]}, exiftool {theirs_by_file[f]}")
        kinds: dict[str, int] = {}
        for f in extra:
            kinds[Path(f).suffix] = kinds.get(Path(f).suffix, 0) + 1
        print(f"Clearance finds more than exiftool: {len(extra)} files {kinds}")
        processes(corpus, n, args.rounds)  # last, so the headline is the last thing printed
        return 1 if missed else 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
