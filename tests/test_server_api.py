"""The disclosure service's HTTP API on a real `clearance serve` process, on SQLite AND PostgreSQL.

Every test here runs twice: once against SQLite, once against a PostgreSQL the tests start themselves
(if PostgreSQL cannot start, the PostgreSQL half FAILS saying why).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from server_fixtures import (
    OTHER_PRODUCTION,
    PRODUCTION,
    LiveServer,
    postgres_cluster,  # noqa: F401  (a fixture)
    record_body,
    start_server,
)
from sqlalchemy import select

from clearance.approvals import Revocations, SignedApproval, TrustedKeys, verify
from clearance.record import UseRecord
from clearance.server.db import Database
from clearance.server.models import AuditEntry

APPROVE_V1 = {"decision": "approve", "version": 1}  # a decision names the version reviewed


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = None
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        db = cluster.create_database(f"api_{uuid.uuid4().hex[:10]}")
    server = start_server(tmp_path_factory.mktemp(f"api-{request.param}"), db=db)
    try:
        server.add_user("ana.artist", "artist")  # the real CLI; the others directly, to start quicker
        others = (("sam.approver", "approver", PRODUCTION), ("kim.approver", "approver", PRODUCTION),
                  ("alex.admin", "admin", PRODUCTION), ("olga.other", "artist", OTHER_PRODUCTION))
        for name, role, production in others:
            server.add_user_direct(name, role, production)
        yield server
    finally:
        server.stop()


def submit(api: LiveServer, body: dict, who: str = "ana.artist") -> requests.Response:
    return api.post("/records", api.tokens[who], body)


def pull(api: LiveServer, record_id: str, who: str = "ana.artist") -> tuple[list[SignedApproval], TrustedKeys,
                                                                              Revocations]:
    """What the artist's client pulls for offline checks: approvals, keys, the signed revocation list."""
    approvals = api.get(f"/records/{record_id}/approvals", api.tokens[who])
    assert approvals.status_code == 200, approvals.text
    keys = TrustedKeys.from_document(requests.get(f"{api.url}/api/v1/keys", timeout=10).json())
    revocations = api.get("/revocations", api.tokens[who])
    assert revocations.status_code == 200
    revs = Revocations.from_document(revocations.json(), keys=keys)
    assert revs.signed_by is not None, "the revocation list must be signed by the server's key"
    return [SignedApproval.model_validate(a) for a in approvals.json()["approvals"]], keys, revs


def audit_actions(api: LiveServer) -> list[tuple[str, str, dict]]:
    import json

    db = Database(api.db)
    try:
        with db.read() as session:
            rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
            return [(e.actor, e.action, json.loads(e.details)) for e in rows]
    finally:
        db.dispose()


def test_submit_approve_pull_and_verify_offline(api: LiveServer) -> None:
    body = record_body("approval_required")
    first = submit(api, body)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["version"] == 1 and stored["status"] == "waiting"
    assert stored["decision"]["outcome"] == "approval_required"
    assert "FINAL-DELIVERABLE" in [f["rule"] for f in stored["decision"]["findings"]]
    assert stored["content_digest"].startswith("sha256:")

    expires = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    decided = api.post(f"/records/{body['id']}/decision", api.tokens["sam.approver"],
                       {**APPROVE_V1, "conditions": "background only", "expires_at": expires.isoformat()})
    assert decided.status_code == 201, decided.text
    signed = SignedApproval.model_validate(decided.json())
    assert signed.statement.approver == "sam.approver"
    assert signed.statement.conditions == "background only"
    assert signed.statement.expires_at == expires
    assert signed.statement.targets == ["shot:sh010"]

    approvals, keys, revocations = pull(api, body["id"])
    assert [a.approval_id for a in approvals] == [signed.approval_id]
    record = UseRecord.model_validate(body)
    result = verify(approvals[0], record, keys=keys, revocations=revocations)
    assert result.valid, result.reason
    edited = record.model_copy(update={"use": record.use.model_copy(update={"stage": "temp"})})
    refused = verify(approvals[0], edited, keys=keys, revocations=revocations)
    assert not refused.valid and refused.code == "record_edited"

    detail = api.get(f"/records/{body['id']}", api.tokens["ana.artist"]).json()
    assert detail["status"] == "approved"
    assert [r["status"] for r in detail["requests"]] == ["approved"]
    assert detail["approvals"][0]["approval_id"] == signed.approval_id


def test_server_decides_with_its_own_policy(api: LiveServer) -> None:
    body = record_body("prohibited")
    response = submit(api, body)
    assert response.status_code == 201
    assert response.json()["decision"]["outcome"] == "prohibited"
    assert response.json()["status"] == "prohibited"
    forged = dict(body, decision={"outcome": "notify", "findings": []})
    refused = submit(api, forged)
    assert refused.status_code == 422 and refused.json()["field"] == "decision"


