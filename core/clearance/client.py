"""The disclosure client: records go to the studio's service through the durable outbox.

``submit`` writes the record to the outbox (committed to disk) and only then tries the network, so a
dead network, server or process never loses a disclosure; ``sync`` sends whatever is waiting. The
server is idempotent on (record id, content digest), so sending again after a crash never duplicates.
``pull_approvals`` fills the local cache (approvals, revocations, keys) for offline checks.

The service is found through ``CLEARANCE_SERVER`` and ``CLEARANCE_TOKEN`` (arguments override them).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from clearance import __version__
from clearance.approvals import (
    Revocations,
    SignedApproval,
    TrustedKeys,
    now_utc,
    parse_approval,
    signature_problem,
)
from clearance.cache import ApprovalCache
from clearance.errors import ClearanceError
from clearance.outbox import Outbox, OutboxEntry
from clearance.record import UseRecord, content_digest
from clearance.trust import PinResult

API = "/api/v1"
LOOKUP_BATCH = 2000
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
SETUP_STATUSES = {401}
"""A refusal caused by the token, not by the record: it stays queued and sync stops early. Other 4xx
answers (no role in the production, invalid record, too large) are kept as refused: they need a fix
and do not block the rest of the outbox."""


class ClientError(ClearanceError):
    """A one-line failure talking to the service. ``transient``: worth retrying later as it is."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


class ServerUnreachable(ClientError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip().splitlines()[0][:300] if response.text else ""
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, list) and value and isinstance(value[0], dict):
                loc = ".".join(str(p) for p in value[0].get("loc", []) if p != "body")
                return f"field {loc}: {value[0].get('msg', 'invalid')}" if loc else str(value[0].get("msg"))
    return str(body)[:300]


def describe_http_error(server: str, response: requests.Response) -> ClientError:
    status = response.status_code
    said = _server_message(response)
    said_part = f": {said}" if said else ""
    if status == 401:
        msg = (f"the service at {server} did not accept the token (401){said_part}; set CLEARANCE_TOKEN to your "
               "API token (ask the production's Clearance admin for one: `clearance admin user add` prints it)")
    elif status == 403:
        msg = f"the service at {server} refused (403){said_part}; ask the production's admin for the right role"
    elif status == 404:
        msg = f"not found on {server} (404){said_part}"
    elif status == 409:
        msg = f"the service at {server} refused it as a conflict (409){said_part}"
    elif status == 413:
        msg = (f"the record is larger than the service at {server} accepts (413){said_part}; "
               "shorten the description or split the use into several records")
    elif status == 422:
        msg = f"the service at {server} refused the record (422){said_part}; fix the record and submit again"
    elif status in TRANSIENT_STATUSES:
        msg = f"the service at {server} is not answering properly ({status}){said_part}; it will be retried"
    else:
        msg = f"the service at {server} answered {status}{said_part}"
    return ClientError(msg, status=status, transient=status in TRANSIENT_STATUSES)


@dataclass
class SubmitResult:
    """What happened to one submission: ``sent`` (the server has it) or ``queued`` / ``failed`` in the outbox."""

    record_id: str
    content_digest: str
    state: str
    new_in_outbox: bool
    response: dict[str, Any] | None = None
    error: str | None = None
    needs_fix: bool = False

    @property
    def status(self) -> str | None:
        return (self.response or {}).get("status")

    @property
    def outcome(self) -> str | None:
        return ((self.response or {}).get("decision") or {}).get("outcome")

    @property
    def version(self) -> int | None:
        return (self.response or {}).get("version")


@dataclass
class SyncReport:
    sent: list[SubmitResult] = field(default_factory=list)
    failed: list[SubmitResult] = field(default_factory=list)
    remaining: int = 0
    in_other_process: int = 0
    stopped: str | None = None


@dataclass
class PullReport:
    approvals: int = 0
    new: int = 0
    records: int = 0
    keys: int = 0
    revocations: int = 0
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)
    first_use: bool = False
    consents: int | None = None  # entries in the consent list pulled (None: none could be pulled)


