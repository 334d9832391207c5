"""How a record reads on its page: answers grouped by section, and what changed between two versions."""

from __future__ import annotations

from typing import Any

SECTIONS = (
    ("use", "Use"), ("inputs", "Inputs"), ("training", "Training"), ("prompt_references", "Prompt references"),
    ("output", "Output"), ("talent", "Talent"), ("realism", "Realism"),
)
SKIP = {"schema_version", "id"}


def label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def record_sections(record: dict[str, Any]) -> list[dict[str, Any]]:
    """[{title, rows: [(label, value)]}] for the record's every answer, in the record's order."""
    out = [{
        "title": "Declaration",
        "rows": [(label(k), record.get(k)) for k in ("production", "vendor", "declared_by", "declared_at")],
    }]
    tools = record.get("tools") or ([record["tool"]] if record.get("tool") else [])
    for index, tool in enumerate(tools):
        title = "Tool" if len(tools) == 1 else f"Tool, step {index + 1}"
        out.append({"title": title, "rows": [(label(k), v) for k, v in tool.items()]})
    for key, title in SECTIONS:
        section = record.get(key) or {}
        out.append({"title": title, "rows": [(label(k), v) for k, v in section.items()]})
    return out


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        if prefix == "" and "tool" in data and "tools" not in data:
            data = {**{k: v for k, v in data.items() if k != "tool"}, "tools": [data["tool"]]}
        out: dict[str, Any] = {}
        for key, value in data.items():
            if prefix == "" and key in SKIP:
                continue
            out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        out = {}
        for index, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{index}]"))
        return out
    return {prefix: data}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field whose value differs: {field, before, after} (None where absent)."""
    old, new = flatten(before), flatten(after)
    return [
        {"field": key, "before": old.get(key), "after": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]
