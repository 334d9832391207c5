"""Where each host looks for Clearance on Linux, macOS and Windows, and the steps that put it there.

``plan_nuke``, ``plan_blender`` and ``plan_resolve`` only compute steps; ``apply`` performs them. So a
dry run shows exactly what a real run does, and tests check every OS's plan on one machine.

- Nuke: the plugin folder (``plugins/nuke``) goes to ``~/.nuke/clearance`` and ``~/.nuke/init.py`` gets
  one ``nuke.pluginAddPath`` line (added once). ``core_path.txt`` in the plugin folder names where the core
  package and its dependencies live, for Nukes whose Python does not have them.
- Blender: the extension folder (``plugins/blender``) goes to the user extension repository
  ``<config>/<version>/extensions/user_default/clearance``; a start-up script in
  ``<config>/<version>/scripts/startup`` puts the core on Blender's Python path.
- Resolve: ``Clearance Tag.py`` and ``Clearance Check.py`` go to ``Fusion/Scripts/Edit`` with
  ``CLEARANCE_PATHS`` filled in; their shared package goes to Clearance's data folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.errors import ClearanceError

Platform = Literal["linux", "darwin", "win32"]
MARK = "# Clearance (clearance install nuke)"
INSTALL_MARKER = ".clearance-install"
RESOLVE_SCRIPTS = ("Clearance Tag.py", "Clearance Check.py")
MIN_BLENDER = (4, 2)


class Step(BaseModel):
    """One change to the machine, described in the words the CLI prints."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["copy_tree", "link_tree", "write_file", "append_line", "copy_script"]
    target: str
    source: str | None = None
    text: str | None = Field(default=None, description="File content (write_file, copy_script) or the line")
    note: str = ""

    def describe(self, dry_run: bool) -> str:
        verb = {
            "copy_tree": ("would copy", "copied"),
            "link_tree": ("would link", "linked"),
            "write_file": ("would write", "wrote"),
            "append_line": ("would add a line to", "added a line to"),
            "copy_script": ("would copy", "copied"),
        }[self.action][0 if dry_run else 1]
        what = f"{self.source} -> {self.target}" if self.source and self.action != "append_line" else self.target
        return f"{verb} {what}" + (f" ({self.note})" if self.note else "")


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    destination: str
    steps: list[Step] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What the user still has to know or do")


class Environment(BaseModel):
    """The facts a plan depends on; tests give other OSes' values."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform
    home: str
    env: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def current(cls) -> Environment:
        import sys

        platform: Platform = "win32" if sys.platform == "win32" else ("darwin" if sys.platform == "darwin" else "linux")
        return cls(platform=platform, home=str(Path.home()), env=dict(os.environ))

    def path(self, *parts: str) -> PurePath:
        return (PureWindowsPath if self.platform == "win32" else PurePosixPath)(*parts)


# ------------------------------------------------------------------------------------------ sources


def plugins_root() -> Path:
    """``plugins/`` of the Clearance checkout this core runs from."""
    import clearance

    root = Path(clearance.__file__).resolve().parents[2] / "plugins"
    if not (root / "nuke").is_dir():
        raise ClearanceError(
            f"the host plugins were not found next to this Clearance install (looked in {root}); "
            "install Clearance from a checkout (`pip install -e .`) to install host integrations"
        )
    return root


def core_paths() -> list[str]:
    """Folders a host's Python needs on sys.path to import the core: the package's parent, then its
    dependencies' site-packages when they live elsewhere (an editable install)."""
    import pydantic

    import clearance

    paths = [str(Path(clearance.__file__).resolve().parents[1])]
    deps = str(Path(pydantic.__file__).resolve().parents[1])
    if deps not in paths:
        paths.append(deps)
    return paths


