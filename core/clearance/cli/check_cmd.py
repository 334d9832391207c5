"""`clearance check TIMELINE`: may this cut be delivered? Exit 0 deliverable, 1 blocked, 2 bad input."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clearance.errors import ClearanceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check", help="check a timeline before delivery: tagged clips, approvals, untagged AI media",
        description=(
            "Check every tagged clip of a timeline (.otio, .otioz, .otiod, .edl, .xml, .aaf): its policy "
            "decision and approval, plus clips whose media carries AI provenance but no tag. "
            "Exit 0 = deliverable, 1 = blocked, 2 = bad input."
        ),
    )
    p.add_argument("timeline", metavar="TIMELINE")
    p.add_argument("--policy", action="append", metavar="FILE", default=None,
                   help="a policy file; repeat to layer (default: $CLEARANCE_POLICY, else embedded defaults)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--approvals", metavar="DIR",
                        help="a folder of signed approval JSON files (and revocations.json)")
    source.add_argument("--server", metavar="URL",
                        help="pull approvals for the timeline's records from the service first")
    p.add_argument("--token", metavar="TOKEN",
                   help="your API token for --server (default: $CLEARANCE_TOKEN)")
    p.add_argument("--records", action="append", default=[], metavar="DIR",
                   help="a folder of record files, for tags that carry only a reference (after an EDL round trip)")
    p.add_argument("--offline", action="store_true",
                   help="judge from what this machine holds; do not ask the configured service first")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    p.add_argument("--report", action="append", default=[], metavar="OUT",
                   help="write the shot list as OUT.html (printable) or OUT.csv; repeat for both")
    p.add_argument("--rate", type=float, default=24.0, help="frame rate for reading an EDL (default 24)")
    p.add_argument("--no-scan", action="store_true",
                   help="do not look at untagged clips' media (no AI provenance scan, no offline count)")
    p.set_defaults(func=run)


def _pull(server: str, timeline: object, token: str | None = None) -> tuple[dict[str, str], str | None]:
    """Pull the keys, the signed revocation list and the approvals and status of the timeline's records (a few
    batch requests however long the cut). Denials come with the records' status and reach the clips through
    their standing (clearance.standing), which only ever blocks on them.

    Returns (no extra denials, a warning line when the service cannot be reached).
    """
    from clearance.client import DisclosureClient, ServerUnreachable
    from clearance.editorial.check import tagged_record_ids

    ids = tagged_record_ids(timeline)
    if not ids:
        return {}, None
    with DisclosureClient(server=server, token=token) as client:
        try:
            client.pull_approvals(ids)
        except ServerUnreachable as exc:
            return {}, f"warning: {exc}; checking against the approvals cached on this machine"
    return {}, None


def _refresh(policy: object, timeline: object) -> str | None:
    """Online when possible: a configured service that answers within the budget refreshes keys, revocations
    and the tagged records' approvals and status before judging (clearance.trust.refresh_online). With no
    service configured nothing is done: not even the walk that lists the cut's records."""
    import os

    if not (os.environ.get("CLEARANCE_SERVER") or getattr(getattr(policy, "approvals", None), "server", None)):
        return None
    from clearance.editorial.check import tagged_record_ids
    from clearance.trust import refresh_online

    note = refresh_online(policy, tagged_record_ids(timeline))
    return f"warning: {note}" if note else None


def _print_table(report: object) -> None:
    from clearance.editorial.check import LABELS, CheckReport

    assert isinstance(report, CheckReport)
    if report.clips:
        width = min(max(len(c.name) for c in report.clips), 40)
        print(f"{'#':>3}  {'IN':<11} {'OUT':<11} {'TRACK':<10} {'CLIP':<{width}}  {'STATUS':<18} RULES / APPROVAL")
        for n, c in enumerate(report.clips, 1):
            rules = " ".join(c.rules)
            approval = ""
            if c.approval is not None and c.approval.approval_id:
                approval = f" [{c.approval.approval_id}]"
            print(f"{n:>3}  {c.timecode_in:<11} {c.timecode_out:<11} {c.track[:10]:<10} {c.name[:width]:<{width}}  "
                  f"{LABELS[c.status]:<18} {rules}{approval}")
            if c.approval is not None and c.approval.conditions and not c.blocking:
                print(f"       conditions: {c.approval.conditions}")
            if c.blocking:
                for reason in c.reasons[:2]:
                    print(f"       - {reason}")
                if c.remedy:
                    print(f"       fix: {c.remedy}")
    m = report.media
    unscanned = [part for part in (
        f"{m.offline} clip(s) with offline media" if m.offline else "",
        f"{m.missing_reference} clip(s) without a media reference" if m.missing_reference else "",
    ) if part]
    if unscanned:
        print(f"note: not scanned for AI provenance: {' and '.join(unscanned)}")
    for note in report.notes:
        print(f"note: {note}")


def run(args: argparse.Namespace) -> int:
    from clearance.gc_pause import paused_collector

    # A cut is read into hundreds of thousands of small objects with no cycles between them, and the
    # imports, the policy and the report make hundreds of thousands more: the cyclic collector would walk
    # them all again and again (the read and the check already pause it; this covers the rest).
    with paused_collector():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from clearance.editorial.check import CheckOptions, check_timeline, read_for_check
    from clearance.progress import activity, progress

    for out in args.report:
        if Path(out).suffix.lower() not in {".html", ".htm", ".csv"}:
            raise ClearanceError(f"--report {out}: a report is .html or .csv")
    for folder in args.records:
        if not Path(folder).is_dir():
            raise ClearanceError(f"--records {folder}: folder not found; pass the folder that holds the record files")
    path = Path(args.timeline)
    with activity(f"Reading {path.name}"):
        timeline = read_for_check(path, rate=args.rate)
    if args.token and not args.server:
        raise ClearanceError("--token is for --server URL: give both, or neither")
    denials, warning = _pull(args.server, timeline, args.token) if args.server else ({}, None)
    from clearance.editorial.check import load_policy_for_check

    policy = load_policy_for_check(args.policy)  # once, for the refresh and the check
    if not args.server and not args.offline:
        warning = _refresh(policy, timeline)
    if warning:
        print(warning, file=sys.stderr)
    options = CheckOptions(
        source=str(path), policy_paths=args.policy, policy=policy,
        approvals_dir=Path(args.approvals) if args.approvals else None,
        records_dirs=[Path(d) for d in args.records], scan_media=not args.no_scan, base_dir=path.resolve().parent,
        denials=denials,
    )
    with progress("Checking clips") as bar:
        options.progress = bar
        report = check_timeline(timeline, options)
    if args.report:
        from clearance.editorial.report import write_report

        for out in args.report:
            write_report(report, out)
    if args.json:
        # pydantic-core writes the document six times faster than json.dumps over model_dump; the text is
        # the same, except that json.dumps escapes non-ASCII characters, which a console with a legacy code
        # page needs: such documents go through json once more.
        text = report.model_dump_json(by_alias=True, indent=2)
        if not text.isascii():
            text = json.dumps(json.loads(text), indent=2)
        print(text)
    else:
        _print_table(report)
        print(report.summary_line())
        for out in args.report:
            print(f"report: {out}")
    from clearance.cli.main import keep_until_exit

    keep_until_exit(timeline, report)
    return 1 if report.verdict == "blocked" else 0
