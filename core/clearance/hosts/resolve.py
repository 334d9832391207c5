"""Where Clearance data lives in a DaVinci Resolve timeline: a marker on each tagged timeline item.

Shared by the Resolve scripts (plugins/resolve) and their tests. Only Resolve's scripting objects are
touched (passed in; nothing is imported from Resolve here), with the calls of Blackmagic's scripting
README (v20): ``TimelineItem.AddMarker/GetMarkers/DeleteMarkerAtFrame/SetClipColor``,
``Timeline.GetTrackCount/GetItemListInTrack/GetCurrentVideoItem``.

The marker is named ``CLEARANCE <record id> <digest>`` (as the editorial tagger names it), its note is
``CLEARANCE {tag JSON}`` and its customData is the tag JSON. Resolve's OTIO export keeps the note
(``metadata.Resolve_OTIO.Note``) but drops customData, so the note is what the editorial check reads
after an export; customData is what these scripts read first inside Resolve.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from clearance.errors import ClearanceError
from clearance.record import Target
from clearance.tags import MARKER_NAME, Tag, decode_tag, encode_tag

HOST = "resolve"
COMMENT_PREFIX = MARKER_NAME + " "
DIGEST_REF_HEX = 16
# Resolve's marker palette has no orange or magenta; its clip palette has no red (README v20 lists both).
MARKER_COLOUR: dict[str, str] = {
    "notify": "Green",
    "approved": "Cyan",
    "approval_required": "Yellow",
    "denied": "Red",
    "prohibited": "Red",
    "invalid": "Fuchsia",
}
CLIP_COLOUR: dict[str, str] = {
    "notify": "Green",
    "approved": "Teal",
    "approval_required": "Orange",
    "denied": "Pink",
    "prohibited": "Pink",
    "invalid": "Purple",
}
CLIP_COLOURS = (
    "Orange",
    "Apricot",
    "Yellow",
    "Lime",
    "Olive",
    "Green",
    "Teal",
    "Navy",
    "Blue",
    "Purple",
    "Violet",
    "Pink",
    "Tan",
    "Beige",
    "Brown",
    "Chocolate",
)


def marker_name(tag: Tag) -> str:
    return f"{MARKER_NAME} {tag.record_id} {tag.digest.split(':', 1)[-1][:DIGEST_REF_HEX]}"


def item_label(item: Any) -> str:
    track = ""
    try:
        kind, index = item.GetTrackTypeAndIndex()
        track = f" on {'V' if kind == 'video' else kind[:1].upper()}{index}"
    except Exception:  # before Resolve 19 there is no GetTrackTypeAndIndex
        pass
    return f"clip '{item.GetName()}'{track}"


def item_target(item: Any) -> Target:
    return Target(kind="clip", ref=item.GetName() or "(unnamed clip)")


def media_path(item: Any) -> str:
    media = item.GetMediaPoolItem()
    if media is None:
        return ""
    return str(media.GetClipProperty("File Path") or "")


def clearance_marker(item: Any) -> tuple[float, dict[str, Any]] | None:
    """The item's Clearance marker as (frame, info), or None."""
    markers = item.GetMarkers() or {}
    for frame, info in sorted(markers.items()):
        if str(info.get("name", ""))[: len(MARKER_NAME)].upper() == MARKER_NAME:
            return frame, info
    return None


def read_item_tag(item: Any) -> Tag | None:
    """The item's tag (customData first, then the note); ClearanceError naming the clip when broken."""
    found = clearance_marker(item)
    if found is None:
        return None
    _, info = found
    text = str(info.get("customData") or "").strip()
    if not text:
        text = str(info.get("note") or "").strip()
        if text[: len(COMMENT_PREFIX)].upper() == COMMENT_PREFIX:
            text = text[len(COMMENT_PREFIX) :].strip()
    if not text:
        raise ClearanceError(f"Resolve {item_label(item)}: the CLEARANCE marker holds no tag; tag the clip again")
    return decode_tag(text, f"Resolve {item_label(item)}")


