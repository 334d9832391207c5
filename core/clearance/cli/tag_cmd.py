"""`clearance tag TIMELINE --clip NAME | --shot CODE --record R.yaml -o OUT`: tag clips with a use record."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.record import UseRecord, load_record


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tag", help="tag clips of an OTIO/EDL/FCP XML timeline with a GenAI use record",
        description=(
            "Attach a use record to clips: in clip metadata and in a marker named CLEARANCE (coloured by "
            "status), so the tag survives EDL, FCP 7 XML and Resolve round trips. The output format follows "
            "the -o suffix (.otio, .otioz, .otiod, .edl, .xml). Exit 0 done, 2 bad input."
        ),
    )
    p.add_argument("timeline", metavar="TIMELINE", help="the timeline to tag (.otio, .otioz, .otiod, .edl, .xml, .aaf)")
    p.add_argument("--clip", action="append", default=[], metavar="NAME",
                   help="a clip name: every clip of that name is tagged; NAME#2 picks only the 2nd; repeat for several")
    p.add_argument("--shot", action="append", default=[], metavar="CODE",
                   help="every clip of a shot: a shot field in clip metadata, or the code's words in the clip name")
    p.add_argument("--all-matching", action="store_true",
                   help="let --clip take glob patterns such as 'sh01*'")
    p.add_argument("--record", metavar="FILE", help="the use record (YAML or JSON)")
    p.add_argument("--remove", action="store_true", help="take the Clearance tag off the named clips instead")
    p.add_argument("--no-embed", action="store_true",
                   help="store only the record id, digest and path, not the record itself")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the tagged timeline")
    p.add_argument("--rate", type=float, default=24.0, help="frame rate for reading an EDL (default 24)")
    p.add_argument("--policy", action="append", metavar="FILE", default=None,
                   help="policy file(s) for the marker colour (default: $CLEARANCE_POLICY, else embedded defaults)")
    p.set_defaults(func=run)


def _status(record: UseRecord, policy_paths: list[str] | None) -> str:
    from clearance.editorial.check import _evaluate, load_policy_for_check

    decision = _evaluate(record, load_policy_for_check(policy_paths))
    return str(decision.outcome)


def run(args: argparse.Namespace) -> int:
    from clearance.editorial.tagging import (
        apply_tag,
        matches_shot,
        remember_record,
        remove_tag,
        select_clips,
        target_for,
    )
    from clearance.editorial.timeline_io import read_timeline, write_timeline
    from clearance.editorial.walk import walk
    from clearance.tags import STATUS_LABELS, Tag

    if not args.clip and not args.shot:
        raise ClearanceError("name the clips to tag with --clip NAME or --shot CODE")
    if args.remove == bool(args.record):
        raise ClearanceError("give --record FILE to tag, or --remove to untag (not both)")
    timeline = read_timeline(args.timeline, rate=args.rate)
    clips = select_clips(timeline, args.clip, args.shot, args.all_matching, args.timeline)
    out = Path(args.output)
    where = {id(p.clip): p for p in walk(timeline)}
    from clearance.editorial.check import timecode

    rate = float(timeline.global_start_time.rate) if timeline.global_start_time else 24.0

    def place(clip: object) -> str:
        placed = where.get(id(clip))
        if placed is None:
            return ""
        return f" on {placed.track} at {timecode(placed.start, rate)}"

    if args.remove:
        removed = sum(1 for clip in clips if remove_tag(clip))
        write_timeline(timeline, out)
        print(f"untagged {removed} of {len(clips)} clip(s); wrote {out}")
        return 0
    record = load_record(args.record)
    status = _status(record, args.policy)
    record_path = None
    if args.no_embed:
        try:
            record_path = os.path.relpath(Path(args.record).resolve(), out.resolve().parent)
        except ValueError:  # another drive on Windows
            record_path = str(Path(args.record).resolve())
    for clip in clips:
        shot = next((code for code in args.shot if matches_shot(clip, code)), None)
        tag = Tag.for_record(
            record, embed=not args.no_embed, target_ref=target_for(record, clip, shot),
            status=status, record_path=record_path,
        )
        apply_tag(clip, tag)
        print(f"tagged '{clip.name}'{place(clip)}: record {record.id} ({STATUS_LABELS[status]})")
    write_timeline(timeline, out)
    remember_record(record)
    print(f"wrote {out} ({len(clips)} clip(s) tagged)")
    if out.suffix.lower() == ".edl":
        print(
            "note: an EDL keeps only the marker name (record id and digest); this machine remembers the record, "
            f"elsewhere check it with `clearance check {out} --records <folder holding {Path(args.record).name}>`",
            file=sys.stderr,
        )
    return 0
