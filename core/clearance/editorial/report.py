"""The shot list an editor hands on to the studio contact: HTML (screen and print) and CSV.

Both carry what ``clearance check`` prints: per record, its status, rule codes, the reasons (a denial's
reason first), the remedy, and the approval (id, approver, expiry, conditions); per clip, record and source
timecodes, track, reel or tape name and any note about the clip; for untagged AI media, the file and the
provenance found in it. Clips are grouped by record (same record, same target, same answer), blocked
groups first; groups that only notify are folded.

Size and speed: a group's text is written once, not once per clip, and a clip row is six ``<p>`` cells
in a CSS grid (HTML closes a ``<p>`` by itself), so 10,000 clips stay under 1 MB. Clips come in blocks of
``CHUNK`` that the browser lays out only when they scroll into view (``content-visibility: auto``), so a
long report opens at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from clearance.errors import ClearanceError

from .check import LABELS, ApprovalInfo, CheckReport, ClipResult

# Strictest first: the order groups are listed in.
SEVERITY = ("prohibited", "denied", "invalid", "untagged_ai", "approval_required", "approved", "notify")

CSV_COLUMNS = (
    "Group", "Status", "Record", "Description", "Rule codes", "Other rule codes", "Reasons", "Remedy",
    "Approval", "Approver", "Approval expires", "Conditions", "Evidence", "Media file",
    "#", "Timecode in", "Timecode out", "Track", "Clip", "Source in", "Source out", "Reel", "Clip note",
)
CLIP_COLUMNS = ("#", "Timecode in", "Timecode out", "Track", "Clip", "Source in", "Source out", "Reel")

_BADGE = {
    "notify": "ok", "approved": "ok", "approval_required": "warn", "denied": "bad",
    "prohibited": "bad", "invalid": "bad", "untagged_ai": "bad",
}


@dataclass
class Group:
    """Clips that share one answer: the same record, target, status, approval and reasons."""

    number: int
    status: str
    record_id: str
    description: str
    target: str
    rules: list[str]
    other_rules: list[str]
    reasons: list[str]
    remedy: str
    approval: ApprovalInfo | None
    evidence: str
    media_path: str
    clips: list[ClipResult] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def blocking(self) -> bool:
        return bool(self.clips and self.clips[0].blocking)

    @property
    def folded(self) -> bool:
        return self.status == "notify"


def _where(clip: ClipResult) -> str:
    return f"clip '{clip.name}' on {clip.track} at {clip.timecode_in}: "


def _group_reasons(clip: ClipResult) -> list[str]:
    """The clip's reasons that hold for its whole group: without its own notes and its own place."""
    own = set(clip.clip_notes)
    where = _where(clip)
    return [r.removeprefix(where) for r in clip.reasons if r not in own]


def groups(report: CheckReport) -> list[Group]:
    """The report's clips grouped by answer, strictest first, then in timeline order."""
    found: dict[tuple[object, ...], Group] = {}
    for clip in report.clips:
        reasons = _group_reasons(clip)
        approval = clip.approval
        key = (
            clip.status, clip.record_id or "", tuple(reasons), clip.remedy,
            approval.model_dump_json() if approval is not None else "", clip.evidence,
            clip.media_path if clip.status == "untagged_ai" else "",
        )
        group = found.get(key)
        if group is None:
            group = Group(
                number=0, status=clip.status, record_id=clip.record_id or "", description=clip.description,
                target=clip.target or "", rules=list(clip.rules), other_rules=list(clip.other_rules),
                reasons=reasons, remedy=clip.remedy, approval=approval, evidence=clip.evidence,
                media_path=clip.media_path if clip.status == "untagged_ai" else "",
            )
            found[key] = group
        elif group.target != (clip.target or ""):
            group.target = ""  # the record covers several targets here: each clip's own is its name or shot
        group.clips.append(clip)
    ordered = sorted(found.values(), key=lambda g: (SEVERITY.index(g.status), g.clips[0].index))
    for number, group in enumerate(ordered, 1):
        group.number = number
    return ordered


def _expires(info: ApprovalInfo) -> str:
    if info.expires_at:
        return info.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    return "no expiry" if info.approval_id else ""


