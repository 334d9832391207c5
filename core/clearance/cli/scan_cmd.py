"""`clearance scan`: find media whose own metadata says a generative model made it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from clearance.errors import ClearanceError

if TYPE_CHECKING:
    from clearance.provenance.verdicts import EvidenceRecord, ScanRecord

PROGRESS_MIN_FILES = 200  # below this a scan is over before a bar helps


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan",
        help="find AI-generated media by its metadata (C2PA, XMP, embedded prompts, EXR/DPX headers)",
        description="Read provenance metadata (headers only, never pixels) and give each file or image "
        "sequence a verdict: ai_generated, ai_composite, synthetic, camera or none. Exit 0 when the scan "
        "ran, whatever it found; 2 for bad arguments.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files, folders or sequence patterns (sh010.####.exr, sh010.%%04d.exr)")
    p.add_argument("-r", "--recursive", action="store_true", help="walk sub-folders")
    p.add_argument("--json", action="store_true", help="one JSON object per item (JSON lines) on stdout")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--verify", action="store_true",
                   help="also validate C2PA signatures with c2pa-python (offline: no remote manifests, no OCSP)")
    p.add_argument("--trust-anchors", metavar="PEM",
                   help="with --verify: PEM file of trusted C2PA signing roots (else every signer is 'untrusted')")
    p.add_argument("-v", "--verbose", action="store_true", help="list every piece of evidence, not only the main one")
    p.add_argument("--hits-only", action="store_true",
                   help="list only AI-made media (ai_generated, ai_composite, synthetic) and unreadable files; "
                        "the summary line still counts everything")
    p.add_argument("--fail-on-genai", action="store_true",
                   help="exit 1 when any item is ai_generated or ai_composite (for CI gates)")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> str | None:
    from clearance.provenance.sequences import expand_pattern, is_pattern

    if args.jobs < 1:
        raise ClearanceError(f"--jobs {args.jobs}: give a number of worker processes of 1 or more")
    for path in args.paths:
        if not os.path.exists(path) and not (is_pattern(path) and expand_pattern(path)):
            raise ClearanceError(f"{path}: no such file, folder or sequence; check the path")
    if args.trust_anchors and not args.verify:
        raise ClearanceError("--trust-anchors only applies with --verify; add --verify")
    if args.trust_anchors:
        from clearance.documents import read_text

        pem = read_text(args.trust_anchors, limit=4 * 1024 * 1024, what="a PEM bundle of trust anchors")
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise ClearanceError(f"{args.trust_anchors}: no PEM certificate in it; give a PEM bundle of root certs")
        return pem
    return None


class _Bar:
    """Adapts the scanner's (done, total) callback to the shared progress bar."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        if self.bar.total != total:
            self.bar.update(total=total)
        step = done - self.bar.completed
        if step > 0:
            self.bar.advance(step)


HIT_VERDICTS = frozenset({"ai_generated", "ai_composite", "synthetic"})


def _is_hit(record: ScanRecord) -> bool:
    """What --hits-only keeps: media that says a generator made it (or made part of it), and files that could
    not be read, which need a look by hand."""
    return record["verdict"] in HIT_VERDICTS or bool(record["error"])


def run(args: argparse.Namespace) -> int:
    trust = _check_args(args)
    from clearance.progress import progress
    from clearance.provenance.scanner import scan_records
    from clearance.provenance.verdicts import is_genai

    # Plain records, not the pydantic models of the Python API: the same fields and JSON, without the cost
    # of importing pydantic and building its models, which is most of a small scan's time.
    with progress("Scanning files") as bar:
        records = scan_records(args.paths, recursive=args.recursive, jobs=args.jobs, progress=_Bar(bar),
                               verify=args.verify, trust_anchors=trust)
    if args.json:
        encode = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps(..., ensure_ascii=False) builds per call
        write = sys.stdout.write
        for record in records:
            if not args.hits_only or _is_hit(record):
                write(encode(record) + "\n")
    else:
        _print_human(records, args.verbose, args.hits_only)
    if args.fail_on_genai and any(is_genai(r["verdict"]) for r in records):
        return 1
    return 0


def _describe(e: EvidenceRecord) -> str:
    text = f"{e['format']} {e['location']}: {e['field']}"
    if e["value"]:
        text += f" = {e['value']}"
    if e["generator"]:
        text += f" (by {e['generator']})"
    if e["manifest"] is not None:
        text += " [active manifest]" if e["active_manifest"] else " [ingredient manifest]"
    if e["prompt_embedded"]:
        text += " [prompt embedded]"
    if e["frames"]:
        text += f" frames {e['frames']}"
    return text


def _print_human(records: list[ScanRecord], verbose: bool, hits_only: bool = False) -> None:
    counts: dict[str, int] = {}
    errors = 0
    not_media = 0
    for r in records:
        if r["format"] is None and r["error"] is None:
            not_media += 1
            continue
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        if r["error"]:
            errors += 1
        if hits_only and not _is_hit(r):
            continue
        name = r["path"]
        if r["frames"]:
            name += f"  frames {r['frames']} ({r['frame_count']} files"
            name += f", missing {_short_list(r['missing_frames'])})" if r["missing_frames"] else ")"
        print(f"{r['verdict']:<13} {r['confidence']:4.2f}  {name}")
        evidence = r["evidence"]
        shown = evidence if verbose else evidence[:1]
        for e in shown:
            print(f"    {_describe(e)}")
        if not verbose and len(evidence) > 1:
            print(f"    (+{len(evidence) - 1} more; -v lists all)")
        if r["prompt_embedded"]:
            print("    prompt embedded: yes")
        c2pa = r["c2pa"]
        if c2pa is not None:
            print(f"    C2PA --verify: {c2pa['status']}, verdict {c2pa['verdict']} ({c2pa['detail']})")
        if r["error"]:
            print(f"    error: {r['error']}")
    summary = ", ".join(f"{counts[v]} {v}" for v in ("ai_generated", "ai_composite", "synthetic", "camera", "none")
                        if counts.get(v))
    items = sum(counts.values())
    line = f"{items} item{'s' if items != 1 else ''}: {summary or 'nothing scanned'}"
    if errors:
        line += f"; {errors} with errors"
    if not_media:
        line += f"; {not_media} file{'s' if not_media != 1 else ''} not in a media format the scanner reads"
    if hits_only and not any(counts.get(v) for v in HIT_VERDICTS) and not errors:
        line += "; no AI-made media found"
    print(line)


def _short_list(frames: list[int]) -> str:
    from clearance.provenance.sequences import frame_range

    return frame_range(frames)
