"""`clearance submit`, `clearance sync`, `clearance status`: disclose records to the studio's service.

Every record goes into the outbox on this machine first; without a server (or with the server down)
it waits there until `clearance sync`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from clearance.client import DisclosureClient, SubmitResult
from clearance.errors import ClearanceError
from clearance.outbox import Outbox
from clearance.record import load_record


def _server_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="the disclosure service URL (default: $CLEARANCE_SERVER)")
    parser.add_argument("--token", help="your API token (default: $CLEARANCE_TOKEN)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "submit", help="disclose records to the studio's service (through the outbox)",
        description="Store each record in the outbox, then send it. Offline, it waits for `clearance sync`.",
    )
    p.add_argument("records", nargs="+", metavar="RECORD", help="use record files (YAML or JSON)")
    _server_flags(p)
    p.add_argument("--offline", action="store_true", help="only queue in the outbox; send later with `clearance sync`")
    p.add_argument("--json", action="store_true", help="print one JSON object per record")
    p.set_defaults(func=run_submit)

    s = sub.add_parser("sync", help="send every record waiting in the outbox",
                       description="Flush the outbox. Exit 0 when nothing is left waiting, 1 otherwise.")
    _server_flags(s)
    s.add_argument("--retry-failed", action="store_true",
                   help="also resend records the service refused before (after fixing the cause)")
    s.set_defaults(func=run_sync)

    t = sub.add_parser("status", help="the outbox, and the service's view of a record",
                       description="Without ID: what is waiting in the outbox. With ID: that record's outbox "
                       "entries and, when the service answers, its versions, decision and status.")
    t.add_argument("id", nargs="?", metavar="ID", help="a record id")
    _server_flags(t)
    t.add_argument("--json", action="store_true", help="print JSON")
    t.set_defaults(func=run_status)


def server_from(args: argparse.Namespace) -> str | None:
    """--server, else CLEARANCE_SERVER, else the policy's approvals.server (a studio can set it once)."""
    if args.server or os.environ.get("CLEARANCE_SERVER"):
        return args.server or os.environ["CLEARANCE_SERVER"]
    from clearance.policy import load_policy

    return load_policy().approvals.server


def _client(args: argparse.Namespace) -> DisclosureClient:
    return DisclosureClient(server=server_from(args), token=args.token)


def _describe(result: SubmitResult, client: DisclosureClient) -> str:
    rid = result.record_id
    if result.state == "sent":
        answer = result.response or {}
        outcome = result.outcome or "?"
        status = result.status or "?"
        line = f"{rid}: sent (version {result.version}); the service's decision: {outcome}; status: {status}"
        rules = [f.get("rule") for f in (answer.get("decision") or {}).get("findings", []) if f.get("rule")]
        if rules:
            line += f" ({', '.join(rules)})"
        if client.server:
            line += f"; {client.record_url(rid)}"
        return line
    if result.needs_fix:
        return f"{rid}: refused by the service: {result.error}"
    why = f": {result.error.split(';', 1)[0]}" if result.error else ""  # the hint is in the line already
    return f"{rid}: queued in the outbox (offline{why}); run `clearance sync`"


def run_submit(args: argparse.Namespace) -> int:
    records = [load_record(path) for path in args.records]  # every file checked before anything is queued
    if args.offline:
        with Outbox() as outbox:
            for record in records:
                entry, added = outbox.add(record)
                state = "already in the outbox" if not added else "queued in the outbox"
                print(f"{entry.record_id}: {state} ({entry.state}); run `clearance sync`")
        return 0
    refused = 0
    with _client(args) as client:
        for path, record in zip(args.records, records, strict=True):
            # Previews: a target's relative path may be from here or from the record file's folder.
            client.preview_dirs = [Path.cwd(), Path(path).resolve().parent]
            result = client.submit(record)
            refused += result.needs_fix
            if args.json:
                print(json.dumps({"record_id": result.record_id, "state": result.state, "error": result.error,
                                  "response": result.response}))
            else:
                print(_describe(result, client), file=sys.stderr if result.needs_fix else sys.stdout)
    return 2 if refused else 0


