"""The packet's readable register: one self-contained HTML page (no scripts, no network), printed to PDF.

The PDF is printed by headless Chromium (the distribution's package), with networking and extensions off;
the page loads nothing from outside, so the PDF is the HTML, paginated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import Counter
from html import escape
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.packet.assess import ShotView, UseView

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 300.0

CSS = """
@page { size: A4 landscape; margin: 12mm 10mm; }
body { font: 10px/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; margin: 0 16px; }
h1 { font-size: 20px; margin: 12px 0 2px; } h2 { font-size: 15px; margin: 18px 0 6px; border-bottom: 2px solid #333; }
p.meta { color: #333; margin: 2px 0; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #999; padding: 3px 4px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #e8e8e8; } tr { break-inside: avoid; } thead { display: table-header-group; }
.ok { color: #0a5d1e; font-weight: bold; } .warn { color: #8a4b00; font-weight: bold; }
.bad { color: #a00000; font-weight: bold; } .id { font-family: "DejaVu Sans Mono", monospace; font-size: 9px; }
.summary td { border: none; padding: 1px 12px 1px 0; } .note { color: #444; }
.prompt { font-style: italic; white-space: pre-line; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _status_class(status: str) -> str:
    if status in ("approved", "not needed", "notified", "notify", "valid", "no"):
        return "ok"
    if status in ("waiting", "unsure", "approval_required", "missing"):
        return "warn"
    return "bad"


def _approval_cell(use: UseView) -> str:
    if use.outcome == "notify":
        return "not needed (notify)"
    if use.denial:
        return f'<span class="bad">denied</span>: {_e(use.denial)}'
    if not use.approvals:
        return '<span class="bad">none held</span>'
    parts = []
    for a in use.approvals:
        state = "valid" if a.state == "valid" else a.state.replace("_", " ")
        text = (f'<span class="{_status_class(a.state)}">{_e(state)}</span> by {_e(a.approver)}, '
                f"{_e(a.issued_at.replace('T', ' '))}")
        if a.expires_at:
            text += f"; expires {_e(a.expires_at.replace('T', ' '))}"
        if a.conditions:
            text += f"; conditions: {_e(a.conditions)}"
        text += f'<br><span class="id">{_e(a.approval_id)}</span>'
        if a.reason:
            text += f'<br><span class="note">{_e(a.reason)}</span>'
        parts.append(text)
    return "<br>".join(parts)


def _tools_cell(use: UseView) -> str:
    from clearance.credentials.uses import UseFacts
    from clearance.decision import Decision

    facts = UseFacts(record=use.record, decision=Decision(outcome="notify", findings=[]))
    out = []
    for tool, terms in zip(use.record.tools, facts.tool_terms(), strict=True):
        name = " ".join(x for x in (tool.name, tool.version or "") if x)
        words = [f"{k.replace('_', ' ')}: {v}" if k != "environment" else v.replace("_", " ")
                 for k, v in terms.items() if k != "name"]
        out.append(f"<b>{_e(name)}</b>" + (f" ({_e(tool.provider)})" if tool.provider else "")
                   + f'<br><span class="note">{_e("; ".join(words))}</span>')
    return "<br>".join(out) or "-"


def _consents(use: UseView) -> str:
    from clearance.credentials.uses import UseFacts
    from clearance.decision import Decision

    facts = UseFacts(record=use.record, decision=Decision(outcome="notify", findings=[]))
    refs = facts.consent_refs()
    return "<br>".join(_e(r) for r in refs) if refs else "-"


def _prompt(use: UseView) -> str:
    """The prompt where its record allows sharing it; a withheld one is named as such, never shown."""
    prompt = use.record.prompt
    shared = prompt.shared_text()
    if shared is not None:
        return f'<br><span class="prompt">Prompt: {_e(shared)}</span>'
    if prompt.withheld():
        return '<br><span class="note">Prompt: withheld (the record keeps it private to the studio)</span>'
    return ""


def register_html(
    production: str, generated_at: str, origin: str, uses: list[UseView], shots: list[ShotView] | None,
    cut_name: str | None, notes: list[str], signer: str,
) -> str:
    counts = Counter(u.status for u in uses)
    cleared = sum(1 for u in uses if u.cleared)
    rows = []
    for n, use in enumerate(uses, 1):
        r = use.record
        decision = _e(use.outcome.replace("_", " "))
        if use.rules:
            decision += f'<br><span class="note">{_e(", ".join(use.rules))}</span>'
        rows.append(
            f"<tr><td>{n}</td><td>{_e(r.description or '-')}{_prompt(use)}"
            f"<br><span class=\"id\">{_e(use.record_id)}</span></td>"
            f"<td>{_e(r.vendor or '-')}<br>{_e(r.declared_by or '')}</td>"
            f"<td>{_e(r.use.media)}, {_e(r.use.stage)}<br>{_e(', '.join(t.key() for t in r.targets) or '-')}</td>"
            f"<td>{_tools_cell(use)}</td><td>{decision}</td>"
            f'<td><span class="{_status_class(use.status)}">{_e(use.status)}</span></td>'
            f"<td>{_approval_cell(use)}</td><td>{_consents(use)}</td></tr>"
        )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>GenAI delivery packet - {_e(production)}</title><style>{CSS}</style></head><body>",
        f"<h1>GenAI delivery packet: {_e(production)}</h1>",
        f'<p class="meta">Generated {_e(_when(generated_at))} by Clearance from {_e(origin)}. '
        f"Signed by {_e(signer)}.</p>",
        '<p class="meta">Check this packet offline: <code>clearance packet verify DIR</code> (every digest and '
        "signature in bundle/).</p>",
        '<table class="summary"><tr>'
        f"<td><b>{len(uses)}</b> GenAI uses</td><td><b>{cleared}</b> cleared to go out</td>"
        + "".join(f"<td>{_e(k)}: <b>{v}</b></td>" for k, v in sorted(counts.items()))
        + "</tr></table>",
    ]
    for note in notes:
        parts.append(f'<p class="note">Note: {_e(note)}</p>')
    parts += [
        "<h2>Register of GenAI uses</h2>",
        '<table><colgroup><col style="width:3%"><col style="width:16%"><col style="width:8%"><col style="width:10%">'
        '<col style="width:15%"><col style="width:9%"><col style="width:8%"><col style="width:21%">'
        '<col style="width:10%"></colgroup>',
        "<thead><tr><th>#</th><th>Use (record)</th><th>Vendor, declared by</th><th>Media, stage, targets</th>"
        "<th>Tools and terms</th><th>Decision</th><th>Status</th><th>Approval</th><th>Consent</th></tr></thead>",
        "<tbody>", *rows, "</tbody></table>",
    ]
    if shots is not None:
        parts += _shots_html(shots, cut_name or "the cut")
    else:
        parts += _uses_article_50(uses)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _shots_html(shots: list[ShotView], cut_name: str) -> list[str]:
    untagged = sum(len(s.untagged_ai) for s in shots)
    fakes = sum(1 for s in shots if s.assessment and s.assessment.deep_fake == "yes")
    unsure = sum(1 for s in shots if s.assessment and s.assessment.deep_fake == "unsure")
    out = [
        f"<h2>Per-shot map: {_e(cut_name)}</h2>",
        f'<p class="meta">{len(shots)} shots with GenAI uses or AI media; {untagged} clip(s) with AI media found '
        "untagged.</p>",
        '<table><colgroup><col style="width:12%"><col style="width:14%"><col style="width:44%">'
        '<col style="width:30%"></colgroup>',
        "<thead><tr><th>Shot</th><th>Record in - out</th><th>Clips (track, in - out, status)</th><th>Uses</th>"
        "</tr></thead><tbody>",
    ]
    for shot in shots:
        clips = "<br>".join(
            f"{_e(c.name)} ({_e(c.track)}, {_e(c.timecode_in)} - {_e(c.timecode_out)}, "
            f'<span class="{_status_class(c.status)}">{_e(c.status.replace("_", " "))}</span>)'
            + (f'<br><span class="note">media: {_e(c.media)}</span>' if c.status == "untagged_ai" else "")
            for c in shot.clips)
        ids = "<br>".join(f'<span class="id">{_e(r)}</span>' for r in shot.record_ids) or "-"
        out.append(f"<tr><td>{_e(shot.shot)}</td><td>{_e(shot.timecode_in)} - {_e(shot.timecode_out)}</td>"
                   f"<td>{clips}</td><td>{ids}</td></tr>")
    out.append("</tbody></table>")
    out += [
        "<h2>EU AI Act Article 50: assessment per shot</h2>",
        f'<p class="meta">{fakes} shot(s) assessed as deep fakes, {unsure} unsure. {ARTICLE_50_NOTE}</p>',
        '<table><colgroup><col style="width:12%"><col style="width:9%"><col style="width:44%">'
        '<col style="width:35%"></colgroup>',
        "<thead><tr><th>Shot</th><th>Deep fake</th><th>Why</th><th>Suggested disclosure</th></tr></thead><tbody>",
    ]
    for shot in shots:
        a = shot.assessment
        if a is None:
            continue
        out.append(f'<tr><td>{_e(shot.shot)}</td><td><span class="{_status_class(a.deep_fake)}">'
                   f"{_e(a.deep_fake)}</span></td><td>{_e(a.why)}</td><td>{_e(a.disclosure or '-')}</td></tr>")
    out.append("</tbody></table>")
    return out


def _when(iso: str) -> str:
    """2026-11-30T13:18:57+00:00 -> 2026-11-30 13:18 UTC (as people read times)."""
    return iso[:16].replace("T", " ") + " UTC" if iso.endswith("+00:00") else iso


ARTICLE_50_NOTE = ("Article 50(4): deep fakes are disclosed; in an evidently artistic or fictional work, in a way "
                   "that does not hamper the work. A suggestion for the people who sign the delivery off, not a "
                   "legal opinion.")


def _uses_article_50(uses: list[UseView]) -> list[str]:
    """Without a cut there are no shots: the assessment per use, so the deep fakes are listed all the same."""
    from clearance.packet.assess import assess

    rows = []
    for use in uses:
        a = assess([use])
        if a.deep_fake == "no":
            continue
        rows.append(f"<tr><td>{_e(use.record.description or use.record_id)}<br><span class=\"id\">"
                    f"{_e(use.record_id)}</span></td><td><span class=\"{_status_class(a.deep_fake)}\">"
                    f"{_e(a.deep_fake)}</span></td><td>{_e(a.why)}</td><td>{_e(a.disclosure or '-')}</td></tr>")
    out = ["<h2>EU AI Act Article 50: assessment per use</h2>",
           '<p class="meta">No cut was given (<code>--cut CUT</code> maps uses to shots). '
           f"{len(rows)} use(s) may be deep fakes; the others are not. {ARTICLE_50_NOTE}</p>"]
    if rows:
        out += ['<table><colgroup><col style="width:25%"><col style="width:9%"><col style="width:36%">'
                '<col style="width:30%"></colgroup>',
                "<thead><tr><th>Use</th><th>Deep fake</th><th>Why</th><th>Suggested disclosure</th></tr></thead>"
                "<tbody>", *rows, "</tbody></table>"]
    return out


def chromium() -> str | None:
    override = os.environ.get("CLEARANCE_CHROMIUM")
    if override:
        return override
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML to PDF with headless Chromium, offline; one-line error when it cannot."""
    browser = chromium()
    if browser is None:
        raise ClearanceError("no Chromium found to print the PDF: install Debian's chromium (or set "
                             "CLEARANCE_CHROMIUM), or build with --no-pdf")
    with tempfile.TemporaryDirectory(prefix="clearance-pdf-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--metrics-recording-only", "--no-pings",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ClearanceError(f"Chromium did not print {pdf_path.name} within {PDF_TIMEOUT_S:.0f} s; "
                                 "build with --no-pdf and print the HTML") from None
        except OSError as exc:
            raise ClearanceError(f"{browser}: cannot run Chromium ({exc.strerror}); build with --no-pdf") from None
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ClearanceError(f"Chromium could not print the PDF (exit {done.returncode})"
                             + (f": {said[-1][:200]}" if said else "") + "; build with --no-pdf")
