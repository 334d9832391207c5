"""Clearance Tag: declare a GenAI use on timeline clips (a CLEARANCE marker each, clip colour by status).

In a window (Resolve's UI Manager): pick a preset or a record file, which clips, then Tag; Refresh shows
each tagged clip's current status after approvals were pulled; Remove takes the tag off. In a console:
``CLEARANCE_PRESET`` or ``CLEARANCE_RECORD`` says what to declare, ``CLEARANCE_CLIPS`` which clips
(current, all or colour:<Name>; default current).
"""

from __future__ import annotations

import contextlib
import getpass
import os
from datetime import datetime, timezone
from typing import Any

from clearance.errors import ClearanceError
from clearance.hosts import resolve as host
from clearance.hosts.presets import preset_names, preset_record
from clearance.hosts.status import Judge
from clearance.record import UseRecord, load_record, record_from_data
from clearance.tags import Tag
from clearance_resolve.connect import current_timeline, get_resolve, ui_of
from clearance_resolve.window import show_text

SCOPES = ("current", "all", *(f"colour:{c}" for c in host.CLIP_COLOURS))


def build_record(
    items: list[Any], *, preset: str | None = None, record_path: str | None = None, description: str = ""
) -> UseRecord:
    """One record for the use, its targets being the chosen clips (plus any the record file lists)."""
    if record_path:
        record = load_record(record_path)
    elif preset:
        record = preset_record(preset)
    else:
        raise ClearanceError("choose a preset or a record file to declare (CLEARANCE_PRESET or CLEARANCE_RECORD)")
    data = record.model_dump(mode="json")
    if "tool" in data:
        data["tools"] = [data.pop("tool")]
    if description:
        data["description"] = description
    if not record_path:
        data["production"] = data.get("production") or os.environ.get("CLEARANCE_PRODUCTION", "")
        with contextlib.suppress(Exception):  # no login name in some containers
            data["declared_by"] = data.get("declared_by") or getpass.getuser()
        data["declared_at"] = datetime.now(timezone.utc).isoformat()
        data["targets"] = []
    targets = list(data.get("targets") or [])
    for item in items:
        target = host.item_target(item).model_dump(mode="json", exclude_none=True)
        if target not in targets:
            targets.append(target)
    data["targets"] = targets
    return record_from_data(data, record_path or f"preset {preset}")


def tag_items(items: list[Any], record: UseRecord, judge: Judge | None = None) -> list[str]:
    judge = judge or Judge()
    lines = []
    for item in items:
        target = host.item_target(item)
        standing = judge.standing(record, target)
        tag = Tag.for_record(record, target_ref=target.key(), status=standing.status)
        host.write_item_tag(item, tag, standing.status)
        lines.append(f"{host.item_label(item)}: tagged; {standing.line()}")
    return lines


def refresh(timeline: Any, judge: Judge | None = None) -> list[str]:
    """Re-judge every tagged clip; re-colour its marker and the clip when the status changed."""
    judge = judge or Judge()
    lines = []
    for _, item in host.video_items(timeline):
        try:
            tag = host.read_item_tag(item)
        except ClearanceError as exc:
            item.SetClipColor(host.CLIP_COLOUR["invalid"])
            lines.append(f"{exc}")
            continue
        if tag is None:
            continue
        standing = (
            judge.standing(tag.record, host.item_target(item))
            if tag.record
            else judge.standing(
                None, tag_error=f"Resolve {host.item_label(item)}: the tag holds only the record id; tag it again"
            )
        )
        if tag.status != standing.status:
            host.write_item_tag(item, tag.model_copy(update={"status": standing.status}), standing.status)
        else:
            item.SetClipColor(host.CLIP_COLOUR[standing.status])
        lines.append(f"{host.item_label(item)}: {standing.line()}")
    return lines or ["No tagged clip on this timeline."]


def untag(items: list[Any]) -> list[str]:
    lines = []
    for item in items:
        if host.remove_item_tag(item):
            item.ClearClipColor()
            lines.append(f"{host.item_label(item)}: tag removed")
    return lines or ["None of the chosen clips carried a tag."]


