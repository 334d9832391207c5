"""Reading a Pyblish context's results; standard library only, so a Blender with nothing but bpy can use it."""

from __future__ import annotations

from typing import Any


def failures_by_validator(context: Any) -> tuple[dict[str, list[str]], list[str]]:
    """Each failed Clearance validator with the sorted handles of its failed items; any other error as a line."""
    failures: dict[str, list[str]] = {}
    other: list[str] = []
    for result in context.data.get("results", []):
        error = result.get("error")
        if error is None:
            continue
        vid = getattr(error, "validator_id", None)
        if vid:
            failures[vid] = sorted(f.handle for f in error.failures)
        else:
            other.append(f"{result['plugin'].__name__}: {error}")
    return failures, other
