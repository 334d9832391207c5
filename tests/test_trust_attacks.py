"""Trust fails closed, against a real `clearance serve` on loopback.

A revoked approval must stay refused by `publish`, `check`, `approvals verify` and the host status alike,
whatever revocation list an attacker offers: unsigned, re-signed by an untrusted key, older, truncated; in an
approvals folder, in the cache, or from a service that lies (a proxy in front of the real one). A key swap
is refused; an announced rotation is accepted. A publish passes right after an approval, without a pull, and
says the conditions it was approved under.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from publish_fixtures import pyblish_env, record_data, write_manifest, write_record  # noqa: F401
from server_fixtures import PRODUCTION, LiveServer, start_server

from clearance.approvals import KeyRing
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.client import DisclosureClient
from clearance.record import UseRecord

pytestmark = pytest.mark.slow

CONDITIONS = "background only; not in marketing"


def run(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("trust-server"))
    try:
        server.add_users([("ana.artist", "artist", PRODUCTION), ("sam.approver", "approver", PRODUCTION)])
        yield server
    finally:
        server.stop()


class LyingService:
    """A proxy in front of the real service that answers GET /api/v1/revocations (or /keys) with ``lie``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lies: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = requests.request(method, proxy.upstream + self.path, data=body, headers=headers, timeout=10)
                content = answer.content
                lie = proxy.lies.get(self.path.split("?")[0])
                if lie is not None and answer.status_code == 200:
                    content = json.dumps(lie(answer.json())).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def liar(service: LiveServer) -> Iterator[LyingService]:
    proxy = LyingService(service.url)
    try:
        yield proxy
    finally:
        proxy.close()


