"""The client against the real service (`clearance serve` on loopback): submit, approve, pull, verify offline."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from approvals_fixtures import make_record
from server_fixtures import OTHER_PRODUCTION, PRODUCTION, LiveServer, free_port, live_server  # noqa: F401

from clearance.approvals import find_valid_approval
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.client import ClientError, DisclosureClient
from clearance.outbox import Outbox
from clearance.record import Target, dump_record


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def artist(server: LiveServer) -> DisclosureClient:
    return DisclosureClient(server.url, server.tokens["ana.artist"])


def test_submit_approve_pull_and_verify_offline(live_server: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    record = make_record()  # final-deliverable background image: needs approval
    with artist(live_server) as client:
        sent = client.submit(record)
        assert sent.state == "sent", sent.error
        assert sent.outcome == "approval_required" and sent.status == "waiting" and sent.version == 1
        assert client.record_url(record.id) == f"{live_server.url}/records/{record.id}"
        with DisclosureClient(live_server.url, live_server.tokens["sam.approver"]) as approver:
            signed = approver.decide(record.id, "approve", conditions="background only", expires_at="2099-01-01")
        assert signed["statement"]["record_id"] == str(record.id)
        report = client.pull_approvals()
        assert report.approvals == 1 and report.keys >= 1 and not report.problems
        assert report.new == 0  # decide() above already cached the approval it got back
        assert client.pull_approvals().new == 0
    cache = ApprovalCache()
    held = cache.approvals_for(record.id)
    keys = cache.keys()
    revocations = cache.revocations(keys)
    assert revocations is not None and revocations.signed_by  # the server signs its revocation list
    found = find_valid_approval(record, held, keys=keys, revocations=revocations,
                                target=Target(kind="shot", ref="sh010"))
    assert found.valid, found.reason
    # the same check from the command line, offline, with the pulled keys document
    approval_file = tmp_path / "approval.json"
    approval_file.write_text(held[0].to_json())
    record_file = tmp_path / "record.yaml"
    record_file.write_text(dump_record(record))
    code, out, err = cli("approvals", "verify", str(approval_file), "--record", str(record_file),
                         "--keys", str(cache.keys_path), "--require-revocations")
    assert code == 0, err
    assert out.startswith("valid:")
    # an edit after approval voids it
    record.use.creative_element = "key_visual"
    record_file.write_text(dump_record(record))
    code, _, err = cli("approvals", "verify", str(approval_file), "--record", str(record_file),
                       "--keys", str(cache.keys_path))
    assert code == 1 and "edited after approval" in err


def test_revocation_reaches_the_offline_check(live_server: LiveServer) -> None:  # noqa: F811
    record = make_record()
    with artist(live_server) as client, DisclosureClient(live_server.url, live_server.tokens["sam.approver"]) as boss:
        client.submit(record)
        signed = boss.decide(record.id, "approve")
        client.pull_approvals([record.id])
        cache = ApprovalCache()
        keys = cache.keys()
        assert find_valid_approval(record, cache.approvals_for(record.id), keys=keys,
                                   revocations=cache.revocations(keys)).valid
        boss.revoke(signed["statement"]["approval_id"], reason="consent withdrawn")
        client.pull_approvals([record.id])
    result = find_valid_approval(record, cache.approvals_for(record.id), keys=keys,
                                 revocations=cache.revocations(keys))
    assert result.code == "revoked" and "consent withdrawn" in result.reason


def test_verify_refreshes_revocations_from_the_service_when_it_can(
        live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Revoked after the last pull: `approvals verify` online sees it; `--offline` uses the cached list."""
    record = make_record()
    with artist(live_server) as client, DisclosureClient(live_server.url, live_server.tokens["sam.approver"]) as boss:
        client.submit(record)
        signed = boss.decide(record.id, "approve")
        client.pull_approvals([record.id])
        boss.revoke(signed["statement"]["approval_id"], reason="consent withdrawn")
    cache = ApprovalCache()
    approval_file = tmp_path / "approval.json"
    approval_file.write_text(cache.approvals_for(record.id)[0].to_json())
    record_file = tmp_path / "record.yaml"
    record_file.write_text(dump_record(record))
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", live_server.tokens["ana.artist"])
    args = ("approvals", "verify", str(approval_file), "--record", str(record_file), "--keys", str(cache.keys_path))
    code, out, _ = cli(*args, "--offline")
    assert code == 0 and out.startswith("valid:")  # the cached list predates the revocation
    code, _, err = cli(*args)
    assert code == 1 and "revoked" in err and "consent withdrawn" in err
    monkeypatch.setenv("CLEARANCE_SERVER", f"http://127.0.0.1:{free_port()}")  # nobody listening
    code, _, err = cli(*args)
    assert code == 1 and "could not refresh the revocation list" in err  # the refreshed list was cached


def test_an_artist_cannot_approve(live_server: LiveServer) -> None:  # noqa: F811
    record = make_record()
    with artist(live_server) as client:
        client.submit(record)
        with pytest.raises(ClientError) as refused:
            client.decide(record.id, "approve")
    assert refused.value.status == 403 and "(403)" in str(refused.value)


def test_another_production_sees_nothing(live_server: LiveServer) -> None:  # noqa: F811
    record = make_record()
    with artist(live_server) as client:
        assert client.submit(record).state == "sent"
    with DisclosureClient(live_server.url, live_server.tokens["olga.other"]) as other:
        with pytest.raises(ClientError) as hidden:
            other.server_record(record.id)
        assert hidden.value.status == 404
        assert all(r["production"] == OTHER_PRODUCTION for r in other.list_records()["records"])
        with pytest.raises(ClientError):
            other.approvals(record.id)


