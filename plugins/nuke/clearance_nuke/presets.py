"""The record presets the studio ships (clearance.presets), as the GenAI tab's preset menu shows them."""

from __future__ import annotations

from clearance.hosts.presets import preset_names, preset_record
from clearance.record import UseRecord


def names() -> list[str]:
    return preset_names()


def record(name: str) -> UseRecord:
    return preset_record(name)
