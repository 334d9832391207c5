"""The approval check's first run (files read by the written reading, signatures checked in one batch through
libsodium, standings built on the judge's shortcuts) answers item for item as the careful path: every file read
by the full reader (JSON within limits, then the pydantic model), every signature checked one at a time by
`cryptography`, no batch. Valid, expired, revoked, wrong key, wrong target, tampered, edited record, another
production, damaged and escaped files, several approvals of one record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from approvals_fixtures import NOW, approve, make_record

from clearance import cache as cache_module
from clearance import signatures
from clearance.approvals import KeyRing, SignedApproval, TrustedKeys, parse_approval
from clearance.cache import ApprovalCache
from clearance.documents import load_json
from clearance.policy import load_policy
from clearance.record import Target, UseRecord
from clearance.standing import Judge, Standing
from clearance.trust import load_trust


def _policy(tmp_path: Path, ring: KeyRing) -> Any:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("approvals:\n  trusted_keys:\n" + "".join(
        f"    - {{key_id: {k['key_id']}, public_key: {k['public_key']}}}\n"
        for k in ring.public_keys_document()["keys"]), encoding="utf-8")
    return load_policy([str(policy_file)])


def _cases(tmp_path: Path) -> tuple[Any, ApprovalCache, list[tuple[str, UseRecord, Target | None]]]:
    ring = KeyRing.open(tmp_path / "keys")
    stranger = KeyRing.open(tmp_path / "stranger")
    policy = _policy(tmp_path, ring)
    cache = ApprovalCache(tmp_path / "cache")
    cases: list[tuple[str, UseRecord, Target | None]] = []
    revoked: list[str] = []

    def add(name: str, record: UseRecord, *approvals: SignedApproval, target: int | None = 0) -> list[Path]:
        cases.append((name, record, record.targets[target] if target is not None else None))
        return [cache.add_approval(a) for a in approvals]

    for index in range(4):  # plain valid ones, the whole record and each target
        record = make_record()
        add(f"valid {index}", record, approve(ring, record, approver=f"sam{index}"), target=index % 2 or None)
    record = make_record()
    add("expired", record, approve(ring, record, expires_at=NOW - timedelta(hours=1)))
    record = make_record()
    gone = approve(ring, record)
    revoked.append(gone.approval_id)
    add("revoked", record, gone)
    record = make_record()
    add("another key", record, approve(stranger, record))
    record = make_record()
    add("another target", record, approve(ring, record, targets=["shot:sh010"]), target=1)
    record = make_record()
    (tampered,) = add("tampered", record, approve(ring, record, approver="sam"))
    tampered.write_text(tampered.read_text(encoding="utf-8").replace('"sam"', '"eve"'), encoding="utf-8")
    record = make_record()
    edited = make_record(description="edited after approval")
    edited = UseRecord.model_validate({**edited.model_dump(mode="json"), "id": str(record.id),
                                       "use": {**record.use.model_dump(mode="json"), "stage": "previs"}})
    add("edited", edited, approve(ring, record))
    record = make_record()
    add("another production", record, approve(ring, record, production="OTHER_S02"))
    record = make_record()
    (damaged,) = add("damaged", record, approve(ring, record))
    damaged.write_text("{", encoding="utf-8")
    record = make_record()
    (escaped,) = add("escaped", record, approve(ring, record, approver="sam"))
    escaped.write_text(escaped.read_text(encoding="utf-8").replace('"sam"', '"s\\u0061m"'), encoding="utf-8")
    record = make_record()
    add("newest expired, older valid", record, approve(ring, record, issued_at=NOW - timedelta(days=2)),
        approve(ring, record, issued_at=NOW - timedelta(hours=2), expires_at=NOW - timedelta(hours=1)))
    record = make_record()
    add("nothing held", record)
    document = {"revocations": [{"approval_id": a, "revoked_at": NOW.isoformat(), "reason": "test"} for a in revoked],
                "generated_at": NOW.isoformat()}
    cache.store_revocations(ring.sign_document(document), TrustedKeys.from_document(ring.public_keys_document()))
    return policy, cache, cases


def _careful_approvals(cache: ApprovalCache) -> list[SignedApproval]:
    """Every approval file read by the full reader, one at a time (damaged ones left out, as the cache does)."""
    found = []
    for path in sorted((cache.root / "approvals").glob("*/*.json")):
        try:
            found.append(parse_approval(load_json(path, what="a signed approval"), str(path)))
        except Exception:
            continue
    return found


def _answer(standing: Standing) -> tuple[Any, ...]:
    return (standing.verdict, standing.describe(), standing.approval_id,
            standing.model_dump(exclude={"judged_at"}), standing.approval is not None)


def test_the_first_run_answers_as_the_careful_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy, cache, cases = _cases(tmp_path)
    for memo in (cache_module._FILES, cache_module._FOLDERS, cache_module._PARSED):
        memo.clear()
    monkeypatch.setattr(signatures, "BATCH_MIN", 2)  # the batch spread over threads, as on a large publish
    fast_judge = Judge(policy, load_trust(policy, cache=ApprovalCache(cache.root), now=NOW))
    fast_judge.prime(record for _name, record, _target in cases)
    fast = {name: _answer(fast_judge.standing(record, target)) for name, record, target in cases}
    assert any("damaged approval file" in p for p in fast_judge.trust.problems)

    with monkeypatch.context() as careful:
        careful.setattr(signatures, "_lib", None)  # cryptography, one signature at a time
        careful_trust = load_trust(policy, cache=ApprovalCache(cache.root), now=NOW,
                                   approvals=_careful_approvals(cache))
        careful_judge = Judge(policy, careful_trust)
        slow = {name: _answer(careful_judge.standing(record, target)) for name, record, target in cases}
    assert fast == slow
    verdicts = {name: answer[0] for name, answer in fast.items()}
    assert verdicts == {
        "valid 0": "approved", "valid 1": "approved", "valid 2": "approved", "valid 3": "approved",
        "expired": "expired", "revoked": "revoked", "another key": "unverified", "another target": "missing",
        "tampered": "unverified", "edited": "stale", "another production": "missing", "damaged": "missing",
        "escaped": "approved", "newest expired, older valid": "approved", "nothing held": "missing"}


def test_the_written_reading_took_the_files_clearance_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is the one measured: files in the written form never reach the JSON parser."""
    cache = _cases(tmp_path)[1]
    for memo in (cache_module._FILES, cache_module._FOLDERS, cache_module._PARSED):
        memo.clear()
    parsed: list[str] = []
    from clearance import approvals as approvals_module
    real = approvals_module.parse_json_text
    monkeypatch.setattr(approvals_module, "parse_json_text", lambda text, source: parsed.append(source) or real(
        text, source))
    monkeypatch.setattr(approvals_module, "_plain_approval", lambda text: parsed.append("plain") or None)
    held = ApprovalCache(cache.root).approvals_for_many(
        [p.name for p in (cache.root / "approvals").iterdir()])
    assert sum(map(len, held.values())) == 14  # every file but the damaged one (a problem)
    # only the escaped and the damaged file went on to the plain reading and the JSON parser
    assert parsed.count("plain") == 2 and len(parsed) == 4
