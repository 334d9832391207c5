"""The studio's record presets (clearance.presets) as host menus list them: names, and a fresh record."""

from __future__ import annotations

from clearance.record import UseRecord


def preset_names() -> list[str]:
    try:  # TEMP until A lands clearance.presets
        from clearance import presets
    except ImportError:
        return []

    return [p.name for p in presets.list_presets()]


def preset_record(name: str) -> UseRecord:
    from clearance import presets

    return presets.preset_record(name)