def test_idempotent_retry_and_new_versions(api: LiveServer) -> None:
    body = record_body("notify")
    first = submit(api, body)
    again = submit(api, copy.deepcopy(body))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["version"] == 1 and again.json()["content_digest"] == first.json()["content_digest"]
    changed = dict(body, description="Mood board frames for the harbour, second pass.")
    second = submit(api, changed)
    assert second.status_code == 201 and second.json()["version"] == 2
    assert submit(api, body).json()["version"] == 1, "an earlier content is a replay of version 1"
    detail = api.get(f"/records/{body['id']}", api.tokens["ana.artist"]).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][1]["record"]["description"].endswith("second pass.")
    assert detail["record"]["description"].endswith("second pass.")
    assert detail["status"] == "notified"


def test_artist_cannot_approve(api: LiveServer) -> None:
    body = record_body("approval_required", declared_by="someone.else")
    assert submit(api, body, "sam.approver").status_code == 201
    response = api.post(f"/records/{body['id']}/decision", api.tokens["ana.artist"], APPROVE_V1)
    assert response.status_code == 403
    assert "approver" in response.json()["error"]
    refusals = [d for actor, action, d in audit_actions(api) if actor == "ana.artist" and action == "refused"]
    assert {"attempted": "record.approve", "status": 403} .items() <= refusals[-1].items()


def test_nobody_approves_their_own_declaration(api: LiveServer) -> None:
    body = record_body("approval_required", declared_by="sam.approver")
    assert submit(api, body, "sam.approver").status_code == 201
    own = api.post(f"/records/{body['id']}/decision", api.tokens["sam.approver"], APPROVE_V1)
    assert own.status_code == 403 and "another approver" in own.json()["error"]
    other = api.post(f"/records/{body['id']}/decision", api.tokens["kim.approver"], {"decision": "deny", "version": 1,
                                                                                      "reason": "no"})
    assert other.status_code == 201 and other.json()["status"] == "denied"


def test_other_production_sees_nothing(api: LiveServer) -> None:
    body = record_body("approval_required")
    assert submit(api, body).status_code == 201
    olga = api.tokens["olga.other"]
    for path in (f"/records/{body['id']}", f"/records/{body['id']}/approvals"):
        response = api.get(path, olga)
        assert response.status_code == 404, path
        assert response.json() == {"error": f"record {body['id']} not found"}
    assert api.post(f"/records/{body['id']}/decision", olga, APPROVE_V1).status_code == 404
    assert api.post(f"/records/{body['id']}/request", olga, {}).status_code == 404
    assert api.get("/records", olga, production=PRODUCTION).status_code == 404
    listed = api.get("/records", olga).json()["records"]
    assert all(r["production"] == OTHER_PRODUCTION for r in listed)
    into_other = submit(api, record_body("notify"), "olga.other")
    assert into_other.status_code == 403 and PRODUCTION in into_other.json()["error"]
    assert any(actor == "olga.other" and action == "refused" and d["status"] == 404
               for actor, action, d in audit_actions(api))


def test_prohibited_cannot_be_approved(api: LiveServer) -> None:
    body = record_body("prohibited")
    assert submit(api, body).status_code == 201
    response = api.post(f"/records/{body['id']}/decision", api.tokens["sam.approver"], APPROVE_V1)
    assert response.status_code == 409
    assert "ETHICS-MISLEADING" in response.json()["error"]


