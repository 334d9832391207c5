"""`clearance audit verify` and `clearance audit checkpoint`: check the service's audit log against signed
checkpoints, and export one to keep outside the database."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clearance.cli import show_help


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="check the disclosure service's audit log")
    actions = p.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check the audit log's chain and every signed checkpoint (exit 1 naming what was changed)",
        description="Check that no audit entry was edited, deleted or reordered, that every checkpoint stored in the "
        "log is signed by a trusted key and matches the log, and that every checkpoint FILE kept outside the "
        "database still matches (catching rewrites, truncation and wipes before it). Entries after the newest valid "
        "checkpoint are reported as the unanchored tail: they are chained but not yet vouched for by a signature.",
    )
    verify.add_argument("--db", metavar="URL", help="database URL (env CLEARANCE_DB; default: the local SQLite file)")
    verify.add_argument("--config", metavar="FILE", help="server settings file (for its db and keys_dir)")
    verify.add_argument("--checkpoint", metavar="FILE", action="append", default=[],
                        help="a checkpoint exported earlier with `clearance audit checkpoint` (repeatable)")
    verify.add_argument("--keys", metavar="FILE", help="trusted public keys (GET /api/v1/keys or `clearance admin keys "
                        "show`); default: the public keys of the service's keys_dir")
    verify.add_argument("--keys-dir", metavar="DIR", help="the service's key folder (env CLEARANCE_KEYS_DIR)")
    verify.set_defaults(func=run_verify)
    checkpoint = actions.add_parser(
        "checkpoint", help="sign the audit log's head now and print the checkpoint (keep it outside the database)",
        description="Appends a checkpoint signed with the service's approval key to the log and prints it as JSON: "
        "mail it, store it elsewhere, publish it. `clearance audit verify --checkpoint FILE` later proves that "
        "nothing up to it was rewritten, truncated or wiped. Without access to the keys, prints the newest "
        "checkpoint the service stored.",
    )
    checkpoint.add_argument("--db", metavar="URL", help="database URL (env CLEARANCE_DB)")
    checkpoint.add_argument("--config", metavar="FILE", help="server settings file")
    checkpoint.add_argument("--keys-dir", metavar="DIR", help="the service's key folder (env CLEARANCE_KEYS_DIR)")
    checkpoint.set_defaults(func=run_checkpoint)
    p.set_defaults(func=show_help(p))


def _database(args: argparse.Namespace) -> Any:
    from clearance.errors import ClearanceError
    from clearance.server.db import Database, current_revision
    from clearance.server.runner import config_from

    config = config_from(args, keys_dir=getattr(args, "keys_dir", None))
    db = Database(config.db)
    if current_revision(db) is None:
        raise ClearanceError(f"{db.url}: no Clearance database here (never migrated); check --db")
    return config, db


def _trusted_keys(args: argparse.Namespace, keys_dir: str) -> Any:
    from pathlib import Path

    from clearance.approvals import KeyRing, TrustedKeys
    from clearance.errors import ClearanceError
    if args.keys:
        return TrustedKeys.from_file(args.keys)
    folder = Path(keys_dir).expanduser()
    if not folder.is_dir():
        if args.checkpoint:
            raise ClearanceError(f"{folder}: no signing key folder here to check the checkpoints with; pass --keys "
                                 "FILE (the service's GET /api/v1/keys) or --keys-dir DIR")
        return None
    return KeyRing.open(folder).public_keys()


def run_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from clearance.documents import check_json_nesting, read_text
    from clearance.errors import ClearanceError
    from clearance.server import checkpoints
    from clearance.server.models import AuditEntry, AuditHead

    outside = []
    for name in args.checkpoint:
        # bounded, never blocking, nesting checked: a checkpoint is a few hundred bytes of JSON
        text = read_text(name, limit=1024 * 1024, what="an audit checkpoint (JSON)")
        check_json_nesting(text.encode("utf-8"), name)
        try:
            outside.append((name, checkpoints.parse_file_checkpoint(text, name)))
        except ValueError as exc:
            raise ClearanceError(str(exc)) from None
    config, db = _database(args)
    keys = _trusted_keys(args, config.keys_dir)
    try:
        with db.read() as session:
            rows = session.execute(
                select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()
            verdict = checkpoints.verify_log(rows, session.get(AuditHead, 1), keys, outside)
    except ClearanceError:
        raise
    except Exception as exc:
        raise ClearanceError(f"cannot read the audit log: {str(exc).splitlines()[0]}") from None
    if not verdict.ok:
        if verdict.broken_at is not None:
            print(f"audit log BROKEN at {verdict.problems[0]}")
            rest = verdict.problems[1:]
        else:
            print(f"audit log NOT intact ({verdict.entries} entries read): {verdict.problems[0]}")
            rest = verdict.problems[1:]
        for problem in rest:
            print(f"  - {problem}")
        return 1
    anchor = (f"anchored by {verdict.anchors} signed checkpoint(s) up to entry {verdict.anchored_to}"
              if verdict.anchors else "no signed checkpoint anchors it")
    print(f"audit log intact: {verdict.entries} entries, {anchor}; unanchored tail: {verdict.unanchored} entries")
    if verdict.unchecked:
        print(f"{verdict.unchecked} stored checkpoint(s) not checked: no signing keys here (pass --keys FILE)")
    if not args.checkpoint:
        print("checked against the checkpoints stored in the log only: a rewrite that also removed them, a "
              "truncation or a wipe needs a checkpoint kept outside the database (--checkpoint FILE)")
    return 0


def run_checkpoint(args: argparse.Namespace) -> int:
    from pathlib import Path

    from clearance.approvals import KeyRing
    from clearance.errors import ClearanceError
    from clearance.server import checkpoints
    from clearance.server.admin import cli_actor

    config, db = _database(args)
    folder = Path(config.keys_dir).expanduser()
    if folder.is_dir():
        ring = KeyRing.open(folder)
        with db.write() as session:
            signed = checkpoints.write(session, ring, cli_actor())
    else:
        with db.read() as session:
            found = checkpoints.latest(session)
        if found is None:
            raise ClearanceError(f"{folder}: no signing keys here and no checkpoint stored yet; run this where the "
                                 "service's keys are (--keys-dir)")
        signed = found
    print(json.dumps(signed, indent=2, sort_keys=True))
    return 0
