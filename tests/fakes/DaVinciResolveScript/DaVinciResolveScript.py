"""A faithful fake of Blackmagic's ``DaVinciResolveScript`` module: exactly the calls Clearance makes.

Signatures follow the scripting README shipped with DaVinci Resolve 20 (Developer/Scripting/README.txt;
mirrored at github.com/WheheoHu/bmd_doc docs/resolve_api):

- ``scriptapp("Resolve")`` -> Resolve; ``Resolve.GetProjectManager()``, ``Resolve.Fusion()``,
  the export constants ``EXPORT_OTIO`` / ``EXPORT_NONE``;
- ``ProjectManager.GetCurrentProject()``; ``Project.GetName()``, ``Project.GetCurrentTimeline()``;
- ``Timeline``: ``GetName()``, ``GetTrackCount(trackType)``, ``GetItemListInTrack(trackType, index)``
  (1-based index), ``GetCurrentVideoItem()``, ``GetStartFrame()``,
  ``GetSetting(settingName)``, ``Export(fileName, exportType, exportSubtype)`` -> Bool;
- ``TimelineItem``: ``GetName()``, ``GetStart()``, ``GetEnd()``, ``GetDuration()``, ``GetLeftOffset()``,
  ``GetMediaPoolItem()``, ``GetTrackTypeAndIndex()``,
  ``AddMarker(frameId, color, name, note, duration, customData)`` -> Bool (refuses an occupied frame or
  an unknown colour, as Resolve does), ``GetMarkers()`` -> {frameId: {color, duration, note, name,
  customData}}, ``DeleteMarkerAtFrame(frameNum)``, ``SetClipColor(colorName)``, ``GetClipColor()``,
  ``ClearClipColor()``;
- ``MediaPoolItem.GetClipProperty(propertyName)`` ("File Path").

``Timeline.Export(path, EXPORT_OTIO, EXPORT_NONE)`` writes a real OTIO file shaped like Resolve's own
export: one track per video track, clips with ``Resolve_OTIO`` metadata, clip markers as ``Marker.2`` with
name and colour and the note in ``metadata["Resolve_OTIO"]["Note"]``. Marker customData is NOT exported
(Resolve drops it), which is why Clearance puts the tag in the note as well.

Behaviours that are inconvenient, each from a public source:

- **Editions and versions.** ``GetProductName()`` is "DaVinci Resolve" or "DaVinci Resolve Studio",
  ``GetVersion()`` is ``[major, minor, patch, build, suffix]`` and ``GetVersionString()``
  "major.minor.patch.build" (scripting README, "Resolve"). External scripting (``scriptapp`` from a
  process outside Resolve) needs Studio: the free edition answers None (README, "Prerequisites": external
  access is set in Studio's Preferences > System > General). From 19.1 the free edition shows no script UI
  windows (users' reports, e.g. github.com/YourAverageMo/auto-silence-cut issue 3, "19.1 removed GUI ... from
  the free version"): ``Fusion().UIManager`` is None there. From 21.1 the free edition no longer lists
  scripts under Workspace > Scripts (``fake_scripts_listed``).
- **Export constants are opaque and distinct** (README, "Timeline.Export": EXPORT_AAF, EXPORT_DRT,
  EXPORT_EDL, EXPORT_FCP_7_XML, EXPORT_FCPXML_1_10, EXPORT_OTIO, ... and subtypes EXPORT_NONE,
  EXPORT_AAF_NEW, EXPORT_AAF_EXISTING, EXPORT_CDL, EXPORT_SDL, EXPORT_MISSING_CLIPS); no two share a value.
- **The OTIO export starts each clip at its media's start timecode** (the source timecode, "Start TC" in
  the clip properties), plus the left trim, and places clip markers in that same media time; audio tracks
  are exported as Audio tracks (Resolve's OTIO export, as read by ayon-resolve and otio's Resolve docs).
- **DeleteMarkerAtFrame returns False** when there is no marker at that frame, and when Resolve refuses
  (a marker on a locked track, ``fake_refuse_delete``); it never raises (README: "--> Bool").

``Fusion()`` returns None unless the test asks for a UI (``fake_enable_ui``): then ``Fusion().UIManager``
and ``UIDispatcher(ui)`` are a small recording model of Fusion's UI Manager (``AddWindow``,
``VGroup``, ``HGroup``, ``Label``, ``Button``, ``TextEdit``, ``ComboBox``, ``LineEdit``; ``window.Find``,
``window.On.<ID>.Clicked``, ``Show``, ``Hide``; ``RunLoop``/``ExitLoop``). Clicks are scripted with
``fake_clicks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MARKER_COLOURS = (
    "Blue",
    "Cyan",
    "Green",
    "Yellow",
    "Red",
    "Pink",
    "Purple",
    "Fuchsia",
    "Rose",
    "Lavender",
    "Sky",
    "Mint",
    "Lemon",
    "Sand",
    "Cocoa",
    "Cream",
)
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


class MediaPoolItem:
    def __init__(self, name: str, path: str, start_tc: str = "00:00:00:00") -> None:
        self._name, self._path, self._start_tc = name, path, start_tc

    def GetClipProperty(self, propertyName: str | None = None) -> Any:
        props = {"File Path": self._path, "Clip Name": self._name, "Start TC": self._start_tc}
        return props if propertyName is None else props.get(propertyName, "")


class TimelineItem:
    def __init__(
        self,
        name: str,
        start: int,
        duration: int,
        path: str = "",
        left_offset: int = 0,
        track: tuple[str, int] = ("video", 1),
        start_tc: str = "00:00:00:00",
    ) -> None:
        self._name = name
        self._start = start
        self._duration = duration
        self._left = left_offset
        self._markers: dict[float, dict[str, Any]] = {}
        self._colour = ""
        self._media = MediaPoolItem(name, path, start_tc) if path else None
        self._track = track
        self.fake_refuse_delete = False

    def GetName(self) -> str:
        return self._name

    def GetStart(self) -> int:
        return self._start

    def GetEnd(self) -> int:
        return self._start + self._duration

    def GetDuration(self) -> int:
        return self._duration

    def GetLeftOffset(self) -> int:
        return self._left

    def GetMediaPoolItem(self) -> MediaPoolItem | None:
        return self._media

    def GetTrackTypeAndIndex(self) -> list[Any]:
        return [self._track[0], self._track[1]]

    def AddMarker(
        self,
        frameId: float,
        color: str,
        name: str,
        note: str,
        duration: float,
        customData: str = "",
    ) -> bool:
        if color not in MARKER_COLOURS or float(frameId) in self._markers or duration < 1:
            return False
        self._markers[float(frameId)] = {
            "color": color,
            "duration": float(duration),
            "note": note,
            "name": name,
            "customData": customData,
        }
        return True

    def GetMarkers(self) -> dict[float, dict[str, Any]]:
        return {k: dict(v) for k, v in self._markers.items()}

    def DeleteMarkerAtFrame(self, frameNum: float) -> bool:
        if self.fake_refuse_delete:
            return False
        return self._markers.pop(float(frameNum), None) is not None

    def SetClipColor(self, colorName: str) -> bool:
        if colorName not in CLIP_COLOURS:
            return False
        self._colour = colorName
        return True

    def GetClipColor(self) -> str:
        return self._colour

    def ClearClipColor(self) -> bool:
        self._colour = ""
        return True


class Timeline:
    def __init__(self, name: str, rate: float = 24.0, start_frame: int = 86400) -> None:
        self._name = name
        self._rate = rate
        self._start = start_frame
        self.tracks: dict[str, list[list[TimelineItem]]] = {"video": [[]], "audio": [], "subtitle": []}
        self.playhead: int = start_frame
        self.export_works = True

    def fake_add_clip(
        self,
        name: str,
        duration: int,
        path: str = "",
        track: int = 1,
        gap_before: int = 0,
        left_offset: int = 0,
        start_tc: str = "00:00:00:00",
        kind: str = "video",
    ) -> TimelineItem:
        while len(self.tracks[kind]) < track:
            self.tracks[kind].append([])
        items = self.tracks[kind][track - 1]
        start = (items[-1].GetEnd() if items else self._start) + gap_before
        item = TimelineItem(name, start, duration, path, left_offset, (kind, track), start_tc)
        items.append(item)
        return item

    def GetName(self) -> str:
        return self._name

    def GetStartFrame(self) -> int:
        return self._start

    def GetSetting(self, settingName: str | None = None) -> Any:
        settings = {"timelineFrameRate": f"{self._rate:g}"}
        return settings if settingName is None else settings.get(settingName, "")

    def GetTrackCount(self, trackType: str) -> int:
        return len(self.tracks.get(trackType, []))

    def GetItemListInTrack(self, trackType: str, index: int) -> list[TimelineItem] | None:
        tracks = self.tracks.get(trackType, [])
        if not 1 <= index <= len(tracks):
            return None
        return list(tracks[index - 1])

    def GetCurrentVideoItem(self) -> TimelineItem | None:
        for track in reversed(self.tracks["video"]):  # the topmost track under the playhead wins
            for item in track:
                if item.GetStart() <= self.playhead < item.GetEnd():
                    return item
        return None

    def Export(self, fileName: str, exportType: int, exportSubtype: int | None = None) -> bool:
        if not self.export_works or exportType != Resolve.EXPORT_OTIO:
            return False
        import opentimelineio as otio

        rate = self._rate
        timeline = otio.schema.Timeline(name=self._name)
        timeline.global_start_time = otio.opentime.RationalTime(self._start, rate)
        timeline.metadata["Resolve_OTIO"] = {"Resolve OTIO Meta Version": "1.0"}
        kinds = (("video", "Video", otio.schema.TrackKind.Video), ("audio", "Audio", otio.schema.TrackKind.Audio))
        for kind, label, otio_kind in kinds:
            for index, items in enumerate(self.tracks[kind], start=1):
                track = otio.schema.Track(name=f"{label} {index}", kind=otio_kind)
                track.metadata["Resolve_OTIO"] = {"Locked": False}
                cursor = self._start
                for item in items:
                    if item.GetStart() > cursor:
                        gap = otio.opentime.RationalTime(item.GetStart() - cursor, rate)
                        track.append(otio.schema.Gap(duration=gap))
                    track.append(_exported_clip(otio, item, rate))
                    cursor = item.GetEnd()
                timeline.tracks.append(track)
        otio.adapters.write_to_file(timeline, str(fileName), adapter_name="otio_json")
        return True


def _frames_of_timecode(text: str, rate: float) -> int:
    hours, minutes, seconds, frames = (int(part) for part in text.replace(";", ":").split(":"))
    fps = round(rate)
    return ((hours * 60 + minutes) * 60 + seconds) * fps + frames


def _exported_clip(otio: Any, item: TimelineItem, rate: float) -> Any:
    """A clip as Resolve's OTIO export writes it: source time = media start timecode + left trim."""
    media = item.GetMediaPoolItem()
    source_start = 0
    if media is not None:
        reference = otio.schema.ExternalReference(target_url=media.GetClipProperty("File Path"))
        source_start = _frames_of_timecode(str(media.GetClipProperty("Start TC")), rate)
    else:
        reference = otio.schema.MissingReference()
    clip = otio.schema.Clip(
        name=item.GetName(),
        media_reference=reference,
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(source_start + item.GetLeftOffset(), rate),
            otio.opentime.RationalTime(item.GetDuration(), rate),
        ),
    )
    clip.metadata["Resolve_OTIO"] = {"Link Group ID": 1}
    for frame, info in sorted(item.GetMarkers().items()):
        clip.markers.append(
            otio.schema.Marker(
                name=info["name"],
                marked_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(source_start + frame, rate),
                    otio.opentime.RationalTime(info["duration"], rate),
                ),
                color=info["color"].upper(),
                metadata={"Resolve_OTIO": {"Keywords": [], "Note": info["note"]}},
            )
        )  # customData is dropped, as in Resolve
    return clip