def python_note(host: str) -> str:
    import sys

    version = ".".join(str(v) for v in sys.version_info[:2])
    return (
        f"{host} must import the core with the same Python version as this install ({version}), because pydantic "
        f"has compiled parts; otherwise install Clearance into {host}'s own Python (see docs/install.md)"
    )


# ------------------------------------------------------------------------------------------ Nuke


def nuke_home(envr: Environment) -> PurePath:
    # Nuke keeps ~/.nuke on every OS. On Windows Foundry's guide ("Loading Gizmos, NDK Plug-ins, and Python and
    # TCL Scripts") puts it under %HOME% when that is set, else under %USERPROFILE%.
    if envr.platform != "win32":
        return envr.path(envr.home, ".nuke")
    return envr.path(envr.env.get("HOME") or envr.env.get("USERPROFILE") or envr.home, ".nuke")


def nuke_init_line(dest: PurePath) -> str:
    return f"nuke.pluginAddPath({str(dest)!r})  {MARK}"


def plan_nuke(envr: Environment, source: Path, dest: str | None = None, link: bool = False) -> Plan:
    target = envr.path(dest) if dest else nuke_home(envr) / "clearance"
    init = nuke_home(envr) / "init.py"
    plan = Plan(host="nuke", destination=str(target))
    plan.steps.append(
        Step(
            action="link_tree" if link else "copy_tree",
            source=str(source),
            target=str(target),
            note="the Clearance menu, panel, GenAI tab and callbacks",
        )
    )
    # a linked install must not write into the checkout: the pointer then lives beside ~/.nuke/init.py
    pointer = nuke_home(envr) / "clearance_core_path.txt" if link else target / "core_path.txt"
    plan.steps.append(
        Step(
            action="write_file",
            target=str(pointer),
            text="\n".join(core_paths()) + "\n",
            note="where the Clearance core is, for Nuke's Python",
        )
    )
    plan.steps.append(
        Step(
            action="append_line",
            target=str(init),
            text="import nuke\n" + nuke_init_line(target),
            note="Nuke loads the plugin folder at start-up",
        )
    )
    plan.notes.append(
        "restart Nuke: the Clearance menu appears in the menu bar; farm nodes need the same folder "
        "on NUKE_PATH (init.py is safe there: no UI)"
    )
    plan.notes.append(python_note("Nuke"))
    return plan


# ------------------------------------------------------------------------------------------ Blender


def blender_config_root(envr: Environment) -> PurePath:
    if envr.platform == "win32":
        appdata = envr.env.get("APPDATA") or str(envr.path(envr.home, "AppData", "Roaming"))
        return envr.path(appdata, "Blender Foundation", "Blender")
    if envr.platform == "darwin":
        return envr.path(envr.home, "Library", "Application Support", "Blender")
    config = envr.env.get("XDG_CONFIG_HOME") or str(envr.path(envr.home, ".config"))
    return envr.path(config, "blender")


def blender_versions(envr: Environment) -> list[str]:
    """Blender versions with a user config folder on this machine, newest first (4.2 and later)."""
    root = Path(str(blender_config_root(envr)))
    found = []
    if root.is_dir():
        for child in root.iterdir():
            match = re.fullmatch(r"(\d+)\.(\d+)", child.name)
            if child.is_dir() and match and (int(match.group(1)), int(match.group(2))) >= MIN_BLENDER:
                found.append((int(match.group(1)), int(match.group(2))))
    return [f"{a}.{b}" for a, b in sorted(found, reverse=True)]


def blender_startup_script(paths: list[str]) -> str:
    return (
        '"""Put the Clearance core on Blender\'s Python path (written by `clearance install blender`)."""\n\n'
        "import sys\n\n"
        f"CLEARANCE_PATHS = {paths!r}\n\n"
        "try:\n"
        "    import clearance  # noqa: F401\n"
        "except ImportError:\n"
        "    for _path in CLEARANCE_PATHS:\n"
        "        if _path not in sys.path:\n"
        "            sys.path.append(_path)\n\n\n"
        "def register():\n    pass\n\n\n"
        "def unregister():\n    pass\n"
    )


