"""The consent registry on a real `clearance serve`: legal registers and withdraws, every change audited and
signed; clients pull the signed list; a withdrawn consent turns an approved replica's publish into a block."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from publish_fixtures import (
    pyblish_env,  # noqa: F401 - fixture
    record_data,
    write_manifest,
    write_record,
)
from server_fixtures import PRODUCTION, LiveServer, live_server  # noqa: F401

from clearance.approvals import TrustedKeys
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.client import DisclosureClient
from clearance.consent import book_from_document

pytestmark = pytest.mark.slow
DIGEST = "0123456789abcdef" * 4


def consent(ref: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ref,
        "production": PRODUCTION,
        "talent": "Ana Lead",
        "given_by": "performer",
        "scope": {
            "productions": [PRODUCTION],
            "media": ["voice"],
            "uses": ["digital_replica"],
            "territory": ["worldwide"],
            "starts_on": (date.today() - timedelta(days=10)).isoformat(),
            "ends_on": (date.today() + timedelta(days=365)).isoformat(),
        },
        "guild_terms": "SAG-AFTRA 2023 TV/Theatrical, digital replica rider",
        "document_sha256": DIGEST,
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def legal(live_server: LiveServer) -> str:  # noqa: F811
    return live_server.add_user_direct("lee.legal", "legal", password="legal-password-1")


def test_legal_registers_others_cannot(live_server: LiveServer, legal: str) -> None:  # noqa: F811
    artist = live_server.tokens["ana.artist"]
    assert live_server.post("/consents", artist, consent("C-ARTIST")).status_code == 403
    assert live_server.post("/consents", live_server.tokens["sam.approver"], consent("C-APPROVER")).status_code == 403
    made = live_server.post("/consents", legal, consent("C-REG-1"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "active" and body["signature"]["key_id"] and body["created_by"] == "lee.legal"
    assert live_server.post("/consents", legal, consent("C-REG-1")).status_code == 409
    outside = consent("C-REG-2", scope={**consent("x")["scope"], "productions": ["OTHER_S02"]})
    assert live_server.post("/consents", legal, outside).status_code == 422
    assert live_server.post("/consents", legal, consent("C-REG-3", production="OTHER_S02")).status_code == 404
    assert live_server.post("/consents", legal, consent("C-REG-4", document_sha256="not-a-digest")).status_code == 422
    # the registry keeps a digest, never the document
    assert live_server.post("/consents", legal, consent("C-REG-5", document="signed.pdf")).status_code == 422


def test_the_list_is_signed_and_every_change_audited(live_server: LiveServer, legal: str) -> None:  # noqa: F811
    assert live_server.post("/consents", legal, consent("C-AUD-1")).status_code == 201
    withdrawn = live_server.post("/consents/C-AUD-1/withdraw", legal, {"reason": "performer asked"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert live_server.post("/consents/C-AUD-1/withdraw", live_server.tokens["ana.artist"],
                            {"reason": "x"}).status_code == 403
    listed = live_server.get("/consents", live_server.tokens["ana.artist"]).json()
    keys = TrustedKeys.from_document(requests.get(f"{live_server.url}/api/v1/keys", timeout=10).json())
    book = book_from_document(listed, keys, source="service")
    assert book.problem is None and book.entries["C-AUD-1"].status == "withdrawn"
    assert book.entries["C-AUD-1"].withdrawn_reason == "performer asked"
    forged = {**listed, "consents": [dict(c, status="active") for c in listed["consents"]]}
    assert book_from_document(forged, keys, source="service").problem  # an edited list does not count
    assert live_server.get("/consents", live_server.tokens["olga.other"]).json()["consents"] == []  # no role there
    with sqlite3.connect(live_server.db.removeprefix("sqlite:///")) as db:
        actions = [a for (a,) in db.execute("SELECT action FROM audit_log WHERE object = 'consent:C-AUD-1'")]
    assert actions == ["consent.create", "consent.withdraw", "refused"]  # the artist's attempt is audited too


def test_the_consents_page_lists_entries(live_server: LiveServer, legal: str) -> None:  # noqa: F811
    assert live_server.post("/consents", legal, consent("C-PAGE-1", talent="Page Talent")).status_code == 201
    web = requests.Session()
    form = web.get(f"{live_server.url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    web.post(f"{live_server.url}/login", data={"name": "lee.legal", "password": "legal-password-1",
                                               "csrf_token": token.group(1), "next": "/consents"}, timeout=10)
    page = web.get(f"{live_server.url}/consents", timeout=10)
    assert page.status_code == 200 and "Consent registry" in page.text
    assert "C-PAGE-1" in page.text and "Page Talent" in page.text and DIGEST[:16] in page.text
    assert DIGEST not in page.text.replace(DIGEST[:16] + "…", "")  # the digest is shortened, nothing else shown


def test_withdrawn_consent_blocks_an_approved_replica_after_the_next_pull(
    live_server: LiveServer, legal: str, pyblish_env: Path, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", live_server.tokens["ana.artist"])
    assert live_server.post("/consents", legal, consent("C-VOICE-1")).status_code == 201
    work = tmp_path / "work"
    work.mkdir()
    (work / "line.wav").write_bytes(b"RIFF generated pickup line")
    data = record_data("approval")
    data.update(schema_version=2)
    data["use"].update(media="voice", prominence="story_relevant")
    data["tool"]["trains_on_outputs"] = "no"
    data["inputs"].update(talent_material="yes")
    data["talent"] = {**data["talent"], "digital_replica": "yes", "consent_refs": ["C-VOICE-1"],
                      "performer_deceased": "no"}
    data["realism"] = {**data.get("realism", {}), "depicts_real_places": "no", "photorealistic": "no",
                       "audience_disclosure": "none"}
    data["use"]["human_contribution"] = "yes"
    record = write_record(work / "records" / "voice.yaml", data)
    manifest = write_manifest(work, [{"name": "sh020_voice", "files": ["line.wav"], "records": ["records/voice.yaml"]}],
                              family="render")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump({"version": "studio-1", "approvals": {
        "keys_file": str(ApprovalCache().keys_path)}}))
    with DisclosureClient() as client:
        report = client.pull_approvals()
        assert report.consents is not None and report.consents >= 1
        submitted = client.submit(record)
    assert submitted.state == "sent", submitted.error
    assert submitted.response and submitted.response["decision"]["outcome"] == "approval_required", submitted.response
    decided = live_server.post(f"/records/{record.id}/decision", live_server.tokens["sam.approver"],
                               {"decision": "approve", "version": 1, "conditions": "pickup lines only"})
    assert decided.status_code in (200, 201), decided.text
    with DisclosureClient() as client:
        client.pull_approvals()
    capsys.readouterr()
    assert main(["publish", str(manifest), "--policy", str(policy_file)]) == 0, capsys.readouterr()

    # legal withdraws; until the next pull the machine holds the old list; after it, the publish is blocked
    assert live_server.post("/consents/C-VOICE-1/withdraw", legal, {"reason": "the performer withdrew"}).ok
    assert main(["approvals", "pull"]) == 0
    assert "consent entr" in capsys.readouterr().out
    for path in (tmp_path / "publish").iterdir():
        path.unlink()
    assert main(["publish", str(manifest), "--policy", str(policy_file)]) == 1
    out = capsys.readouterr()
    assert "TALENT-NO-CONSENT" in out.out + out.err and "withdrawn" in out.out + out.err
    assert not any((tmp_path / "publish").iterdir())
    assert main(["consents", "show", "C-VOICE-1"]) == 0
    assert "the performer withdrew" in capsys.readouterr().out


def test_record_new_declares_the_service_login(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    from clearance.record import load_record

    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("CLEARANCE_PRODUCTION", PRODUCTION)
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", live_server.tokens["ana.artist"])
    assert main(["record", "new", "--preset", "mood-board", "-o", str(tmp_path / "a.yaml")]) == 0
    assert load_record(tmp_path / "a.yaml").declared_by == "ana.artist"
    assert "declared by ana.artist (your service login)" in capsys.readouterr().out
    # offline later: the login learnt before is still used, not the OS user
    monkeypatch.setenv("CLEARANCE_SERVER", "http://127.0.0.1:9")
    assert main(["record", "new", "--preset", "mood-board", "-o", str(tmp_path / "b.yaml")]) == 0
    assert load_record(tmp_path / "b.yaml").declared_by == "root"  # another service: nothing known for it
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    assert live_server.get("/me", live_server.tokens["ana.artist"]).json()["name"] == "ana.artist"
