"""`clearance publish MANIFEST`: a standalone Pyblish publish of a publish manifest, with the Clearance gate.

Exit 0: published (what was written is printed), or with --check: every check passed. 1: blocked (every
failed check with its title, the offending items and how to fix). 2: bad input (manifest, record file,
listed file, policy, approvals folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="publish the files of a publish manifest, blocked until every GenAI use is disclosed and approved",
        description="Run a standalone Pyblish publish of MANIFEST (YAML or JSON: production, family, destination, "
        "items with files and records). Files are copied to the destination with a clearance-disclosure.json "
        "only when every Clearance check passes.",
    )
    parser.add_argument("manifest", metavar="MANIFEST", help="the publish manifest (YAML or JSON)")
    parser.add_argument("--approvals", metavar="DIR",
                        help="a folder of signed approval JSON files (besides the local approval cache)")
    parser.add_argument("--policy", metavar="FILE", action="append", default=[],
                        help="policy file(s), layered in order (default: CLEARANCE_POLICY, else the embedded policy)")
    parser.add_argument("--check", action="store_true",
                        help="run the checks only: nothing is queued, copied or written (exit 0 when it would publish)")
    parser.add_argument("--offline", action="store_true",
                        help="judge approvals from what this machine holds; do not ask the configured service first")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


MAX_LISTED = 20


def _print_report(report: Any) -> None:
    out = sys.stdout
    for note in report.notes:
        print(f"warning: {note}", file=out)
    for title, warning in report.warnings:
        print(f"warning: {title}: {warning.name}: {warning.message}", file=out)
    if report.passed:
        _print_approvals(report, out)
    if report.checked_only and report.passed:
        print(f"checks passed: {report.item_count} item(s) would publish to {report.manifest.destination} "
              "(nothing was written: --check)", file=out)
        return
    if report.published:
        files = [p for p in report.written if not p.name.endswith(".clearance.json") and p != report.disclosure_path]
        print(f"published {report.item_count} item(s), {len(files)} file(s) to {report.manifest.destination}",
              file=out)
        for path in files[:MAX_LISTED]:
            print(f"  {path}", file=out)
        if len(files) > MAX_LISTED:
            print(f"  ... and {len(files) - MAX_LISTED} more (each with a .clearance.json sidecar)", file=out)
        print(f"disclosure manifest: {report.disclosure_path}", file=out)
        print(f"records: {len(report.record_ids)}; newly queued in the outbox: {report.queued}"
              + (" (run `clearance sync` to send)" if report.queued else ""), file=out)
        return
    problems = sum(max(1, len(f.items)) for f in report.failures) + len(report.errors)
    done = "nothing was written (--check)" if report.checked_only else "nothing was published"
    print(f"publish blocked: {problems} problem(s); {done}", file=out)
    for failure in report.failures:
        print(f"\n✗ {failure.title} [{failure.validator_id}]", file=out)
        for item in failure.items:
            print(f"  - {item.name}: {item.message}", file=out)
        if failure.detail:
            print(failure.detail, file=out)
        print(f"  How to fix: {failure.how_to_fix}", file=out)
    for error in report.errors:
        print(f"\n✗ {error}", file=out)


def _print_approvals(report: Any, out: Any) -> None:
    """A passing publish says which approvals it relied on and the conditions they were given under."""
    used = report.approvals_used()
    if not used:
        return
    print(f"approved under {len(used)} approval(s):", file=out)
    for standing, names in used[:MAX_LISTED]:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        print(f"  - record {standing.record_id} ({shown}): {standing.describe()}", file=out)
    if len(used) > MAX_LISTED:
        print(f"  ... and {len(used) - MAX_LISTED} more (all in the disclosure manifest)", file=out)


def _standing_json(standing: Any) -> dict[str, Any]:
    data: dict[str, Any] = standing.model_dump(mode="json", exclude_defaults=True)
    data["description"] = standing.describe()
    return data


def _as_json(report: Any) -> dict[str, Any]:
    return {
        "published": report.published,
        "passed": report.passed,
        "destination": str(report.manifest.destination),
        "disclosure_manifest": str(report.disclosure_path) if report.disclosure_path else None,
        "written": [str(p) for p in report.written],
        "records": report.record_ids,
        "queued": report.queued,
        "failures": [
            {"validator": f.validator_id, "title": f.title, "how_to_fix": f.how_to_fix, "detail": f.detail,
             "items": [{"name": i.name, "message": i.message, "record_id": i.record_id} for i in f.items]}
            for f in report.failures
        ],
        "warnings": [{"title": t, "name": w.name, "message": w.message} for t, w in report.warnings],
        "notes": report.notes,
        "errors": report.errors,
        "approvals": [_standing_json(standing) | {"items": names} for standing, names in report.approvals_used()],
    }


def run(args: argparse.Namespace) -> int:
    from clearance.pyblish.runner import publish_manifest

    report = publish_manifest(args.manifest, approvals_dir=args.approvals, policy_paths=args.policy or None,
                              check_only=args.check, offline=args.offline)
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        _print_report(report)
    if args.check:
        return 0 if report.passed else 1
    return 0 if report.published else 1
