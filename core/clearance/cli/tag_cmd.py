"""`clearance tag TIMELINE --clip NAME | --shot CODE --record R.yaml -o OUT`: tag clips with a use record."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.record import UseRecord, load_record


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
                   help="every clip of a shot: a shot field in clip metadata, the code's words in the clip name, "
                        "or the code plus one take letter (ZZ100_504 names 'ZZ100_504C (LAY1)'); see the editor guide")
    p.add_argument("--all-matching", action="store_true",
                   help="let --clip take glob patterns such as 'sh01*'")
    p.add_argument("--record", metavar="FILE", help="the use record (YAML or JSON)")
    p.add_argument("--remove", action="store_true", help="take the Clearance tag off the named clips instead")
    p.add_argument("--no-embed", action="store_true",
                   help="store only the record id, digest and path, not the record itself")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="where to write the tagged timeline; may be the input itself, which is then replaced "
                        "atomically (a failed write leaves it as it was)")
    p.add_argument("--add-target", action="store_true",
                   help="when the record lists targets that do not cover a tagged clip, add the clip's shot or "
                        "clip name to the record's targets and rewrite the record file in Clearance's layout "
                        "(comments are not kept; an approval of the old record no longer matches: request it again)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every tagged clip (by default only up to 20, then a summary)")
    p.add_argument("--rate", type=float, default=24.0, help="frame rate for reading an EDL (default 24)")
    p.add_argument("--policy", action="append", metavar="FILE", default=None,
                   help="policy file(s) for the marker colour (default: $CLEARANCE_POLICY, else embedded defaults)")
    p.set_defaults(func=run)


def _status(record: UseRecord, policy_paths: list[str] | None) -> str:
    from clearance.editorial.check import _evaluate, load_policy_for_check

    decision = _evaluate(record, load_policy_for_check(policy_paths))
    return str(decision.outcome)


LIST_LIMIT = 20  # more tagged clips than this and `tag` prints a summary instead of a line each


def _write_record(record: UseRecord, path: Path) -> None:
    """Rewrite the record file in its own format, atomically."""
    import tempfile

    from clearance.record import dump_record

    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dump_record(record, fmt))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ClearanceError(f"{path}: cannot rewrite the record to add targets: {exc.strerror}") from None


def _ask(question: str) -> bool:
    """A yes/no question, only when a person is at the terminal; scripts get the default (no)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}
    except EOFError:
        return False


