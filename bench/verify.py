"""Offline approval verification speed, against raw Ed25519 verification of the same bytes in the same run.

    .venv/bin/python bench/verify.py [--n 4000] [--rounds 3]

Prints verifications/s for:
- raw:     cryptography's Ed25519PublicKey.verify over the approval's signed bytes (the floor of the work)
- cold:    clearance.approvals.verify on approvals parsed but never checked (signature, digest, every rule)
- warm:    verify again on the same parsed approvals (a validator checking one approval for many targets;
           the signature check is remembered on the frozen approval object, every other check runs)
- warm, digest given: as warm, with the record digest computed once by the caller (what
           find_valid_approval and the publish validators do for a record with many targets)
- parsed:  JSON text -> SignedApproval -> verify (reading approval files from the cache)
- first checks, batched: what a publish does for approvals it has not checked yet: the signatures of the
           batch checked at once (clearance.approvals.check_signatures: libsodium when PyNaCl is installed,
           spread over the cores), then every rule of verify per approval
and each one's ratio to raw. Targets: >= 10,000 verifications/s; first checks >= 1.3x raw `cryptography`.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))

from clearance import signatures
from clearance.approvals import (
    ApprovalStatement,
    KeyRing,
    Revocations,
    SignedApproval,
    TrustedKeys,
    check_signatures,
    verify,
)
from clearance.record import Target, UseRecord, decision_digest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000, help="approvals per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each is shown")
    args = parser.parse_args()
    n = args.n
    now = datetime.now(timezone.utc)
    ring = KeyRing.open(Path(tempfile.mkdtemp()) / "keys")
    keys = TrustedKeys.from_document(ring.public_keys_document())
    revocations = Revocations(generated_at=now, signed_by="bench")
    record = UseRecord.model_validate({"production": "BENCH", "tool": {"name": "Firefly"},
                                       "targets": [{"kind": "shot", "ref": "sh010"}]})
    target = Target(kind="shot", ref="sh010")
    signed = ring.sign(ApprovalStatement(
        approval_id=str(uuid.uuid4()), record_id=record.id, record_digest=decision_digest(record),
        production="BENCH", targets=["shot:sh010"], approver="bench", issued_at=now - timedelta(minutes=10),
        expires_at=now + timedelta(days=1),
    ))
    text = signed.model_dump_json()
    data = signed.canonical_bytes()
    signature = base64.b64decode(signed.signature)
    public = keys.get(signed.key_id).key  # type: ignore[union-attr]

    def rate(fn) -> float:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        fn()
        return n / (time.perf_counter() - start)

    def raw() -> None:
        for _ in range(n):
            public.verify(signature, data)

    def run(approvals: list[SignedApproval]) -> None:
        for approval in approvals:
            if not verify(approval, record, keys=keys, revocations=revocations, target=target, now=now).valid:
                raise SystemExit("bench: a valid approval was refused")

    digest = decision_digest(record)

    def run_with_digest(approvals: list[SignedApproval]) -> None:
        for approval in approvals:
            if not verify(approval, record, keys=keys, revocations=revocations, target=target, now=now,
                          record_digest=digest).valid:
                raise SystemExit("bench: a valid approval was refused")

    def parsed() -> None:
        for _ in range(n):
            approval = SignedApproval.model_validate_json(text)
            if not verify(approval, record, keys=keys, revocations=revocations, target=target, now=now).valid:
                raise SystemExit("bench: a valid approval was refused")

    distinct = []  # first checks are of distinct approvals (each its own signature): sign n of them
    for index in range(n):
        distinct.append(ring.sign(ApprovalStatement(
            approval_id=f"{index}-{uuid.uuid4()}", record_id=record.id, record_digest=decision_digest(record),
            production="BENCH", targets=["shot:sh010"], approver="bench", issued_at=now - timedelta(minutes=10),
            expires_at=now + timedelta(days=1),
        )).model_dump_json())

    def first_batched(approvals: list[SignedApproval]) -> None:
        check_signatures(approvals, keys)
        run_with_digest(approvals)

    raw_rate = cold_rate = warm_rate = warm_digest_rate = parsed_rate = first_rate = 0.0
    for _round in range(args.rounds):  # interleaved, best of each: other processes share the CPU
        batch = [SignedApproval.model_validate_json(text) for _ in range(n)]
        raw_rate = max(raw_rate, rate(raw))
        cold_rate = max(cold_rate, rate(lambda batch=batch: run(batch)))
        warm_rate = max(warm_rate, rate(lambda batch=batch: run(batch)))
        warm_digest_rate = max(warm_digest_rate, rate(lambda batch=batch: run_with_digest(batch)))
        parsed_rate = max(parsed_rate, rate(parsed))
        fresh = [SignedApproval.model_validate_json(t) for t in distinct]
        first_rate = max(first_rate, rate(lambda fresh=fresh: first_batched(fresh)))
    print(f"approvals per run: {n}, best of {args.rounds} rounds; verifier: {signatures.BACKEND}, "
          f"{os.cpu_count()} core(s); load {os.getloadavg()[0]:.2f}")
    print(f"raw Ed25519 verify     {raw_rate:10,.0f}/s  1.00x")
    for name, value in (("cold verify()", cold_rate), ("warm verify()", warm_rate),
                        ("warm, digest given", warm_digest_rate), ("parse + verify()", parsed_rate),
                        ("first checks, batched", first_rate)):
        print(f"{name:22} {value:10,.0f}/s  {value / raw_rate:.2f}x of raw")
    ratio = first_rate / raw_rate
    print(f"first checks vs raw `cryptography` Ed25519: {ratio:.2f}x -> target >= 1.3x: "
          f"{'MET' if ratio >= 1.3 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