class Project:
    def __init__(self, name: str) -> None:
        self._name = name
        self.timeline: Timeline | None = None

    def GetName(self) -> str:
        return self._name

    def GetCurrentTimeline(self) -> Timeline | None:
        return self.timeline


class ProjectManager:
    def __init__(self) -> None:
        self.project: Project | None = Project("Untitled Project")

    def GetCurrentProject(self) -> Project | None:
        return self.project


class Resolve:
    # opaque values: the README names the constants only; the fake makes every one distinct
    EXPORT_AAF = 101
    EXPORT_DRT = 102
    EXPORT_EDL = 103
    EXPORT_FCP_7_XML = 104
    EXPORT_FCPXML_1_10 = 105
    EXPORT_TEXT_CSV = 106
    EXPORT_OTIO = 117
    EXPORT_NONE = 201
    EXPORT_AAF_NEW = 202
    EXPORT_AAF_EXISTING = 203
    EXPORT_CDL = 204
    EXPORT_SDL = 205
    EXPORT_MISSING_CLIPS = 206

    def __init__(self, product: str = "DaVinci Resolve Studio", version: tuple[int, ...] = (20, 2, 0, 12)) -> None:
        self._pm = ProjectManager()
        self._fusion: Fusion | None = None
        self._product = product
        self._version = version

    @property
    def fake_studio(self) -> bool:
        return self._product.endswith("Studio")

    def GetProductName(self) -> str:
        return self._product

    def GetVersion(self) -> list[Any]:
        return [*self._version, ""]

    def GetVersionString(self) -> str:
        return ".".join(str(v) for v in self._version)

    def GetProjectManager(self) -> ProjectManager:
        return self._pm

    def Fusion(self) -> Fusion | None:
        fusion = self._fusion
        if fusion is not None and not self.fake_studio and tuple(self._version[:2]) >= (19, 1):
            fusion.UIManager = None  # type: ignore[assignment]  # free 19.1+: no script UI windows
        return fusion

    def fake_scripts_listed(self) -> bool:
        """Whether Workspace > Scripts lists user scripts: not in the free edition from 21.1."""
        return self.fake_studio or tuple(self._version[:2]) < (21, 1)


