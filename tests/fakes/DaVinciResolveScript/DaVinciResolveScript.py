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
    def __init__(self, name: str, path: str) -> None:
        self._name, self._path = name, path

    def GetClipProperty(self, propertyName: str | None = None) -> Any:  # noqa: N802, N803
        props = {"File Path": self._path, "Clip Name": self._name}
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
    ) -> None:
        self._name = name
        self._start = start
        self._duration = duration
        self._left = left_offset
        self._markers: dict[float, dict[str, Any]] = {}
        self._colour = ""
        self._media = MediaPoolItem(name, path) if path else None
        self._track = track

    def GetName(self) -> str:  # noqa: N802
        return self._name

    def GetStart(self) -> int:  # noqa: N802
        return self._start

    def GetEnd(self) -> int:  # noqa: N802
        return self._start + self._duration

    def GetDuration(self) -> int:  # noqa: N802
        return self._duration

    def GetLeftOffset(self) -> int:  # noqa: N802
        return self._left

    def GetMediaPoolItem(self) -> MediaPoolItem | None:  # noqa: N802
        return self._media

    def GetTrackTypeAndIndex(self) -> list[Any]:  # noqa: N802
        return [self._track[0], self._track[1]]

    def AddMarker(  # noqa: N802
        self,
        frameId: float,
        color: str,
        name: str,
        note: str,
        duration: float,
        customData: str = "",  # noqa: N803
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

    def GetMarkers(self) -> dict[float, dict[str, Any]]:  # noqa: N802
        return {k: dict(v) for k, v in self._markers.items()}

    def DeleteMarkerAtFrame(self, frameNum: float) -> bool:  # noqa: N802, N803
        return self._markers.pop(float(frameNum), None) is not None

    def SetClipColor(self, colorName: str) -> bool:  # noqa: N802, N803
        if colorName not in CLIP_COLOURS:
            return False
        self._colour = colorName
        return True

    def GetClipColor(self) -> str:  # noqa: N802
        return self._colour

    def ClearClipColor(self) -> bool:  # noqa: N802
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
        self, name: str, duration: int, path: str = "", track: int = 1, gap_before: int = 0, left_offset: int = 0
    ) -> TimelineItem:
        while len(self.tracks["video"]) < track:
            self.tracks["video"].append([])
        items = self.tracks["video"][track - 1]
        start = (items[-1].GetEnd() if items else self._start) + gap_before
        item = TimelineItem(name, start, duration, path, left_offset, ("video", track))
        items.append(item)
        return item

    def GetName(self) -> str:  # noqa: N802
        return self._name

    def GetStartFrame(self) -> int:  # noqa: N802
        return self._start

    def GetSetting(self, settingName: str | None = None) -> Any:  # noqa: N802, N803
        settings = {"timelineFrameRate": f"{self._rate:g}"}
        return settings if settingName is None else settings.get(settingName, "")

    def GetTrackCount(self, trackType: str) -> int:  # noqa: N802, N803
        return len(self.tracks.get(trackType, []))

    def GetItemListInTrack(self, trackType: str, index: int) -> list[TimelineItem] | None:  # noqa: N802, N803
        tracks = self.tracks.get(trackType, [])
        if not 1 <= index <= len(tracks):
            return None
        return list(tracks[index - 1])

    def GetCurrentVideoItem(self) -> TimelineItem | None:  # noqa: N802
        for track in reversed(self.tracks["video"]):  # the topmost track under the playhead wins
            for item in track:
                if item.GetStart() <= self.playhead < item.GetEnd():
                    return item
        return None

    def Export(self, fileName: str, exportType: int, exportSubtype: int | None = None) -> bool:  # noqa: N802, N803
        if not self.export_works or exportType != Resolve.EXPORT_OTIO:
            return False
        import opentimelineio as otio

        rate = self._rate
        timeline = otio.schema.Timeline(name=self._name)
        timeline.global_start_time = otio.opentime.RationalTime(self._start, rate)
        timeline.metadata["Resolve_OTIO"] = {"Resolve OTIO Meta Version": "1.0"}
        for index, items in enumerate(self.tracks["video"], start=1):
            track = otio.schema.Track(name=f"Video {index}", kind=otio.schema.TrackKind.Video)
            track.metadata["Resolve_OTIO"] = {"Locked": False}
            cursor = self._start
            for item in items:
                if item.GetStart() > cursor:
                    track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(item.GetStart() - cursor, rate)))
                media = item.GetMediaPoolItem()
                reference = (
                    otio.schema.ExternalReference(target_url=media.GetClipProperty("File Path"))
                    if media is not None
                    else otio.schema.MissingReference()
                )
                clip = otio.schema.Clip(
                    name=item.GetName(),
                    media_reference=reference,
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(item.GetLeftOffset(), rate),
                        otio.opentime.RationalTime(item.GetDuration(), rate),
                    ),
                )
                clip.metadata["Resolve_OTIO"] = {"Link Group ID": 1}
                for frame, info in sorted(item.GetMarkers().items()):
                    marker = otio.schema.Marker(
                        name=info["name"],
                        marked_range=otio.opentime.TimeRange(
                            otio.opentime.RationalTime(frame, rate), otio.opentime.RationalTime(info["duration"], rate)
                        ),
                        color=info["color"].upper(),
                        metadata={"Resolve_OTIO": {"Keywords": [], "Note": info["note"]}},
                    )
                    clip.markers.append(marker)  # customData is dropped, as in Resolve
                track.append(clip)
                cursor = item.GetEnd()
            timeline.tracks.append(track)
        otio.adapters.write_to_file(timeline, str(fileName), adapter_name="otio_json")
        return True


