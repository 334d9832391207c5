"""Benchmark: policy evaluation of 10,000 varied records against pydantic validation of the same records.

Run: .venv/bin/python bench/policy.py [--records N] [--policy FILE]...
Prints records/s for both and the ratio evaluation time / validation time (target <= 1.0), measured in
the same run, best of several rounds so a busy machine does not decide the figure.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from clearance.policy import evaluate, load_policy
from clearance.record import UseRecord

TRI = ("yes", "no", "no", "no", "unsure")  # mostly "no", like real records


def as_version_2(records: list[dict[str, Any]], seed: int = 8) -> list[dict[str, Any]]:
    """The same records as version 2, with the version 2 questions answered at random too."""
    rng = random.Random(seed)
    pick = rng.choice
    out = []
    for original in records:
        data = {**original, "schema_version": 2}
        for tool in [data["tool"]] if "tool" in data else data["tools"]:
            tool["trains_on_outputs"] = pick(TRI)
        data["use"] = {**data["use"], "human_contribution": pick(TRI)}
        data["inputs"] = {**data["inputs"], "third_party_cleared": pick(TRI)}
        data["prompt_references"] = {**data["prompt_references"], "permissions_cleared": pick(TRI),
                                     "permission_refs": pick(([], ["legal/permission.pdf"]))}
        talent = dict(data["talent"])
        talent["alteration"] = pick(("none", "customary", "tonal", "new_performance", "significant"))
        talent["consent_refs"] = pick(([], ["CONSENT-1"]))
        talent["performer_deceased"] = pick(TRI)
        data["talent"] = talent
        data["realism"] = {**data["realism"], "depicts_real_places": pick(TRI), "photorealistic": pick(TRI),
                           "audience_disclosure": pick(("none", "credits", "on_screen_label", "unsure"))}
        out.append(data)
    return out


def varied_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    pick = rng.choice
    out = []
    for index in range(count):
        steps = rng.choice((1, 1, 1, 2, 3))
        tools = [
            {
                "name": pick(("Firefly", "Runway", "ElevenLabs", "Internal upscaler", "FreeChat")),
                "provider": "vendor",
                "environment": pick(("enterprise", "enterprise", "self_hosted", "consumer", "unknown")),
                "trains_on_inputs": pick(TRI),
                "retains_inputs": pick(TRI),
            }
            for _ in range(steps)
        ]
        record: dict[str, Any] = {
            "schema_version": 1,
            "id": f"00000000-0000-4000-8000-{index:012d}",
            "production": "BENCH_S01",
            "vendor": "Bench VFX",
            "declared_by": "bench",
            "declared_at": "2026-11-21T10:00:00Z",
            "description": f"bench record {index}",
            "use": {
                "media": pick(("image", "video", "audio", "voice", "text", "3d", "other")),
                "stage": pick(("ideation", "previs", "temp", "final")),
                "in_final_deliverable": pick(TRI),
                "creative_element": pick(
                    ("none", "background", "secondary_character", "main_character", "key_visual", "central_setting")
                ),
                "prominence": pick(("none", "incidental", "story_relevant")),
                "content_type": pick(("fiction", "documentary", "unscripted", "marketing")),
            },
            "inputs": {
                k: pick(TRI) for k in ("studio_proprietary", "personal_data", "third_party_material", "talent_material")
            },
            "training": {"fine_tuned": pick(TRI), "training_material_cleared": pick(TRI)},
            "prompt_references": {k: pick(TRI) for k in ("copyrighted_work", "public_figure", "deceased_person")},
            "output": {"resembles_unowned_material": pick(TRI)},
            "talent": {
                "digital_replica": pick(TRI),
                "replica_exception": pick(("none", "none", "as_performed", "unsafe_activity", "unrecognizable")),
                "alteration": pick(("none", "customary", "significant")),
                "consent_documented": pick(TRI),
                "consent_ref": pick((None, "legal/consent.pdf")),
                "model_from_other_production": pick(TRI),
                "replaces_union_work": pick(TRI),
            },
            "realism": {"depicts_real_people_or_events": pick(TRI), "presented_as_authentic": pick(TRI)},
            "targets": [{"kind": "shot", "ref": f"sh{index:04d}"}],
        }
        if steps == 1:
            record["tool"] = tools[0]
        else:
            record["tools"] = tools
        out.append(record)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--policy", action="append", default=None)
    parser.add_argument("--record-version", type=int, choices=(1, 2), default=1,
                        help="1: release 0.1 records (default); 2: the same with the version 2 questions")
    args = parser.parse_args()
    policy = load_policy(args.policy or [])
    data = varied_records(args.records)
    if args.record_version == 2:
        data = as_version_2(data)
    records = [UseRecord.model_validate(d) for d in data]
    for record in records[:200]:  # warm up caches on both sides
        evaluate(record, policy)
    # Validation and evaluation alternate chunk by chunk, so both see the same machine load (the ratio is
    # what matters on a shared 2-core box); each total is the best of the rounds.
    chunk = 250
    validate_best = evaluate_best = cold_best = float("inf")
    outcomes: dict[str, int] = {}
    decisions = []
    for _ in range(args.rounds):
        fresh = policy.model_copy(deep=True)  # cold: a copy is compiled afresh, nothing learnt is reused
        validate_total = cold_total = warm_total = 0.0
        decisions = []
        for start in range(0, len(data), chunk):
            part_data = data[start : start + chunk]
            part = records[start : start + chunk]
            t0 = time.perf_counter()
            for d in part_data:
                UseRecord.model_validate(d)
            t1 = time.perf_counter()
            for r in part:
                evaluate(r, fresh)
            t2 = time.perf_counter()
            decisions += [evaluate(r, fresh) for r in part]
            t3 = time.perf_counter()
            validate_total += t1 - t0
            cold_total += t2 - t1
            warm_total += t3 - t2
        validate_best = min(validate_best, validate_total)
        cold_best = min(cold_best, cold_total)
        evaluate_best = min(evaluate_best, warm_total)
    for decision in decisions:
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    n = len(records)
    print(f"records: {n} (outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})")
    print(f"pydantic validation:     {n / validate_best:,.0f} records/s ({validate_best * 1e6 / n:.1f} us/record)")
    print(f"policy evaluation, cold: {n / cold_best:,.0f} records/s ({cold_best * 1e6 / n:.1f} us/record)")
    print(f"policy evaluation, warm: {n / evaluate_best:,.0f} records/s ({evaluate_best * 1e6 / n:.1f} us/record)")
    print(
        f"ratio evaluation / validation: cold {cold_best / validate_best:.2f}, warm {evaluate_best / validate_best:.2f}"
        " (target <= 1.0)"
    )


if __name__ == "__main__":
    main()
