"""Bench: validating 10,000 tagged GenAI items with the Clearance publish validators.

Runs a real pyblish publish (collect + validate; nothing is extracted) of N tagged items twice in the
same process: with every Clearance validator, and with the Clearance validators switched off (the
baseline: same collectors, same items). Prints the validators' own time (target: under 1 s for 10,000
items), the ratio of the two publishes, and each validator's share.

    .venv/bin/python bench/publish.py [--items 10000] [--records 1000] [--approval-share 0.2]

A production attaches one record to several targets (10 shots per record by default); ``--records`` equal
to ``--items`` is the worst case, one record and one signed approval per item.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the one record factory (tests/records.py)

from records import clean_answers  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=1_000, help="distinct records the items share")
    parser.add_argument("--repeat", type=int, default=3, help="publishes of each kind, alternating; the fastest counts")
    parser.add_argument("--approval-share", type=float, default=0.2,
                        help="share of records that need approval (each holds a valid signed approval)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="clearance-bench-publish-"))
    os.environ["CLEARANCE_HOME"] = str(home)
    os.environ["PYBLISHPLUGINPATH"] = str(ROOT / "pyblish_plugins")
    os.environ.pop("CLEARANCE_POLICY", None)

    import pyblish.api
    import pyblish.util

    from clearance.approvals import ApprovalStatement, KeyRing, TrustedKeys
    from clearance.cache import ApprovalCache
    from clearance.items import GenAIItem
    from clearance.policy import load_policy
    from clearance.pyblish import settings
    from clearance.record import Target, UseRecord, decision_digest

    now = datetime.now(timezone.utc)
    ring = KeyRing.open(home / "keys")
    keys = ring.public_keys_document()["keys"]
    policy_file = home / "policy.yaml"
    policy_file.write_text(
        "version: bench\ntools: {Firefly: {provider: Adobe, environment: enterprise}}\n"
        "approvals:\n  trusted_keys:\n"
        + "".join(f"    - {{key_id: {k['key_id']}, public_key: {k['public_key']}}}\n" for k in keys)
    )
    policy = load_policy([str(policy_file)])
    settings.use_policy(policy)

    ApprovalCache().store_revocations(ring.sign_document({"revocations": [], "generated_at": now.isoformat()}),
                                      TrustedKeys.from_document(ring.public_keys_document()))

    base = {
        "production": "BENCH_S01", "description": "bench",
        "tool": {"name": "Firefly", "provider": "Adobe", "environment": "enterprise",
                 "trains_on_inputs": "no", "retains_inputs": "no"},
        "use": {"media": "image", "stage": "ideation", "in_final_deliverable": "no"},
        **clean_answers(),
    }
    approvals_dir = home / "approvals"
    approvals_dir.mkdir()
    per_record = max(1, args.items // args.records)
    needing = int(args.records * args.approval_share)
    t0 = time.perf_counter()
    records = []
    for r in range(args.records):
        shots = [f"sh{i:05d}" for i in range(r * per_record, min(args.items, (r + 1) * per_record))]
        data = {**base, "id": str(uuid.uuid4()), "targets": [{"kind": "shot", "ref": s} for s in shots]}
        if r < needing:
            data["use"] = {"media": "image", "stage": "final", "in_final_deliverable": "yes",
                           "creative_element": "background", "prominence": "incidental"}
        record = UseRecord.model_validate(data)
        records.append(record)
        if r < needing:
            approval = ring.sign(ApprovalStatement(
                approval_id=str(uuid.uuid4()), record_id=record.id, record_digest=decision_digest(record),
                production=record.production, targets=[t.key() for t in record.targets], approver="bench",
                issued_at=now - timedelta(hours=1), expires_at=now + timedelta(days=30)))
            (approvals_dir / f"{approval.approval_id}.json").write_text(approval.to_json())
    items = []
    for i in range(args.items):
        record = records[min(i // per_record, args.records - 1)]
        items.append(GenAIItem(host="bench", handle=f"sh{i:05d}", label=f"sh{i:05d}",
                               target=Target(kind="shot", ref=f"sh{i:05d}"), record=record, family="review"))
    setup = time.perf_counter() - t0

    plugins = [p for p in pyblish.api.discover() if p.order < pyblish.api.ExtractorOrder - 0.5]
    clearance_validators = [p for p in plugins if getattr(p, "validator_id", "")]
    baseline_plugins = [p for p in plugins if p not in clearance_validators]

    def publish(with_validators: bool) -> tuple[float, dict[str, float], object]:
        context = pyblish.api.Context()
        context.data["clearance_items"] = list(items)
        context.data["clearance_policy"] = policy
        context.data["clearance_production"] = "BENCH_S01"
        context.data["clearance_approvals_dir"] = str(approvals_dir)
        start = time.perf_counter()
        pyblish.util.publish(context, plugins=plugins if with_validators else baseline_plugins)
        total = time.perf_counter() - start
        durations = {r["plugin"].__name__: r["duration"] / 1000 for r in context.data["results"]}
        failed = [r for r in context.data["results"] if r["error"]]
        if failed:
            raise SystemExit(f"bench publish failed: {failed[0]['plugin'].__name__}: {failed[0]['error']}")
        return total, durations, context

    runs_off, runs_on = [], []
    for _ in range(args.repeat):  # alternate, so load from other processes hits both kinds alike
        runs_off.append(publish(False))
        runs_on.append(publish(True))
    off, off_durations, _ = min(runs_off, key=lambda r: r[0])
    on, durations, context = min(runs_on, key=lambda r: r[0])
    validation_runs = sorted(sum(r[1][p.__name__] for p in clearance_validators) for r in runs_on)
    if os.environ.get("BENCH_VERBOSE"):
        for name in durations:
            print(f"  {name:40s} on {durations[name]:.3f} s  off {off_durations.get(name, 0):.3f} s")
    validation, worst = validation_runs[0], validation_runs[-1]
    approved = sum(1 for c in context.data["clearance_checks"] if c.approval is not None)

    print(f"items: {args.items} tagged, sharing {args.records} records; {needing} records need approval and hold "
          f"a valid signed approval ({approved} items approved); setup {setup:.1f} s")
    print(f"publish with the Clearance validators:     {on:.3f} s (collect + validate, fastest of {args.repeat})")
    print(f"publish with the Clearance validators off: {off:.3f} s (baseline, same run, fastest of {args.repeat})")
    print(f"ratio on/off: {on / off:.2f}x")
    print(f"Clearance validation time: {validation:.3f} s for {args.items} items "
          f"({validation / args.items * 1e6:.0f} us/item; fastest of {args.repeat} runs; slowest {worst:.3f} s) "
          f"-> target < 1 s: {'MET' if validation < 1 else 'MISSED'}")
    signing = ring.sign(ApprovalStatement(
        approval_id="probe", record_id=uuid.uuid4(), record_digest="sha256:0", production="P", targets=[],
        approver="bench", issued_at=now))
    public = next(iter(TrustedKeys.from_document(ring.public_keys_document())))
    data, signature = signing.canonical_bytes(), base64.b64decode(signing.signature)
    start = time.perf_counter()
    for _ in range(200):
        public.key.verify(signature, data)
    per_signature = (time.perf_counter() - start) / 200
    print(f"Ed25519 signature check on this machine now: {per_signature * 1e6:.0f} us each; the "
          f"{needing} approvals' signatures alone: {needing * per_signature:.3f} s")
    for plugin in sorted(clearance_validators, key=lambda p: -durations[p.__name__]):
        print(f"  {plugin.validator_id:28s} {durations[plugin.__name__]:.3f} s")
    return 0 if validation < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
