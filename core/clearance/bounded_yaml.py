"""PyYAML's safe loader, bounded: the YAML half of ``clearance.documents`` (``parse_text`` calls it).

A module of its own so that PyYAML is imported only when a YAML document is read: importing it compiles its
reader's and resolver's regular expressions (about 15 ms of a command's start), which checking a cut or
reading a JSON document never needs.
The limits are ``clearance.documents``' constants and its errors are ``DocumentError``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from clearance.documents import (
    MAX_ALIAS_VALUES,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_NODES,
    DocumentError,
)
from clearance.errors import ClearanceError

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_KEY = "<<"

try:  # libyaml's scanner and parser (C) when PyYAML was built with it; composing stays in Python, bounded
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _BoundedLoader(Composer, _Parser, SafeConstructor, Resolver):
    """PyYAML's safe loader with a composer that counts as it goes and refuses what breaks a limit."""

    def __init__(self, text: str, source: str) -> None:
        _Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.source = source
        self.depth = 0
        self.nodes = 0
        self.aliases = 0
        self.alias_values = 0
        self.sizes: dict[int, int] = {}
        self.open_anchors: set[str] = set()

    def _refuse(self, line: int | None, problem: str, fix: str | None = None) -> DocumentError:
        return DocumentError(self.source, problem, fix=fix, line=line)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        mark = getattr(event, "start_mark", None)
        line = mark.line + 1 if mark is not None else None
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._refuse(line, f"uses more than {MAX_ALIASES} YAML aliases (*name)", "write the values out")
            if event.anchor in self.open_anchors:
                raise self._refuse(line, f"has alias *{event.anchor} inside the value it names")
            target = self.anchors.get(event.anchor)
            expands_to = self.sizes.get(id(target), 1)
            self.nodes += expands_to
            self.alias_values += expands_to
            if self.alias_values > MAX_ALIAS_VALUES:
                raise self._refuse(
                    line, f"has aliases that stand for more than {MAX_ALIAS_VALUES} values (an alias bomb)",
                    "write the values out",
                )
            if self.nodes > MAX_NODES:
                raise self._refuse(line, f"has aliases that expand to more than {MAX_NODES} values (an alias bomb)")
            return super().compose_node(parent, index)
        anchor = event.anchor if isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent) else None
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._refuse(line, f"is nested deeper than the {MAX_DEPTH}-level limit")
        start = self.nodes
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._refuse(line, f"holds more than {MAX_NODES} values")
        if anchor:
            self.open_anchors.add(anchor)
        node = super().compose_node(parent, index)
        if anchor:
            self.open_anchors.discard(anchor)
            self.sizes[id(node)] = self.nodes - start
        self.depth -= 1
        return node

    # types-PyYAML declares ``anchor`` as a dict; PyYAML passes the anchor's name (or None).
    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        node: ScalarNode = super().compose_scalar_node(anchor)
        if node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
            raise self._refuse(
                node.start_mark.line + 1,
                f"holds an integer of {len(node.value)} characters, over the {MAX_INT_DIGITS}-digit limit",
            )
        return node

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node: MappingNode = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.value == _MERGE_KEY:
                continue
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise self._refuse(
                    line, f"has key {key_node.value!r} twice in one mapping (also on line {seen[key]})", "keep one"
                )
            seen[key] = line
        return node


def _walk(root: Node, lines: dict[tuple[Any, ...], int]) -> None:
    """The line of every key and list item. Iterative, and each node once: aliases are not followed again."""
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, prefix = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                lines.setdefault((*prefix, key), key_node.start_mark.line + 1)
                stack.append((value_node, (*prefix, key)))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                lines.setdefault((*prefix, index), item.start_mark.line + 1)
                stack.append((item, (*prefix, index)))


def parse(text: str, source: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """(the data, the line of every key and list item) of YAML text (JSON is YAML too). Raises ClearanceError."""
    loader = _BoundedLoader(text, source)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except ClearanceError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        if "nesting depth" in str(exc.problem):  # libyaml's own limit, deeper than ours
            raise DocumentError(source, f"is nested deeper than the {MAX_DEPTH}-level limit", line=line) from None
        raise DocumentError(
            source, f"not valid YAML or JSON: {exc.problem or exc.context}", fix="fix the syntax", line=line
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentError(source, f"not valid YAML or JSON: {exc}", fix="fix the syntax") from None
    except (RecursionError, MemoryError):  # beyond the limits above; kept as a last guard
        raise DocumentError(source, "is too deeply nested or too large to read") from None
    finally:
        loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _walk(node, lines)
    return data, lines
