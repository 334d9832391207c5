"""Clearance Check: check the current timeline before delivery and write the HTML report.

The timeline goes through Resolve's own OTIO export (``Timeline.Export(path, EXPORT_OTIO, EXPORT_NONE)``)
into a temporary file, which the editorial check reads like any cut. When the export is unavailable
(older Resolve, free version limits) or fails, the video tracks are walked with ``GetItemListInTrack``
instead and the same check runs on what the walk found.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from clearance.editorial.check import CheckOptions, CheckReport, check_timeline
from clearance.editorial.report import write_report
from clearance.editorial.timeline_io import read_timeline
from clearance.errors import ClearanceError
from clearance.hosts import resolve as host
from clearance.paths import data_dir
from clearance_resolve.connect import current_timeline, get_resolve, ui_of
from clearance_resolve.window import show_text


def export_otio(resolve: Any, timeline: Any, folder: Path) -> Path | None:
    """Resolve's OTIO export of ``timeline`` into ``folder``; None when Resolve cannot or did not write it."""
    kind = getattr(resolve, "EXPORT_OTIO", None)
    if kind is None:
        return None
    path = folder / "timeline.otio"
    try:
        done = timeline.Export(str(path), kind, getattr(resolve, "EXPORT_NONE", 0))
    except Exception:  # Resolve raises on some builds instead of returning False
        return None
    if not done or not path.is_file() or path.stat().st_size == 0:
        return None
    return path


def reports_dir() -> Path:
    return data_dir() / "reports"


def report_path(timeline_name: str, folder: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", timeline_name).strip("_") or "timeline"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return (folder or reports_dir()) / f"{safe}-{stamp}.html"


def pull_approvals(otio_timeline: Any) -> str:
    """Fetch the approvals of the timeline's records when a disclosure service is set; say where they came from."""
    if not os.environ.get("CLEARANCE_SERVER"):
        return "approvals from this machine's cache (no CLEARANCE_SERVER set)"
    from clearance.client import DisclosureClient
    from clearance.editorial.check import tagged_record_ids

    try:
        with DisclosureClient() as client:
            client.pull_approvals(tagged_record_ids(otio_timeline))
    except ClearanceError as exc:
        return f"approvals from this machine's cache (pulling failed: {exc})"
    return "approvals pulled from the disclosure service just now"


def run_check(resolve: Any, timeline: Any, *, out_dir: Path | None = None) -> tuple[CheckReport, Path, str]:
    """Check ``timeline``; returns the report, where the HTML went, and how the cut was read."""
    with tempfile.TemporaryDirectory(prefix="clearance-resolve-") as tmp:
        exported = export_otio(resolve, timeline, Path(tmp))
        if exported is not None:
            how = "Resolve's OTIO export"
            otio_timeline = read_timeline(exported)
        else:
            how = "a walk of the tracks (the OTIO export was unavailable)"
            otio_timeline = host.timeline_from_items(timeline)
        how += "; " + pull_approvals(otio_timeline)
        options = CheckOptions(source=f"Resolve timeline {timeline.GetName()}")
        report = check_timeline(otio_timeline, options)
    path = write_report(report, report_path(timeline.GetName(), out_dir))
    return report, path, how


def summary_text(report: CheckReport, path: Path, how: str) -> str:
    lines = [
        f"Clearance check of '{report.timeline}': {report.verdict.upper()}",
        f"{report.summary.clips} clip(s), {report.summary.tagged} tagged, {report.summary.blocked} blocking "
        f"(read through {how})",
    ]
    for clip in report.clips:
        if clip.blocking:
            reason = clip.reasons[0] if clip.reasons else clip.status_label
            lines.append(f"  BLOCKING {clip.name} [{clip.timecode_in}]: {clip.status_label}: {reason}")
    lines.append(f"Report: {path}")
    return "\n".join(lines)


def main(resolve: Any = None, bmd: Any = None, app: Any = None) -> int:
    """Entry point of ``Clearance Check.py``: 0 deliverable, 1 blocked, 2 a problem (one line)."""
    try:
        app = get_resolve(resolve, bmd, app)
        timeline = current_timeline(app)
        report, path, how = run_check(app, timeline)
        show_text(ui_of(app, bmd), "Clearance check", summary_text(report, path, how))
        return 1 if report.verdict == "blocked" else 0
    except ClearanceError as exc:
        print(f"Clearance: {exc}")
        return 2
