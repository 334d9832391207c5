"""Reach Resolve, and learn what this Resolve lets a script do.

Resolve is found, in order, as: the ``resolve`` object Resolve hands a menu script; ``app.GetResolve()``
(Fusion's ``app`` in the Console); ``bmd.scriptapp("Resolve")``; ``DaVinciResolveScript.scriptapp("Resolve")``
(external scripting: Preferences > System > General > External scripting using: Local, DaVinci Resolve
Studio only). The first that answers wins; when none does, the one line names what was tried.
"""

from __future__ import annotations

from typing import Any

from clearance.errors import ClearanceError
from clearance.hosts.resolve import Edition, edition_of


def get_resolve(resolve: Any = None, bmd: Any = None, app: Any = None) -> Any:
    if resolve is not None:
        return resolve
    tried = []
    if app is not None:
        try:
            found = app.GetResolve()
            if found is not None:
                return found
            tried.append("app.GetResolve() answered None")
        except Exception as exc:
            tried.append(f"app.GetResolve() failed ({type(exc).__name__})")
    if bmd is not None and hasattr(bmd, "scriptapp"):
        found = bmd.scriptapp("Resolve")
        if found is not None:
            return found
        tried.append('bmd.scriptapp("Resolve") answered None')
    try:
        import DaVinciResolveScript as dvr
    except ImportError:
        tried.append("DaVinciResolveScript is not importable (add Resolve's Developer/Scripting/Modules to PYTHONPATH)")
    else:
        found = dvr.scriptapp("Resolve")
        if found is not None:
            return found
        tried.append(
            'DaVinciResolveScript.scriptapp("Resolve") answered None: Resolve is not running, external scripting is '
            "off (Preferences > System > General), or this is the free edition (external scripting needs Studio)"
        )
    raise ClearanceError(
        "Resolve not reached: " + "; ".join(tried) + ". Run this from Workspace > Scripts inside Resolve instead"
    )


def current_timeline(resolve: Any) -> Any:
    project = resolve.GetProjectManager().GetCurrentProject()
    if project is None:
        raise ClearanceError("no project is open in Resolve: open one, then run the script again")
    timeline = project.GetCurrentTimeline()
    if timeline is None:
        raise ClearanceError("no timeline is open: open the timeline to check in the Edit page, then run again")
    return timeline


def ui_of(resolve: Any, bmd: Any, edition: Edition | None = None) -> tuple[Any, Any] | None:
    """(UIManager, dispatcher) when this Resolve can show a window; else None, after printing one line why."""
    edition = edition or edition_of(resolve)
    refused = edition.window_refused()
    if refused is not None:
        print(f"Clearance: {refused}; results are printed here and written to the HTML report")
        return None
    if bmd is None or not hasattr(bmd, "UIDispatcher"):
        return None  # a terminal (external scripting): the console is the UI
    try:
        fusion = resolve.Fusion()
    except Exception:  # older Resolve builds raise when Fusion is unavailable
        fusion = None
    ui = getattr(fusion, "UIManager", None) if fusion is not None else None
    if ui is None:
        print(f"Clearance: {edition.label} offers no script window here; results are printed and written to the report")
        return None
    return ui, bmd.UIDispatcher(ui)
