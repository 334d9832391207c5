"""The paused collector: the cycle search waits during a batch and still finds every cycle afterwards."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from clearance.gc_pause import paused_collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_collector_is_off_in_the_batch_and_on_after() -> None:
    with paused_collector():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_left_off_when_it_was_off() -> None:
    gc.disable()
    with paused_collector():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_collector_back_on_when_the_batch_raises() -> None:
    with pytest.raises(RuntimeError), paused_collector():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_objects_made_in_the_batch_skip_the_young_generations() -> None:
    with paused_collector():
        kept = [Node() for _ in range(1000)]
        young = gc.get_objects(generation=0)
        assert any(obj is kept[0] for obj in young)
    assert not any(obj is kept[0] for obj in gc.get_objects(generation=0))
    assert not any(obj is kept[0] for obj in gc.get_objects(generation=1))
    assert any(obj is kept[0] for obj in gc.get_objects(generation=2))
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_in_the_batch_is_still_freed_by_the_next_full_collection() -> None:
    with paused_collector():
        ref = _cycle()
    assert ref() is not None  # nothing collected it yet: the batch only moved it to the oldest generation
    gc.collect()
    assert ref() is None


def test_objects_someone_froze_stay_frozen() -> None:
    frozen = Node()
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        with paused_collector():
            Node()
        assert gc.get_freeze_count() == count
        assert not any(obj is frozen for obj in gc.get_objects())  # still in the permanent generation
    finally:
        gc.unfreeze()
