"""Bench: the host-neutral collector and validators on a large publish, as shipped and by their plain paths.

    .venv/bin/python bench/collect_checks.py [--items 10000] [--repeat 3]

N items, each with its own record (bench/blender.py's worst case, without Blender: the items as the Blender
collector hands them on, record id and digests included), every record queued in a real outbox on disk.
Runs a real Pyblish collect + validate (CollectClearanceItems and every Clearance validator but the approval
check, which is bench/blender.py's other half) in one process, alternating:

- as shipped;
- by the plain paths the fast ones are checked against: ``context.create_instance`` per item, a Decision of
  its own per record (``DecisionBatch.decide``), the outbox asked by record id, 500 ids a query.

and prints each plugin's CPU time (best of --repeat) and the ratio of the two. Then the outbox alone: the
publish's question ("which of these versions were disclosed?") answered from the index, and as it was
answered before the index existed (state read from the table, behind each record's body).
CPU time (``time.process_time``) stays honest on a busy machine; the ratios are from the same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ("CollectClearanceItems", "ValidateClearance")


def _items(count: int) -> list[Any]:
    from clearance.items import GenAIItem
    from clearance.outbox import Outbox
    from clearance.presets import new_record
    from clearance.tags import Tag, decode_tag, encode_tag

    items = []
    with Outbox() as outbox:
        for index in range(count):
            handle = f"objects:Crowd{index:05d}"
            preset = "background-signage" if index % 2 else "mood-board"
            record = new_record(preset, production="BENCH_S01", targets=[_target(handle)])
            outbox.add(record)  # disclosed, as the Blender save handler leaves it
            tag = decode_tag(encode_tag(Tag.for_record(record)), "tag")
            extra = {"record_id": str(tag.record_id), "record_digest": tag.digest}
            if tag.content_digest:
                extra["content_digest"] = tag.content_digest
            items.append(GenAIItem(host="blender", handle=handle, label=handle.split(":")[1],
                                   target=_target(handle), record=tag.record, record_source="bench", extra=extra))
    return items


def _target(handle: str) -> Any:
    from clearance.record import Target

    return Target(kind="asset", ref=handle)


def _plain_instances(context: Any, entries: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return [context.create_instance(name, **data) for name, data in entries]


def _paths(plain: bool) -> None:
    """Switch between the shipped paths and the plain ones (each fast path's tests compare it with these)."""
    from clearance import outbox
    from clearance.policy import engine
    from clearance.pyblish import collect, instances

    collect.create_instances = _plain_instances if plain else instances.create_instances  # type: ignore[assignment]
    engine.DecisionBatch.decide_shared = (  # type: ignore[method-assign]
        engine.DecisionBatch.decide if plain else _SHARED)
    outbox.SCAN_FACTOR = 0 if plain else _SCAN_FACTOR


def _publish(items: list[Any], plugins: list[Any], times: dict[str, float]) -> float:
    import pyblish.api
    import pyblish.util

    class BenchItems(pyblish.api.ContextPlugin):
        order = pyblish.api.CollectorOrder

        def process(self, context: Any) -> None:
            context.data["clearance_items"] = list(items)
            context.data["clearance_production"] = "BENCH_S01"

    timed = [BenchItems, *plugins]
    started = time.process_time()
    context = pyblish.util.validate(pyblish.util.collect(plugins=timed), plugins=timed)
    total = time.process_time() - started
    errors = [str(r["error"]).splitlines()[0] for r in context.data["results"] if r["error"]]
    if errors:
        raise SystemExit(f"the bench publish failed, so its time would mean nothing: {errors[0]}")
    assert len(context) == len(items), len(context)
    for result in context.data["results"]:
        name = result["plugin"].__name__
        if name.startswith(PLUGINS):
            times[name] = times.get(name, 0.0) + result["cpu"]
    return total


def _timed_plugins() -> list[Any]:
    """The Clearance plugins this bench is about, each recording its own CPU time in its result."""
    import pyblish.api
    import pyblish.plugin

    chosen = [p for p in pyblish.api.discover()
              if p.__name__.startswith(PLUGINS) and p.__name__ != "ValidateClearanceApproval"]
    original = pyblish.plugin.process

    def process(plugin: Any, context: Any, instance: Any = None, action: Any = None) -> Any:
        started = time.process_time()
        result = original(plugin, context, instance, action)
        result["cpu"] = time.process_time() - started
        return result

    pyblish.plugin.process = process
    return chosen


def _outbox_parts(items: list[Any], repeat: int) -> tuple[float, float]:
    """The publish's outbox question as asked now, and as it was asked before the covering index."""
    from clearance.outbox import Outbox
    from clearance.record import content_digest

    pairs = [(str(i.record.id), i.extra.get("content_digest") or content_digest(i.record)) for i in items]
    wanted = set(pairs)
    ids = sorted({record_id for record_id, _digest in wanted})

    def now() -> set[tuple[str, str]]:
        with Outbox() as outbox:
            return outbox.disclosed(pairs)

    def before() -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        with Outbox() as outbox:
            cursor = outbox._db.cursor()
            cursor.row_factory = None
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = cursor.execute(
                    "SELECT record_id, content_digest, state, permanent FROM entries "
                    f"INDEXED BY sqlite_autoindex_entries_1 WHERE record_id IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
                found.update((r, d) for r, d, state, permanent in rows
                             if (r, d) in wanted and (state == "sent" or not permanent))
        return found

    best_now = best_before = float("inf")
    for _ in range(repeat):
        for which in (now, before):
            started = time.process_time()
            answer = which()
            seconds = time.process_time() - started
            assert answer == wanted, "every record of the bench is queued"
            if which is now:
                best_now = min(best_now, seconds)
            else:
                best_before = min(best_before, seconds)
    return best_now, best_before


_SHARED: Any = None
_SCAN_FACTOR = 0


def main() -> int:
    global _SHARED, _SCAN_FACTOR
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="publishes of each kind, alternating; the best counts")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="clearance-bench-collect-"))
    os.environ["CLEARANCE_HOME"] = str(home)
    os.environ["PYBLISHPLUGINPATH"] = str(ROOT / "pyblish_plugins")
    for name in ("CLEARANCE_POLICY", "CLEARANCE_SERVER", "CLEARANCE_TOKEN"):
        os.environ.pop(name, None)
    try:
        from clearance import outbox
        from clearance.policy import engine

        _SHARED, _SCAN_FACTOR = engine.DecisionBatch.decide_shared, outbox.SCAN_FACTOR
        print(f"{args.items} items, each with its own record; load {os.getloadavg()[0]:.2f}", flush=True)
        items = _items(args.items)
        plugins = _timed_plugins()
        best: dict[str, dict[str, float]] = {"shipped": {}, "plain": {}}
        totals: dict[str, float] = {"shipped": float("inf"), "plain": float("inf")}
        for _ in range(args.repeat):
            for kind in ("shipped", "plain"):
                _paths(kind == "plain")
                times: dict[str, float] = {}
                gc.collect()
                totals[kind] = min(totals[kind], _publish(items, plugins, times))
                for name, seconds in times.items():
                    best[kind][name] = min(best[kind].get(name, float("inf")), seconds)
        _paths(False)
        shipped, plain = sum(best["shipped"].values()), sum(best["plain"].values())
        print(f"{'CPU ms, best of ' + str(args.repeat):44s} {'shipped':>9s} {'plain':>9s} {'ratio':>7s}")
        for name in sorted(best["plain"], key=lambda n: -best["plain"][n]):
            now, before = best["shipped"].get(name, 0.0), best["plain"][name]
            print(f"  {name:42s} {now * 1000:9.1f} {before * 1000:9.1f} {now / before if before else 1:7.2f}")
        print(f"  {'these plugins together':42s} {shipped * 1000:9.1f} {plain * 1000:9.1f} {shipped / plain:7.2f}")
        print(f"  {'whole collect + validate (Pyblish too)':42s} {totals['shipped'] * 1000:9.1f} "
              f"{totals['plain'] * 1000:9.1f} {totals['shipped'] / totals['plain']:7.2f}")
        now, before = _outbox_parts(items, args.repeat)
        print(f"outbox, which of {args.items} versions were disclosed: {now * 1000:.1f} ms from the index, "
              f"{before * 1000:.1f} ms reading state from the table by id as before ({now / before:.2f})")
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