def run_sync(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if not client.server:
            raise ClearanceError(
                "no disclosure service is set: set CLEARANCE_SERVER (e.g. http://127.0.0.1:8750) or pass --server"
            )
        if args.retry_failed:
            again = client.outbox.retry_failed()
            if again:
                print(f"{again} refused record(s) put back in the queue")
        report = client.sync()
        for result in report.failed:
            if result.needs_fix:  # a stop (server down, bad token) is said once below
                print(f"{result.record_id}: refused by the service: {result.error}", file=sys.stderr)
        busy = f", {report.in_other_process} being sent by another process" if report.in_other_process else ""
        needs_fix = client.outbox.counts()["needs_fix"]
        now_refused = sum(r.needs_fix for r in report.failed)
        earlier = f" ({needs_fix - now_refused} from earlier syncs)" if needs_fix > now_refused else ""
        print(f"sent {len(report.sent)}, refused {needs_fix}{earlier}, still waiting {report.remaining}{busy}")
        if report.stopped:
            print(f"stopped: {report.stopped}", file=sys.stderr)
        if needs_fix:
            print(f"{needs_fix} refused record(s) need a fix: fix them and submit again, "
                  "or `clearance sync --retry-failed`", file=sys.stderr)
        return 0 if report.remaining == 0 and not needs_fix else 1


def _when(value: Any) -> str:
    if not value:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return str(value.strftime("%Y-%m-%d %H:%M:%SZ"))


def _standing(client: DisclosureClient, record_id: str) -> Any:
    """The record's standing (clearance.standing), from what this machine holds after the status call."""
    from clearance.policy import load_policy
    from clearance.standing import Judge
    from clearance.trust import known_record, load_trust

    record = known_record(client.cache, record_id)
    if record is None:
        return None
    policy = load_policy(None)
    return Judge(policy, load_trust(policy, cache=client.cache)).standing(record)


def run_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        info = client.status(args.id)
        standing = _standing(client, str(args.id)) if args.id is not None else None
    if standing is not None:
        info["standing"] = standing.model_dump(mode="json") | {"description": standing.describe()}
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    if args.id is None:
        counts = info["counts"]
        print(f"outbox {info['outbox']}: {counts['sent']} sent, {counts['queued']} queued, "
              f"{counts['failed']} failed ({counts['needs_fix']} refused by the service)")
        for entry in info["entries"]:
            extra = f"; next try {_when(entry['next_attempt_at'])}" if entry["next_attempt_at"] else ""
            error = f"; last error: {entry['last_error']}" if entry["last_error"] else ""
            print(f"  {entry['record_id']} {entry['state']} after {entry['attempts']} attempt(s){extra}{error}")
        return 0
    entries = info["entries"]
    if not entries and "server_record" not in info:
        detail = f": {info['server_error']}" if info.get("server_error") else ""
        raise ClearanceError(f"record {args.id} is not in this machine's outbox{detail}")
    for entry in entries:
        line = f"outbox: {entry['content_digest'][:19]} {entry['state']} ({entry['attempts']} attempt(s))"
        if entry.get("version"):
            line += f", server version {entry['version']}, status {entry.get('server_status')}"
        if entry["last_error"] and entry["state"] != "sent":
            line += f"; last error: {entry['last_error']}"
        print(line)
    server_record = info.get("server_record")
    if server_record:
        status = server_record.get("status", "?")
        versions = server_record.get("versions") or []
        latest = versions[-1] if versions else {}
        outcome = (latest.get("decision") or {}).get("outcome", "?")
        print(f"service: status {status}, {len(versions)} version(s), latest decision {outcome}; {info.get('url')}")
    elif info.get("server_error"):
        print(f"service: {info['server_error']}", file=sys.stderr)
    if standing is not None:
        print(f"standing: {standing.line()}")
    return 0
