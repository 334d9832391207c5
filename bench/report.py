"""Bench: the `clearance check` shot list (HTML) for 10,000 clips: its size, and how long headless Chromium
takes to open it, against a plain page of the same size in the same run.

Builds the report of a 10,000-clip check (every clip reported: 50 records of 200 clips, 60% needing
approval, 20% approved with conditions, 20% notify) with the code `clearance check --report` uses, then
opens it in the system Chromium (Playwright, never a downloaded browser), best of --repeat runs:

- report:   navigation to the load event, then a forced layout of the whole document and the first paint;
- baseline: the same bytes as plain text in one <pre> (what any page of that size costs to load).

Targets: under 1 MB, and opens in under 2 s.

    .venv/bin/python bench/report.py [--clips 10000] [--repeat 3] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def build(clips: int) -> str:
    import opentimelineio as otio

    from clearance.editorial.check import LABELS, ApprovalInfo, CheckReport, ClipResult, Summary, timecode
    from clearance.editorial.media import MediaSummary
    from clearance.editorial.report import to_html

    rt = otio.opentime.RationalTime
    statuses = ["approval_required"] * 3 + ["approved", "notify"]
    per_record = 200
    out = []
    for n in range(clips):
        r = n // per_record
        status = statuses[r % len(statuses)]
        record_id = str(uuid.UUID(int=r + 1))
        start, length, source = 86400 * 24 + n * 48, 24 + n % 40, 86400 + 1001 + n % 7
        approval = ApprovalInfo(status="valid", approval_id=f"APP-{r:06d}", approver="sam.approver",
                                conditions="background only; not in marketing") if status == "approved" else None
        out.append(ClipResult(
            index=n + 1, name=f"sq{n // 100:03d}_sh{n % 100:03d}0_comp_v{n % 9 + 1:03d}.mov", track=f"V{n % 3 + 1}",
            track_kind="Video", timecode_in=timecode(rt(start, 24), 24),
            timecode_out=timecode(rt(start + length, 24), 24),
            frame_in=start, frame_out=start + length, source_in=timecode(rt(source, 24), 24),
            source_out=timecode(rt(source + length, 24), 24), reel=f"A{n % 90:03d}C{n % 13:03d}", record_id=record_id,
            status=status, status_label=LABELS[status], blocking=status == "approval_required",
            description=f"generated set extension {r}: sky and far buildings", rules=["FINAL-DELIVERABLE"],
            reasons=[f"approval: no approval is held for record {record_id}",
                     "Generated material will be in the final deliverable, even if only as incidental background."],
            remedy="Replace it with artist-made or licensed material before delivery, or request written approval.",
            approval=approval, media="file", media_path=f"/mnt/show/sq{n // 100:03d}/comp.mov",
        ))
    blocked = sum(c.blocking for c in out)
    report = CheckReport(timeline="bench cut", source="bench.otio", generated_at=datetime.now(timezone.utc),
                         rate=24.0, verdict="blocked", clips=out, media=MediaSummary(),
                         summary=Summary(clips=clips, tagged=clips, reported=clips, blocked=blocked))
    return to_html(report)


def open_time(page: object, url: str) -> float:
    started = time.perf_counter()
    page.goto(url, wait_until="load")  # type: ignore[attr-defined]
    # Force the layout of the whole document, then wait for a frame to be painted.
    page.evaluate("() => new Promise(r => { document.body.getBoundingClientRect(); "  # type: ignore[attr-defined]
                  "requestAnimationFrame(() => requestAnimationFrame(r)); })")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    text = build(args.clips)
    size = len(text.encode())
    with tempfile.TemporaryDirectory(prefix="clearance-bench-report-") as tmp:
        report = Path(tmp) / "shots.html"
        report.write_text(text, encoding="utf-8")
        plain = Path(tmp) / "plain.html"
        plain.write_text(f"<!DOCTYPE html><meta charset=utf-8><pre>{html.escape(text)[:size]}</pre>", encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                ours, base = [], []
                rows = 0
                for _ in range(args.repeat):  # interleaved: a busy machine slows both alike
                    ours.append(open_time(page, report.as_uri()))
                    rows = page.evaluate("document.querySelectorAll('.c > p').length") // 6
                    base.append(open_time(page, plain.as_uri()))
            finally:
                browser.close()
    best, baseline = min(ours), min(base)
    print(f"report: {args.clips:,} clips, {size / 1e6:.3f} MB ({size / args.clips:.0f} bytes per clip), "
          f"{rows:,} clip rows in the page")
    print(f"opens in {best:.2f} s in headless Chromium (best of {args.repeat}); the same bytes as plain text: "
          f"{baseline:.2f} s -> {best / baseline:.2f}x")
    print(f"target under 1 MB: {'met' if size < 1_000_000 else 'NOT met'}; "
          f"target opens under 2 s: {'met' if best < 2.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
