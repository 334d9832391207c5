"""Build one production's delivery packet from a source, an optional cut, and the vendor's signing identity."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from clearance.credentials.identity import SigningIdentity
from clearance.packet import assess, bundle, render
from clearance.packet.sources import PacketSource


@dataclass
class BuiltPacket:
    folder: Path
    uses: int
    shots: int | None
    untagged_ai: int
    deep_fakes: int
    pdf: bool
    notes: list[str]


def cut_report(cut: Path, policy: Any, records_dirs: list[Path], scan_media: bool = True) -> Any:
    """The editorial check's reading of the cut: the same clips, tags and untagged AI media `clearance check` sees.

    Clips reported as untagged AI media get their media's location (the check names only its kind), so the
    packet says which file to look at.
    """
    from clearance.editorial.check import CheckOptions, check_timeline
    from clearance.editorial.tagging import iter_clips
    from clearance.editorial.timeline_io import read_timeline

    options = CheckOptions(policy=policy, records_dirs=records_dirs, scan_media=scan_media, source=str(cut),
                           base_dir=cut.resolve().parent)
    timeline = read_timeline(cut)
    report = check_timeline(timeline, options)
    untagged = {c.name for c in report.clips if c.status == "untagged_ai"}
    if untagged:
        found: dict[str, list[str]] = {}
        for clip in iter_clips(timeline):
            if clip.name in untagged:
                url = getattr(clip.media_reference, "target_url", None) or getattr(
                    clip.media_reference, "target_url_base", None)
                if url:
                    found.setdefault(clip.name, []).append(unquote(str(url)).removeprefix("file://"))
        for clip in report.clips:
            if clip.status == "untagged_ai" and found.get(clip.name):
                clip.media = f"{clip.media}: {', '.join(dict.fromkeys(found[clip.name]))}"
    return report


def build_packet(
    source: PacketSource, out: Path, identity: SigningIdentity, *, report: Any | None = None,
    cut_name: str | None = None, pdf: bool = True,
) -> BuiltPacket:
    generated = bundle.now()
    uses = assess.uses(source, generated)
    by_id = {u.record_id: u for u in uses}
    shots = assess.shots(report, by_id) if report is not None else None
    notes = list(source.notes)
    if report is not None:
        unknown = sorted({c.record_id for s in shots or [] for c in s.clips
                          if c.record_id and c.record_id not in by_id})
        if unknown:
            notes.append(f"the cut carries {len(unknown)} record id(s) the packet's source does not hold, e.g. "
                         f"{unknown[0]}: submit them, or build from the service")
    html = render.register_html(source.production, generated.isoformat(), source.origin, uses, shots, cut_name, notes,
                                identity.subject + (" (TEST identity, not for delivery)" if identity.test else ""))
    with tempfile.TemporaryDirectory(prefix="clearance-packet-") as work:
        pdf_path: Path | None = None
        if pdf:
            html_path = Path(work) / "register.html"
            html_path.write_text(html, encoding="utf-8")
            pdf_path = Path(work) / "register.pdf"
            render.print_pdf(html_path, pdf_path)
        bundle.write_packet(
            out, production=source.production, generated_at=generated, origin=source.origin,
            records=source.records, decisions=source.decisions, approvals=source.approvals,
            revocations=source.revocations, keys=source.keys, checkpoint=source.checkpoint, notes=notes, html=html,
            pdf=pdf_path, uses=uses, shots=shots, identity=identity,
        )
    return BuiltPacket(
        folder=out, uses=len(uses), shots=len(shots) if shots is not None else None,
        untagged_ai=sum(len(s.untagged_ai) for s in shots or []),
        deep_fakes=sum(1 for s in shots or [] if s.assessment and s.assessment.deep_fake == "yes"),
        pdf=pdf, notes=notes,
    )
