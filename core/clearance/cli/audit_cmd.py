"""`clearance audit verify`: check the service's hash-chained audit log."""

from __future__ import annotations

import argparse

from clearance.cli import show_help


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="check the disclosure service's audit log")
    actions = p.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check that no audit entry was edited, deleted or reordered (exit 1 naming the first bad entry)"
    )
    verify.add_argument("--db", metavar="URL", help="database URL (env CLEARANCE_DB; default: the local SQLite file)")
    verify.add_argument("--config", metavar="FILE", help="server settings file (for its db)")
    verify.set_defaults(func=run_verify)
    p.set_defaults(func=show_help(p))


def run_verify(args: argparse.Namespace) -> int:
    from clearance.errors import ClearanceError
    from clearance.server import audit
    from clearance.server.db import Database, current_revision
    from clearance.server.runner import config_from

    config = config_from(args)
    db = Database(config.db)
    try:
        if current_revision(db) is None:
            raise ClearanceError(f"{db.url}: no Clearance database here (never migrated); check --db")
        with db.read() as session:
            result = audit.verify(session)
    except ClearanceError:
        raise
    except Exception as exc:
        raise ClearanceError(f"cannot read the audit log: {str(exc).splitlines()[0]}") from None
    if result.ok:
        print(f"audit log intact: {result.entries} entries, head {result.head_hash}")
        return 0
    print(f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem}")
    return 1