def plan_blender(
    envr: Environment, source: Path, dest: str | None = None, link: bool = False, version: str | None = None
) -> Plan:
    notes = []
    if dest:
        target = envr.path(dest)
        startup = None
    else:
        if version is None:
            versions = blender_versions(envr)
            if versions:
                version = versions[0]
            else:
                version = "5.0"
                notes.append("no Blender 4.2+ user folder was found; assumed 5.0 (use --blender-version X.Y)")
        elif not re.fullmatch(r"\d+\.\d+", version):
            raise ClearanceError(f"--blender-version {version}: expected major.minor, e.g. 4.2 or 5.0")
        base = blender_config_root(envr) / version
        target = base / "extensions" / "user_default" / "clearance"
        startup = base / "scripts" / "startup" / "clearance_core_path.py"
    plan = Plan(host="blender", destination=str(target), notes=notes)
    plan.steps.append(
        Step(
            action="link_tree" if link else "copy_tree",
            source=str(source),
            target=str(target),
            note="the Clearance extension (user_default repository)",
        )
    )
    if startup is not None:
        plan.steps.append(
            Step(
                action="write_file",
                target=str(startup),
                text=blender_startup_script(core_paths()),
                note="puts the Clearance core on Blender's Python path",
            )
        )
    plan.notes.append(
        "start Blender, then enable Clearance in Edit > Preferences > Get Extensions (installed "
        "extensions); or install a built package: `blender --command extension build --source-dir "
        f"{source}` then `blender --command extension install-file -r user_default "
        "clearance-0.1.0.zip`"
    )
    if dest:
        plan.notes.append("with --dest, put the Clearance core on Blender's Python path yourself (see docs/install.md)")
    plan.notes.append(python_note("Blender"))
    return plan


# ------------------------------------------------------------------------------------------ Resolve


def clearance_data_dir(envr: Environment) -> PurePath:
    """clearance.paths.data_dir() as it is on ``envr``'s OS (CLEARANCE_HOME first)."""
    if envr.env.get("CLEARANCE_HOME"):
        return envr.path(envr.env["CLEARANCE_HOME"])
    if envr.platform == "win32":
        local = envr.env.get("LOCALAPPDATA") or str(envr.path(envr.home, "AppData", "Local"))
        return envr.path(local, "Clearance")
    if envr.platform == "darwin":
        return envr.path(envr.home, "Library", "Application Support", "Clearance")
    return envr.path(envr.env.get("XDG_DATA_HOME") or str(envr.path(envr.home, ".local", "share")), "clearance")


def resolve_scripts_dir(envr: Environment) -> PurePath:
    """The per-user Fusion/Scripts/Edit folder (Resolve scripting README, 'Scripts' locations)."""
    if envr.platform == "win32":
        appdata = envr.env.get("APPDATA") or str(envr.path(envr.home, "AppData", "Roaming"))
        return envr.path(appdata, "Blackmagic Design", "DaVinci Resolve", "Support", "Fusion", "Scripts", "Edit")
    if envr.platform == "darwin":
        return envr.path(
            envr.home,
            "Library",
            "Application Support",
            "Blackmagic Design",
            "DaVinci Resolve",
            "Fusion",
            "Scripts",
            "Edit",
        )
    return envr.path(envr.home, ".local", "share", "DaVinciResolve", "Fusion", "Scripts", "Edit")


def resolve_script_text(source: Path, paths: list[str]) -> str:
    text = source.read_text(encoding="utf-8")
    line = "CLEARANCE_PATHS = []"
    if line not in text:
        raise ClearanceError(f"{source}: the line `{line}` is missing; restore the script from the checkout")
    return text.replace(line, f"CLEARANCE_PATHS = {paths!r}", 1)