# ------------------------------------------------------------------------------------------- UI Manager


class Element:
    def __init__(self, kind: str, props: dict[str, Any], children: list[Element] | None = None) -> None:
        self.kind, self.props, self.children = kind, dict(props), list(children or [])
        self.ID = self.props.get("ID", "")
        self.Text = self.props.get("Text", "")
        self.PlainText = self.props.get("PlainText", "")
        self.HTML = self.props.get("HTML", "")
        self.items: list[str] = []
        self.CurrentIndex = 0
        self.CurrentText = ""

    def AddItem(self, text: str) -> None:
        self.items.append(text)
        if len(self.items) == 1:
            self.CurrentText = text

    def walk(self) -> list[Element]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


class _Handlers:
    def __init__(self) -> None:
        self.handlers: dict[str, dict[str, Callable[[Any], None]]] = {}

    def __getattr__(self, element_id: str) -> Any:
        table = self.handlers.setdefault(element_id, {})

        class Slot:
            def __setattr__(self, event: str, func: Callable[[Any], None]) -> None:
                table[event] = func

            def __getattr__(self, event: str) -> Any:
                return table.get(event)

        return Slot()


class Window(Element):
    def __init__(self, props: dict[str, Any], children: list[Element]) -> None:
        super().__init__("Window", props, children)
        object.__setattr__(self, "On", _Handlers())
        self.shown = False

    def Find(self, element_id: str) -> Element | None:
        return next((e for e in self.walk() if element_id == e.ID), None)

    def Show(self) -> None:
        self.shown = True

    def Hide(self) -> None:
        self.shown = False


