"""Pausing Python's cyclic garbage collector around a batch that makes many objects and no cycles.

A publish of 10,000 items makes hundreds of thousands of small objects (records, items, standings) that
live until the publish ends. The cyclic collector, triggered by allocation counts, would walk all of them
again and again (in a Blender session, with Blender's own objects too): measured at about a third of a
collect + validate. Reference counting still frees everything as usual; only the cycle search waits.

Pausing alone would only move that walk: every object made during the pause is still in the youngest
generation when the collector resumes, so the next young collection walks them all at once (a quarter of a
second after 10,000 records, bench/blender.py), and the middle generation walks them again later. So when
the batch ends, the objects it left are handed to the oldest generation as they are, the move
``gc.freeze()`` followed by ``gc.unfreeze()`` makes: the next full collection, which comes with its usual
thresholds, still looks at them and frees any cycle among them. This is done only when nothing in the
process froze objects itself (``gc.get_freeze_count()`` is 0), since ``unfreeze`` would thaw those too.
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
            _to_oldest_generation()
            gc.enable()


def _to_oldest_generation() -> None:
    """Move every tracked object to the oldest generation without walking them (see the module's note)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