def plan_resolve(
    envr: Environment, source: Path, dest: str | None = None, link: bool = False, library: str | None = None
) -> Plan:
    target = envr.path(dest) if dest else resolve_scripts_dir(envr)
    lib = envr.path(library) if library else None
    if lib is None:
        lib = clearance_data_dir(envr) / "resolve"
    package_target = lib / "clearance_resolve"
    plan = Plan(host="resolve", destination=str(target))
    plan.steps.append(
        Step(
            action="link_tree" if link else "copy_tree",
            source=str(source / "clearance_resolve"),
            target=str(package_target),
            note="the scripts' shared code",
        )
    )
    paths = [str(lib), *core_paths()]
    for name in RESOLVE_SCRIPTS:
        plan.steps.append(
            Step(
                action="copy_script",
                source=str(source / name),
                target=str(target / name),
                text=resolve_script_text(source / name, paths),
                note="Workspace > Scripts > Edit",
            )
        )
    plan.notes.append(
        "restart Resolve (or reopen the Workspace > Scripts menu): Clearance Tag and Clearance Check "
        "are under Edit; Preferences > System > General > External scripting using: Local lets "
        "them run from a terminal too (DaVinci Resolve Studio only)"
    )
    plan.notes.append(
        "the free DaVinci Resolve shows no script windows from 19.1 (the scripts print to the Console and write "
        "the HTML report) and no longer lists scripts under Workspace > Scripts from 21.1 (see docs/hosts/support.md)"
    )
    plan.notes.append(python_note("Resolve"))
    return plan


# ------------------------------------------------------------------------------------------ applying


def _ours_or_empty(target: Path) -> bool:
    if not target.exists() and not target.is_symlink():
        return True
    if target.is_symlink():
        return True
    return target.is_dir() and ((target / INSTALL_MARKER).exists() or not any(target.iterdir()))


def _replace_tree(source: Path, target: Path, link: bool) -> bool:
    """Copy (or link) ``source`` to ``target``; True when it was linked."""
    if not _ours_or_empty(target):
        raise ClearanceError(
            f"{target} exists and was not installed by Clearance: move it away or choose another --dest"
        )
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            target.symlink_to(source, target_is_directory=True)
            return True
        except OSError:  # Windows without the symlink privilege: copy instead
            pass
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (target / INSTALL_MARKER).write_text("installed by `clearance install`; safe to replace\n", encoding="utf-8")
    return False


def _append_once(path: Path, text: str) -> bool:
    """Add the lines of ``text`` not already in ``path``. False when nothing was missing."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    have = {line.strip() for line in existing.splitlines()}
    missing = [line for line in text.splitlines() if line.strip() not in have]
    # "import nuke" alone is not worth a change when our line is already there
    if all(line.strip() == "import nuke" for line in missing) and any(MARK in line for line in existing.splitlines()):
        return False
    if not missing:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(prefix + "\n".join(missing) + "\n")
    return True


def apply(plan: Plan, dry_run: bool = False) -> list[str]:
    """Carry out the plan (unless ``dry_run``); one line per step saying what was (or would be) done."""
    lines = []
    for step in plan.steps:
        target = Path(step.target)
        if dry_run:
            lines.append(step.describe(True))
            continue
        try:
            if step.action in ("copy_tree", "link_tree"):
                linked = _replace_tree(Path(str(step.source)), target, step.action == "link_tree")
                if step.action == "link_tree" and not linked:
                    lines.append(f"copied {step.source} -> {target} (this system refused a link)")
                    continue
            elif step.action in ("write_file", "copy_script"):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(step.text or "", encoding="utf-8")
            elif step.action == "append_line" and not _append_once(target, step.text or ""):
                lines.append(f"{target} already loads Clearance: left unchanged")
                continue
        except OSError as exc:
            raise ClearanceError(f"{target}: cannot install there: {exc.strerror or exc}") from None
        lines.append(step.describe(False))
    return lines