def test_offline_submit_is_queued_then_sync_sends_it_once(live_server: LiveServer) -> None:  # noqa: F811
    record = make_record()
    dead = f"http://127.0.0.1:{free_port()}"
    with DisclosureClient(dead, live_server.tokens["ana.artist"]) as offline:
        queued = offline.submit(record)
    assert queued.state == "queued" and "cannot reach the disclosure service at " + dead in (queued.error or "")
    assert Outbox().is_disclosed(str(record.id), queued.content_digest)
    with artist(live_server) as client:
        report = client.sync()
        assert [r.record_id for r in report.sent] == [str(record.id)] and report.remaining == 0
        again = client.submit(record)  # already sent: answered from the outbox
        assert again.state == "sent" and not again.new_in_outbox
        detail = client.server_record(record.id)
        assert len(detail["versions"]) == 1
        # a retry the server sees (as after a crash between send and mark): the same version comes back
        raw = client.request("POST", "/records", json=record.model_dump(mode="json"))
        assert raw["version"] == 1
        assert len(client.server_record(record.id)["versions"]) == 1


def test_an_edit_is_a_new_version(live_server: LiveServer) -> None:  # noqa: F811
    record = make_record()
    with artist(live_server) as client:
        client.submit(record)
        record.description = "now with more detail"
        second = client.submit(record)
        assert second.state == "sent" and second.version == 2


def test_clear_errors_for_bad_token_and_refused_record(live_server: LiveServer) -> None:  # noqa: F811
    with DisclosureClient(live_server.url, "clr_not_a_token") as wrong:
        result = wrong.submit(make_record())
        assert result.state == "queued" and "(401)" in (result.error or "") and "CLEARANCE_TOKEN" in result.error
    unknown = make_record(production="NO_SUCH_SHOW")
    with artist(live_server) as client:
        refused = client.submit(unknown)
        assert refused.state == "failed" and refused.needs_fix
        assert "NO_SUCH_SHOW" in (refused.error or "")
        # refused records are not retried until fixed, and do not block the rest
        assert client.sync().remaining == 0
    assert not Outbox().is_disclosed(str(unknown.id), refused.content_digest)


def test_cli_submit_status_sync(live_server: LiveServer, tmp_path: Path,  # noqa: F811
                                monkeypatch: pytest.MonkeyPatch) -> None:
    record = make_record()
    path = tmp_path / "record.yaml"
    path.write_text(dump_record(record))
    code, out, _ = cli("submit", str(path))  # no server configured: queued
    assert code == 0 and "queued in the outbox (offline" in out and "clearance sync" in out
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", live_server.tokens["ana.artist"])
    code, out, err = cli("sync")
    assert code == 0, err
    assert out.strip().startswith("sent 1,")
    code, out, err = cli("status", str(record.id))
    assert code == 0, err
    assert "sent" in out and "service: status waiting" in out and f"/records/{record.id}" in out
    code, out, _ = cli("submit", str(path), "--json")
    assert code == 0 and json.loads(out)["state"] == "sent"
    code, out, _ = cli("approvals", "pull")
    assert code == 0 and "pulled 0 approval(s)" in out
    code, out, _ = cli("status")
    assert code == 0 and "1 sent, 0 queued" in out


def test_cli_sync_unreachable_exits_1_and_keeps_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = make_record(production=PRODUCTION)
    path = tmp_path / "record.yaml"
    path.write_text(dump_record(record))
    assert cli("submit", "--offline", str(path))[0] == 0
    monkeypatch.setenv("CLEARANCE_SERVER", f"http://127.0.0.1:{free_port()}")
    code, out, err = cli("sync")
    assert code == 1 and "still waiting 1" in out and "cannot reach the disclosure service" in err
    assert Outbox().entries()[0].state == "failed"


def test_request_approval_for_a_notify_record(live_server: LiveServer) -> None:  # noqa: F811
    record = make_record(use={"media": "image", "stage": "ideation", "in_final_deliverable": "no"}, targets=[])
    with artist(live_server) as client:
        answer = client.request_approval(record)  # submits first, then asks
        assert answer["status"] == "waiting" and answer["created"] is True
        again = client.request_approval(record)
        assert again["created"] is False
        assert client.server_record(record.id)["status"] == "waiting"


def test_too_large_and_invalid_bodies_get_one_line_errors(live_server: LiveServer) -> None:  # noqa: F811
    huge = make_record(targets=[{"kind": "file", "ref": f"plates/sh010/frame_{i:06d}.exr"} for i in range(30000)])
    with artist(live_server) as client:
        refused = client.submit(huge)
        assert refused.needs_fix and "(413)" in (refused.error or "") and "split the use" in refused.error
        with pytest.raises(ClientError) as invalid:
            client.request("POST", "/records", json={**make_record().model_dump(mode="json"), "decision": "notify"})
        assert invalid.value.status == 422 and "(422)" in str(invalid.value) and "decision" in str(invalid.value)
        assert "\n" not in str(invalid.value)


def test_pull_a_whole_production(live_server: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    records = [make_record() for _ in range(3)]
    with artist(live_server) as client, DisclosureClient(live_server.url, live_server.tokens["sam.approver"]) as boss:
        for record in records:
            client.submit(record)
        for record in records[:2]:
            boss.decide(record.id, "approve")
    # an editor on another machine (empty outbox and cache) pulls what the production has approved
    editor_cache = ApprovalCache(tmp_path / "editor-cache")
    with DisclosureClient(live_server.url, live_server.tokens["sam.approver"], cache=editor_cache) as editor:
        report = editor.pull_approvals(production=PRODUCTION)
    held = {str(a.statement.record_id) for a in editor_cache.all_approvals()}
    assert {str(r.id) for r in records[:2]} <= held and str(records[2].id) not in held
    assert report.approvals >= 2
