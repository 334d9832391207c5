"""Walk a timeline once: every clip with its top-level track and its place on the record timeline.

Each composition's child ranges come from one ``range_of_all_children()`` call (``range_in_parent()``
per clip is quadratic in the track length). Nested stacks and tracks compose their offsets, minus the
nested composition's own trim. Transitions overlap their neighbours and take no time; gaps are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Placed:
    """A clip and where it sits on the record timeline (start includes the timeline's start time)."""

    clip: Any
    found: Any
    index: int
    track: str
    track_kind: str
    start: Any  # RationalTime
    duration: Any  # RationalTime
    nested_in: str
    hidden: bool = False
    unknown_length: bool = False


def _ranges(composition: Any, otio: Any) -> tuple[Any, set[int]]:
    """Child ranges in one call; when OTIO cannot compute one (a clip with no source range whose media
    has no available range), place the children by hand and report those clips as of unknown length."""
    try:
        return composition.range_of_all_children(), set()
    except Exception:
        pass
    zero = otio.opentime.RationalTime(0, 24)
    ranges: dict[Any, Any] = {}
    unknown: set[int] = set()
    cursor = zero
    stacked = isinstance(composition, otio.schema.Stack)
    for child in composition:
        if isinstance(child, otio.schema.Transition):
            ranges[child] = otio.opentime.TimeRange(cursor, zero)
            continue
        try:
            duration = child.duration()
        except Exception:
            duration = otio.opentime.RationalTime(0, cursor.rate)
            unknown.add(id(child))
        start = zero if stacked else cursor
        ranges[child] = otio.opentime.TimeRange(start, duration)
        if not stacked:
            cursor = cursor + duration
    return ranges, unknown


def track_labels(timeline: Any) -> list[tuple[Any, str, str]]:
    """(track, label, kind) per top-level track; unnamed tracks are labelled V1, V2, A1... as editors do."""
    counts: dict[str, int] = {}
    out = []
    for track in timeline.tracks:
        kind = str(getattr(track, "kind", "") or "Video")
        letter = "A" if kind.lower().startswith("audio") else "V"
        counts[letter] = counts.get(letter, 0) + 1
        label = track.name or f"{letter}{counts[letter]}"
        out.append((track, label, kind))
    return out


def _on_screen(start: Any, duration: Any, window: tuple[Any, Any]) -> tuple[Any, Any, bool]:
    """(start, duration, hidden) of a clip inside a trimmed nested composition: only the part within the
    window is on screen; a clip wholly outside it sits, with no length, at the window's nearer edge."""
    end = start + duration
    lo, hi = window
    start_v = start if start > lo else lo
    end_v = end if end < hi else hi
    hidden = not end_v > start_v
    if hidden:
        start_v = end_v = hi if start >= hi else lo
    return start_v, end_v - start_v, hidden


def _narrowed(start: Any, duration: Any, window: tuple[Any, Any] | None) -> tuple[Any, Any]:
    """A nested composition's window: its own span, within its parent's window when it has one."""
    lo, hi = start, start + duration
    if window is not None:
        lo = lo if lo > window[0] else window[0]
        hi = hi if hi < window[1] else window[1]
    return lo, hi


def walk(
    timeline: Any, inspect: Callable[[Any], Any] | None = None, tally: list[int] | None = None
) -> Iterator[Placed]:
    """Clips in timeline order, placed. With ``inspect``, only clips for which it returns something
    other than None are placed (with its answer in ``found``): placing costs more than looking.
    ``tally[0]`` receives the number of clips seen."""
    import opentimelineio as otio

    clip_type = otio.schema.Clip
    composition_type = otio.core.Composition
    zero = otio.opentime.RationalTime(0, 1)
    global_start = timeline.global_start_time or zero
    counter = 0

    def place(composition: Any, origin: Any, label: str, kind: str, nested: str, window: Any) -> Iterator[Placed]:
        nonlocal counter
        ranges: Any = None  # computed on the first clip placed: most tracks of a cut have none to place
        unknown: set[int] = set()
        trim = composition.source_range
        shift = origin - trim.start_time if trim is not None else origin
        for child in composition:
            if isinstance(child, clip_type):
                counter += 1
                found = inspect(child) if inspect is not None else True
                if found is None:
                    continue
                if ranges is None:
                    ranges, unknown = _ranges(composition, otio)
                span = ranges[child]
                start = span.start_time + shift
                if window is None:
                    yield Placed(child, found, counter, label, kind, start, span.duration, nested,
                                 unknown_length=id(child) in unknown)
                    continue
                start_v, duration_v, hidden = _on_screen(start, span.duration, window)
                yield Placed(child, found, counter, label, kind, start_v, duration_v, nested, hidden,
                             id(child) in unknown)
            elif isinstance(child, composition_type):
                if ranges is None:
                    ranges, unknown = _ranges(composition, otio)
                span = ranges[child]
                inner = f"{nested} > {child.name}" if nested else (child.name or type(child).__name__)
                yield from place(child, span.start_time + shift, label, kind, inner,
                                 _narrowed(span.start_time + shift, span.duration, window))

    top = timeline.tracks
    top_trim = top.source_range
    top_origin = global_start - top_trim.start_time if top_trim is not None else global_start
    for track, label, kind in track_labels(timeline):
        yield from place(track, top_origin, label, kind, "", None)
    if tally is not None:
        tally[0] = counter  # every clip seen, placed or not


def walk_json(
    timeline: Any, inspect: Callable[[Any], Any] | None = None, tally: list[int] | None = None
) -> Iterator[Placed]:
    """``walk`` over a timeline read by ``otio_json`` (no OpenTimelineIO objects): the same places, computed
    with OpenTimelineIO's own RationalTime and TimeRange for every clip placed."""
    import opentimelineio as otio

    from .otio_json import JsonClip, JsonComposition, child_ranges

    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    zero = rt(0, 1)
    global_start = timeline.global_start_time or zero
    counter = 0

    def trim_of(node: JsonComposition) -> Any:
        if node.source_range is None:
            return None
        (sv, sr), (dv, dr) = node.source_range
        return tr(rt(sv, sr), rt(dv, dr))

    def place(composition: JsonComposition, origin: Any, label: str, kind: str, nested: str,
              window: Any) -> Iterator[Placed]:
        nonlocal counter
        ranges: Any = None
        trim = trim_of(composition)
        shift = origin - trim.start_time if trim is not None else origin
        for i, child in enumerate(composition.children):
            kind_of = type(child)
            if kind_of is JsonClip:
                counter += 1
                found = inspect(child) if inspect is not None else True
                if found is None:
                    continue
                if ranges is None:
                    ranges = child_ranges(composition)
                span = ranges[i]
                start = span.start_time + shift
                if window is None:
                    yield Placed(child, found, counter, label, kind, start, span.duration, nested)
                    continue
                start_v, duration_v, hidden = _on_screen(start, span.duration, window)
                yield Placed(child, found, counter, label, kind, start_v, duration_v, nested, hidden)
            elif kind_of is JsonComposition:
                if ranges is None:
                    ranges = child_ranges(composition)
                span = ranges[i]
                inner = f"{nested} > {child.name}" if nested else (child.name or child.schema)
                yield from place(child, span.start_time + shift, label, kind, inner,
                                 _narrowed(span.start_time + shift, span.duration, window))

    top_trim = trim_of(timeline.tracks)
    top_origin = global_start - top_trim.start_time if top_trim is not None else global_start
    for track, label, kind in track_labels(timeline):
        yield from place(track, top_origin, label, kind, "", None)
    if tally is not None:
        tally[0] = counter
