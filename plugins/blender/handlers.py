"""Persistent handlers: refresh on load, queue disclosures on save, gate renders of deliverable scenes.

Blender ignores exceptions raised in handlers (it prints them and renders anyway), so the render gate
cannot stop a render by raising. What does stop it, tested in bpy 5.0.1: in ``render_init``, clear the
scene camera and switch the sequencer off for that render; Blender then refuses with "Cannot render, no
camera" and fires ``render_cancel``, where both are put back. The gate prints the real reason first,
shows it on the scene's Clearance panel, and, in the GUI, opens a popup after Blender's own report saying
why the render was stopped and what to do.
"""

from __future__ import annotations

import sys
from typing import Any

import bpy
from bpy.app.handlers import persistent

from clearance.errors import ClearanceError
from clearance.hosts import blender as host

from . import status

PREFIX = "Clearance:"

# What the gate took away from a scene for one render, to give back in render_cancel/render_complete.
_held: dict[str, tuple[Any, bool]] = {}
last_gate_message: str = ""
WHAT_TO_DO = (
    "What to do: request approval (Clearance panel > Submit), then Refresh approvals and render again; "
    "if this scene is not a deliverable, untick Deliverable in the Clearance panel"
)


def _say(message: str) -> None:
    print(f"{PREFIX} {message}", file=sys.stderr, flush=True)


@persistent
def on_load_post(*_args: Any) -> None:
    try:
        status.refresh_all()
    except Exception as exc:  # a broken status must never stop a file from opening
        _say(f"could not refresh statuses after load: {exc}")


@persistent
def on_save_pre(*_args: Any) -> None:
    restore_held()  # never save a scene with the camera the render gate took away
    try:
        queued = queue_disclosures()
    except Exception as exc:  # never lose a save over the outbox; the publish check catches it later
        _say(f"could not queue disclosures on save: {exc}")
        return
    if queued:
        _say(f"{queued} record(s) queued in the outbox for disclosure")


def queue_disclosures() -> int:
    """Queue every tagged record not yet disclosed in the outbox. No network: saving stays fast."""
    from clearance.outbox import Outbox
    from clearance.record import content_digest

    from .operators import tagged_records

    records = tagged_records()
    if not records:
        return 0
    queued = 0
    with Outbox() as outbox:
        for record in records.values():
            if not outbox.is_disclosed(str(record.id), content_digest(record)):
                _entry, added = outbox.add(record)
                queued += int(added)
    return queued


def gate_problems(scene: Any) -> list[str]:
    """Why a render of this scene may not go out: one line per blocking item (empty when clear)."""
    problems: list[str] = []
    status.reset()  # approvals may have been pulled since the panel last looked
    try:
        status.policy()
    except ClearanceError as exc:
        return [f"the policy could not be loaded: {exc}"]
    for entry in host.iter_entries(scenes=[scene], untagged_media=False):
        result = status.status_of(entry)
        if result.blocking:
            problems.append(f"{entry.label}: {result.label}: {result.reason}")
    return problems


def render_gate_mode() -> str:
    try:
        return str(status.policy().hosts.render_gate)
    except ClearanceError:
        return "stop"


@persistent
def on_render_init(scene: Any, *_args: Any) -> None:
    global last_gate_message
    try:
        if not host.stored_values(scene).get("deliverable"):
            return
        problems = gate_problems(scene)
    except Exception as exc:  # fail closed: a deliverable is not rendered unchecked
        problems = [f"the check itself failed: {exc}"]
    if not problems:
        last_gate_message = ""
        return
    mode = render_gate_mode()
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    if mode == "warn":
        last_gate_message = f"rendering deliverable scene '{scene.name}' WITHOUT clearance: {problems[0]}{more}"
        _say(last_gate_message)
        return
    last_gate_message = f"render of deliverable scene '{scene.name}' stopped: {problems[0]}{more}. {WHAT_TO_DO}"
    _say(last_gate_message)
    for line in problems[1:]:
        _say(f"  also: {line}")
    # setdefault: should Blender ever skip render_cancel, a second stop must not "save" the cleared camera
    _held.setdefault(scene.name, (scene.camera, scene.render.use_sequencer))
    scene.camera = None
    scene.render.use_sequencer = False
    group = getattr(scene, host.PROPERTY, None)
    if group is not None:
        group.message = last_gate_message


@persistent
def on_render_done(scene: Any, *_args: Any) -> None:
    held = _held.pop(getattr(scene, "name", ""), None)
    if held is None:
        return
    camera, use_sequencer = held
    scene.camera = camera
    scene.render.use_sequencer = use_sequencer
    if last_gate_message and not bpy.app.background:
        message = last_gate_message
        # after Blender's own "Cannot render, no camera": say in Blender's UI why, and what to do
        bpy.app.timers.register(lambda: show_stop(message), first_interval=0.2)


def show_stop(message: str) -> None:
    """A popup in the open window with why the render was stopped and what to do (GUI only)."""
    import textwrap

    manager = bpy.context.window_manager
    if manager is None or not manager.windows:
        return None
    reason, _, todo = message.partition(" What to do: ")

    def draw(menu: Any, _context: Any) -> None:
        for line in textwrap.wrap(reason, 90):
            menu.layout.label(text=line)
        for line in textwrap.wrap("What to do: " + todo, 90) if todo else []:
            menu.layout.label(text=line, icon="INFO")

    manager.popup_menu(draw, title="Clearance stopped the render", icon="ERROR")
    return None


def restore_held() -> None:
    """Give back every camera and sequencer switch the gate still holds."""
    for name in list(_held):
        scene = bpy.data.scenes.get(name)
        if scene is None:
            _held.pop(name)
            continue
        on_render_done(scene)


HANDLERS: tuple[tuple[str, Any], ...] = (
    ("load_post", on_load_post),
    ("save_pre", on_save_pre),
    ("render_init", on_render_init),
    ("render_cancel", on_render_done),
    ("render_complete", on_render_done),
)


def register() -> None:
    for name, function in HANDLERS:
        handlers = getattr(bpy.app.handlers, name)
        if function not in handlers:
            handlers.append(function)


def unregister() -> None:
    restore_held()
    for name, function in HANDLERS:
        handlers = getattr(bpy.app.handlers, name)
        # compare by name too: a reloaded module leaves an older function object behind
        for existing in list(handlers):
            same_name = (getattr(existing, "__module__", None), getattr(existing, "__qualname__", None)) == (
                function.__module__,
                function.__qualname__,
            )
            if existing is function or same_name:
                handlers.remove(existing)
