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

from collections.abc import Iterator
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
    removed = False
    while True:
        found = clearance_marker(item)
        if found is None:
            return removed
        item.DeleteMarkerAtFrame(found[0])
        removed = True


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


def timeline_from_items(timeline: Any) -> Any:
    """An OTIO timeline built by walking the video tracks: what Resolve's OTIO export would hold for
    Clearance (clips, media paths, CLEARANCE markers with the tag in the note). Used when Export fails."""
    import opentimelineio as otio

    rate = rate_of(timeline)
    start = int(timeline.GetStartFrame() or 0)
    out = otio.schema.Timeline(name=timeline.GetName())
    out.global_start_time = otio.opentime.RationalTime(start, rate)
    for index in range(1, int(timeline.GetTrackCount("video") or 0) + 1):
        track = otio.schema.Track(name=f"V{index}", kind=otio.schema.TrackKind.Video)
        cursor = start
        for item in timeline.GetItemListInTrack("video", index) or []:
            if item.GetStart() > cursor:
                track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(item.GetStart() - cursor, rate)))
            path = media_path(item)
            reference = otio.schema.ExternalReference(target_url=path) if path else otio.schema.MissingReference()
            clip = otio.schema.Clip(
                name=item.GetName(),
                media_reference=reference,
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(int(item.GetLeftOffset() or 0), rate),
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
                            otio.opentime.RationalTime(frame, rate),
                            otio.opentime.RationalTime(float(info.get("duration", 1)), rate),
                        ),
                        comment=comment,
                        metadata={"Resolve_OTIO": {"Note": note}},
                    )
                )
            track.append(clip)
            cursor = item.GetEnd()
        out.tracks.append(track)
    return out