class Project:
    def __init__(self, name: str) -> None:
        self._name = name
        self.timeline: Timeline | None = None

    def GetName(self) -> str:  # noqa: N802
        return self._name

    def GetCurrentTimeline(self) -> Timeline | None:  # noqa: N802
        return self.timeline


class ProjectManager:
    def __init__(self) -> None:
        self.project: Project | None = Project("Untitled Project")

    def GetCurrentProject(self) -> Project | None:  # noqa: N802
        return self.project


class Resolve:
    EXPORT_AAF = 0
    EXPORT_DRT = 1
    EXPORT_EDL = 2
    EXPORT_FCP_7_XML = 3
    EXPORT_OTIO = 17
    EXPORT_NONE = 0

    def __init__(self) -> None:
        self._pm = ProjectManager()
        self._fusion: Fusion | None = None

    def GetProjectManager(self) -> ProjectManager:  # noqa: N802
        return self._pm

    def Fusion(self) -> Fusion | None:  # noqa: N802
        return self._fusion


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

    def AddItem(self, text: str) -> None:  # noqa: N802 - ComboBox
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

    def Find(self, element_id: str) -> Element | None:  # noqa: N802
        return next((e for e in self.walk() if element_id == e.ID), None)

    def Show(self) -> None:  # noqa: N802
        self.shown = True

    def Hide(self) -> None:  # noqa: N802
        self.shown = False


class UIManager:
    def __init__(self) -> None:
        self.windows: list[Window] = []

    def AddWindow(self, props: dict[str, Any], children: Any) -> Window:  # noqa: N802
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

    def RunLoop(self) -> None:  # noqa: N802
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

    def ExitLoop(self) -> None:  # noqa: N802
        self._running = False


# ------------------------------------------------------------------------------------------- entry point

_app = Resolve()


def scriptapp(name: str) -> Any:
    return _app if name == "Resolve" else None


def fake_reset() -> Resolve:
    """A fresh Resolve with an open project and no timeline."""
    global _app
    _app = Resolve()
    fake_clicks.clear()
    return _app


def fake_enable_ui(app: Resolve) -> UIManager:
    app._fusion = Fusion()
    return app._fusion.UIManager
