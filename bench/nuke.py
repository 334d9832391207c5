"""Bench: the Nuke integration on a big script, over the fake ``nuke`` (tests/fakes/nuke).

    .venv/bin/python bench/nuke.py [--nodes 5000] [--records 50]

Builds a script of N Read nodes tagged with --records records (half need approval and hold a signed
approval in the cache), all feeding one deliverable Write, then times:

- baseline: a plain loop over the nodes reading the ``clearance_tag`` knob and decoding its JSON;
- collect: ``clearance.hosts.nuke.collect_items()`` (what the Pyblish collector runs);
- panel: ``PanelModel.reload()`` (every node judged: decision + offline approval check, tile colour set);
- render gate: the beforeRender callback of the deliverable Write (walks the graph upstream, judges);
- save: the onScriptSave callback (statuses, Write metadata, outbox).

Prints wall time and the ratio to the baseline. The fake's own overhead is small next to a real Nuke's knob
access, so read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "fakes" / "nuke"), str(ROOT / "plugins" / "nuke"), str(ROOT / "tests")]

from records import clean_answers  # noqa: E402 - the one record factory (tests/records.py)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--records", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clearance-bench-nuke-"))
    os.environ["CLEARANCE_HOME"] = str(work / "home")
    for name in ("CLEARANCE_POLICY", "CLEARANCE_SERVER", "CLEARANCE_TOKEN"):
        os.environ.pop(name, None)

    import nuke
    import yaml

    from clearance.approvals import ApprovalStatement, KeyRing, TrustedKeys
    from clearance.cache import ApprovalCache
    from clearance.hosts import nuke as host
    from clearance.record import UseRecord, decision_digest
    from clearance.tags import Tag, encode_tag

    ring = KeyRing.open(work / "keys")
    keys = [{"key_id": k["key_id"], "public_key": k["public_key"]} for k in ring.public_keys_document()["keys"]]
    policy = work / "policy.yaml"
    policy.write_text(yaml.safe_dump({"approvals": {"trusted_keys": keys}}), encoding="utf-8")
    os.environ["CLEARANCE_POLICY"] = str(policy)
    now = datetime.now(timezone.utc)
    cache = ApprovalCache()
    cache.store_revocations(ring.sign_document({"revocations": [], "generated_at": now.isoformat()}),
                            TrustedKeys.from_document(ring.public_keys_document()))

    records = []
    for i in range(args.records):
        final = i % 2 == 0
        data = {
            "production": "BENCH",
            "description": f"use {i}",
            "tool": {"name": "Firefly", "environment": "enterprise", "trains_on_inputs": "no", "retains_inputs": "no"},
            "use": {
                "media": "image",
                "stage": "final" if final else "ideation",
                "in_final_deliverable": "yes" if final else "no",
                "creative_element": "background" if final else "none",
                "prominence": "incidental" if final else "none",
            },
            **clean_answers(),
        }
        record = UseRecord.model_validate(data)
        records.append(record)
        if final:
            cache.add_approval(
                ring.sign(
                    ApprovalStatement(
                        approval_id=str(uuid.uuid4()),
                        record_id=record.id,
                        record_digest=decision_digest(record),
                        production="BENCH",
                        targets=[t.key() for t in record.targets],
                        approver="bench",
                        issued_at=now - timedelta(hours=1),
                        expires_at=now + timedelta(days=1),
                    )
                )
            )

    nuke.fake_reset()
    from clearance_nuke import boot

    boot.init()
    from clearance_nuke import callbacks, knobs
    from clearance_nuke.panel_model import PanelModel

    merge = nuke.nodes.Merge2()
    for i in range(args.nodes):
        read = nuke.nodes.Read(file=f"/plates/p{i}.exr")
        knobs.add_tab(read)
        record = records[i % len(records)]
        read["clearance_tag"].setValue(encode_tag(Tag.for_record(record, target_ref=f"node:{read.name()}")))
        merge.setInput(i, read)
    write = nuke.nodes.Write(file=str(work / "out" / "comp.####.exr"))
    write.setInput(0, merge)
    assert write.knob("clearance_exempt") is not None  # every writing node is gated: no box to tick

    def timed(label: str, func: object) -> float:
        start = time.perf_counter()
        if os.environ.get("BENCH_PROFILE") == label:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(func)  # type: ignore[arg-type]
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)  # BENCH_PROFILE=<label>
        else:
            func()  # type: ignore[operator]
        return time.perf_counter() - start

    nodes = nuke.allNodes()

    def baseline() -> None:
        for node in nodes:
            knob = node.knob("clearance_tag")
            if knob is not None and knob.value():
                json.loads(knob.value())

    def gate() -> None:
        nuke._run(nuke.beforeRenders, write._d)  # what nuke.execute runs first, without writing frames

    results = [
        ("baseline (read + json.loads every tag)", timed("baseline", baseline)),
        ("collect_items (Pyblish collector)", timed("collect", host.collect_items)),
        ("panel reload (judge every node)", timed("panel", PanelModel().reload)),
        ("render gate (beforeRender, deliverable Write)", timed("gate", gate)),
        ("script save (status, metadata, outbox)", timed("save", callbacks.save_hook)),
    ]
    base_time = results[0][1]
    print(f"Nuke bench: {args.nodes} tagged Read nodes, {args.records} records, one deliverable Write")
    for label, seconds in results:
        print(f"  {label:48s} {seconds * 1000:9.1f} ms   x{seconds / base_time:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
