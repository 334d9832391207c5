"""The shot list an editor sends to the studio contact: HTML (screen and print) and CSV, same columns."""

from __future__ import annotations

import csv
import io
from html import escape
from pathlib import Path

from clearance.errors import ClearanceError

from .check import LABELS, CheckReport, ClipResult

COLUMNS = (
    "#", "Timecode in", "Timecode out", "Track", "Clip", "Status", "Rule codes",
    "Record", "Approval", "Approval expires", "Remedy",
)

# The HTML puts the record id under the clip name; the CSV keeps it in its own column.
HTML_COLUMNS = tuple(c for c in COLUMNS if c != "Record")
HTML_WIDTHS = (3, 9, 9, 5, 19, 10, 13, 9, 7, 16)

_BADGE = {
    "notify": "ok", "approved": "ok", "approval_required": "warn", "denied": "bad",
    "prohibited": "bad", "invalid": "bad", "untagged_ai": "bad",
}


def _approval(clip: ClipResult) -> tuple[str, str]:
    info = clip.approval
    if info is None:
        return "", ""
    if info.status == "not_needed":
        return "not needed", ""
    if info.expires_at:
        expires = info.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    else:
        expires = "no expiry" if info.approval_id else ""
    if info.status == "valid":
        return info.approval_id or "", expires
    label = info.status.replace("_", " ")
    return (f"{info.approval_id} ({label})" if info.approval_id else label), expires


def _remedy(clip: ClipResult) -> str:
    if clip.status in {"notify", "approved"}:
        return ""
    return clip.remedy or "; ".join(clip.reasons[:1])


def rows(report: CheckReport) -> list[list[str]]:
    out = []
    for n, clip in enumerate(report.clips, 1):
        approval, expires = _approval(clip)
        out.append([
            str(n), clip.timecode_in, clip.timecode_out, clip.track, clip.name, LABELS[clip.status],
            " ".join(clip.rules), clip.record_id or "", approval, expires, _remedy(clip),
        ])
    return out


def to_csv(report: CheckReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(report))
    return buffer.getvalue()


