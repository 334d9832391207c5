"""Property tests: no change to a signed approval's bytes or statement ever verifies."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from approvals_fixtures import NOW, approve, fresh_revocations, make_record, ring_and_keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.approvals import SignedApproval, verify

_cache: dict[str, object] = {}


def _setup(tmp_path_factory_dir: Path):  # type: ignore[no-untyped-def]
    if not _cache:
        ring, keys = ring_and_keys(tmp_path_factory_dir)
        record = make_record()
        _cache.update(keys=keys, record=record, approval=approve(ring, record, targets=["shot:sh010"]))
    return _cache["keys"], _cache["record"], _cache["approval"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=63), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_signature_bit_is_refused(tmp_path: Path, position: int, bit: int) -> None:
    keys, record, approval = _setup(tmp_path)
    raw = bytearray(base64.b64decode(approval.signature))  # type: ignore[union-attr]
    raw[position] ^= 1 << bit
    data = json.loads(approval.to_json())  # type: ignore[union-attr]
    data["signature"] = base64.b64encode(bytes(raw)).decode()
    result = verify(SignedApproval.model_validate(data), record, keys=keys,  # type: ignore[arg-type]
                    revocations=fresh_revocations(), now=NOW)
    assert result.code == "bad_signature"


FIELDS = {
    "approval_id": st.text(min_size=1, max_size=20),
    "production": st.text(max_size=20),
    "targets": st.lists(st.sampled_from(["shot:sh010", "shot:sh020", "shot:sh999", "asset:x"]), max_size=3),
    "approver": st.text(max_size=20),
    "conditions": st.text(max_size=40),
    "expires_at": st.sampled_from(["2099-01-01T00:00:00Z", None, "2026-12-01T00:00:00Z"]),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_statement_field_is_refused(tmp_path: Path, data: st.DataObject) -> None:
    keys, record, approval = _setup(tmp_path)
    name = data.draw(st.sampled_from(sorted(FIELDS)))
    value = data.draw(FIELDS[name])
    body = json.loads(approval.to_json())  # type: ignore[union-attr]
    if body["statement"][name] == value:
        return
    body["statement"][name] = value
    result = verify(SignedApproval.model_validate(body), record, keys=keys,  # type: ignore[arg-type]
                    revocations=fresh_revocations(), now=NOW)
    assert not result.valid and result.code == "bad_signature"