def remove_item_tag(item: Any) -> bool:
    """Delete every CLEARANCE marker of the item. Bounded: DeleteMarkerAtFrame answers False when Resolve
    refuses (README: "--> Bool"), and a refusal is reported instead of retried forever."""
    removed = False
    for _ in range(len(item.GetMarkers() or {}) + 1):
        found = clearance_marker(item)
        if found is None:
            return removed
        if not item.DeleteMarkerAtFrame(found[0]):
            raise ClearanceError(
                f"Resolve {item_label(item)}: Resolve refused to delete the CLEARANCE marker at frame {found[0]:g} "
                "(is the track locked?); unlock the track or delete the marker by hand, then run again"
            )
        removed = True
    raise ClearanceError(f"Resolve {item_label(item)}: CLEARANCE markers keep coming back; delete them by hand")


def write_item_tag(item: Any, tag: Tag, status: str | None) -> float:
    """Replace the item's Clearance marker with ``tag`` and colour the clip by ``status``. Returns the frame."""
    remove_item_tag(item)
    text = encode_tag(tag)
    colour = MARKER_COLOUR.get(status or "approval_required", "Yellow")
    first = int(item.GetLeftOffset() or 0)
    occupied = set((item.GetMarkers() or {}).keys())
    for frame in range(first, first + max(1, int(item.GetDuration() or 1))):
        if float(frame) in occupied:
            continue
        if item.AddMarker(frame, colour, marker_name(tag), COMMENT_PREFIX + text, 1, text):
            break
    else:
        raise ClearanceError(
            f"Resolve {item_label(item)}: Resolve refused the CLEARANCE marker (every frame holds a marker?)"
        )
    if status in CLIP_COLOUR:
        item.SetClipColor(CLIP_COLOUR[status])
    return float(frame)


@dataclass(frozen=True)
class Edition:
    """Which Resolve runs the script, and what that edition lets a script do."""

    product: str
    version: tuple[int, ...]
    how: str

    @property
    def studio(self) -> bool:
        return "studio" in self.product.lower()

    @property
    def label(self) -> str:
        number = ".".join(str(v) for v in self.version) if self.version else "version unknown"
        return f"{self.product or 'DaVinci Resolve (edition unknown)'} {number}"

    def window_refused(self) -> str | None:
        """Why no script window can be shown here, or None. The free edition blocks script UI windows from
        19.1; an edition or version that cannot be read is treated as the most limited one."""
        if self.studio:
            return None
        if not self.product or not self.version:
            return f"{self.label}: edition or version unreadable ({self.how}), so no window is tried"
        if self.version[:2] >= (19, 1):
            return f"{self.label}: the free edition shows no script windows from 19.1 (DaVinci Resolve Studio does)"
        return None


def _version_numbers(values: Any) -> tuple[int, ...]:
    numbers = []
    for value in list(values)[:3]:
        text = str(value).strip()
        if not text.isdigit():
            break
        numbers.append(int(text))
    return tuple(numbers)


def edition_of(resolve: Any) -> Edition:
    """Product and version from GetProductName / GetVersion, falling back to GetVersionString; says how."""
    how: list[str] = []
    product = ""
    try:
        product = str(resolve.GetProductName() or "")
    except Exception as exc:  # older builds lack the call; some raise instead of returning None
        how.append(f"GetProductName failed: {type(exc).__name__}")
    version: tuple[int, ...] = ()
    try:
        version = _version_numbers(resolve.GetVersion() or [])
    except Exception as exc:
        how.append(f"GetVersion failed: {type(exc).__name__}")
    if not version:
        try:
            version = _version_numbers(re.split(r"[.\s]", str(resolve.GetVersionString() or "")))
            how.append("version from GetVersionString")
        except Exception as exc:
            how.append(f"GetVersionString failed: {type(exc).__name__}")
    return Edition(product=product, version=version, how="; ".join(how) or "GetProductName and GetVersion")


def video_items(timeline: Any) -> Iterator[tuple[int, Any]]:
    for index in range(1, int(timeline.GetTrackCount("video") or 0) + 1):
        for item in timeline.GetItemListInTrack("video", index) or []:
            yield index, item


