"""The studio's record presets (clearance.presets) as host menus list them: names, titles, a fresh record."""

from __future__ import annotations

import os

from clearance.presets import get_preset, new_record, presets
from clearance.record import UseRecord


def preset_names() -> list[str]:
    """Every preset name, in the order of presets.yaml."""
    return list(presets())


def preset_title(name: str) -> str:
    return get_preset(name).title


def preset_record(name: str) -> UseRecord:
    """A new record from the preset: new id, declared now by this user, production from CLEARANCE_PRODUCTION."""
    return new_record(name, production=os.environ.get("CLEARANCE_PRODUCTION", ""))
