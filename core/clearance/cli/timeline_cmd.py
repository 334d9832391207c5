"""`clearance timeline list TIMELINE`: the tagged clips of a timeline, for a quick look."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from clearance.cli import show_help
from clearance.errors import ClearanceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("timeline", help="look at the Clearance tags in a timeline")
    inner = p.add_subparsers(dest="timeline_command", metavar="COMMAND", parser_class=type(p))
    ls = inner.add_parser(
        "list", help="list tagged clips: track, in/out, name, record id, last status",
        description="List the tagged clips (--all: every clip, with the NAME#N form `clearance tag` accepts).",
    )
    ls.add_argument("timeline", metavar="TIMELINE")
    ls.add_argument("--all", action="store_true", help="list every clip, tagged or not")
    ls.add_argument("--records", action="append", default=[], metavar="DIR",
                    help="a folder of record files, for tags that carry only a reference (EDL)")
    ls.add_argument("--rate", type=float, default=24.0, help="frame rate for reading an EDL (default 24)")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=run_list)
    p.set_defaults(func=show_help(p))


def run_list(args: argparse.Namespace) -> int:
    from clearance.editorial.check import timecode
    from clearance.editorial.tagging import RecordIndex, TagDecoder, read_raw_tag
    from clearance.editorial.timeline_io import read_timeline
    from clearance.editorial.walk import walk
    from clearance.tags import STATUS_LABELS

    for folder in args.records:
        if not Path(folder).is_dir():
            raise ClearanceError(f"--records {folder}: folder not found; pass the folder that holds the record files")
    timeline = read_timeline(args.timeline, rate=args.rate)
    decoder = TagDecoder(RecordIndex([Path(d) for d in args.records]), Path(args.timeline).resolve().parent)
    rate = float(timeline.global_start_time.rate) if timeline.global_start_time else 0.0
    rows = []
    seen_names: dict[str, int] = {}
    placed_all = list(walk(timeline))
    name_counts: dict[str, int] = {}
    for placed in placed_all:
        name_counts[placed.clip.name or ""] = name_counts.get(placed.clip.name or "", 0) + 1
    for placed in placed_all:
        clip = placed.clip
        name = clip.name or ""
        seen_names[name] = seen_names.get(name, 0) + 1
        raw = read_raw_tag(clip)
        if raw is None and not args.all:
            continue
        use_rate = rate or float(placed.start.rate) or 24.0
        row: dict[str, Any] = {
            "index": placed.index, "pick": f"{name}#{seen_names[name]}" if name_counts[name] > 1 else name,
            "track": placed.track, "name": name,
            "in": timecode(placed.start, use_rate), "out": timecode(placed.start + placed.duration, use_rate),
            "record_id": None, "status": None, "problem": None,
        }
        if raw is not None:
            tag, record, error = decoder.decode(raw, f"clip '{name}'")
            row["record_id"] = str(record.id) if record else (str(tag.record_id) if tag else raw.ref_id)
            row["status"] = (tag.status if tag and tag.status else None) or ("invalid" if error else "unknown")
            row["problem"] = error
            row["source"] = raw.source
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"{args.timeline}: no tagged clips")
        return 0
    width = max(len(r["name"]) for r in rows)
    width = min(max(width, 4), 48)
    print(f"{'TRACK':<10} {'IN':<11} {'OUT':<11} {'CLIP':<{width}} {'RECORD':<36} STATUS")
    for r in rows:
        status = STATUS_LABELS.get(r["status"], r["status"] or "") if r["status"] else "-"
        label = r["pick"] if args.all else r["name"]
        print(f"{r['track'][:10]:<10} {r['in']:<11} {r['out']:<11} {label[:width]:<{width}} "
              f"{(r['record_id'] or '-'):<36} {status}")
        if r["problem"]:
            print(f"  ! {r['problem']}")
    tagged = sum(1 for r in rows if r["record_id"] or r["problem"])
    print(f"{tagged} tagged clip(s)")
    return 0
