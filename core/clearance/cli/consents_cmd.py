"""`clearance consents pull|list|show|add|withdraw`: the consent registry, pulled for offline checks."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from clearance.cli import show_help
from clearance.errors import ClearanceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("consents", help="the consent registry: pull it for offline checks, list, show, register")
    csub = p.add_subparsers(dest="consents_command", metavar="ACTION")

    def service(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--server", default=None, help="service URL (default: CLEARANCE_SERVER)")
        cmd.add_argument("--token", default=None, help="API token (default: CLEARANCE_TOKEN)")

    pull = csub.add_parser("pull", help="fetch the signed consent list into the local cache")
    pull.add_argument("--production", default=None, help="only this production (default: all of yours)")
    service(pull)
    pull.set_defaults(func=run_pull)

    lst = csub.add_parser("list", help="the consent entries held here (as pulled), and whether the list counts")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=run_list)

    show = csub.add_parser("show", help="one consent entry held here")
    show.add_argument("consent_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    add = csub.add_parser("add", help="register a consent (legal role): a YAML/JSON file with the entry")
    add.add_argument("file", metavar="FILE", help="id, production, talent, given_by, scope, guild_terms and either "
                     "document_sha256 or document (a path: only its SHA-256 is sent)")
    service(add)
    add.set_defaults(func=run_add)

    wd = csub.add_parser("withdraw", help="withdraw a consent (legal role)")
    wd.add_argument("consent_id", metavar="ID")
    wd.add_argument("--reason", required=True, help="why it is withdrawn (kept in the audit log)")
    service(wd)
    wd.set_defaults(func=run_withdraw)
    p.set_defaults(func=show_help(p))


def _client(args: argparse.Namespace) -> Any:
    from clearance.cli.submit_cmd import server_from
    from clearance.client import DisclosureClient

    return DisclosureClient(server=server_from(args), token=args.token)


def _keys() -> Any:
    from clearance.policy import policy_in_force
    from clearance.trust import trusted_keys

    return trusted_keys(policy_in_force()).keys


def run_pull(args: argparse.Namespace) -> int:
    with _client(args) as client:
        count = client.refresh_consents(_keys(), args.production)
        print(f"pulled {count} consent entr{'y' if count == 1 else 'ies'} from {client.server} into "
              f"{client.cache.root}")
    return 0


def _book() -> Any:
    from clearance.consent import book_in_force

    return book_in_force()


def run_list(args: argparse.Namespace) -> int:
    book = _book()
    if args.json:
        print(json.dumps({"source": book.source, "problem": book.problem,
                          "as_of": book.as_of.isoformat() if book.as_of else None,
                          "consents": [e.model_dump(mode="json") for e in book.entries.values()]}, indent=2))
        return 0 if not book.problem else 1
    if book.problem:
        print(f"clearance: the consent list held here does not count: {book.problem}", file=sys.stderr)
        return 1
    print(f"{len(book.entries)} consent entr{'y' if len(book.entries) == 1 else 'ies'} "
          f"(list signed {book.as_of:%Y-%m-%d %H:%M} UTC, {book.source})")
    for entry in book.entries.values():
        scope = entry.scope
        until = f"{scope.ends_on}" if scope.ends_on else "withdrawal"
        print(f"  {entry.id:<24} {entry.status:<9} {entry.talent} (by {entry.given_by.replace('_', ' ')}); "
              f"{', '.join(scope.productions)}; {', '.join(scope.media)}; {', '.join(scope.uses)}; "
              f"{scope.starts_on} to {until}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    book = _book()
    if book.problem:
        raise ClearanceError(f"the consent list held here does not count: {book.problem}")
    entry = book.entries.get(args.consent_id)
    if entry is None:
        raise ClearanceError(f"consent {args.consent_id} is not in the list held here; run `clearance consents pull`"
                             " or check the id (`clearance consents list`)")
    data = entry.model_dump(mode="json")
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    import yaml

    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from clearance.consent import document_digest
    from clearance.documents import load_document

    doc = load_document(args.file)
    data = doc.data
    if not isinstance(data, dict):
        raise ClearanceError(f"{doc.source}: a consent entry must be a mapping of fields")
    data = dict(data)
    if "document" in data:
        path = data.pop("document")
        try:
            data["document_sha256"] = document_digest(str(path))
        except OSError as exc:
            raise ClearanceError(f"{doc.source}: field document: cannot read {path}: {exc.strerror}") from None
    with _client(args) as client:
        result = client.request("POST", "/consents", json=json.loads(json.dumps(data, default=str)))
    print(f"registered consent {result.get('id')} for {result.get('talent')} "
          f"(signed by key {result.get('signature', {}).get('key_id')})")
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    with _client(args) as client:
        result = client.request("POST", f"/consents/{args.consent_id}/withdraw", json={"reason": args.reason})
    print(f"withdrew consent {result.get('id')}: records relying on it are refused after the next "
          "`clearance consents pull` (or `approvals pull`)")
    return 0
