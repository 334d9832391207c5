"""`clearance install nuke|blender|resolve`: put a host integration where that host looks for it.

Linux, macOS and Windows; says what it did, line by line; ``--dry-run`` changes nothing and prints the
same lines as "would ...". The steps come from clearance.hosts.install.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.hosts import install

HOSTS = ("nuke", "blender", "resolve")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "install",
        help="install the Nuke, Blender or Resolve integration for this user",
        description=(
            "Install a host integration where the host finds it: Nuke (~/.nuke/clearance plus a line in "
            "~/.nuke/init.py), Blender (the user_default extension repository), DaVinci Resolve "
            "(Fusion/Scripts/Edit). Prints every change; --dry-run prints them without changing anything."
        ),
    )
    p.add_argument("host", choices=HOSTS, help="which host")
    p.add_argument("--dest", metavar="DIR", help="install into DIR instead of the host's per-user folder")
    p.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    p.add_argument(
        "--link",
        action="store_true",
        help="link to this checkout instead of copying (for developers: edits show up after a host restart)",
    )
    p.add_argument("--blender-version", metavar="X.Y", help="Blender: the version folder to install into")
    p.add_argument(
        "--build",
        action="store_true",
        help="Blender: build installable extension zips (the extension plus its wheels, one zip per platform) "
        "into --dest (default: the current folder) instead of installing",
    )
    p.add_argument(
        "--build-platform",
        action="append",
        metavar="P",
        help="with --build: linux-x64, windows-x64, macos-arm64 or macos-x64 (repeatable; default: all)",
    )
    p.add_argument(
        "--from-env",
        action="store_true",
        help="with --build: repack this Python's installed packages as the wheels (this platform only, no network) "
        "instead of downloading them from PyPI",
    )
    p.add_argument("--python-version", default="3.11", help="with --build: Blender's Python (default 3.11)")
    p.add_argument("--platform", choices=("linux", "darwin", "win32"), help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    envr = install.Environment.current()
    if args.platform and args.platform != envr.platform:
        if not args.dry_run:
            raise ClearanceError(f"--platform {args.platform}: only a --dry-run can show another OS's install")
        envr = envr.model_copy(update={"platform": args.platform})
    root = install.plugins_root()
    if args.build:
        return _build(args, root)
    if args.host == "nuke":
        plan = install.plan_nuke(envr, root / "nuke", args.dest, args.link)
    elif args.host == "blender":
        if not (root / "blender" / "blender_manifest.toml").is_file():
            raise ClearanceError(f"{root / 'blender'}: the Blender extension is missing from this checkout")
        plan = install.plan_blender(envr, root / "blender", args.dest, args.link, args.blender_version)
    else:
        plan = install.plan_resolve(envr, root / "resolve", args.dest, args.link)
    lines = install.apply(plan, dry_run=args.dry_run)
    title = f"Clearance for {args.host}" + (" (dry run: nothing changed)" if args.dry_run else "")
    print(f"{title}: {plan.destination}")
    for line in lines:
        print(f"  {line}")
    for note in plan.notes:
        print(f"  note: {note}")
    return 0


def _build(args: argparse.Namespace, root: Path) -> int:
    from clearance.hosts import blender_build

    if args.host != "blender":
        raise ClearanceError(f"--build: only the Blender extension is built into a package, not {args.host}")
    out = Path(args.dest or ".").resolve()
    if args.dry_run:
        print(f"Clearance for blender (dry run: nothing changed): would build extension zips into {out}")
        return 0
    zips = blender_build.build(root / "blender", out, args.build_platform, args.from_env, args.python_version)
    print(f"Clearance for blender: built {len(zips)} extension zip(s) into {out}")
    for path in zips:
        print(f"  {path.name}")
    print("  note: install one in Blender with Edit > Preferences > Get Extensions > Install from Disk, or "
          "`blender --command extension install-file -r user_default FILE`; no start-up script is needed")
    return 0
