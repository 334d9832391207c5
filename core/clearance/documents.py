"""Read YAML or JSON documents and remember where each key stood, so errors can name a line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clearance.errors import ClearanceError

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


@dataclass
class Document:
    """A parsed document and the line of every key and list item in it."""

    source: str
    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[Any]) -> int | None:
        """The line of the deepest part of ``loc`` that the document has (1-based)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None


def _walk(node: yaml.Node, prefix: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[prefix + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, prefix + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[prefix + (index,)] = item.start_mark.line + 1
            _walk(item, prefix + (index,), lines)


def parse_text(text: str, source: str) -> Document:
    """Parse YAML (JSON is YAML too) with line numbers. Raises ClearanceError on bad syntax."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ClearanceError(
            f"{source}{line}: not valid YAML or JSON: {exc.problem or exc.context}; fix the syntax"
        ) from None
    except yaml.YAMLError as exc:
        raise ClearanceError(f"{source}: not valid YAML or JSON: {exc}") from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
    return Document(source=source, data=data, lines=lines)


def load_document(path: str | Path) -> Document:
    """Read a YAML or JSON file. Raises ClearanceError naming the file for every failure."""
    p = Path(path)
    source = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ClearanceError(f"{source}: file not found") from None
    except OSError as exc:
        raise ClearanceError(f"{source}: cannot read: {exc.strerror}") from None
    if p.is_dir():
        raise ClearanceError(f"{source}: is a folder, expected a YAML or JSON file")
    if size > MAX_DOCUMENT_BYTES:
        raise ClearanceError(f"{source}: {size} bytes is larger than the {MAX_DOCUMENT_BYTES} byte limit")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ClearanceError(f"{source}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClearanceError(f"{source}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    if p.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise ClearanceError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return parse_text(text, source)


def canonical_json(data: Any) -> bytes:
    """The one byte form that digests and signatures are computed over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
