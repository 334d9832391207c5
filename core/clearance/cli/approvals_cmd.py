"""`clearance approvals pull|verify|list|sign-overlay`: signed approvals for offline checks.

verify exits 0 when the approval is valid, 1 with the reason when it is not, 2 for bad input.
Revocations: a list given with --revocations; else, when a service is configured and answers, its current
list (so a revocation made a minute ago counts); else the cached one. With none at all, verify warns "not
checked" and still exits 0 when everything else holds; --require-revocations makes a missing or stale list a
refusal, as publish does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from clearance.approvals import (
    KeyRing,
    Revocations,
    TrustedKeys,
    now_utc,
    parse_approval,
    sign_overlay,
    verify,
)
from clearance.cache import ApprovalCache, _read_revocations, trusted_keys
from clearance.documents import load_document
from clearance.errors import ClearanceError
from clearance.record import Target, load_record


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("approvals", help="pull, verify and list signed approvals; sign policy overlays")
    inner = p.add_subparsers(dest="approvals_command", metavar="ACTION", parser_class=type(p))

    pull = inner.add_parser("pull", help="fetch approvals, revocations and keys from the service into the cache",
                            description="Fetch the service's keys, its revocation list and the approvals of every "
                            "record in this machine's outbox and cache (or of the given records).")
    pull.add_argument("--record", action="append", default=[], metavar="ID", help="only this record (repeatable)")
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
                     help="refuse when no current revocation list is available (as publish validators do)")
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


def run_pull(args: argparse.Namespace) -> int:
    from clearance.cli.submit_cmd import server_from
    from clearance.client import DisclosureClient

    with DisclosureClient(server=server_from(args), token=args.token) as client:
        report = client.pull_approvals(args.record or None, production=args.production)
        print(f"pulled {report.approvals} approval(s) ({report.new} new) for {report.records} record(s), "
              f"{report.revocations} "
              f"revocation(s), {report.keys} key(s) from {client.server} into {client.cache.root}")
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
        return Target(kind=kind, ref=ref)
    except ValueError:
        raise ClearanceError(f"--target {text!r}: kind must be shot, asset, node, datablock, clip or file") from None


def run_verify(args: argparse.Namespace) -> int:
    doc = load_document(args.approval)
    approval = parse_approval(doc.data, doc.source)
    record = load_record(args.record)
    policy = _policy(args.policy)
    if args.keys:
        keys = TrustedKeys.from_policy(policy).merge(TrustedKeys.from_file(args.keys))
    else:
        trust = trusted_keys(policy)
        keys = trust.keys
        if trust.warning:
            print(f"warning: {trust.warning}", file=sys.stderr)
    if not len(keys):
        raise ClearanceError(
            "no trusted keys: add the service's keys to the policy's approvals.trusted_keys, or pass "
            "--keys KEYS.json (the service's GET /api/v1/keys document)"
        )
    target = _target(args.target)
    problems: list[str] = []
    if args.revocations:
        revocations = _read_revocations(Path(args.revocations), keys, problems)
        if revocations is None:
            raise ClearanceError(problems[0] if problems else f"{args.revocations}: file not found")
    else:
        cache = ApprovalCache()
        revocations = None if args.offline else _fresh_revocations(args, policy, keys)
        if revocations is None:
            revocations = cache.revocations(keys)
            problems = cache.problems
    max_age = timedelta(hours=policy.approvals.revocations_max_age_hours)
    checked_revocations = True
    if revocations is None and not args.require_revocations:
        for problem in problems:
            print(f"clearance: warning: {problem}", file=sys.stderr)
        print("clearance: warning: no revocation list cached: not checked (run `clearance approvals pull`; "
              "--require-revocations refuses instead)", file=sys.stderr)
        revocations = Revocations(fetched_at=now_utc())
        checked_revocations = False
    result = verify(approval, record, keys=keys, revocations=revocations, target=target,
                    production=args.production, max_revocation_age=max_age)
    if result.valid:
        note = "" if checked_revocations else " (revocations not checked)"
        print(f"valid: {result.reason}{note}")
        st = approval.statement
        expiry = st.expires_at.isoformat() if st.expires_at else "no expiry"
        print(f"  record {st.record_id}, production {st.production}, targets "
              f"{', '.join(st.targets) or 'every target of the record'}, {expiry}"
              + (f", conditions: {st.conditions}" if st.conditions else ""))
        return 0
    print(f"refused: {result.reason}", file=sys.stderr)
    return 1


def _fresh_revocations(args: argparse.Namespace, policy: Any, keys: TrustedKeys) -> Revocations | None:
    """A revocation revoked a minute ago must count: when a service is configured and answers, its current
    list is used (and cached); offline, the cached list is used, with a note."""
    server = args.server or os.environ.get("CLEARANCE_SERVER") or policy.approvals.server
    if not server:
        return None
    from clearance.client import ClientError, DisclosureClient

    try:
        with DisclosureClient(server=server, token=args.token) as client:
            return client.refresh_revocations(keys)
    except ClientError as exc:
        print(f"clearance: warning: could not refresh the revocation list ({exc}); using the cached one",
              file=sys.stderr)
        return None


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def run_list(args: argparse.Namespace) -> int:
    cache = ApprovalCache()
    approvals = cache.approvals_for(args.record) if args.record else cache.all_approvals()
    revocations = cache.revocations()
    revoked = revocations.revoked if revocations else {}
    rows = []
    for approval in sorted(approvals, key=lambda a: (str(a.statement.record_id), a.statement.issued_at)):
        st = approval.statement
        state = "revoked" if st.approval_id in revoked else (
            "expired" if st.expires_at is not None and st.expires_at <= now_utc() else "current"
        )
        rows.append({"approval_id": st.approval_id, "record_id": str(st.record_id), "production": st.production,
                     "targets": st.targets, "approver": st.approver, "issued_at": st.issued_at.isoformat(),
                     "expires_at": st.expires_at.isoformat() if st.expires_at else None, "key_id": approval.key_id,
                     "conditions": st.conditions, "state": state})
    for problem in cache.problems:
        print(f"clearance: warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps({"approvals": rows, "revocations_fetched_at":
                          revocations.fetched_at.isoformat() if revocations and revocations.fetched_at else None},
                         indent=2))
        return 0
    if not rows:
        print(f"no approvals cached in {cache.root}; run `clearance approvals pull`")
        return 0
    for row in rows:
        targets = ", ".join(row["targets"]) or "all targets"
        print(f"{row['record_id']}  {row['approval_id']}  {row['production']}  {targets}  by {row['approver']}  "
              f"expires {_iso(datetime.fromisoformat(row['expires_at'])) if row['expires_at'] else 'never'}  "
              f"{row['state']}")
    fetched = revocations.fetched_at if revocations else None
    print(f"revocation list: {'fetched ' + _iso(fetched) if fetched else 'none cached'} "
          "(state is from the cache; `clearance approvals verify` checks signatures)")
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