def _approval(info: ApprovalInfo | None) -> str:
    """The approval in words: its id when valid, else why no approval holds."""
    if info is None:
        return ""
    if info.status == "not_needed":
        return "not needed"
    if info.status == "valid":
        return info.approval_id or "valid"
    from clearance.standing import LABELS as STANDING_LABELS

    label = "none held" if info.status == "missing" else STANDING_LABELS.get(info.status, info.status.replace("_", " "))
    return f"{info.approval_id} ({label})" if info.approval_id else label


def _clip_note(clip: ClipResult) -> str:
    parts = list(clip.clip_notes)
    if clip.nested_in:
        parts.insert(0, f"in {clip.nested_in}")
    return "; ".join(parts)


# --- CSV ------------------------------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a clip named ``=HYPERLINK(...)`` must not become a formula (OWASP
    "CSV Injection")."""
    return "'" + value if value.startswith(_FORMULA) else value


def report_notes(report: CheckReport) -> list[str]:
    """The notes under the shot list, as the terminal prints them: media not scanned, keys, records folders."""
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
    return notes


def to_csv(report: CheckReport) -> str:
    """One row per clip, in group order. The group's columns (status to media file) are written on its
    first row only, as a spreadsheet shows merged cells; the Group column ties every row to them. After the
    clips, a ``verdict`` row (the line `clearance check` ends with) and a ``note`` row per note."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for group in groups(report):
        info = group.approval
        head = [
            str(group.number), group.label, group.record_id, group.description, " ".join(group.rules),
            " ".join(group.other_rules), " | ".join(group.reasons), group.remedy, _approval(info),
            (info.approver or "") if info else "", _expires(info) if info else "", info.conditions if info else "",
            group.evidence, group.media_path,
        ]
        blank = [str(group.number)] + [""] * (len(head) - 1)
        head = [_cell(v) for v in head]
        for n, clip in enumerate(group.clips):
            writer.writerow([
                *(head if n == 0 else blank), str(clip.index), clip.timecode_in, clip.timecode_out,
                _cell(clip.track), _cell(clip.name), clip.source_in, clip.source_out, _cell(clip.reel),
                _cell(_clip_note(clip)),
            ])
    width = len(CSV_COLUMNS)
    writer.writerow(["verdict", "Deliverable" if report.verdict == "deliverable" else "Blocked", "", "",
                     "", "", _cell(report.summary_line())] + [""] * (width - 7))
    for note in report_notes(report):
        writer.writerow(["note", "", "", "", "", "", _cell(note)] + [""] * (width - 7))
    return buffer.getvalue()


# --- HTML -----------------------------------------------------------------------------------------------

