"""Presets: the common GenAI uses as filled-in records (data in presets.yaml next to this module)."""

from __future__ import annotations

import copy
import getpass
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any

from clearance.decision import Outcome
from clearance.documents import parse_text
from clearance.errors import ClearanceError
from clearance.record import Target, UseRecord, record_from_data


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    outcome: Outcome
    data: dict[str, Any]

    def record_data(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@lru_cache(maxsize=1)
def _load() -> dict[str, Preset]:
    text = resources.files("clearance").joinpath("presets.yaml").read_text(encoding="utf-8")
    doc = parse_text(text, "presets.yaml")
    base = doc.data["base"]
    presets: dict[str, Preset] = {}
    for name, entry in doc.data["presets"].items():
        data = _merge(base, entry.get("record") or {})
        data["description"] = entry["description"].strip()
        presets[name] = Preset(name, entry["title"], data["description"], entry["outcome"], data)
    return presets


def presets() -> dict[str, Preset]:
    """Every preset by name, in the order of presets.yaml."""
    return dict(_load())


def get_preset(name: str) -> Preset:
    # "voice_clone", "Voice Clone" and "voice-clone" all name the same preset
    found = _load().get("-".join(name.strip().lower().replace("_", " ").replace("-", " ").split()))
    if found is None:
        raise ClearanceError(
            f"--preset {name}: unknown preset; expected one of {', '.join(_load())} (`clearance record presets` lists"
            " them)"
        )
    return found


def parse_target(text: str) -> Target:
    """``kind:ref`` from the command line, e.g. ``shot:sh010`` or ``file:plates/a.exr``."""
    kind, sep, ref = text.partition(":")
    if not sep or not ref:
        raise ClearanceError(
            f"--target {text}: expected kind:ref, e.g. shot:sh010 (kinds: shot, asset, node, datablock, clip, file)"
        )
    data: dict[str, Any] = {"kind": kind, "ref": ref}
    if kind.strip().lower() == "file":
        data["path"] = ref
    return record_from_data({"targets": [data]}, f"--target {text}").targets[0]


def new_record(
    name: str,
    production: str = "",
    targets: list[Target] | None = None,
    declared_by: str | None = None,
    vendor: str | None = None,
) -> UseRecord:
    """A fresh record from a preset: new id, declared now, by the current user; the production defaults to
    CLEARANCE_PRODUCTION."""
    preset = get_preset(name)
    data = preset.record_data()
    data.update(
        id=str(uuid.uuid4()),
        production=production or os.environ.get("CLEARANCE_PRODUCTION", "").strip(),
        declared_by=declared_by or os.environ.get("USER") or _user(),
        declared_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
    if vendor:
        data["vendor"] = vendor
    record = record_from_data(data, f"preset {name}")
    if targets:
        record = record.model_copy(update={"targets": list(targets)})
    return record


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry (containers)
        return None
