"""Strict discovery: every Clearance plugin file must load, or publish fails naming the file.

pyblish-base skips a plugin file that raises on import (a syntax error, a missing module, or
``from __future__ import annotations`` combined with dataclasses, because it executes files outside
``sys.modules``) and only logs it. A skipped validator would let a publish through unchecked, so this
module loads every ``.py`` file of every Clearance plugin folder the way pyblish does and compares
with what ``pyblish.api.discover()`` returned.
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyblish.api
import pyblish.plugin

MARKER = "collect_clearance_items.py"
"""A folder holding this file is a Clearance plugin folder (the bundled one, or a studio's copy)."""


@dataclass(frozen=True, slots=True)
class DiscoveryProblem:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def _real(path: str | Path) -> str:
    return os.path.normcase(os.path.realpath(str(path)))


def clearance_paths(paths: Iterable[str] | None = None) -> list[Path]:
    """The Clearance plugin folders among the paths pyblish searches (registered + PYBLISHPLUGINPATH)."""
    found: list[Path] = []
    seen: set[str] = set()
    for path in paths if paths is not None else pyblish.plugin.plugin_paths():
        folder = Path(os.path.normpath(path))
        if (folder / MARKER).is_file() and _real(folder) not in seen:
            seen.add(_real(folder))
            found.append(folder)
    return found


_loaded: dict[str, tuple[tuple[int, int], types.ModuleType | None, str | None]] = {}


def _execute(path: Path) -> tuple[types.ModuleType | None, str | None]:
    """Run a plugin file as pyblish does, once per version of the file (a host publishes many times)."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _loaded.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1], cached[2]
    module, error = _execute_fresh(path)
    _loaded[str(path)] = (stamp, module, error)
    return module, error


def _execute_fresh(path: Path) -> tuple[types.ModuleType | None, str | None]:
    """Run a plugin file exactly as pyblish.plugin.discover does: a fresh module, not in sys.modules."""
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    try:
        code = compile(path.read_bytes(), str(path), "exec")
        exec(code, module.__dict__)
    except Exception as exc:  # any import-time failure is exactly what pyblish would swallow
        reason = f"failed to load: {type(exc).__name__}: {exc}"
        text = path.read_text(encoding="utf-8", errors="replace")
        if "from __future__ import annotations" in text and "dataclass" in text:
            reason += (" (pyblish cannot load a plugin file that combines `from __future__ import annotations` "
                       "with dataclasses; drop the future import or move the dataclass into a module)")
        return None, reason
    return module, None


def _defined_plugins(module: types.ModuleType) -> list[type]:
    plugins = []
    for name in dir(module):
        obj = getattr(module, name)
        if (not name.startswith("_") and isinstance(obj, type) and issubclass(obj, pyblish.plugin.Plugin)
                and obj.__module__ == module.__name__):
            plugins.append(obj)
    return plugins


def check(discovered: list[Any] | None = None, paths: Iterable[str] | None = None) -> list[DiscoveryProblem]:
    """Problems with the Clearance plugin files; empty when every file loaded and every plugin was found."""
    if discovered is None:
        discovered = discover_unchecked()
    by_file: dict[str, set[str]] = {}
    owner: dict[str, str] = {}
    for plugin in discovered:
        module = getattr(plugin, "__module__", "")
        if isinstance(module, str) and module.endswith(".py"):
            by_file.setdefault(_real(module), set()).add(plugin.__name__)
            owner.setdefault(plugin.__name__, module)
    problems: list[DiscoveryProblem] = []
    for folder in clearance_paths(paths):
        for path in sorted(folder.iterdir()):
            if path.name.startswith("_") or path.suffix != ".py" or not path.is_file():
                continue
            module, error = _execute(path)
            if module is None:
                problems.append(DiscoveryProblem(str(path), error or "failed to load"))
                continue
            defined = _defined_plugins(module)
            if not defined:
                problems.append(DiscoveryProblem(
                    str(path), "defines no Pyblish plugin (helper modules in a plugin folder must start with _)"))
            found = by_file.get(_real(path), set())
            for plugin in defined:
                if not _enabled(plugin):
                    continue  # switched off by the policy on purpose
                if not pyblish.plugin.plugin_is_valid(plugin):
                    problems.append(DiscoveryProblem(
                        str(path), f"plugin {plugin.__name__} is not valid for pyblish (process() must take "
                        "`context` or `instance`; hosts, families and targets must be lists of strings)"))
                elif not pyblish.plugin.version_is_compatible(plugin):
                    problems.append(DiscoveryProblem(
                        str(path), f"plugin {plugin.__name__} requires {getattr(plugin, 'requires', '?')}, "
                        "not this pyblish"))
                elif not pyblish.plugin.host_is_compatible(plugin):
                    continue  # a collector for another host
                elif plugin.__name__ not in found:
                    other = owner.get(plugin.__name__)
                    why = (f"is shadowed by a plugin of the same name in {other}" if other
                           else "was not discovered by pyblish")
                    problems.append(DiscoveryProblem(str(path), f"plugin {plugin.__name__} {why}"))
    return problems


def _enabled(plugin: type) -> bool:
    from clearance.errors import ClearanceError
    from clearance.pyblish import settings

    vid = getattr(plugin, "validator_id", "")
    if not vid:
        return True
    try:
        return settings.setting_for(settings.active_policy(), vid).enabled
    except ClearanceError:
        return True  # the set-up check reports the unreadable policy itself


_guard = {"busy": False}


def discover_unchecked() -> list[Any]:
    """pyblish.api.discover() without the strict-discovery filter re-entering itself."""
    _guard["busy"] = True
    try:
        found: list[Any] = pyblish.api.discover()
        return found
    finally:
        _guard["busy"] = False


def is_checking() -> bool:
    return _guard["busy"]