_CSS = """
:root{--ink:#1d2330;--muted:#545d6e;--line:#d9dde5;--ok:#1a6b35;--okbg:#e3f4e8;--warn:#7a4200;--warnbg:#fff0d6;
--bad:#a3161b;--badbg:#fde4e4}
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);margin:0;
background:#f4f5f8}
main{max-width:1280px;margin:0 auto;padding:28px 32px 40px;background:#fff}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:flex-start;gap:16px 24px;
border-bottom:2px solid var(--ink);padding-bottom:14px;margin-bottom:18px}
h1{font-size:22px;margin:0 0 4px}
.sub{color:var(--muted);margin:0}
.verdict{font-size:15px;font-weight:700;padding:8px 16px;border-radius:6px;white-space:nowrap}
.verdict.deliverable{background:var(--okbg);color:var(--ok);border:1px solid var(--ok)}
.verdict.blocked{background:var(--badbg);color:var(--bad);border:1px solid var(--bad)}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:6px 24px;margin:0 0 18px}
dl.facts div{border-left:3px solid var(--line);padding-left:10px}
dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 18px;padding:0;list-style:none}
.counts li{border:1px solid var(--line);border-radius:16px;padding:3px 12px}
nav.toc{margin:0 0 18px;font-size:13px}
nav.toc ol{margin:4px 0 0;padding-left:22px;columns:2 360px}
.g{border:1px solid var(--line);border-radius:8px;margin:0 0 16px;padding:12px 14px}
.t{overflow-x:auto;content-visibility:auto;contain-intrinsic-size:auto 6000px}
.g.blocking{border-left:5px solid var(--bad)}
.g h2{font-size:15px;margin:0 0 6px;display:flex;flex-wrap:wrap;gap:6px 10px;align-items:baseline}
.g h2 .n{color:var(--muted);font-weight:400}
.rec{font-family:"SF Mono",Menlo,Consolas,monospace;font-size:12px;color:var(--muted);font-weight:400}
.desc{margin:0 0 6px}
dl.why{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:0 0 8px;font-size:13px}
dl.why dt{font-size:11px;padding-top:2px}
dl.why dd{font-weight:400}
dl.why ul{margin:0;padding-left:18px}
.badge{display:inline-block;padding:2px 9px;border-radius:10px;font-size:12px;font-weight:700;white-space:nowrap}
.badge.ok{background:var(--okbg);color:var(--ok)}
.badge.warn{background:var(--warnbg);color:var(--warn)}
.badge.bad{background:var(--badbg);color:var(--bad)}
code{background:#eef0f4;border-radius:4px;padding:1px 5px;font-size:11.5px;margin-right:3px}
details>summary{cursor:pointer;font-size:15px;font-weight:700;display:flex;flex-wrap:wrap;gap:6px 10px;
align-items:baseline}
.c{display:grid;grid-template-columns:7.6em 7.6em 4.6em minmax(10em,1fr) 7.6em minmax(6em,.45fr);
min-width:680px;font-size:12.5px}
.c>*{margin:0;padding:4px 6px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
.c>b{background:#eef0f4;border-bottom:2px solid #c4c9d3;font-size:11px;text-transform:uppercase;
letter-spacing:.03em;color:#3b4252}
.c>p:nth-child(6n+1),.c>p:nth-child(6n+2),.c>p:nth-child(6n+5){font-family:"SF Mono",Menlo,Consolas,monospace;
white-space:nowrap}
.c>p:nth-child(6n+4){font-weight:600}
.c small{display:block;font-weight:400;color:var(--muted)}
.empty{padding:22px;text-align:center;color:var(--muted);border:1px dashed var(--line);border-radius:6px}
footer{margin-top:22px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
footer ul{margin:6px 0 0;padding-left:18px}
@media (max-width:600px){main{padding:16px 12px}}
@media print{@page{size:A4 landscape;margin:12mm}body{background:#fff;font-size:11px}
main{max-width:none;padding:0}.t{content-visibility:visible}.c>*{break-inside:avoid}details:not([open])>*:not(summary){display:block}
.badge,.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

# The clip's position ("#") is in the CSV and the JSON; the page finds clips by timecode, as editors do.
HTML_CLIP_COLUMNS = ("In", "Out", "Track", "Clip", "Source in", "Reel")
# No ARIA table roles: a role="table" would need a role="row" element around every six cells.
_HEAD = "".join(f"<b>{c}</b>" for c in HTML_CLIP_COLUMNS)
CHUNK = 250  # clip rows per table: the browser lays out only the chunks on screen
TOC_MAX = 60  # more groups than this and a table of contents is longer than it helps


def _fact(label: str, value: str) -> str:
    return f"<div><dt>{escape(label)}</dt><dd>{escape(value) or '&mdash;'}</dd></div>"


def _clip_rows(clips: list[ClipResult]) -> str:
    out = []
    for c in clips:
        note = _clip_note(c)
        extra = f"<small>{escape(note)}</small>" if note else ""
        # A row is six <p> cells placed by a CSS grid: HTML closes each <p> itself, so a clip costs
        # about 90 bytes and 10,000 of them stay under 1 MB.
        out.append(f"<p>{c.timecode_in}<p>{c.timecode_out}<p>{escape(c.track)}"
                   f"<p>{escape(c.name)}{extra}<p>{c.source_in}<p>{escape(c.reel)}\n")
    return "".join(out)


def _tables(clips: list[ClipResult]) -> str:
    return "".join(
        f'<div class="t"><div class="c">{_HEAD}\n{_clip_rows(clips[i:i + CHUNK])}</div></div>'
        for i in range(0, len(clips), CHUNK)
    )


def _why(group: Group) -> str:
    items = []
    if group.rules:
        items.append("<dt>Rules</dt><dd>" + "".join(f"<code>{escape(r)}</code>" for r in group.rules)
                     + (f" (also {' '.join(escape(r) for r in group.other_rules)})" if group.other_rules else "")
                     + "</dd>")
    if group.media_path:
        items.append(f"<dt>File</dt><dd>{escape(group.media_path)}</dd>")
    if group.evidence:
        items.append(f"<dt>Found</dt><dd>{escape(group.evidence)}</dd>")
    if group.reasons:
        items.append("<dt>Why</dt><dd><ul>" + "".join(f"<li>{escape(r)}" for r in group.reasons) + "</ul></dd>")
    if group.remedy and group.status not in {"notify", "approved"}:
        items.append(f"<dt>Fix</dt><dd>{escape(group.remedy)}</dd>")
    info = group.approval
    if info is not None and info.status != "not_needed":
        parts = [escape(_approval(info))]
        if info.approver:
            parts.append(f"by {escape(info.approver)}")
        expires = _expires(info)
        if expires:
            parts.append(f"expires {escape(expires)}" if expires != "no expiry" else expires)
        items.append(f"<dt>Approval</dt><dd>{', '.join(parts)}</dd>")
        if info.conditions:
            items.append(f"<dt>Conditions</dt><dd>{escape(info.conditions)}</dd>")
    if group.target:
        items.append(f"<dt>Target</dt><dd>{escape(group.target)}</dd>")
    return f'<dl class="why">{"".join(items)}</dl>' if items else ""


def _title(group: Group) -> str:
    count = len(group.clips)
    badge = f'<span class="badge {_BADGE.get(group.status, "warn")}">{escape(group.label)}</span>'
    what = (f'<span class="rec">record {escape(group.record_id)}</span>' if group.record_id
            else f'<span class="rec">{escape(group.media_path or "no record")}</span>')
    return f'{badge}{what}<span class="n">{count} clip{"s" if count != 1 else ""}</span>'


def _group_html(group: Group) -> str:
    desc = f'<p class="desc">{escape(group.description)}</p>' if group.description else ""
    table = _tables(group.clips)
    classes = f'g{" blocking" if group.blocking else ""}'
    if group.folded:
        said = f'<span class="n">{escape(group.description)}</span>' if group.description else ""
        return (f'<details class="{classes}" id="g{group.number}"><summary>{_title(group)}{said}</summary>'
                f"{_why(group)}{table}</details>\n")
    return (f'<section class="{classes}" id="g{group.number}"><h2>{_title(group)}</h2>{desc}{_why(group)}{table}'
            "</section>\n")


def _toc(found: list[Group]) -> str:
    if len(found) < 2 or len(found) > TOC_MAX:
        return ""
    items = "".join(
        f'<li><a href="#g{g.number}">{escape(g.label)}: {escape(g.record_id or g.media_path or "no record")}</a>'
        f" ({len(g.clips)})" for g in found
    )
    return f"<nav class=\"toc\" aria-label=\"Groups\"><strong>{len(found)} groups</strong><ol>{items}</ol></nav>"


def to_html(report: CheckReport) -> str:
    s = report.summary
    verdict = "Deliverable" if report.verdict == "deliverable" else "Blocked"
    counts = [f"<li><strong>{s.clips}</strong> clips</li>", f"<li><strong>{s.tagged}</strong> tagged</li>",
              f"<li><strong>{s.blocked}</strong> blocked</li>"]
    for status, count in sorted(s.by_status.items(), key=lambda item: SEVERITY.index(item[0])):
        counts.append(f"<li>{escape(LABELS.get(status, status))}: <strong>{count}</strong></li>")
    found = groups(report)
    if found:
        body = _toc(found) + "".join(_group_html(g) for g in found)
    else:
        body = '<p class="empty">No tagged clips and no untagged AI media in this timeline.</p>'
    notes = report_notes(report)
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
AI provenance, grouped by record; blocked groups first.</p></div>
<div class="verdict {escape(report.verdict)}">{verdict}</div></header>
<dl class="facts">{_fact("Production", report.production)}{_fact("Timeline", report.timeline)}
{_fact("Generated", generated)}{_fact("Policy version", report.policy_version)}
{_fact("Source file", report.source)}{_fact("Frame rate", f"{report.rate:g} fps")}
{_fact("Clips checked", str(s.clips))}{_fact("Blocked clips", str(s.blocked))}</dl>
<ul class="counts">{''.join(counts)}</ul>
{body}
<footer>In and out are record timecodes, out exclusive as in an EDL; source in is the media's own timecode
(the CSV also gives source out). Groups that only notify the studio are folded.
Made by Clearance (<code>clearance check</code>).
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