def _approved_publish(service: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      targets: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Submit a record needing approval, have the approver approve it with conditions; a manifest to publish."""
    monkeypatch.setenv("CLEARANCE_SERVER", service.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", service.tokens["ana.artist"])
    work = tmp_path / "work"
    (work / "records").mkdir(parents=True)
    (work / "sign.exr").write_bytes(b"generated signage plate")
    data = record_data("approval", production=PRODUCTION,
                       targets=[{"kind": "shot", "ref": "sh010"}] if targets is None else targets)
    record = write_record(work / "records" / "sign.yaml", data)
    manifest = write_manifest(work, [{"name": "sh010_sign", "files": ["sign.exr"], "records": ["records/sign.yaml"]}],
                              family="render", production=PRODUCTION)
    code, out, err = run("submit", work / "records" / "sign.yaml")
    assert code == 0, err
    code, out, _ = run("publish", manifest, "--check")
    assert code == 1 and "waiting for approval since" in out, out  # the artist sees where it stands
    with DisclosureClient(service.url, service.tokens["sam.approver"], cache=ApprovalCache(tmp_path / "approver")) \
            as approver:
        approval = approver.decide(record.id, "approve", conditions=CONDITIONS)
    return {"work": work, "record": record, "manifest": manifest, "approval_id": approval["statement"]["approval_id"]}


def _revoke(service: LiveServer, approval_id: str) -> None:
    answer = service.post(f"/approvals/{approval_id}/revoke", service.tokens["sam.approver"],
                          {"reason": "consent withdrawn"})
    assert answer.status_code == 200, answer.text


def _host_status(record: UseRecord) -> str:
    from clearance.hosts.status import Judge

    return Judge().standing(record, record.targets[0]).status


def test_publish_passes_right_after_approval_and_shows_the_conditions(
        service: LiveServer, pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    case = _approved_publish(service, tmp_path, monkeypatch)
    code, out, err = run("publish", case["manifest"])  # no `approvals pull`: publish refreshes online
    assert code == 0, out + err
    assert "pinned the keys" not in out and "were pinned on first use" in out
    assert f"conditions: {CONDITIONS}" in out and "approved by sam.approver" in out
    disclosure = json.loads((tmp_path / "publish" / "clearance-disclosure.json").read_text())
    assert disclosure["items"][0]["conditions"] == CONDITIONS
    assert disclosure["items"][0]["approver"] == "sam.approver"
    code, out, _ = run("status", case["record"].id)
    assert code == 0 and "standing: Approved" in out and CONDITIONS in out
    code, out, _ = run("approvals", "list")
    assert code == 0 and "Approved" in out and CONDITIONS in out
    assert _host_status(case["record"]) == "approved"


def test_revocation_holds_against_every_list_an_attacker_offers(
        service: LiveServer, liar: LyingService, pyblish_env: Path, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    case = _approved_publish(service, tmp_path, monkeypatch)
    assert run("approvals", "pull")[0] == 0
    before = service.get("/revocations", service.tokens["ana.artist"]).json()  # signed, without the revocation
    _revoke(service, case["approval_id"])
    assert run("approvals", "pull")[0] == 0
    record, manifest = case["record"], case["manifest"]
    record_file = case["work"] / "records" / "sign.yaml"
    approval_file = tmp_path / "approval.json"
    approval_file.write_text(json.dumps(next(iter(ApprovalCache().approvals_for(record.id))).model_dump(mode="json")))

    def refused_everywhere(why: str) -> None:
        code, out, err = run("publish", manifest)
        assert code == 1 and "revoked" in out and "consent withdrawn" in out, (why, out, err)
        code, _out, err = run("approvals", "verify", approval_file, "--record", record_file, "--target", "shot:sh010")
        assert code == 1 and "revoked" in err, (why, err)
        assert _host_status(record) == "approval_required", why

    rogue = KeyRing.open(tmp_path / "rogue")
    monkeypatch.setenv("CLEARANCE_SERVER", liar.url)
    lies: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "unsigned empty": lambda doc: {"revocations": [], "generated_at": doc["generated_at"]},
        "re-signed by an untrusted key": lambda doc: rogue.sign_document(
            {"revocations": [], "generated_at": doc["generated_at"]}),
        "older": lambda doc: before,
        "truncated": lambda doc: {**doc, "revocations": []},
    }
    for why, lie in lies.items():
        liar.lies = {"/api/v1/revocations": lie}
        refused_everywhere(f"a service answering a {why} list")
    # the same lists in an approvals folder: refused with one line naming the file, or merged (older)
    folder = tmp_path / "folder"
    folder.mkdir()
    current = service.get("/revocations", service.tokens["ana.artist"]).json()
    for why, lie in lies.items():
        (folder / "revocations.json").write_text(json.dumps(lie(current)))
        code, out, err = run("publish", manifest, "--approvals", folder, "--offline")
        assert code in (1, 2) and not (tmp_path / "publish").exists(), (why, out)
        if why != "older":
            assert code == 2 and "revocations.json" in err and err.count("\n") == 1, (why, err)
    # the cache edited: signature deleted, list emptied, made to look fetched now
    cache = ApprovalCache()
    stored = json.loads(cache.revocations_path.read_text())
    for document in stored["documents"]:
        document.pop("signature", None)
        document["revocations"] = []
    stored["fetched_at"] = "2099-01-01T00:00:00+00:00"
    cache.revocations_path.write_text(json.dumps(stored))
    code, out, _ = run("publish", manifest, "--offline")
    assert code == 1 and "not signed" in out and not (tmp_path / "publish").exists()
    code, _out, err = run("approvals", "verify", approval_file, "--record", record_file, "--offline",
                          "--require-revocations", "--target", "shot:sh010")
    assert code == 1 and ("revoked" in err or "cannot be verified" in err), err
    assert _host_status(record) == "approval_required"


def test_a_lying_service_cannot_hide_a_revocation(
        service: LiveServer, liar: LyingService, pyblish_env: Path, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    case = _approved_publish(service, tmp_path, monkeypatch)
    _revoke(service, case["approval_id"])
    monkeypatch.setenv("CLEARANCE_SERVER", liar.url)
    liar.lies = {"/api/v1/revocations": lambda doc: {"revocations": [], "generated_at": doc["generated_at"]}}
    code, out, _ = run("publish", case["manifest"])
    assert code == 1 and "not signed" in out and not (tmp_path / "publish").exists()
    cut = tmp_path / "cut.otio"
    data = Path(__file__).parent / "data" / "otio" / "screening_example.otio"
    assert run("tag", data, "--clip", "ZZ100_504C (LAY1)", "--record", case["work"] / "records" / "sign.yaml",
               "-o", cut)[0] == 0
    code, out, err = run("check", cut)
    assert code == 1 and "blocked" in out.splitlines()[-1] and "revoked" in out, out + err


def test_a_key_swap_is_refused_and_an_announced_rotation_accepted(
        service: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_TOKEN", service.tokens["ana.artist"])
    code, out, err = run("approvals", "pull", "--server", service.url)
    assert code == 0 and "pinned the keys" in out, err
    pinned = ApprovalCache().keys().key_ids()
    other = start_server(tmp_path / "other")
    try:
        token = other.add_user_direct("ana.artist", "artist", PRODUCTION)
        code, out, err = run("approvals", "pull", "--server", other.url, "--token", token)
        assert code == 2 and err.count("\n") == 1
        theirs = requests.get(f"{other.url}/api/v1/keys", timeout=10).json()["keys"][0]["key_id"]
        assert pinned[0] in err and theirs in err and "--accept-new-keys" in err
        assert ApprovalCache().keys().key_ids() == pinned  # nothing was replaced
        code, out, err = run("approvals", "pull", "--server", other.url, "--token", token, "--accept-new-keys")
        assert code == 0 and theirs in out, err
    finally:
        other.stop()
    code, out, err = run("approvals", "pull", "--server", service.url, "--accept-new-keys")
    assert code == 0, err
    # the studio rotates its key: announced by the old key, accepted without asking
    rotated = service.cli("admin", "keys", "rotate", "--keys-dir", str(service.keys_dir), "--db", service.db)
    assert rotated.returncode == 0, rotated.stderr
    code, out, err = run("approvals", "pull", "--server", service.url)
    assert code == 0 and "a rotation announced by a pinned key" in out, out + err
    assert len(ApprovalCache().keys()) == 2


def test_pinned_keys_in_the_policy_win(service: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_TOKEN", service.tokens["ana.artist"])
    studio = KeyRing.open(tmp_path / "studio")
    policy = tmp_path / "studio.yaml"
    policy.write_text(yaml.safe_dump({"approvals": {"trusted_keys": studio.public_keys_document()}}))
    monkeypatch.setenv("CLEARANCE_POLICY", str(policy))
    assert run("approvals", "pull", "--server", service.url)[0] != 0  # the service's list is not signed by them
    from clearance.policy import load_policy
    from clearance.trust import trusted_keys

    trust = trusted_keys(load_policy(None))
    assert trust.source == "policy" and trust.keys.key_ids() == studio.public_keys().key_ids()


def test_a_passing_check_shows_the_conditions_and_a_pull_by_record_file_learns_an_unseen_record(
        service: LiveServer, pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    case = _approved_publish(service, tmp_path, monkeypatch, targets=[])  # used wherever it is cut in
    cut = tmp_path / "cut.otio"
    data = Path(__file__).parent / "data" / "otio" / "screening_example.otio"
    record_file = case["work"] / "records" / "sign.yaml"
    assert run("tag", data, "--clip", "ZZ100_504C (LAY1)", "--record", record_file, "-o", cut)[0] == 0
    code, out, err = run("check", cut)  # online: the approval is fetched without a pull
    assert code == 0, out + err
    assert f"conditions: {CONDITIONS}" in out
    # another machine (an editor) that never submitted the record pulls it by its file, then works offline
    monkeypatch.setenv("CLEARANCE_HOME", str(tmp_path / "editor"))
    code, out, err = run("approvals", "pull", record_file)
    assert code == 0 and "1 record(s)" in out, out + err
    code, out, err = run("check", cut, "--offline")
    assert code == 0 and f"conditions: {CONDITIONS}" in out, out + err
    code, out, _ = run("approvals", "list")
    assert "Approved" in out and CONDITIONS in out  # the record body was learned from the service


def test_status_forgets_refusals_a_later_version_superseded_and_sync_counts_agree(
        service: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_SERVER", service.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", service.tokens["ana.artist"])
    data = record_data("approval")
    bad = tmp_path / "bad.yaml"
    write_record(bad, {**data, "production": "NOPE_S99"})  # a production the artist has no role in
    code, _out, err = run("submit", bad)
    assert code == 2 and "refused" in err
    code, out, err = run("sync")
    assert "refused 1 (1 from earlier syncs)" in out, out + err
    good = tmp_path / "good.yaml"
    write_record(good, {**data, "production": PRODUCTION})
    assert run("submit", good)[0] == 0
    code, out, err = run("status")
    assert "0 failed (0 refused by the service)" in out and "NOPE" not in out, out
    code, out, err = run("sync")
    assert code == 0 and "refused 0" in out and "refused" not in err, out + err
    code, out, _ = run("status", data["id"])
    assert "standing: Waiting for approval" in out and "requested by" in out, out


def test_a_host_refresh_fetches_the_approval_and_says_when_it_cannot(
        service: LiveServer, pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from clearance.hosts.status import Judge, refresh

    case = _approved_publish(service, tmp_path, monkeypatch)
    record = case["record"]
    monkeypatch.setenv("CLEARANCE_HOME", str(tmp_path / "render-node"))  # a machine that holds nothing
    assert Judge().standing(record, record.targets[0]).status == "approval_required"
    assert refresh([record]) is None
    standing = Judge().standing(record, record.targets[0])
    assert standing.status == "approved" and standing.standing is not None
    assert standing.standing.conditions == CONDITIONS and CONDITIONS in standing.reason
    monkeypatch.setenv("CLEARANCE_SERVER", "http://127.0.0.1:9")  # nothing listens there
    note = refresh([record])
    assert note is not None and "judged from what this machine holds" in note and "\n" not in note
    assert Judge().standing(record, record.targets[0]).status == "approved"  # the cache still judges
