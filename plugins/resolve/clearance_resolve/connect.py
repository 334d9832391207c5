"""Reach Resolve: the objects a menu script is given, else ``DaVinciResolveScript.scriptapp`` (external
scripting, Preferences > System > General > External scripting using: Local)."""

from __future__ import annotations

from typing import Any

from clearance.errors import ClearanceError


def get_resolve(resolve: Any = None) -> Any:
    if resolve is not None:
        return resolve
    try:
        import DaVinciResolveScript as dvr
    except ImportError:
        raise ClearanceError(
            "DaVinciResolveScript is not importable: run this from Workspace > Scripts in Resolve, or add "
            "the Resolve scripting Modules folder to PYTHONPATH (see docs/hosts/resolve.md)"
        ) from None
    app = dvr.scriptapp("Resolve")
    if app is None:
        raise ClearanceError("Resolve is not running, or external scripting is off (Preferences > System > General)")
    return app


def current_timeline(resolve: Any) -> Any:
    project = resolve.GetProjectManager().GetCurrentProject()
    if project is None:
        raise ClearanceError("no project is open in Resolve: open one, then run the script again")
    timeline = project.GetCurrentTimeline()
    if timeline is None:
        raise ClearanceError("no timeline is open: open the timeline to check in the Edit page, then run again")
    return timeline


def ui_of(resolve: Any, bmd: Any) -> tuple[Any, Any] | None:
    """(UIManager, dispatcher) when Resolve can show a window; None in a terminal or on the free version's
    external scripting."""
    if bmd is None or not hasattr(bmd, "UIDispatcher"):
        return None
    try:
        fusion = resolve.Fusion()
    except Exception:  # older Resolve builds raise when Fusion is unavailable
        return None
    if fusion is None:
        return None
    ui = fusion.UIManager
    return ui, bmd.UIDispatcher(ui)
