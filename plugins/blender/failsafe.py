"""When the Clearance core cannot be imported, deliverable scenes are still not rendered ungated.

Standard library and ``bpy`` only: this runs exactly when the core is missing. A scene the artist marked a
final deliverable (its ``clearance.deliverable`` property, kept in the .blend as an ID property even when
the extension is not loaded) is stopped the same way the render gate stops one (camera and sequencer taken
away in ``render_init``, given back in ``render_cancel``), with one line saying why and what to do.
"""

from __future__ import annotations

import sys
from typing import Any

import bpy
from bpy.app.handlers import persistent

_held: dict[str, tuple[Any, bool]] = {}
reason = ""


def is_deliverable(scene: Any) -> bool:
    stored = scene.get("clearance") if hasattr(scene, "get") else None
    try:
        return bool(stored and stored.get("deliverable"))
    except AttributeError:  # not a property group: nothing marked
        return False


@persistent
def stop_deliverable_render(scene: Any, *_args: Any) -> None:
    if not is_deliverable(scene):
        return
    print(
        f"Clearance: render of deliverable scene '{scene.name}' stopped: {reason}. What to do: install the "
        "Clearance core for this Blender (or the self-contained extension zip), then render again",
        file=sys.stderr,
        flush=True,
    )
    _held.setdefault(scene.name, (scene.camera, scene.render.use_sequencer))
    scene.camera = None
    scene.render.use_sequencer = False


@persistent
def give_back(scene: Any, *_args: Any) -> None:
    held = _held.pop(getattr(scene, "name", ""), None)
    if held is not None:
        scene.camera, scene.render.use_sequencer = held


HANDLERS = (("render_init", stop_deliverable_render), ("render_cancel", give_back), ("render_complete", give_back))


def register(why: str) -> None:
    global reason
    reason = why
    for name, handler in HANDLERS:
        handlers = getattr(bpy.app.handlers, name)
        if handler not in handlers:
            handlers.append(handler)


def unregister() -> None:
    for name, handler in HANDLERS:
        handlers = getattr(bpy.app.handlers, name)
        if handler in handlers:
            handlers.remove(handler)
