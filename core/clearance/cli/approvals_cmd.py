"""`clearance approvals pull|verify|list|sign-overlay`: signed approvals for offline checks.

verify exits 0 when the approval is valid, 1 with the reason when it is not, 2 for bad input. It judges
exactly as publish does (``clearance.standing``): trusted keys, a signed revocation list no older than the
policy's limit (refreshed from the service when one answers), coverage, expiry. Nothing is "not checked".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from clearance.approvals import (
    KeyRing,
    Revocations,
    TrustedKeys,
    parse_approval,
    sign_overlay,
)
from clearance.documents import load_document
from clearance.errors import ClearanceError
from clearance.record import Target, load_record
from clearance.standing import when_relative


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("approvals", help="pull, verify and list signed approvals; sign policy overlays")
    inner = p.add_subparsers(dest="approvals_command", metavar="ACTION", parser_class=type(p))

    pull = inner.add_parser("pull", help="fetch approvals, revocations and keys from the service into the cache",
                            description="Fetch the service's keys, its revocation list and the approvals of every "
                            "record in this machine's outbox and cache (or of the given records).")
    pull.add_argument("records", nargs="*", metavar="RECORD",
                      help="record files (YAML/JSON) or record ids to pull, also ones this machine never submitted")
    pull.add_argument("--record", action="append", default=[], metavar="ID", help="only this record (repeatable)")
    pull.add_argument("--accept-new-keys", action="store_true",
                      help="accept the service's keys although they differ from the keys pinned here (after "
                      "checking with the studio's admin that it changed its keys)")
    pull.add_argument("--production", metavar="CODE",
                      help="every approved record of this production (e.g. to check a whole timeline)")
    pull.add_argument("--server", help="the disclosure service URL (default: $CLEARANCE_SERVER)")
    pull.add_argument("--token", help="your API token (default: $CLEARANCE_TOKEN)")
    pull.set_defaults(func=run_pull)

    ver = inner.add_parser(
        "verify", help="check a signed approval against a record, offline",
        description="Exit 0 valid, 1 refused (with the reason), 2 bad input. Trusted keys come from the policy "
        "(approvals.trusted_keys) and --keys (a GET /api/v1/keys document).",
    )
    ver.add_argument("approval", metavar="APPROVAL.json", help="a signed approval")
    ver.add_argument("--record", required=True, metavar="RECORD", help="the use record it should approve")
    ver.add_argument("--keys", metavar="KEYS.json", help="trust the keys in this GET /api/v1/keys document too")
    ver.add_argument("--policy", action="append", metavar="FILE", help="policy files, layered (default: "
                     "$CLEARANCE_POLICY, else the embedded defaults)")
    ver.add_argument("--target", metavar="KIND:REF", help="check that the approval covers this target, e.g. shot:sh010")
    ver.add_argument("--production", help="check that the approval is for this production")
    ver.add_argument("--revocations", metavar="FILE", help="a revocation list (default: the cache)")
    ver.add_argument("--require-revocations", action="store_true",
                     help="kept for scripts: a missing or stale revocation list is always a refusal now")
    ver.add_argument("--offline", action="store_true",
                     help="do not refresh the revocation list from the service; use the cached one")
    ver.add_argument("--server", help="the disclosure service URL (default: $CLEARANCE_SERVER, else the policy's)")
    ver.add_argument("--token", help="your API token (default: $CLEARANCE_TOKEN)")
    ver.set_defaults(func=run_verify)

    lst = inner.add_parser("list", help="the approvals held in the local cache")
    lst.add_argument("--record", metavar="ID", help="only this record's approvals")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)

    sign = inner.add_parser(
        "sign-overlay", help="sign a studio policy overlay with the service's key",
        description="Write a copy of FILE with a `signature` block; a signed overlay may weaken settings.",
    )
    sign.add_argument("file", metavar="FILE", help="the policy overlay (YAML or JSON)")
    sign.add_argument("--keys-dir", required=True, metavar="DIR", help="the service's signing key folder")
    sign.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the signed overlay")
    sign.set_defaults(func=run_sign_overlay)

    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _policy(paths: list[str] | None):  # type: ignore[no-untyped-def]
    from clearance.policy import load_policy

    return load_policy(paths)


def _record_ids(values: list[str]) -> list[str]:
    """Record ids from ids or record files (a file that exists is read; anything else must be an id)."""
    from uuid import UUID

    ids = []
    for value in values:
        if Path(value).is_file():
            ids.append(str(load_record(value).id))
            continue
        try:
            ids.append(str(UUID(value)))
        except ValueError:
            raise ClearanceError(f"{value}: neither a record file nor a record id (a UUID)") from None
    return ids


def run_pull(args: argparse.Namespace) -> int:
    from clearance.cli.submit_cmd import server_from
    from clearance.client import DisclosureClient

    wanted = _record_ids([*args.records, *args.record])
    with DisclosureClient(server=server_from(args), token=args.token) as client:
        report = client.pull_approvals(wanted or None, production=args.production,
                                       accept_new_keys=args.accept_new_keys)
        if report.first_use:
            print(f"pinned the keys of {client.server} on first use: {', '.join(report.pinned)} "
                  "(a later change is refused unless announced by a pinned key)")
        elif report.announced:
            print(f"accepted key(s) {', '.join(report.announced)}: a rotation announced by a pinned key")
        elif report.pinned:
            print(f"accepted new key(s) {', '.join(report.pinned)} (--accept-new-keys)")
        print(f"pulled {report.approvals} approval(s) ({report.new} new) for {report.records} record(s), "
              f"{report.revocations} "
              f"revocation(s), {report.keys} key(s)"
              + (f", {report.consents} consent entr{'y' if report.consents == 1 else 'ies'}"
                 if report.consents is not None else "")
              + f" from {client.server} into {client.cache.root}")
        for problem in report.problems:
            print(f"clearance: warning: {problem}", file=sys.stderr)
        for record_id in report.missing:
            print(f"  {record_id}: not on the service (not sent yet? run `clearance sync`)", file=sys.stderr)
    return 0


def _target(text: str | None) -> Target | None:
    if not text:
        return None
    kind, sep, ref = text.partition(":")
    if not sep or not ref:
        raise ClearanceError(f"--target {text!r}: write it as KIND:REF, e.g. shot:sh010")
    try:
        return Target.model_validate({"kind": kind, "ref": ref})
    except ValueError:
        raise ClearanceError(f"--target {text!r}: kind must be shot, asset, node, datablock, clip or file") from None


def run_verify(args: argparse.Namespace) -> int:
    from clearance.standing import Judge
    from clearance.trust import load_trust, require_keys

    doc = load_document(args.approval)
    approval = parse_approval(doc.data, doc.source)
    record = load_record(args.record)
    policy = _policy(args.policy)
    extra = TrustedKeys.from_file(args.keys) if args.keys else None
    if not args.offline and not args.revocations:
        note = _refresh(args, policy)
        if note:
            print(f"clearance: warning: {note}", file=sys.stderr)
    trust = load_trust(policy, extra_keys=extra, approvals=[approval])
    require_keys(trust)
    if args.revocations:
        given = Revocations.from_document(load_document(args.revocations).data, keys=trust.keys,
                                          source=str(args.revocations))
        trust.revocations = given.union(trust.revocations)
    for note in trust.notes:
        print(f"clearance: note: {note}", file=sys.stderr)
    for problem in trust.problems:
        print(f"clearance: warning: {problem}", file=sys.stderr)
    judge = Judge(policy, trust, production=args.production)
    standing = judge.standing(record, _target(args.target))
    st = approval.statement
    if standing.verdict == "not_needed":
        # the policy needs no approval for this record: still say whether this approval itself holds
        state = next(s for a, s, _r in judge.approval_states(record) if a is approval)
        if state != "valid":
            print(f"refused: {next(r for a, _s, r in judge.approval_states(record) if a is approval)}",
                  file=sys.stderr)
            return 1
        print(f"valid: approval {st.approval_id} by {st.approver} (the policy needs no approval for this record)")
        return 0
    if standing.verdict == "approved" and standing.approval_id == st.approval_id:
        print(f"valid: approval {st.approval_id} by {st.approver} (key {approval.key_id})")
        expiry = when_relative(st.expires_at, standing.judged_at) if st.expires_at else "no expiry"
        print(f"  record {st.record_id}, production {st.production}, targets "
              f"{', '.join(st.targets) or 'the record (no targets)'}, expires {expiry}"
              + (f", conditions: {st.conditions}" if st.conditions else ""))
        return 0
    print(f"refused: {standing.label.lower()}: {standing.describe()}", file=sys.stderr)
    return 1


def _refresh(args: argparse.Namespace, policy: Any) -> str | None:
    """A revocation made a minute ago must count: when a service is configured and answers, its current
    (signed) list joins the held ones. Returns a note when it could not be refreshed."""
    server = args.server or os.environ.get("CLEARANCE_SERVER") or policy.approvals.server
    if not server:
        return None
    from clearance.client import DisclosureClient
    from clearance.trust import trusted_keys

    try:
        with DisclosureClient(server=server, token=args.token) as client:
            client.refresh_revocations(trusted_keys(policy, client.cache).keys)
    except ClearanceError as exc:
        return f"could not refresh the revocation list ({exc}); judging from the lists held here"
    return None


def run_list(args: argparse.Namespace) -> int:
    """Every approval held here with its state, and each record's standing when the record is known."""
    from clearance.standing import Judge, when
    from clearance.trust import known_record, load_trust

    policy = _policy(None)
    trust = load_trust(policy)
    cache = trust.cache
    assert cache is not None
    judge = Judge(policy, trust)
    record_ids = [args.record] if args.record else cache.record_ids()
    rows: list[dict[str, Any]] = []
    standings: dict[str, Any] = {}
    for record_id in record_ids:
        record = known_record(cache, record_id)
        states = {a.approval_id: (s, r) for a, s, r in judge.approval_states(record)} if record else {}
        if record is not None:
            standings[record_id] = judge.standing(record)
        for approval in sorted(cache.approvals_for(record_id), key=lambda a: a.statement.issued_at):
            st = approval.statement
            state, why = states.get(approval.approval_id, ("record unknown", "the record is not on this machine: "
                                                          "run `clearance approvals pull RECORD`"))
            rows.append({"approval_id": st.approval_id, "record_id": str(st.record_id), "production": st.production,
                         "targets": st.targets, "approver": st.approver, "issued_at": st.issued_at.isoformat(),
                         "expires_at": st.expires_at.isoformat() if st.expires_at else None,
                         "key_id": approval.key_id, "conditions": st.conditions, "state": state, "reason": why})
    for problem in trust.problems:
        print(f"clearance: warning: {problem}", file=sys.stderr)
    revocations = trust.revocations
    as_of = revocations.as_of() if revocations else None
    if args.json:
        print(json.dumps({
            "approvals": rows,
            "standings": {rid: s.model_dump(mode="json") | {"description": s.describe()}
                          for rid, s in standings.items()},
            "revocations_as_of": as_of.isoformat() if as_of else None,
        }, indent=2))
        return 0
    if not rows and not standings:
        print(f"no approvals cached in {cache.root}; run `clearance approvals pull`")
        return 0
    for record_id in record_ids:
        standing = standings.get(record_id)
        head = standing.line() if standing is not None else "record not on this machine"
        print(f"{record_id}: {head}")
        for row in (r for r in rows if r["record_id"] == record_id):
            targets = ", ".join(row["targets"]) or "the record (no targets)"
            expires = when(datetime.fromisoformat(row["expires_at"])) if row["expires_at"] else "no expiry"
            print(f"  {row['approval_id']}  {row['state']}  by {row['approver']} on "
                  f"{when(datetime.fromisoformat(row['issued_at']))}  expires {expires}  {targets}"
                  + (f"  conditions: {row['conditions']}" if row["conditions"] else ""))
    print(f"revocation list: {'signed, as of ' + when(as_of) if as_of else 'none held (approvals are unverified)'}")
    return 0


def run_sign_overlay(args: argparse.Namespace) -> int:
    folder = Path(args.keys_dir)
    if not folder.is_dir() or not any(folder.glob("*.pem")):
        raise ClearanceError(f"{folder}: no signing keys there; give the service's key folder (its keys_dir)")
    doc = load_document(args.file)
    if not isinstance(doc.data, dict):
        raise ClearanceError(f"{doc.source}: a policy overlay must be a mapping of settings")
    ring = KeyRing.open(folder)
    signed = sign_overlay(doc.data, ring)
    out = Path(args.output)
    if out.suffix.lower() == ".json":
        text = json.dumps(signed, indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = yaml.safe_dump(signed, sort_keys=False, allow_unicode=True)
    from clearance.cache import atomic_write

    atomic_write(out, text)
    print(f"signed {doc.source} with key {signed['signature']['key_id']} -> {out}")
    return 0
