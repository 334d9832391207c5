"""Pausing Python's cyclic garbage collector around a batch that makes many objects and no cycles.

A publish of 10,000 items makes hundreds of thousands of small objects (records, items, standings) that
live until the publish ends. The cyclic collector, triggered by allocation counts, would walk all of them
again and again (in a Blender session, with Blender's own objects too): measured at about a third of a
collect + validate. Reference counting still frees everything as usual; only the cycle search waits, and
it resumes, with its usual thresholds, when the batch ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    """Run the block with the cyclic collector off (left as it was found, also when the block raises)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
