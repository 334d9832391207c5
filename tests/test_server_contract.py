"""The HTTP API keeps the contract docs/openapi.json states, checked by tools nobody here wrote.

- schemathesis (every check: status codes, content types, headers, response schemas, server errors, auth,
  Allow on 405, negative and positive data, the stateful phase) runs against a real `clearance serve`, as
  an artist and as an approver, seeded with real record and approval ids; any finding fails the test.
- a client generated from the OpenAPI document by openapi-python-client (into a temporary folder, at test
  time) submits, approves and pulls: the document stays usable by other teams.
- the error shape, 405 with Allow, undecodable bodies, id-less and production-less records.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from server_fixtures import LiveServer, record_body, start_server

from clearance.approvals import Revocations, SignedApproval, TrustedKeys, verify
from clearance.record import UseRecord

REPO = Path(__file__).resolve().parents[1]
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("contract"))
    try:
        server.add_user_direct("ana.artist", "artist")
        server.add_user_direct("sam.approver", "approver")
        yield server
    finally:
        server.stop()


def _seed_ids(api: LiveServer) -> tuple[str, str]:
    """A record waiting for approval, and an approval of another record: the ids schemathesis starts from."""
    waiting = api.post("/records", api.tokens["ana.artist"], record_body()).json()["record"]["id"]
    approved = api.post("/records", api.tokens["ana.artist"], record_body()).json()["record"]["id"]
    answer = api.post(f"/records/{approved}/decision", api.tokens["sam.approver"], _decision(api, approved))
    assert answer.status_code == 201, answer.text
    return waiting, answer.json()["statement"]["approval_id"]


def _decision(api: LiveServer, record_id: str) -> dict[str, object]:
    """An approval of the version the approver reviewed (the latest)."""
    latest = api.get(f"/records/{record_id}", api.tokens["sam.approver"]).json()["latest_version"]
    return {"decision": "approve", "version": latest, "conditions": "background only"}


@pytest.mark.parametrize("who", ["ana.artist", "sam.approver"])
def test_schemathesis_finds_nothing(contract: LiveServer, who: str, tmp_path: Path) -> None:
    record_id, approval_id = _seed_ids(contract)
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\nrecord_id = "{record_id}"\napproval_id = "{approval_id}"\n', encoding="utf-8")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{contract.url}/openapi.json",
        "--checks", "all", "--header", f"Authorization: Bearer {contract.tokens[who]}",
        "--max-examples", "12", "--seed", "20261130", "--generation-database", "none", "--workers", "1",
        "--no-color", "--request-timeout", "20",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis found problems as {who}:\n{output[-6000:]}"
    spec = requests.get(f"{contract.url}/openapi.json", timeout=10).json()
    operations = sum(len(ops) for ops in spec["paths"].values())
    assert f"Tested: {operations}" in output, output[-3000:]  # every operation was exercised
    assert "Stateful" in output


def _generated_client(spec: Path, where: Path) -> object:
    """openapi-python-client's package for ``spec``, generated now into ``where`` and imported."""
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or "openapi-python-client"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    package = where / "clearance_api_client"
    run = subprocess.run([tool, "generate", "--path", str(spec), "--output-path", str(package), "--meta", "none"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0 and package.is_dir(), run.stdout + run.stderr
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module("clearance_api_client")
    finally:
        sys.path.remove(str(where))


def test_a_generated_client_submits_approves_and_pulls(contract: LiveServer, tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(requests.get(f"{contract.url}/openapi.json", timeout=10).text, encoding="utf-8")
    _generated_client(spec, tmp_path)
    from clearance_api_client import AuthenticatedClient  # type: ignore[import-not-found]
    from clearance_api_client.api.approvals import decide, keys, record_approvals, revocations
    from clearance_api_client.api.records import submit_record
    from clearance_api_client.models import ApproveDecision, RecordSubmission, Submitted
    from clearance_api_client.models import SignedApproval as GeneratedApproval

    artist = AuthenticatedClient(base_url=contract.url, token=contract.tokens["ana.artist"])
    approver = AuthenticatedClient(base_url=contract.url, token=contract.tokens["sam.approver"])
    body = record_body()
    body["tools"] = [body.pop("tool")]  # the schema's form (`tool:` is a shorthand the schema does not declare)
    submitted = submit_record.sync(client=artist, body=RecordSubmission.from_dict(body))
    assert isinstance(submitted, Submitted), submitted
    assert submitted.status == "waiting" and submitted.version == 1
    again = submit_record.sync_detailed(client=artist, body=RecordSubmission.from_dict(body))
    assert again.status_code == 200 and again.parsed.version == 1  # a retry is the same version

    approval = decide.sync(body["id"], client=approver,
                           body=ApproveDecision.from_dict(_decision(contract, body["id"])))
    assert isinstance(approval, GeneratedApproval), approval
    pulled = record_approvals.sync(body["id"], client=artist)
    key_set = keys.sync(client=artist)
    revoked = revocations.sync(client=artist)
    assert [a.statement.approval_id for a in pulled.approvals] == [approval.statement.approval_id]
    assert approval.statement.approval_id not in {r.approval_id for r in revoked.revocations}

    # What the generated client pulled verifies with Clearance's own offline check.
    signed = SignedApproval.model_validate(pulled.approvals[0].to_dict())
    trusted = TrustedKeys.from_document(key_set.to_dict())
    revocation_list = Revocations.from_document(revoked.to_dict(), keys=trusted)
    result = verify(signed, UseRecord.model_validate(body), keys=trusted, revocations=revocation_list)
    assert result.valid, result


def test_errors_have_one_shape(contract: LiveServer) -> None:
    token = contract.tokens["ana.artist"]
    auth = {"Authorization": f"Bearer {token}"}
    api = f"{contract.url}/api/v1"
    answers = {
        "405": requests.delete(f"{api}/records", headers=auth, timeout=10),
        "not utf-8": requests.post(f"{api}/records", data=b'{"id": "\xff\xfe"}',
                                   headers={**auth, "Content-Type": "application/json"}, timeout=10),
        "bad json": requests.post(f"{api}/records", data=b"{", headers={**auth, "Content-Type": "application/json"},
                                  timeout=10),
        "no token": requests.get(f"{api}/records", timeout=10),
        "unknown id": requests.get(f"{api}/records/{uuid.uuid4()}", headers=auth, timeout=10),
    }
    for name, answer in answers.items():
        assert answer.headers["content-type"].startswith("application/json"), name
        assert set(answer.json()) <= {"error", "field", "errors"} and answer.json()["error"], name
        for header in SECURITY_HEADERS:
            assert header in answer.headers, (name, header)
    assert answers["405"].status_code == 405 and answers["405"].headers["allow"] == "GET, POST"
    assert answers["not utf-8"].status_code == 422
    assert answers["bad json"].status_code == 422
    assert answers["no token"].status_code == 401 and answers["no token"].headers["www-authenticate"] == "Bearer"
    assert answers["unknown id"].status_code == 404


def test_a_record_without_an_id_or_production_is_refused(contract: LiveServer) -> None:
    token = contract.tokens["ana.artist"]
    stored_before = contract.get("/records", token).json()["total"]
    body = record_body()
    del body["id"]
    first = contract.post("/records", token, body)
    assert first.status_code == 422 and first.json()["field"] == "id"
    assert "retry" in first.json()["error"]
    assert contract.post("/records", token, body).status_code == 422
    assert contract.get("/records", token).json()["total"] == stored_before  # never stored, however often sent
    for production in (None, ""):
        body = record_body()
        if production is None:
            del body["production"]
        else:
            body["production"] = production
        answer = contract.post("/records", token, body)
        assert answer.status_code == 422 and answer.json()["field"] == "production", answer.text


def test_committed_openapi_declares_typed_bodies() -> None:
    spec = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                assert schema.get("$ref") or schema.get("anyOf"), (method, path, status)
                assert "Content-Security-Policy" in response.get("headers", {}), (method, path, status)
    submission = spec["components"]["schemas"]["RecordSubmission"]
    assert {"id", "production"} <= set(submission["required"])
