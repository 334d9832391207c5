"""GenAI items: what a host collector hands to the host-neutral validators.

A host collector (Nuke, Blender, editorial/Resolve, standalone) turns a scene into items and appends
them to ``context.data["clearance_items"]`` in Pyblish. The validators never look at the host again;
to select an offending node, an action calls ``select_in_host(item.host, [item.handle, ...])``, which
dispatches to the function the host integration registered with ``register_selector``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clearance.assembled import assembled_model
from clearance.record import Target, UseRecord

CONTEXT_KEY = "clearance_items"


class GenAIItem(BaseModel):
    """One tagged (or suspicious) target in a scene."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    host: str = Field(description="nuke, blender, resolve, editorial or standalone")
    handle: str = Field(description="How the host finds it again: node name, 'objects:Cube', clip name...")
    label: str = Field(description="What the artist calls it, for messages")
    target: Target
    record: UseRecord | None = Field(default=None, description="None when the target carries no tag")
    record_source: str | None = Field(default=None, description="Where the record came from (file, knob, marker)")
    tag_error: str | None = Field(default=None, description="Why the tag could not be read (broken JSON, tampered)")
    family: str | None = Field(default=None, description="The publish family this goes into, when the host knows")
    files: list[str] = Field(
        default_factory=list, description="Media files behind the target, for the provenance check"
    )
    deliverable: bool = Field(default=False, description="Marked by the artist as part of a final deliverable")
    extra: dict[str, Any] = Field(default_factory=dict, description=(
        "Host facts for the checks. A host that checked the record against its tag's digests hands them on: "
        "record_digest (the decision digest), content_digest, and record_id (str(record.id)); the collector "
        "uses them instead of computing them again"))


_GIVEN = frozenset(("host", "handle", "label", "target", "record", "record_source", "tag_error", "files",
                    "deliverable", "extra"))


def host_item(
    host: str,
    handle: str,
    label: str,
    target: Target,
    *,
    record: UseRecord | None,
    record_source: str | None,
    tag_error: str | None,
    files: list[str],
    deliverable: bool,
    extra: dict[str, Any],
    family: str | None = None,
) -> GenAIItem:
    """``GenAIItem(...)`` of these values, which a host collector made with the types the item declares
    (``target`` and ``record`` models already validated), without validating them again: a collector makes
    one per tagged thing, ten thousand in a crowd, and validating one cost more than the rest of its making.
    The lists and mappings given become the item's own. Counted as given: every field but ``family`` unless
    it is set, as the call with these keywords counts them (tests/test_items.py compares the two)."""
    fields = {
        "host": host, "handle": handle, "label": label, "target": target, "record": record,
        "record_source": record_source, "tag_error": tag_error, "family": family, "files": files,
        "deliverable": deliverable, "extra": extra,
    }
    return assembled_model(GenAIItem, fields, set(_GIVEN) if family is None else {*_GIVEN, "family"})


_selectors: dict[str, Callable[[list[str]], None]] = {}


def register_selector(host: str, select: Callable[[list[str]], None]) -> None:
    """A host integration says how to select items by handle in its UI."""
    _selectors[host] = select


def select_in_host(host: str, handles: Iterable[str]) -> bool:
    """Select the given items in the host. False when the host registered no selector (e.g. the CLI)."""
    select = _selectors.get(host)
    if select is None:
        return False
    select(list(handles))
    return True