def test_revoke_is_listed_and_voids_offline(api: LiveServer) -> None:
    body = record_body("approval_required")
    assert submit(api, body).status_code == 201
    signed = api.post(f"/records/{body['id']}/decision", api.tokens["sam.approver"], APPROVE_V1).json()
    approval_id = signed["statement"]["approval_id"]
    assert api.post(f"/approvals/{approval_id}/revoke", api.tokens["ana.artist"], {"reason": "x"}).status_code == 403
    assert api.post(f"/approvals/{approval_id}/revoke", api.tokens["alex.admin"], {}).status_code == 422
    revoked = api.post(f"/approvals/{approval_id}/revoke", api.tokens["alex.admin"], {"reason": "wrong shot"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    listing = api.get("/revocations", api.tokens["ana.artist"]).json()
    assert {"approval_id": approval_id, "reason": "wrong shot"}.items() <= listing["revocations"][-1].items()
    approvals, keys, revocations = pull(api, body["id"])
    result = verify(approvals[0], UseRecord.model_validate(body), keys=keys, revocations=revocations)
    assert not result.valid and result.code == "revoked"
    assert api.get("/revocations", api.tokens["olga.other"]).json()["revocations"] == []


def test_request_approval_explicitly(api: LiveServer) -> None:
    body = record_body("notify")
    assert submit(api, body).json()["status"] == "notified"
    response = api.post(f"/records/{body['id']}/request", api.tokens["ana.artist"], {})
    assert response.status_code == 200 and response.json()["status"] == "waiting"
    again = api.post(f"/records/{body['id']}/request", api.tokens["ana.artist"], {}).json()
    assert again["created"] is False and again["request"]["id"] == response.json()["request"]["id"]
    waiting = api.get("/records", api.tokens["sam.approver"], production=PRODUCTION, status="waiting").json()
    assert body["id"] in [r["id"] for r in waiting["records"]]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["use"].update(stage="sometime"), "use.stage"),
        (lambda b: b.update(colour="red"), "colour"),
        (lambda b: b["targets"].append({"kind": "shot"}), "targets[1].ref"),
        (lambda b: b.update(id="not-a-uuid"), "id"),
    ],
)
def test_invalid_records_name_the_field(api: LiveServer, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    body = record_body("notify")
    mutate(body)
    response = submit(api, body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert field in response.json()["error"]


def test_bad_requests_are_refused_clearly(api: LiveServer) -> None:
    token = api.tokens["ana.artist"]
    assert requests.post(f"{api.url}/api/v1/records", json=record_body(), timeout=10).status_code == 401
    unknown = requests.get(f"{api.url}/api/v1/records", headers={"Authorization": "Bearer clr_nope"}, timeout=10)
    assert unknown.status_code == 401 and "token" in unknown.json()["error"]
    big = requests.post(f"{api.url}/api/v1/records", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, timeout=20)
    assert big.status_code == 413
    broken = requests.post(f"{api.url}/api/v1/records", data=b"{nope",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                           timeout=10)
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    past = api.post(f"/records/{uuid.uuid4()}/decision", api.tokens["sam.approver"], {"decision": "maybe"})
    assert past.status_code == 422 and past.json()["field"] == "decision"
    assert api.get("/records", token, status="lost").json()["field"] == "status"


def test_expiry_in_the_past_is_refused(api: LiveServer) -> None:
    body = record_body("approval_required")
    submit(api, body)
    response = api.post(f"/records/{body['id']}/decision", api.tokens["sam.approver"],
                        {"decision": "approve", "version": 1, "expires_at": "2020-01-01T00:00:00Z"})
    # Well-formed but already past: a conflict with the clock (409), not an invalid body (422).
    assert response.status_code == 409 and response.json()["field"] == "expires_at"
    assert "in the past" in response.json()["error"]


def test_concurrent_submissions_are_stored_exactly_once(api: LiveServer) -> None:
    """12 clients send 150 records, each twice (a retry racing the original): 150 records, one version each."""
    production = f"LOAD_{uuid.uuid4().hex[:6].upper()}"
    token = api.add_user(f"load.{production.lower()}", "artist", production)
    bodies = [record_body("approval_required", production=production) for _ in range(150)]
    work = bodies + [copy.deepcopy(b) for b in bodies]
    session = requests.Session()

    def send(body: dict) -> int:
        return session.post(f"{api.url}/api/v1/records", json=body, headers={"Authorization": f"Bearer {token}"},
                            timeout=60).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(send, work))
    assert codes.count(201) == 150 and codes.count(200) == 150
    listed = api.get("/records", token, production=production, limit="5000").json()
    assert listed["total"] == 150
    assert sorted(r["id"] for r in listed["records"]) == sorted(b["id"] for b in bodies)
    assert {r["version"] for r in listed["records"]} == {1}


def test_keys_rotation_keeps_old_approvals_valid(api: LiveServer) -> None:
    first = record_body("approval_required")
    submit(api, first)
    old = api.post(f"/records/{first['id']}/decision", api.tokens["sam.approver"], APPROVE_V1).json()
    rotated = api.cli("admin", "keys", "rotate", "--keys-dir", str(api.keys_dir), "--db", api.db)
    assert rotated.returncode == 0, rotated.stderr
    second = record_body("approval_required")
    submit(api, second)
    new = api.post(f"/records/{second['id']}/decision", api.tokens["sam.approver"], APPROVE_V1).json()
    assert new["key_id"] != old["key_id"]
    keys_doc = requests.get(f"{api.url}/api/v1/keys", timeout=10).json()
    assert [k["active"] for k in keys_doc["keys"] if k["key_id"] == new["key_id"]] == [True]
    for body in (first, second):
        approvals, keys, revocations = pull(api, body["id"])
        assert verify(approvals[-1], UseRecord.model_validate(body), keys=keys, revocations=revocations).valid


def test_health_and_openapi(api: LiveServer) -> None:
    health = requests.get(f"{api.url}/api/v1/health", timeout=10).json()
    assert health["status"] == "ok" and health["database"] in ("sqlite", "postgresql")
    spec = requests.get(f"{api.url}/openapi.json", timeout=10).json()
    for path in ("/api/v1/records", "/api/v1/records/{record_id}", "/api/v1/records/{record_id}/decision",
                 "/api/v1/records/{record_id}/approvals", "/api/v1/approvals/{approval_id}/revoke",
                 "/api/v1/revocations", "/api/v1/keys", "/api/v1/records/{record_id}/request", "/api/v1/health"):
        assert path in spec["paths"], path


def test_audit_log_chain_is_intact_after_the_suite(api: LiveServer, tmp_path: Path) -> None:
    out = api.cli("audit", "verify", "--db", api.db)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit log intact" in out.stdout


def test_disabled_user_is_locked_out(api: LiveServer) -> None:
    token = api.add_user("leaver.artist", "artist")
    out = api.cli("admin", "user", "disable", "leaver.artist", "--db", api.db)
    assert out.returncode == 0 and "1 API token(s) revoked" in out.stdout, out.stderr
    refused = api.get("/records", token)
    assert refused.status_code == 401 and "unknown or revoked" in refused.json()["error"]
