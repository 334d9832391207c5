"""GenAI items from a timeline, for the Pyblish publish gate (host ``editorial`` or ``resolve``).

One item per tagged clip (with its record, or the reason its tag cannot be read) and one per untagged
clip whose media is a file here, so the untagged-AI validator can scan it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clearance.items import GenAIItem
from clearance.record import Target

from .check import timecode
from .media import MediaInspector, MediaSummary
from .tagging import RawTag, RecordIndex, TagDecoder, parse_target, read_raw_tag
from .timeline_io import read_timeline
from .walk import walk


def _target(tag_target: str | None, clip_name: str) -> Target:
    parsed = parse_target(tag_target)
    if parsed is not None:
        try:
            return Target.model_validate({"kind": parsed[0], "ref": parsed[1]})
        except Exception:
            pass
    return Target(kind="clip", ref=clip_name or "(unnamed clip)")


def timeline_items(
    timeline: Any, *, host: str = "editorial", records_dirs: list[Path] | None = None, base_dir: Path | None = None,
) -> list[GenAIItem]:
    decoder = TagDecoder(RecordIndex(records_dirs or []), base_dir)
    inspector = MediaInspector(MediaSummary(), scan=False)
    start = timeline.global_start_time
    items: list[GenAIItem] = []
    for placed in walk(timeline):
        clip = placed.clip
        name = clip.name or "(unnamed clip)"
        rate = float(start.rate) if start is not None else float(placed.start.rate) or 24.0
        tc_in = timecode(placed.start, rate)
        extra = {"track": placed.track, "timecode_in": tc_in,
                 "timecode_out": timecode(placed.start + placed.duration, rate), "index": placed.index}
        handle = f"{placed.track}/{name}@{tc_in}"
        raw = read_raw_tag(clip)
        _kind, files = inspector.describe(clip)
        if isinstance(raw, RawTag):
            where = f"clip '{name}' on {placed.track} at {tc_in}"
            tag, record, error = decoder.decode(raw, where)
            items.append(GenAIItem(
                host=host, handle=handle, label=name, target=_target(tag.target_ref if tag else None, name),
                record=None if error else record, record_source=f"timeline {raw.source}", tag_error=error,
                family="editorial", files=files, deliverable=True, extra=extra,
            ))
        elif files:
            items.append(GenAIItem(
                host=host, handle=handle, label=name, target=Target(kind="clip", ref=name), files=files,
                family="editorial", deliverable=True, extra=extra,
            ))
    return items


def file_items(path: str | Path, *, host: str = "editorial", records_dirs: list[Path] | None = None,
               rate: float = 24.0) -> list[GenAIItem]:
    p = Path(path)
    return timeline_items(read_timeline(p, rate=rate), host=host, records_dirs=records_dirs,
                          base_dir=p.resolve().parent)
