"""Where Clearance keeps its files on this machine: the outbox, the approval cache, the server's data."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """The per-user data folder. ``CLEARANCE_HOME`` overrides it (tests, farm nodes, shared installs)."""
    override = os.environ.get("CLEARANCE_HOME")
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / "Clearance"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Clearance"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "clearance"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def outbox_path() -> Path:
    return data_dir() / "outbox.sqlite3"


def cache_dir() -> Path:
    """Approvals, revocations and keys pulled from the server, for offline checks."""
    return data_dir() / "cache"