_CSS = """
:root { --ink:#1d2330; --muted:#5d6677; --line:#d9dde5; --ok:#1f7a3d; --okbg:#e3f4e8; --warn:#8a4b00;
  --warnbg:#fff0d6; --bad:#a3161b; --badbg:#fde4e4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  margin: 0; background: #f4f5f8; }
main { max-width: 1280px; margin: 0 auto; padding: 28px 32px 40px; background: #fff; min-height: 100vh; }
header { display: flex; justify-content: space-between; align-items: flex-start; gap: 24px;
  border-bottom: 2px solid var(--ink); padding-bottom: 14px; margin-bottom: 18px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0; }
.verdict { font-size: 15px; font-weight: 700; padding: 8px 16px; border-radius: 6px; white-space: nowrap; }
.verdict.deliverable { background: var(--okbg); color: var(--ok); border: 1px solid var(--ok); }
.verdict.blocked { background: var(--badbg); color: var(--bad); border: 1px solid var(--bad); }
dl.facts { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 6px 24px; margin: 0 0 18px; }
dl.facts div { border-left: 3px solid var(--line); padding-left: 10px; }
dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 18px; padding: 0; list-style: none; }
.counts li { border: 1px solid var(--line); border-radius: 16px; padding: 3px 12px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; table-layout: fixed; }
thead th { text-align: left; background: #eef0f4; border-bottom: 2px solid #c4c9d3; padding: 7px 8px;
  font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: #3b4252; }
tbody td { border-bottom: 1px solid var(--line); padding: 7px 8px; vertical-align: top; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tr.blocking td:first-child { box-shadow: inset 4px 0 0 var(--bad); }
td.tc, td.num { font-family: "SF Mono", Menlo, Consolas, monospace; white-space: nowrap; }
td.clip { font-weight: 600; overflow-wrap: anywhere; }
td.clip small { display: block; font-weight: 400; color: var(--muted); }
.badge { display: inline-block; padding: 2px 9px; border-radius: 10px; font-size: 12px; font-weight: 700;
  white-space: nowrap; }
.badge.ok { background: var(--okbg); color: var(--ok); }
.badge.warn { background: var(--warnbg); color: var(--warn); }
.badge.bad { background: var(--badbg); color: var(--bad); }
code.rule { display: inline-block; background: #eef0f4; border-radius: 4px; padding: 1px 5px; font-size: 11px;
  margin: 0 3px 3px 0; white-space: nowrap; }
td.clip small.rec { font-family: "SF Mono", Menlo, Consolas, monospace; font-size: 10.5px; }
td.remedy { font-size: 12px; color: #3b4252; }
.empty { padding: 22px; text-align: center; color: var(--muted); border: 1px dashed var(--line); border-radius: 6px; }
footer { margin-top: 22px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
footer ul { margin: 6px 0 0; padding-left: 18px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; min-height: 0; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
  .badge, .verdict, tbody tr:nth-child(even) td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _fact(label: str, value: str) -> str:
    return f"<div><dt>{escape(label)}</dt><dd>{escape(value) or '&mdash;'}</dd></div>"


def to_html(report: CheckReport) -> str:
    s = report.summary
    verdict = "Deliverable" if report.verdict == "deliverable" else "Blocked"
    counts = [f"<li><strong>{s.clips}</strong> clips</li>", f"<li><strong>{s.tagged}</strong> tagged</li>",
              f"<li><strong>{s.blocked}</strong> blocked</li>"]
    for status, count in sorted(s.by_status.items()):
        counts.append(f"<li>{escape(LABELS.get(status, status))}: <strong>{count}</strong></li>")
    body_rows = []
    for n, (clip, row) in enumerate(zip(report.clips, rows(report), strict=True), 1):
        rules = "".join(f'<code class="rule">{escape(r)}</code>' for r in clip.rules)
        nested = f"<small>in {escape(clip.nested_in)}</small>" if clip.nested_in else ""
        reason = f"<small>{escape(clip.description)}</small>" if clip.description else ""
        record = f'<small class="rec">record {escape(clip.record_id)}</small>' if clip.record_id else ""
        body_rows.append(
            f'<tr class="{"blocking" if clip.blocking else "clear"}" data-status="{escape(clip.status)}">'
            f'<td class="num">{n}</td><td class="tc">{escape(clip.timecode_in)}</td>'
            f'<td class="tc">{escape(clip.timecode_out)}</td><td>{escape(clip.track)}</td>'
            f'<td class="clip">{escape(clip.name)}{nested}{reason}{record}</td>'
            f'<td><span class="badge {_BADGE.get(clip.status, "warn")}">{escape(row[5])}</span></td>'
            f"<td>{rules}</td><td>{escape(row[8])}</td>"
            f'<td>{escape(row[9])}</td><td class="remedy">{escape(row[10])}</td></tr>'
        )
    head = "".join(f"<th>{escape(c)}</th>" for c in HTML_COLUMNS)
    cols = "".join(f'<col style="width:{w}%">' for w in HTML_WIDTHS)
    if body_rows:
        table = (f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
                 f"<tbody>{''.join(body_rows)}</tbody></table>")
    else:
        table = '<p class="empty">No tagged clips and no untagged AI media in this timeline.</p>'
    media = report.media
    notes = []
    unscanned = [part for part in (
        f"{media.offline} clip(s) with offline media" if media.offline else "",
        f"{media.missing_reference} clip(s) without a media reference" if media.missing_reference else "",
    ) if part]
    if unscanned:
        notes.append(f"Not scanned for AI provenance: {' and '.join(unscanned)}.")
    if media.generator:
        notes.append(f"{media.generator} generator clip(s) (titles, mattes, bars) have no media to scan.")
    notes.extend(report.notes)
    notes_html = "".join(f"<li>{escape(n)}</li>" for n in notes)
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GenAI clearance: {escape(report.timeline)}</title>
<style>{_CSS}</style></head>
<body><main>
<header><div><h1>GenAI clearance shot list: {escape(report.timeline)}</h1>
<p class="sub">Every clip tagged with a GenAI use record, and untagged clips whose media carries
AI provenance.</p></div>
<div class="verdict {escape(report.verdict)}">{verdict}</div></header>
<dl class="facts">{_fact("Production", report.production)}{_fact("Timeline", report.timeline)}
{_fact("Generated", generated)}{_fact("Policy version", report.policy_version)}
{_fact("Source file", report.source)}{_fact("Frame rate", f"{report.rate:g} fps")}
{_fact("Clips checked", str(s.clips))}{_fact("Blocked clips", str(s.blocked))}</dl>
<ul class="counts">{''.join(counts)}</ul>
{table}
<footer>Timecodes are record timecodes; out is exclusive, as in an EDL. Made by Clearance (`clearance check`).
{f"<ul>{notes_html}</ul>" if notes_html else ""}</footer>
</main></body></html>
"""


def write_report(report: CheckReport, path: str | Path) -> Path:
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in {".html", ".htm"}:
        text = to_html(report)
    elif suffix == ".csv":
        text = to_csv(report)
    else:
        raise ClearanceError(f"{p}: a report is .html or .csv; got '{suffix or 'no suffix'}'")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise ClearanceError(f"{p}: cannot write the report: {exc.strerror}") from None
    return p
