"""Byte-compile Clearance before timing it in fresh processes, as installing it does.

pip compiles a package's modules when it installs it, and OpenTimelineIO's and every other dependency's
are compiled in site-packages. A source checkout run with PYTHONDONTWRITEBYTECODE set (as some CI and
container images do) would instead compile every Clearance module in every process timed, about 0.2 s of
CPU that no installed copy pays. The compiled files go to ``__pycache__`` folders, which git ignores.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "core" / "clearance"


def compile_clearance() -> str:
    """Compile (only what is stale); the sentence the bench prints about it."""
    compileall.compile_dir(str(PACKAGE), quiet=1)
    return "Clearance's modules are byte-compiled first, as installing the package does"


if __name__ == "__main__":  # `python bench/bytecode.py`: compile before timing by hand
    print(compile_clearance())
