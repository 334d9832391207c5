"""Clearance in Pyblish: the publish gate that blocks undisclosed, unapproved or prohibited GenAI material.

Studios either put the plugin folder on ``PYBLISHPLUGINPATH`` or call ``register(host)`` from their host
start-up. The plugin folder is ``pyblish_plugins/`` at the root of a Clearance checkout (studio and
editable installs); a wheel installs the same files as data under ``<prefix>/share/clearance/pyblish_plugins``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pyblish.api
import pyblish.plugin

from clearance.errors import ClearanceError
from clearance.pyblish import catalog, discovery

__all__ = ["deregister", "plugin_path", "register"]


def plugin_path() -> Path:
    """The folder holding the Clearance pyblish plugin files."""
    import clearance

    candidates = [
        Path(clearance.__file__).resolve().parents[2] / "pyblish_plugins",  # checkout / editable install
        Path(sys.prefix) / "share" / "clearance" / "pyblish_plugins",  # wheel (data files)
        Path(clearance.__file__).resolve().parent / "pyblish_plugins",  # the Blender extension's bundled wheel
    ]
    for folder in candidates:
        if (folder / discovery.MARKER).is_file():
            return folder
    raise ClearanceError(
        "the Clearance pyblish plugins were not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall clearance or point PYBLISHPLUGINPATH at the pyblish_plugins folder"
    )


def _failed_plugin(problems: list[str]) -> type:
    """A stand-in validator that fails the publish when the set-up validator itself could not load."""

    def process(self: Any, context: Any) -> None:
        from clearance.pyblish.plugin import ClearanceValidationError

        raise ClearanceValidationError(catalog.SETUP, detail="\n".join(f"  - {p}" for p in problems))

    return type("ClearanceDiscoveryFailed", (pyblish.api.ContextPlugin,), {
        "order": pyblish.api.ValidatorOrder - 0.5, "label": catalog.SETUP.title, "process": process,
        "validator_id": catalog.SETUP.id,
    })


def strict_filter(plugins: list[Any]) -> None:
    """Discovery filter installed by ``register``: drop switched-off checks, make load failures loud."""
    if discovery.is_checking():
        return
    plugins[:] = [p for p in plugins if getattr(p, "enabled", True) is not False]
    if any(getattr(p, "validator_id", "") == catalog.SETUP.id for p in plugins):
        return  # the set-up validator reports problems itself, with the publish's own policy
    problems = [str(p) for p in discovery.check(discovered=plugins)]
    if not any(getattr(p, "validator_id", "") for p in plugins) and not discovery.clearance_paths():
        problems.append("no Clearance plugin folder is registered or on PYBLISHPLUGINPATH")
    if problems:
        plugins.append(_failed_plugin(problems))
        pyblish.plugin.sort(plugins)


def register(host: str) -> Path:
    """Make pyblish run the Clearance checks for ``host``: host, plugin folder and strict discovery.

    The bundled folder is not added when a Clearance plugin folder is already on PYBLISHPLUGINPATH
    (a studio's own copy): two copies would shadow each other. Returns the Clearance folder in use.
    """
    if not host or not isinstance(host, str):
        raise ClearanceError("clearance.pyblish.register: give the host name, e.g. 'nuke', 'blender' or 'standalone'")
    pyblish.api.register_host(host)
    existing = discovery.clearance_paths()
    if existing:
        folder = existing[0]
    else:
        folder = plugin_path()
        pyblish.api.register_plugin_path(str(folder))
    if strict_filter not in pyblish.api.registered_discovery_filters():
        pyblish.api.register_discovery_filter(strict_filter)
    return folder


def deregister(host: str | None = None) -> None:
    """Undo ``register`` (tests, and hosts that reload their integration)."""
    if host:
        pyblish.api.deregister_host(host, quiet=True)
    try:
        folder = str(plugin_path())
    except ClearanceError:
        folder = None
    if folder and Path(folder).as_posix() in [Path(p).as_posix() for p in pyblish.api.registered_paths()]:
        pyblish.api.deregister_plugin_path(folder)
    if strict_filter in pyblish.api.registered_discovery_filters():
        pyblish.api.deregister_discovery_filter(strict_filter)