class UIManager:
    def __init__(self) -> None:
        self.windows: list[Window] = []

    def AddWindow(self, props: dict[str, Any], children: Any) -> Window:
        kids = children if isinstance(children, list) else [children]
        window = Window(props, kids)
        self.windows.append(window)
        return window

    def __getattr__(self, kind: str) -> Callable[..., Element]:
        def make(props: dict[str, Any] | None = None, children: Any = None) -> Element:
            if isinstance(props, list):  # VGroup([...]) without props
                props, children = {}, props
            kids = children if isinstance(children, list) else ([children] if children is not None else [])
            return Element(kind, props or {}, kids)

        return make


class Fusion:
    def __init__(self) -> None:
        self.UIManager = UIManager()


fake_clicks: list[str] = []
"""What the editor does once the window runs, in order: a button id to click, or ``"<ID>.<Attr>=<value>"``
to type into a field or pick a combo box entry. Then the window is closed."""


class _Event:
    def __init__(self, who: str) -> None:
        self.who = who


class UIDispatcher:
    def __init__(self, ui: UIManager) -> None:
        self.ui = ui
        self._running = False

    def RunLoop(self) -> None:
        self._running = True
        window = self.ui.windows[-1]
        while fake_clicks and self._running:
            who = fake_clicks.pop(0)
            if "=" in who:  # "RecordPath.Text=/path": the editor types into a field first
                target, value = who.split("=", 1)
                element_id, attr = target.split(".", 1)
                setattr(window.Find(element_id), attr, value)
                continue
            handler = window.On.handlers.get(who, {}).get("Clicked")
            if handler is not None:
                handler(_Event(who))
        if self._running:
            close = window.On.handlers.get(window.ID, {}).get("Close")
            if close is not None:
                close(_Event(window.ID))
        self._running = False

    def ExitLoop(self) -> None:
        self._running = False


# ------------------------------------------------------------------------------------------- entry point

_app = Resolve()
fake_external = False
"""True: the caller is a process outside Resolve (external scripting), not Resolve's own script runner."""


def scriptapp(name: str) -> Any:
    if name != "Resolve":
        return None
    if fake_external and not _app.fake_studio:
        return None  # external scripting is a Studio feature
    return _app


def fake_reset(product: str = "DaVinci Resolve Studio", version: tuple[int, ...] = (20, 2, 0, 12),
               external: bool = False) -> Resolve:
    """A fresh Resolve (Studio 20.2 unless told) with an open project and no timeline."""
    global _app, fake_external
    _app = Resolve(product, version)
    fake_external = external
    fake_clicks.clear()
    return _app


def fake_enable_ui(app: Resolve) -> UIManager:
    app._fusion = Fusion()
    return app._fusion.UIManager
