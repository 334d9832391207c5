"""Clearance Tag: DaVinci Resolve, Workspace > Scripts > Edit > Clearance Tag.

Resolve runs this file with `resolve` and `bmd` defined. `clearance install resolve` copies it into
Resolve's Fusion/Scripts/Edit folder and fills in CLEARANCE_PATHS (where clearance_resolve and the
Clearance core live); see docs/hosts/resolve.md.
"""

import os
import sys

CLEARANCE_PATHS = []  # filled in by `clearance install resolve`


def _clearance_paths():
    here = globals().get("__file__")
    found = list(CLEARANCE_PATHS)
    if here:
        found.append(os.path.dirname(os.path.abspath(here)))
    found.extend(p for p in os.environ.get("CLEARANCE_RESOLVE_PATH", "").split(os.pathsep) if p)
    for path in found:
        if os.path.isdir(path) and path not in sys.path:
            sys.path.insert(0, path)


def _clearance_main():
    try:
        _clearance_paths()
        from clearance_resolve import tag

        return tag.main(globals().get("resolve"), globals().get("bmd"), globals().get("app"))
    except Exception as exc:  # one line in the Console, never a traceback for the editor
        print(f"Clearance: {type(exc).__name__}: {exc} (see docs/hosts/resolve.md)")
        return 3


_clearance_exit = _clearance_main()