def normalize_server(server: str) -> str:
    server = server.strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise ClearanceError(
            f"server address {server!r} must start with http:// or https:// (e.g. http://127.0.0.1:8750); "
            "fix CLEARANCE_SERVER or --server"
        )
    return server


class DisclosureClient:
    """Talks to the disclosure service; every submission passes through the outbox first."""

    def __init__(
        self,
        server: str | None = None,
        token: str | None = None,
        *,
        outbox: Outbox | None = None,
        cache: ApprovalCache | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
    ) -> None:
        server = server or os.environ.get("CLEARANCE_SERVER") or None
        self.server = normalize_server(server) if server else None
        self.token = token or os.environ.get("CLEARANCE_TOKEN") or None
        self._outbox = outbox
        self.cache = cache or ApprovalCache()
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"clearance/{__version__}"
        self.session.headers["Accept"] = "application/json"
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox()
        return self._outbox

    @property
    def online(self) -> bool:
        """A server is configured (whether it answers is found out by trying)."""
        return self.server is not None

    def close(self) -> None:
        self.session.close()
        if self._outbox is not None:
            self._outbox.close()

    def __enter__(self) -> DisclosureClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- HTTP

    def _require_server(self) -> str:
        if not self.server:
            raise ClearanceError(
                "no disclosure service is set: set CLEARANCE_SERVER (e.g. http://127.0.0.1:8750) or pass --server"
            )
        return self.server

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One API call; returns the JSON body or raises a one-line ClientError."""
        server = self._require_server()
        url = f"{server}{API}{path}"
        try:
            response = self.session.request(method, url, json=json, params=params, timeout=self.timeout)
        except requests.Timeout:
            raise ServerUnreachable(
                f"the service at {server} did not answer in time; try again later or check the server "
                "(records stay in the outbox: run `clearance sync`)"
            ) from None
        except requests.ConnectionError:
            raise ServerUnreachable(
                f"cannot reach the disclosure service at {server}; check CLEARANCE_SERVER and that "
                "`clearance serve` runs there (records stay in the outbox: run `clearance sync`)"
            ) from None
        except requests.RequestException as exc:
            raise ServerUnreachable(f"talking to {server} failed: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise describe_http_error(server, response)
        try:
            return response.json()
        except ValueError:
            raise ClientError(
                f"the service at {server} answered {path} with something that is not JSON; is CLEARANCE_SERVER "
                "the disclosure service's address?", status=response.status_code, transient=True,
            ) from None

    def record_url(self, record_id: object) -> str:
        """The web page of a record, for people: ``{server}/records/{id}``."""
        return f"{self._require_server()}/records/{quote(str(record_id))}"

    # ------------------------------------------------------------- submitting

    def submit(self, record: UseRecord) -> SubmitResult:
        """Write the record to the outbox, then try to send it. Never loses it; never raises for the network."""
        entry, added = self.outbox.add(record, claim=self.server is not None)
        if entry.state == "sent":
            return SubmitResult(entry.record_id, entry.content_digest, "sent", added, entry.response)
        if entry.permanent:
            return SubmitResult(entry.record_id, entry.content_digest, "failed", added, error=entry.last_error,
                                needs_fix=True)
        if not self.server:
            return SubmitResult(entry.record_id, entry.content_digest, "queued", added,
                                error="no disclosure service is set (CLEARANCE_SERVER)")
        if not entry.claimed:  # another process is sending it right now
            return SubmitResult(entry.record_id, entry.content_digest, "queued", added,
                                error="another process is sending it")
        result = self._send(entry)
        result.new_in_outbox = added
        return result

    def _send(self, entry: OutboxEntry) -> SubmitResult:
        server = self._require_server()
        try:
            response = self.request("POST", "/records", json=_json_body(entry))
        except ClientError as exc:
            permanent = not exc.transient and exc.status not in SETUP_STATUSES and exc.status is not None
            self.outbox.mark_failed(entry, str(exc), permanent=permanent)
            return SubmitResult(entry.record_id, entry.content_digest, "failed" if permanent else "queued", False,
                                error=str(exc), needs_fix=permanent)
        except BaseException:
            self.outbox.release(entry)
            raise
        if not isinstance(response, dict):
            response = {"response": response}
        self.outbox.mark_sent(entry, server, response)
        self.send_previews(_json_body(entry))
        return SubmitResult(entry.record_id, entry.content_digest, "sent", False, response)

    preview_dirs: list[Path] | None = None
    """Where a target's relative path is looked for when sending previews (default: the current folder)."""

    def send_previews(self, record: dict[str, Any], base: Path | None = None) -> list[str]:
        """Send a small picture of each target that names a file it can render (see ``clearance.thumbnails``),
        for the approver's pages. Best effort: a preview that cannot be made or sent is skipped, since the
        record itself is what counts. Off with CLEARANCE_PREVIEWS=0. Returns the targets sent."""
        if os.environ.get("CLEARANCE_PREVIEWS", "1").strip().lower() in ("0", "no", "off", "false"):
            return []
        from clearance.thumbnails import preview

        sent = []
        server = self._require_server()
        for target in record.get("targets") or []:
            try:
                made = None
                for folder in [base] if base else (self.preview_dirs or [Path.cwd()]):
                    made = preview(target, folder)
                    if made is not None:
                        break
                if made is None:
                    continue
                data, media_type = made
                key = f"{target['kind']}:{target['ref']}"
                response = self.session.put(
                    f"{server}{API}/records/{quote(str(record['id']))}/previews", params={"target": key},
                    data=data, headers={"Content-Type": media_type}, timeout=self.timeout,
                )
            except (OSError, KeyError, requests.RequestException):
                continue
            if response.status_code in (200, 201):
                sent.append(key)
        return sent

    def sync(self, *, force: bool = True, batch: int = 20) -> SyncReport:
        """Send every waiting submission. ``force=False`` respects the retry backoff (background use).

        Stops at the first sign that the server cannot take anything now (unreachable, bad token):
        the rest stay queued, untouched. Every other pass sends or permanently fails what it claimed,
        so the loop ends.
        """
        self._require_server()
        report = SyncReport()
        while True:
            claimed = self.outbox.claim(batch, force=force)
            if not claimed:
                break
            for index, entry in enumerate(claimed):
                result = self._send(entry)
                if result.state == "sent":
                    report.sent.append(result)
                    continue
                report.failed.append(result)
                if not result.needs_fix:
                    report.stopped = result.error
                    for rest in claimed[index + 1:]:
                        self.outbox.release(rest)
                    break
            if report.stopped:
                break
        waiting, elsewhere = self.outbox.waiting()
        report.remaining = waiting - elsewhere
        report.in_other_process = elsewhere
        return report

    # ---------------------------------------------------------------- reading

    def server_record(self, record_id: object) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/records/{quote(str(record_id))}")
        return answer

    def list_records(self, production: str | None = None, status: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in {"production": production, "status": status}.items() if v}
        answer: dict[str, Any] = self.request("GET", "/records", params=params)
        return answer

    def status(self, record_id: object | None = None) -> dict[str, Any]:
        """The outbox state (of one record, or a summary) and, when the server answers, its view."""
        out: dict[str, Any] = {"outbox": self.outbox.path.as_posix(), "server": self.server}
        if record_id is None:
            out["counts"] = self.outbox.counts()
            out["entries"] = [_entry_view(e) for e in self.outbox.entries(superseded=False) if e.state != "sent"]
            return out
        out["entries"] = [_entry_view(e) for e in self.outbox.entries(str(record_id), superseded=False)]
        if self.server:
            try:
                out["server_record"] = self.record_facts(record_id)
                out["url"] = self.record_url(record_id)
            except ClientError as exc:
                out["server_error"] = str(exc)
        return out

    def request_approval(self, record: UseRecord) -> dict[str, Any]:
        """Ask an approver to decide. Submits the record first when the server does not have it yet."""
        result = self.submit(record)
        if result.state != "sent":
            raise ClientError(
                f"record {record.id} could not be sent ({result.error}); it is in the outbox: run `clearance sync`, "
                "then request approval again", transient=not result.needs_fix,
            )
        answer: dict[str, Any] = self.request("POST", f"/records/{quote(str(record.id))}/request")
        return answer

    def decide(
        self, record_id: object, decision: str, *, version: int | None = None, content_digest: str | None = None,
        conditions: str = "", reason: str = "", expires_at: str | None = None,
    ) -> dict[str, Any]:
        """Approve or deny (approvers only); an approval comes back signed and is cached.

        ``version`` (and ``content_digest``) name the record version you reviewed; the service answers 409
        when the record has changed since. Without them the client binds the decision to the version the
        service holds right now (read first), for scripts that decide without showing anything to a person.
        A denial needs a ``reason`` (``conditions`` is read as the reason when ``reason`` is empty).
        """
        if version is None:
            current = self.request("GET", f"/records/{quote(str(record_id))}")
            version = int(current["latest_version"])
            content_digest = content_digest or current["versions"][-1]["content_digest"]
        body: dict[str, Any] = {"decision": decision, "version": version, "conditions": conditions,
                                "reason": reason or (conditions if decision == "deny" else ""),
                                "expires_at": expires_at}
        if content_digest:
            body["content_digest"] = content_digest
        answer: dict[str, Any] = self.request("POST", f"/records/{quote(str(record_id))}/decision", json=body)
        if decision == "approve" and isinstance(answer, dict) and "statement" in answer:
            self.cache.add_approval(parse_approval(answer, "the server's approval"))
        return answer

    def revoke(self, approval_id: str, reason: str = "") -> dict[str, Any]:
        path = f"/approvals/{quote(approval_id)}/revoke"
        answer: dict[str, Any] = self.request("POST", path, json={"reason": reason})
        return answer

    # ---------------------------------------------------------------- pulling

    def approvals(self, record_id: object) -> list[SignedApproval]:
        body = self.request("GET", f"/records/{quote(str(record_id))}/approvals")
        items = body.get("approvals", []) if isinstance(body, dict) else []
        return [parse_approval(item, f"{self.server} approvals of {record_id}") for item in items]

    def approved_record_ids(self, production: str) -> list[str]:
        """Every record of a production whose latest version is approved (paged through the list call)."""
        ids: list[str] = []
        offset = 0
        while True:
            page = self.request("GET", "/records", params={"production": production, "status": "approved",
                                                            "limit": 1000, "offset": offset})
            records = page.get("records", []) if isinstance(page, dict) else []
            ids.extend(str(r["id"]) for r in records if isinstance(r, dict) and "id" in r)
            offset += len(records)
            if not records or offset >= int(page.get("total", 0)):
                return ids

    def refresh_revocations(self, keys: TrustedKeys) -> Revocations:
        """Fetch the service's revocation list now and add it to the held ones (union).

        Refused (ClearanceError naming the service) when it is not signed by a key in ``keys``: a service
        that answers an unsigned or re-signed list is not believed, and nothing is cached.
        """
        document = self.request("GET", "/revocations")
        source = f"{self.server}{API}/revocations"
        if not isinstance(document, dict):
            raise ClearanceError(f"{source}: not a revocation list")
        Revocations.from_document(document, keys=keys, source=source)
        self.cache.store_revocations(document, keys, self.server)
        merged = self.cache.revocations(keys)
        assert merged is not None
        return merged

    def login_name(self) -> str | None:
        """The service login this token belongs to (GET /api/v1/me), remembered per service and token so it is
        known offline too; None when no service or token is set or it was never learnt."""
        import hashlib
        import json as json_module

        from clearance.paths import data_dir

        if not self.server or not self.token:
            return None
        key = hashlib.sha256(f"{self.server}\n{self.token}".encode()).hexdigest()
        path = data_dir() / "logins.json"
        from clearance.documents import load_json

        known: Any = {}
        if path.exists():
            with contextlib.suppress(ClearanceError):  # a damaged file only means the name is asked again
                known = load_json(path, what="the remembered logins")
        known = known if isinstance(known, dict) else {}
        try:
            answer = self.request("GET", "/me")
        except ClearanceError:
            name = known.get(key)
            return name if isinstance(name, str) and name else None
        name = answer.get("name") if isinstance(answer, dict) else None
        if isinstance(name, str) and name and known.get(key) != name:
            from clearance.cache import atomic_write

            known[key] = name
            with contextlib.suppress(OSError):  # remembering is a convenience: the login is still used now
                atomic_write(path, json_module.dumps(known, indent=2, sort_keys=True))
        return name if isinstance(name, str) and name else None

    def refresh_consents(self, keys: TrustedKeys, production: str | None = None) -> int:
        """Fetch the consent registry (GET /api/v1/consents) and cache it for offline checks.

        Refused (ClearanceError naming the service) unless it is signed by a key in ``keys``; nothing is
        cached then, and the held list ages until it no longer counts (fail closed).
        """
        from clearance.consent import book_from_document, save_document

        document = self.request("GET", "/consents", params={"production": production} if production else None)
        source = f"{self.server}{API}/consents"
        book = book_from_document(document, keys, source=source)
        if book.problem:
            raise ClearanceError(book.problem)
        save_document(document, self.cache.root)
        return len(book.entries)

    def refresh_keys(self, *, accept_new: bool = False) -> PinResult:
        """Fetch GET /api/v1/keys and pin them (first use) or accept announced rotations (``clearance.trust``)."""
        from clearance.trust import pin_keys

        document = self.request("GET", "/keys")
        if not isinstance(document, dict):
            raise ClearanceError(f"{self.server}{API}/keys: not a keys document")
        return pin_keys(self.cache, document, self.server, accept_new=accept_new)

    def record_facts(self, record_id: object) -> dict[str, Any]:
        """The service's view of one record (status, versions, requests, denials, approvals), cached for
        standings: who asked and when, who denied and why, who revoked."""
        view = self.server_record(record_id)
        facts = {key: view.get(key) for key in ("id", "production", "status", "latest_version", "versions",
                                               "requests", "denials")}
        facts["versions"] = [{k: v.get(k) for k in ("version", "decision_digest", "content_digest", "submitted_at",
                                                    "submitted_by", "record")}
                             for v in view.get("versions") or [] if isinstance(v, dict)]
        facts["approvals"] = [{k: a.get(k) for k in ("approval_id", "version", "issued_at", "revoked_at",
                                                     "revocation_reason", "revoked_by")}
                              for a in view.get("approvals") or [] if isinstance(a, dict)]
        facts["server"] = self.server
        facts["fetched_at"] = now_utc().isoformat()
        self.cache.store_facts(str(record_id), facts)
        return view

    def lookup(self, record_ids: Iterable[object]) -> tuple[int, list[str]]:
        """Refresh approvals and the service's view of many records in few requests (POST /records/lookup,
        2,000 ids each) and cache them. Returns (records found, ids the service does not know)."""
        ids = [str(r) for r in dict.fromkeys(str(r) for r in record_ids)]
        found, unknown = 0, list[str]()
        for start in range(0, len(ids), LOOKUP_BATCH):
            body = self.request("POST", "/records/lookup", json={"record_ids": ids[start:start + LOOKUP_BATCH]})
            if not isinstance(body, dict):
                raise ClearanceError(f"{self.server}{API}/records/lookup: not a lookup answer")
            unknown.extend(str(u) for u in body.get("unknown") or [])
            for record_id, view in (body.get("records") or {}).items():
                if not isinstance(view, dict):
                    continue
                approvals = [parse_approval(a["signed"], f"{self.server} approval of {record_id}")
                             for a in view.get("approvals") or [] if isinstance(a, dict) and "signed" in a]
                self.cache.add_approvals(approvals)
                facts = {**view, "approvals": [{k: v for k, v in a.items() if k != "signed"}
                                               for a in view.get("approvals") or [] if isinstance(a, dict)],
                         "server": self.server, "fetched_at": now_utc().isoformat()}
                self.cache.store_facts(record_id, facts)
                found += 1
        return found, unknown

    def pull_approvals(
        self, record_ids: Iterable[object] | None = None, *, production: str | None = None,
        accept_new_keys: bool = False,
    ) -> PullReport:
        """Fetch the keys, the revocation list and approvals: of the given records, else of every record
        this machine knows (outbox and cache); ``production`` adds every approved record of a production
        (an editor checking a timeline from several vendors, a farm node).

        Keys are pinned on first use; a changed key set is refused (ClearanceError naming the old and new
        fingerprints) unless ``accept_new_keys`` or the service announced the rotation.
        """
        from clearance.trust import load_trust

        report = PullReport()
        pin = self.refresh_keys(accept_new=accept_new_keys)
        if pin.refused:
            raise ClearanceError(pin.refused)
        report.pinned, report.announced, report.first_use = pin.pinned, pin.announced, pin.first_use
        from clearance.policy import load_policy

        trust = load_trust(load_policy(None), cache=self.cache)
        keys = trust.keys
        report.keys = len(keys)
        report.revocations = len(self.refresh_revocations(keys).revoked)
        try:  # consent is checked offline against the registry: pulled with the approvals
            report.consents = self.refresh_consents(keys)
        except ClientError as exc:
            if exc.status != 404:  # a service from before the consent registry has none to give
                raise
        wanted = {str(r) for r in record_ids} if record_ids is not None else (
            set() if production else set(self.outbox.record_ids()) | set(self.cache.record_ids())
        )
        if production:
            wanted |= set(self.approved_record_ids(production))
        before = {rid: {a.approval_id for a in self.cache.approvals_for(rid)} for rid in wanted}
        try:
            report.records, report.missing = self.lookup(sorted(wanted))
        except ClientError as exc:
            if exc.status not in (404, 405):
                raise
            self._pull_one_by_one(sorted(wanted), report)  # a service older than POST /records/lookup
        for record_id in sorted(wanted):
            held = self.cache.approvals_for(record_id)
            report.approvals += len(held)
            report.new += sum(a.approval_id not in before[record_id] for a in held)
            for approval in held:
                if signature_problem(approval, keys) is not None:
                    # kept anyway: verification refuses it with the reason; the person pulling should know now
                    report.problems.append(
                        f"approval {approval.approval_id} of record {record_id} does not verify against the "
                        "trusted keys: tell the service's admin"
                    )
        return report

    def _pull_one_by_one(self, record_ids: list[str], report: PullReport) -> None:
        for record_id in record_ids:
            try:
                approvals = self.approvals(record_id)
                self.record_facts(record_id)
            except ClientError as exc:
                if exc.status == 404:
                    report.missing.append(record_id)
                    continue
                raise
            report.records += 1
            self.cache.add_approvals(approvals)


def _json_body(entry: OutboxEntry) -> Any:
    import json

    return json.loads(entry.body)


def _entry_view(entry: OutboxEntry) -> dict[str, Any]:
    view = entry.model_dump(mode="json", exclude={"body", "response"})
    if entry.response:
        view["server_status"] = entry.response.get("status")
        view["version"] = entry.response.get("version")
    return view


def is_disclosed(record: UseRecord, outbox: Outbox | None = None) -> bool:
    """Sent to the service, or safely queued in this machine's outbox."""
    box = outbox or Outbox()
    try:
        return box.is_disclosed(str(record.id), content_digest(record))
    finally:
        if outbox is None:
            box.close()