def choose_items(timeline: Any, scope: str) -> list[Any]:
    """``current`` (the clip under the playhead), ``all`` (every video clip), ``colour:<Name>`` (clips of a
    clip colour: Resolve's scripting API cannot read the selection, so editors colour the clips to tag)."""
    if scope == "current":
        item = timeline.GetCurrentVideoItem()
        return [item] if item is not None else []
    if scope == "all":
        return [item for _, item in video_items(timeline)]
    if scope.startswith("colour:"):
        wanted = scope.split(":", 1)[1].strip().lower()
        return [item for _, item in video_items(timeline) if str(item.GetClipColor() or "").lower() == wanted]
    raise ClearanceError(f"unknown clip choice '{scope}': use current, all or colour:<clip colour>")


def rate_of(timeline: Any) -> float:
    try:
        return float(timeline.GetSetting("timelineFrameRate") or 24.0)
    except (TypeError, ValueError):
        return 24.0


def timecode_frames(text: str, rate: float) -> int:
    """``01:00:00:00`` (or drop-frame ``01:00:00;00``) as a frame count; 0 for anything else."""
    parts = re.split(r"[:;]", str(text or "").strip())
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return 0
    hours, minutes, seconds, frames = (int(p) for p in parts)
    return ((hours * 60 + minutes) * 60 + seconds) * round(rate) + frames


def source_start(item: Any, rate: float) -> int:
    """Where the item's media starts in source time: its Start TC, as Resolve's OTIO export counts it."""
    media = item.GetMediaPoolItem()
    if media is None:
        return 0
    return timecode_frames(str(media.GetClipProperty("Start TC") or ""), rate)


TRACK_KINDS = (("video", "V"), ("audio", "A"))


def timeline_from_items(timeline: Any) -> Any:
    """An OTIO timeline built by walking the tracks: what Resolve's OTIO export would hold for Clearance
    (clips with their source timecode, media paths, CLEARANCE markers with the tag in the note, audio
    tracks too). Used when Export fails or is unavailable."""
    import opentimelineio as otio

    rate = rate_of(timeline)
    start = int(timeline.GetStartFrame() or 0)
    out = otio.schema.Timeline(name=timeline.GetName())
    out.global_start_time = otio.opentime.RationalTime(start, rate)
    for kind, prefix in TRACK_KINDS:
        otio_kind = otio.schema.TrackKind.Video if kind == "video" else otio.schema.TrackKind.Audio
        for index in range(1, int(timeline.GetTrackCount(kind) or 0) + 1):
            track = otio.schema.Track(name=f"{prefix}{index}", kind=otio_kind)
            cursor = start
            for item in timeline.GetItemListInTrack(kind, index) or []:
                if item.GetStart() > cursor:
                    track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(item.GetStart() - cursor, rate)))
                track.append(_walked_clip(otio, item, rate))
                cursor = item.GetEnd()
            out.tracks.append(track)
    return out


def _walked_clip(otio: Any, item: Any, rate: float) -> Any:
    path = media_path(item)
    reference = otio.schema.ExternalReference(target_url=path) if path else otio.schema.MissingReference()
    offset = source_start(item, rate)
    clip = otio.schema.Clip(
        name=item.GetName(),
        media_reference=reference,
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(offset + int(item.GetLeftOffset() or 0), rate),
            otio.opentime.RationalTime(int(item.GetDuration()), rate),
        ),
    )
    for frame, info in sorted((item.GetMarkers() or {}).items()):
        note = str(info.get("note") or "")
        custom = str(info.get("customData") or "")
        is_ours = str(info.get("name", ""))[: len(MARKER_NAME)].upper() == MARKER_NAME
        comment = (COMMENT_PREFIX + custom) if (is_ours and custom) else note
        clip.markers.append(
            otio.schema.Marker(
                name=str(info.get("name", "")),
                marked_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(offset + frame, rate),
                    otio.opentime.RationalTime(float(info.get("duration", 1)), rate),
                ),
                comment=comment,
                metadata={"Resolve_OTIO": {"Note": note}},
            )
        )
    return clip
