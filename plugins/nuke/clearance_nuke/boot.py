"""Start-up for Nuke: find the core, register callbacks and the selector (init), build the UI (menu).

The core package ``clearance`` is found on Nuke's Python path (a studio install), else through the
folder named in ``CLEARANCE_CORE_PATH``, in ``core_path.txt`` next to this package, or in
``~/.nuke/clearance_core_path.txt`` (``clearance install nuke`` writes one of them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PANEL_ID = "clearance.panel"
# registerWidgetAsPanel evaluates this text in Nuke's __main__, where our package was never imported: the
# expression imports it itself (nukescripts.panels.registerWidgetAsPanel, Foundry's Python Dev Guide)
PANEL_WIDGET = "__import__('clearance_nuke.panel', fromlist=['ClearancePanel']).ClearancePanel"
_initialised = False


def nuke_dir() -> Path:
    """~/.nuke. On Windows Nuke uses %HOME% when it is set, else %USERPROFILE% (Foundry's guide, "Loading
    Gizmos, NDK Plug-ins, and Python and TCL Scripts"); Python's Path.home() ignores HOME there."""
    if sys.platform == "win32":
        base = os.environ.get("HOME") or os.environ.get("USERPROFILE")
        if base:
            return Path(base) / ".nuke"
    return Path.home() / ".nuke"


def core_paths() -> list[str]:
    paths = []
    env = os.environ.get("CLEARANCE_CORE_PATH")
    if env:
        paths.extend(p for p in env.split(os.pathsep) if p)
    pointers = (
        Path(__file__).resolve().parent.parent / "core_path.txt",  # written by a copying install
        nuke_dir() / "clearance_core_path.txt",  # written by `clearance install nuke --link`
    )
    for pointer in pointers:
        if pointer.is_file():
            paths.extend(line.strip() for line in pointer.read_text(encoding="utf-8").splitlines() if line.strip())
    return paths


def find_core() -> None:
    try:
        import clearance

        return
    except ImportError:
        pass
    for path in core_paths():
        if os.path.isdir(path) and path not in sys.path:
            sys.path.append(path)
    try:
        import clearance  # noqa: F401
    except ImportError as exc:
        version = ".".join(str(v) for v in sys.version_info[:2])
        raise ImportError(
            f"the Clearance core (package `clearance`) is not importable in this Nuke's Python {version} ({exc}); "
            "run `clearance install nuke` or put the core on PYTHONPATH"
        ) from None


def init() -> None:
    """Safe anywhere Nuke runs: no UI, no network."""
    global _initialised
    find_core()
    from clearance.hosts import nuke as host
    from clearance.items import register_selector
    from clearance_nuke import callbacks

    callbacks.install()
    register_selector(host.HOST, host.select)
    _initialised = True


def _add_tab_on_create() -> None:
    """An artist made a generative node (policy hosts.ai_node_classes): give it the GenAI tab to fill in."""
    import nuke

    from clearance.hosts import nuke as host
    from clearance.hosts.status import current_policy
    from clearance_nuke import knobs

    node = nuke.thisNode()
    if node is not None and host.ai_node_class(node, current_policy().hosts.ai_node_classes):
        knobs.add_tab(node)


def menu() -> None:
    """The Clearance menu, the dockable panel, the GenAI tab on new generative nodes."""
    import nuke

    if not _initialised:
        init()
    from clearance_nuke import presets

    top = nuke.menu("Nuke").addMenu("Clearance")
    top.addCommand("Add GenAI tab to selected", "import clearance_nuke.actions as a; a.tag_selected()")
    tag_menu = top.addMenu("Tag selected with preset")
    for name in presets.names():
        tag_menu.addCommand(name.replace("/", "\\/"), f"import clearance_nuke.actions as a; a.tag_selected({name!r})")
    top.addCommand("Check script", "import clearance_nuke.actions as a; a.check_script()")
    top.addCommand("Select untagged AI nodes", "import clearance_nuke.actions as a; a.select_untagged_ai_nodes()")
    top.addCommand("Tag untagged AI nodes", "import clearance_nuke.actions as a; a.tag_untagged_ai_nodes()")
    top.addCommand("Submit all tagged", "import clearance_nuke.actions as a; a.submit_nodes()")
    top.addCommand("Refresh approvals", "import clearance_nuke.actions as a; a.refresh_approvals()")
    top.addCommand("Show panel", "import clearance_nuke.boot as b; b.open_panel()")
    nuke.addOnUserCreate(_add_tab_on_create, nodeClass="*")
    from clearance_nuke import callbacks

    nuke.addOnScriptLoad(callbacks.on_script_load)  # GUI only: farm loads need no tile colours
    try:
        from nukescripts import panels

        panels.registerWidgetAsPanel(PANEL_WIDGET, "Clearance", PANEL_ID)
    except ImportError as exc:  # no Qt binding in this Nuke: the menu still works
        nuke.tprint(f"Clearance: panel not available: {exc}")


def open_panel() -> None:
    import nuke
    from nukescripts import panels

    panel = panels.registerWidgetAsPanel(PANEL_WIDGET, "Clearance", PANEL_ID, True)
    if panel is not None:
        panel.addToPane(nuke.getPaneFor("Properties.1"))