def run_console(timeline: Any) -> list[str]:
    scope = os.environ.get("CLEARANCE_CLIPS", "current")
    items = host.choose_items(timeline, scope)
    if not items:
        raise ClearanceError(f"no clip matches '{scope}': move the playhead over a clip or set CLEARANCE_CLIPS")
    record = build_record(
        items,
        preset=os.environ.get("CLEARANCE_PRESET") or None,
        record_path=os.environ.get("CLEARANCE_RECORD") or None,
        description=os.environ.get("CLEARANCE_DESCRIPTION", ""),
    )
    return tag_items(items, record)


def run_window(ui: Any, disp: Any, timeline: Any) -> None:
    presets = preset_names()
    window = ui.AddWindow(
        {"ID": "ClearanceTag", "WindowTitle": "Clearance: tag GenAI use", "Geometry": [200, 200, 720, 480]},
        [
            ui.VGroup(
                [
                    ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Preset"}), ui.ComboBox({"ID": "Preset"})]),
                    ui.HGroup(
                        {"Weight": 0},
                        [ui.Label({"Text": "or record file"}), ui.LineEdit({"ID": "RecordPath", "Text": ""})],
                    ),
                    ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Description"}), ui.LineEdit({"ID": "Description"})]),
                    ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Clips"}), ui.ComboBox({"ID": "Scope"})]),
                    ui.HGroup(
                        {"Weight": 0},
                        [
                            ui.Button({"ID": "Tag", "Text": "Tag"}),
                            ui.Button({"ID": "Refresh", "Text": "Refresh status"}),
                            ui.Button({"ID": "Remove", "Text": "Remove tag"}),
                            ui.Button({"ID": "Close", "Text": "Close"}),
                        ],
                    ),
                    ui.TextEdit({"ID": "Output", "ReadOnly": True}),
                ]
            )
        ],
    )
    items = window.Find("Preset")
    for name in presets:
        items.AddItem(name)
    scope_box = window.Find("Scope")
    for scope in SCOPES:
        scope_box.AddItem(scope)
    output = window.Find("Output")

    def show(lines: list[str]) -> None:
        output.PlainText = "\n".join(lines)
        print("\n".join(lines))

    def chosen() -> list[Any]:
        scope = scope_box.CurrentText or "current"
        found = host.choose_items(timeline, scope)
        if not found:
            raise ClearanceError(f"no clip matches '{scope}': move the playhead over a clip or colour the clips")
        return found

    def guarded(action: Any) -> Any:
        def run(_event: Any) -> None:
            try:
                show(action())
            except ClearanceError as exc:
                show([f"Clearance: {exc}"])

        return run

    def do_tag() -> list[str]:
        clips = chosen()
        path = (window.Find("RecordPath").Text or "").strip()
        record = build_record(
            clips,
            preset=None if path else (items.CurrentText or None),
            record_path=path or None,
            description=(window.Find("Description").Text or "").strip(),
        )
        return tag_items(clips, record)

    def close(_event: Any) -> None:
        disp.ExitLoop()

    window.On.Tag.Clicked = guarded(do_tag)
    window.On.Refresh.Clicked = guarded(lambda: refresh(timeline))
    window.On.Remove.Clicked = guarded(lambda: untag(chosen()))
    window.On.Close.Clicked = close
    window.On.ClearanceTag.Close = close
    window.Show()
    disp.RunLoop()
    window.Hide()


def main(resolve: Any = None, bmd: Any = None, app: Any = None) -> int:
    """Entry point of ``Clearance Tag.py``. Returns 0 when done, 2 on a problem (printed as one line)."""
    try:
        app = get_resolve(resolve, bmd, app)
        timeline = current_timeline(app)
        ui_pair = ui_of(app, bmd)
        if ui_pair is not None:
            run_window(ui_pair[0], ui_pair[1], timeline)
        else:
            show_text(None, "Clearance", "\n".join(run_console(timeline)))
        return 0
    except ClearanceError as exc:
        print(f"Clearance: {exc}")
        return 2
