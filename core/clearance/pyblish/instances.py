"""Making many Pyblish instances at once: one per GenAI item, as ``context.create_instance`` makes them.

A publish of 10,000 tagged objects makes 10,000 instances. ``Context.create_instance`` spends most of its
time on the instance's id (``str(uuid.uuid4())``: a 16-byte read from the system's random source and a
UUID object per instance) and on argument checks. ``create_instances`` draws the random bytes of every id
in one read and fills each instance in as pyblish-base's ``AbstractEntity.__init__`` and
``Instance.__init__`` do (pyblish-base ``pyblish/plugin.py``): the same attributes, the same data in the
same order, the same kind of id (a random version-4 UUID string).

It is only a fast path: the first instance of every batch is made by ``context.create_instance`` itself and
compared with what the fast path would make. When anything differs (another pyblish version, a Context or
Instance class a studio replaced), every instance is made by ``context.create_instance``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyblish.plugin

_ENTITY_ATTRIBUTES = frozenset({"_name", "_data", "_id", "_parent"})
_VARIANT = "89ab"  # RFC 4122 variant: the top two bits of the id's 9th byte are 10


def random_ids(count: int) -> list[str]:
    """``count`` random version-4 UUID strings, as ``str(uuid.uuid4())`` gives, from one random read."""
    digits = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        h = digits[start:start + 32]
        ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return ids


def _expected_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """What ``Instance.__init__`` leaves in ``instance.data``: family and name first, then the keywords."""
    expected: dict[str, Any] = {"family": "default", "name": name}
    expected.update(data)
    return expected


def _made_as_expected(context: Any, instance: Any, name: str, data: dict[str, Any]) -> bool:
    """True when ``context.create_instance`` made exactly what the fast path makes."""
    plugin = pyblish.plugin
    entity_data: Any = getattr(instance, "_data", None)
    made = (
        type(context).create_instance is plugin.Context.create_instance
        and type(instance) is plugin.Instance
        and set(vars(instance)) == _ENTITY_ATTRIBUTES
        and type(entity_data) is plugin._Dict
        and vars(entity_data) == {"_parent": instance}
        and instance._name == name
        and instance._parent is context
        and len(context) > 0
        and context[-1] is instance
        and isinstance(instance._id, str)
        and len(instance._id) == 36
    )
    if not made:
        return False
    expected = _expected_data(name, data)
    return list(entity_data.items()) == list(expected.items())


def create_instances(context: Any, entries: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
    """One instance per (name, data), in order, as ``context.create_instance(name, **data)`` would make them."""
    if not entries:
        return []
    if any("name" in data for _name, data in entries):
        raise TypeError("create_instances: an instance's name is given once, not in its data too")
    name, data = entries[0]
    first = context.create_instance(name, **data)
    made = [first]
    rest = entries[1:]
    if not _made_as_expected(context, first, name, data):
        made.extend(context.create_instance(n, **d) for n, d in rest)
        return made
    new = pyblish.plugin.Instance.__new__
    instance_class = pyblish.plugin.Instance
    data_class = pyblish.plugin._Dict
    put = dict.__setitem__  # what _Dict's __setitem__ ends in (it only checks "publish", set by ``fill`` below)
    fill = dict.update
    append = context.append
    for (name, data), entity_id in zip(rest, random_ids(len(rest)), strict=True):
        instance = new(instance_class)
        entity_data = data_class(instance)
        instance._name = name
        instance._data = entity_data
        instance._id = entity_id
        instance._parent = context
        append(instance)
        put(entity_data, "family", "default")
        put(entity_data, "name", name)
        fill(entity_data, data)
        made.append(instance)
    return made