def run(args: argparse.Namespace) -> int:
    from clearance.editorial.tagging import apply_tag, remember_record, remove_tag, select_clips, shot_match, target_for
    from clearance.editorial.timeline_io import read_timeline, write_timeline
    from clearance.progress import activity, progress
    from clearance.record import Target
    from clearance.tags import STATUS_LABELS, Tag

    if not args.clip and not args.shot:
        raise ClearanceError("name the clips to tag with --clip NAME or --shot CODE")
    if args.remove == bool(args.record):
        raise ClearanceError("give --record FILE to tag, or --remove to untag (not both)")
    if args.remove and args.add_target:
        raise ClearanceError("--add-target is for tagging; leave it out with --remove")
    with activity(f"Reading {Path(args.timeline).name}"):
        timeline = read_timeline(args.timeline, rate=args.rate)
    clips = select_clips(timeline, args.clip, args.shot, args.all_matching, args.timeline)
    out = Path(args.output)

    if args.remove:
        removed = sum(1 for clip in clips if remove_tag(clip))
        with activity(f"Writing {out.name}"):
            write_timeline(timeline, out)
        print(f"untagged {removed} of {len(clips)} clip(s); wrote {out}")
        return 0
    record = load_record(args.record)
    record_file = Path(args.record)

    # The target each clip's tag covers; a record that lists targets must list these, or its approval
    # will not cover the clips (found here, not first at `clearance check`).
    shots = {id(clip): next((code for code in args.shot if shot_match(clip, code)), None) for clip in clips}
    keys = {id(clip): target_for(record, clip, shots[id(clip)]) for clip in clips}
    listed = {t.key() for t in record.targets}
    uncovered = [clip for clip in clips if record.targets and keys[id(clip)] not in listed]
    if uncovered:
        missing = list(dict.fromkeys(keys[id(c)] for c in uncovered))
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        if args.add_target or _ask(f"Record {record_file.name} does not list {shown}; add to its targets?"):
            extra = [Target(kind=k.split(":", 1)[0], ref=k.split(":", 1)[1]) for k in missing]  # type: ignore[arg-type]
            record = record.model_copy(update={"targets": [*record.targets, *extra]})
            _write_record(record, record_file)
            print(f"added {len(extra)} target(s) to {record_file}: {shown}; "
                  "submit the record again (its approval must cover them)")
        else:
            print(
                f"warning: record {record.id} lists targets ({', '.join(sorted(listed))}) that do not cover "
                f"{len(uncovered)} of the tagged clip(s) ({shown}); an approval of this record will not cover "
                "them. Run again with --add-target to add them to the record, or tag them with another record.",
                file=sys.stderr,
            )

    status = _status(record, args.policy)
    record_path = None
    if args.no_embed:
        try:
            record_path = os.path.relpath(record_file.resolve(), out.resolve().parent)
        except ValueError:  # another drive on Windows
            record_path = str(record_file.resolve())
    label = STATUS_LABELS[status]
    tags: dict[str, Tag] = {}
    with progress("Tagging clips", total=len(clips)) as bar:
        for clip in clips:
            key = keys[id(clip)]
            tag = tags.get(key)
            if tag is None:  # one tag per target: clips of one shot share it
                tag = Tag.for_record(record, embed=not args.no_embed, target_ref=key, status=status,
                                     record_path=record_path)
                tags[key] = tag
            apply_tag(clip, tag)
            bar.advance()
    if len(clips) <= LIST_LIMIT or args.verbose:
        _list_clips(timeline, clips, record, label)
    with activity(f"Writing {out.name}"):
        write_timeline(timeline, out)
    remember_record(record)
    tracks: dict[str, int] = {}
    if len(clips) > LIST_LIMIT and not args.verbose:
        from clearance.editorial.walk import track_labels

        owner = {}
        for track, name, _kind in track_labels(timeline):
            for clip in track.find_clips():
                owner[id(clip)] = name
        for clip in clips:
            name = owner.get(id(clip), "?")
            tracks[name] = tracks.get(name, 0) + 1
        where = ", ".join(f"{n} {t}" for t, n in tracks.items())
        print(f"tagged {len(clips):,} clip(s) with record {record.id} ({label}): {where}; -v lists them")
    print(f"wrote {out} ({len(clips):,} clip(s) tagged)")
    _warn_if_too_large(out, args.no_embed)
    if out.suffix.lower() == ".edl":
        print(
            "note: an EDL keeps only the marker name (record id and digest); this machine remembers the record, "
            f"elsewhere check it with `clearance check {out} --records <folder holding {record_file.name}>`",
            file=sys.stderr,
        )
    return 0


def _warn_if_too_large(out: Path, no_embed: bool) -> None:
    """A cut whose every clip embeds its record can outgrow what `clearance check` reads: say so now."""
    from clearance.editorial.timeline_io import MAX_TIMELINE_BYTES

    try:
        size = out.stat().st_size if out.is_file() else 0
    except OSError:
        return
    if size > MAX_TIMELINE_BYTES:
        hint = "" if no_embed else "; tag with --no-embed (the tag then holds the record's id, digest and path)"
        print(f"warning: {out} is {size / 1e6:,.0f} MB, over the {MAX_TIMELINE_BYTES / 1e6:,.0f} MB that "
              f"`clearance check` reads{hint}", file=sys.stderr)


def _list_clips(timeline: object, clips: list[object], record: UseRecord, label: str) -> None:
    from clearance.editorial.check import timecode
    from clearance.editorial.walk import walk

    wanted = {id(c) for c in clips}
    start = getattr(timeline, "global_start_time", None)
    rate = float(start.rate) if start is not None else 24.0
    where = {id(p.clip): p for p in walk(timeline, lambda clip: True if id(clip) in wanted else None)}
    for clip in clips:
        placed = where.get(id(clip))
        at = f" on {placed.track} at {timecode(placed.start, rate)}" if placed is not None else ""
        print(f"tagged '{getattr(clip, 'name', '')}'{at}: record {record.id} ({label})")
