"""Helpers for the editorial tests: records, the CLI in-process, signed approvals, and expected placements
computed independently of clearance.editorial (by summing the durations of the items before a clip)."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import opentimelineio as otio
import yaml
from records import CLEAN_ANSWERS, ENTERPRISE_TOOL
from vendored import timelines

from clearance.approvals import ApprovalStatement, KeyRing, SignedApproval
from clearance.cli.main import main
from clearance.record import UseRecord, decision_digest, dump_record


def shared_timelines() -> list[Path]:
    """Every vendored real timeline in tests/data: otio/, edl/, fcpxml/ (a missing one fails its test)."""
    return timelines()


NO_RISK = CLEAN_ANSWERS  # every yes/no question answered "no" (tests/records.py)
TOOL = ENTERPRISE_TOOL


def make_record(kind: str, production: str = "EXAMPLE_S01", **extra: Any) -> UseRecord:
    """notify (ideation), approval (final background: FINAL-DELIVERABLE), prohibited (fake archive footage)."""
    data: dict[str, Any] = {"id": str(uuid.uuid4()), "production": production, "tool": TOOL, **NO_RISK}
    if kind == "notify":
        data.update(description="mood board frames", use={"media": "image", "stage": "ideation",
                                                          "in_final_deliverable": "no"})
    elif kind == "approval":
        data.update(description="generated sky in the background", use={
            "media": "image", "stage": "final", "in_final_deliverable": "yes", "creative_element": "background",
            "prominence": "incidental"})
    elif kind == "prohibited":
        data.update(description="fabricated archive footage", use={
            "media": "video", "stage": "final", "in_final_deliverable": "yes", "content_type": "documentary"},
            realism={"depicts_real_people_or_events": "yes", "presented_as_authentic": "yes"})
    else:
        raise ValueError(kind)
    data.update(extra)
    return UseRecord.model_validate(data)


def write_record(folder: Path, record: UseRecord, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{record.id}.yaml")
    path.write_text(dump_record(record), encoding="utf-8")
    return path


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(*args: str | Path) -> Run:
    """`clearance ...` in this process (fast); the autouse fixture already isolates CLEARANCE_HOME."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Run(code, out.getvalue(), err.getvalue())


def read(path: Path, rate: float = 24.0) -> Any:
    if path.suffix == ".edl":
        return otio.adapters.read_from_string(path.read_text(encoding="utf-8", errors="replace"),
                                              adapter_name="cmx_3600", rate=rate)
    if path.suffix == ".xml":
        return otio.adapters.read_from_string(path.read_text(encoding="utf-8"), adapter_name="fcp_xml")
    return otio.adapters.read_from_file(str(path))


# --- expected placements, computed without clearance.editorial -------------------------------------------


@dataclass
class Expected:
    name: str
    pick: str  # NAME or NAME#N, what `clearance tag --clip` accepts
    track: str
    frame_in: int
    frame_out: int


def expected_clips(timeline: Any) -> tuple[list[Expected], float]:
    """Every clip in timeline order with its record frames: a running sum of the durations of the items
    before it (transitions take no time), nested compositions offset by their start and cut to their window."""
    start = timeline.global_start_time
    rows: list[tuple[str, str, float, float]] = []
    rate = start.rate if start is not None else None

    def first_rate(comp: Any) -> float | None:
        for clip in comp.find_clips():
            return clip.duration().rate
        return None

    if rate is None:
        rate = first_rate(timeline.tracks) or 24.0
    base = start.to_frames(rate) if start is not None else 0
    counts = {"V": 0, "A": 0}

    def visit(comp: Any, label: str, offset: float, lo: float | None, hi: float | None, stack: bool) -> None:
        trim = comp.source_range.start_time.rescaled_to(rate).value if comp.source_range is not None else 0.0
        cursor = offset - trim
        for item in comp:
            if isinstance(item, otio.schema.Transition):
                continue
            dur = item.duration().rescaled_to(rate).value
            item_start = offset - trim if stack else cursor
            item_end = item_start + dur
            if isinstance(item, otio.schema.Clip):
                a, b = item_start, item_end
                if lo is not None:
                    a, b = max(a, lo), min(b, hi)  # type: ignore[type-var]
                    if b < a:
                        a = b = hi if item_start >= hi else lo  # type: ignore[assignment]
                rows.append((item.name, label, a, b))
            elif isinstance(item, otio.core.Composition):
                nlo, nhi = item_start, item_end
                if lo is not None:
                    nlo, nhi = max(nlo, lo), min(nhi, hi)  # type: ignore[type-var]
                visit(item, label, item_start, nlo, nhi, isinstance(item, otio.schema.Stack))
            if not stack:
                cursor += dur

    for track in timeline.tracks:
        letter = "A" if str(track.kind).lower().startswith("audio") else "V"
        counts[letter] += 1
        visit(track, track.name or f"{letter}{counts[letter]}", base, None, None, False)
    totals: dict[str, int] = {}
    for name, *_ in rows:
        totals[name] = totals.get(name, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for name, label, a, b in rows:
        seen[name] = seen.get(name, 0) + 1
        pick = f"{name}#{seen[name]}" if totals[name] > 1 else name
        out.append(Expected(name, pick, label, round(a), round(b)))
    return out, float(rate)


def timecode(frames: int, rate: float) -> str:
    try:
        return str(otio.opentime.to_timecode(otio.opentime.RationalTime(frames, rate), rate))
    except Exception:
        return f"{frames}f"


# --- approvals -----------------------------------------------------------------------------------------


def sign(ring: KeyRing, record: UseRecord, *, expires_in: timedelta | None = timedelta(days=30),
         targets: list[str] | None = None) -> SignedApproval:
    now = datetime.now(timezone.utc)
    return ring.sign(ApprovalStatement(
        approval_id=f"APP-{uuid.uuid4().hex[:8]}", record_id=record.id, record_digest=decision_digest(record),
        production=record.production, targets=targets if targets is not None else [t.key() for t in record.targets],
        approver="sam.approver",
        issued_at=now - timedelta(hours=2),
        expires_at=(now + expires_in) if expires_in is not None else None,
    ))


def approvals_setup(tmp: Path, approvals: list[SignedApproval], ring: KeyRing) -> tuple[Path, Path]:
    """(policy file trusting the ring's keys, approvals folder with the approvals and a fresh revocation list)."""
    folder = tmp / "approvals"
    folder.mkdir(parents=True, exist_ok=True)
    for approval in approvals:
        (folder / f"{approval.approval_id}.json").write_text(approval.to_json(), encoding="utf-8")
    now = datetime.now(timezone.utc).isoformat()
    signed = ring.sign_document({"revocations": [], "generated_at": now})
    (folder / "revocations.json").write_text(json.dumps(signed), encoding="utf-8")
    keys = ring.public_keys_document()["keys"]
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump({"approvals": {"trusted_keys": [
        {"key_id": k["key_id"], "public_key": k["public_key"]} for k in keys]}}), encoding="utf-8")
    return policy, folder
