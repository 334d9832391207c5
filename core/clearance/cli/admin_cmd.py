"""`clearance admin`: users, roles and tokens, productions, signing keys, schema migrations."""

from __future__ import annotations

import argparse
import sys

from clearance.cli import show_help
from clearance.errors import ClearanceError


def _db_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="database URL (env CLEARANCE_DB; default: the local SQLite file)")
    parser.add_argument("--config", metavar="FILE", help="server settings file (for its db and keys_dir)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("admin", help="manage the disclosure service: users, productions, keys, migrations")
    groups = p.add_subparsers(dest="admin_group", metavar="GROUP")
    p.set_defaults(func=show_help(p))

    user = groups.add_parser("user", help="users, roles and API tokens")
    user_actions = user.add_subparsers(dest="user_action", metavar="ACTION")
    user.set_defaults(func=show_help(user))
    add = user_actions.add_parser(
        "add", help="add a user (or a role to one) and print a new API token as the last line",
        description="Create the user if needed, grant ROLE in production CODE and print a new API token as the "
        "last line. The token is shown once; only its hash is stored. The production must exist (`admin production "
        "add`), unless --create: a typo must not make a new production.",
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("artist", "approver", "admin", "legal"),
                     help="legal registers and withdraws talent consent (the consent registry)")
    add.add_argument("--production", required=True, metavar="CODE")
    add.add_argument("--password-stdin", action="store_true", help="read a web login password from stdin")
    add.add_argument("--vendor", metavar="NAME", help="the vendor an artist works for: with vendor isolation on "
                     "(the default) they see and version only records whose `vendor` is this")
    add.add_argument("--create", action="store_true", help="create the production when it does not exist")
    _db_flags(add)
    add.set_defaults(func=run_user_add)
    ena = user_actions.add_parser("enable", help="let a disabled user log in again (their old tokens stay revoked)")
    ena.add_argument("name")
    _db_flags(ena)
    ena.set_defaults(func=run_user_enable)
    role = user_actions.add_parser("role", help="remove a role")
    role_actions = role.add_subparsers(dest="role_action", metavar="ACTION")
    role.set_defaults(func=show_help(role))
    rrm = role_actions.add_parser("remove", help="take ROLE in production CODE away from a user (within 5 s)")
    rrm.add_argument("name")
    rrm.add_argument("--role", required=True, choices=("artist", "approver", "admin"))
    rrm.add_argument("--production", required=True, metavar="CODE")
    _db_flags(rrm)
    rrm.set_defaults(func=run_role_remove)
    pw = user_actions.add_parser("password", help="web passwords")
    pw_actions = pw.add_subparsers(dest="password_action", metavar="ACTION")
    pw.set_defaults(func=show_help(pw))
    reset = pw_actions.add_parser("reset", help="set a new web password (read from stdin); ends the user's web logins")
    reset.add_argument("name")
    _db_flags(reset)
    reset.set_defaults(func=run_password_reset)
    dis = user_actions.add_parser(
        "disable", help="lock a user out: revoke every API token, end web logins (takes effect within 5 s)"
    )
    dis.add_argument("name")
    _db_flags(dis)
    dis.set_defaults(func=run_user_disable)
    lst = user_actions.add_parser("list", help="list users and their roles")
    _db_flags(lst)
    lst.set_defaults(func=run_user_list)

    prod = groups.add_parser("production", help="productions")
    prod_actions = prod.add_subparsers(dest="production_action", metavar="ACTION")
    prod.set_defaults(func=show_help(prod))
    padd = prod_actions.add_parser("add", help="add a production, or change its title or vendor isolation")
    padd.add_argument("code")
    padd.add_argument("--title", "--name", dest="title", default="", help="the title people read (default: CODE)")
    padd.add_argument("--vendor-isolation", choices=("on", "off"), help="artists see only their vendor's records "
                      "(default on for a new production)")
    _db_flags(padd)
    padd.set_defaults(func=run_production_add)
    plist = prod_actions.add_parser("list", help="list productions: code, title, vendor isolation, people")
    _db_flags(plist)
    plist.set_defaults(func=run_production_list)

    keys = groups.add_parser("keys", help="approval signing keys")
    key_actions = keys.add_subparsers(dest="keys_action", metavar="ACTION")
    keys.set_defaults(func=show_help(keys))
    rotate = key_actions.add_parser(
        "rotate", help="make a new active signing key (old keys keep verifying the approvals they signed)"
    )
    rotate.add_argument("--keys-dir", metavar="DIR", help="key folder (env CLEARANCE_KEYS_DIR)")
    _db_flags(rotate)
    rotate.set_defaults(func=run_keys_rotate)
    show = key_actions.add_parser("show", help="print the public keys document (as GET /api/v1/keys)")
    show.add_argument("--keys-dir", metavar="DIR", help="key folder (env CLEARANCE_KEYS_DIR)")
    show.add_argument("--config", metavar="FILE", help="server settings file")
    show.set_defaults(func=run_keys_show)

    mig = groups.add_parser("migrate", help="bring the database schema up to date (also done by `clearance serve`)")
    _db_flags(mig)
    mig.set_defaults(func=run_migrate)


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from clearance.server.runner import config_from, open_database

    config = config_from(args, keys_dir=getattr(args, "keys_dir", None))
    return config, open_database(config)


def run_user_add(args: argparse.Namespace) -> int:
    from clearance.server.admin import add_user

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ClearanceError("--password-stdin: no password on stdin")
    _config, db = _open(args)
    with db.write() as session:
        user, token, notes = add_user(session, args.name, args.role, args.production, password, create=args.create,
                                      vendor=args.vendor)
    for note in notes:
        print(f"note: {note}")
    print(f"user {user.name}: {args.role} in {args.production}" + (f" for vendor {args.vendor}" if args.vendor else "")
          + (", web password set" if password else ""))
    print("API token (shown once; send it as `Authorization: Bearer TOKEN` or set CLEARANCE_TOKEN):")
    print(token)
    return 0


def run_user_disable(args: argparse.Namespace) -> int:
    from clearance.server.admin import disable_user

    _config, db = _open(args)
    with db.write() as session:
        revoked = disable_user(session, args.name)
    print(f"user {args.name} disabled: {revoked} API token(s) revoked, web logins ended")
    return 0


def run_user_list(args: argparse.Namespace) -> int:
    from clearance.server.admin import list_users

    _config, db = _open(args)
    with db.read() as session:
        rows = list_users(session)
    if not rows:
        print("no users yet: add one with `clearance admin user add NAME --role ROLE --production CODE`")
    for name, has_password, disabled, roles in rows:
        kind = "disabled" if disabled else ("web login" if has_password else "token only")
        print(f"{name:24} {kind:10} {', '.join(roles)}")
    return 0


def run_production_add(args: argparse.Namespace) -> int:
    from clearance.server.admin import ensure_production

    isolation = None if args.vendor_isolation is None else args.vendor_isolation == "on"
    _config, db = _open(args)
    with db.write() as session:
        prod, created = ensure_production(session, args.code, args.title, vendor_isolation=isolation)
        state = f"title {prod.name!r}, vendor isolation {'on' if prod.vendor_isolation else 'off'}"
    print(f"production {args.code} {'added' if created else 'already exists'}: {state}")
    return 0


def run_production_list(args: argparse.Namespace) -> int:
    from clearance.server.admin import list_productions

    _config, db = _open(args)
    with db.read() as session:
        rows = list_productions(session)
    if not rows:
        print("no productions yet: add one with `clearance admin production add CODE --title TITLE`")
    for code, title, isolation, people in rows:
        print(f"{code:20} {title:32} vendor isolation {'on ' if isolation else 'off'}  {people} people")
    return 0


def run_user_enable(args: argparse.Namespace) -> int:
    from clearance.server.admin import enable_user

    _config, db = _open(args)
    with db.write() as session:
        changed = enable_user(session, args.name)
    print(f"user {args.name} " + ("enabled: web login works again; make a new API token with `clearance admin user "
                                  "add` (the old ones stay revoked)" if changed else "was not disabled"))
    return 0


def run_role_remove(args: argparse.Namespace) -> int:
    from clearance.server.admin import remove_role

    _config, db = _open(args)
    with db.write() as session:
        remove_role(session, args.name, args.role, args.production)
    print(f"user {args.name}: {args.role} in {args.production} removed (takes effect within 5 s)")
    return 0


def run_password_reset(args: argparse.Namespace) -> int:
    from clearance.server.admin import reset_password

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ClearanceError("password reset: no password on stdin (e.g. `... password reset NAME < password.txt`)")
    _config, db = _open(args)
    with db.write() as session:
        ended = reset_password(session, args.name, password)
    print(f"user {args.name}: new web password set; {ended} web login(s) ended")
    return 0


def run_keys_rotate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from clearance.approvals import KeyRing
    from clearance.server import audit
    from clearance.server.admin import cli_actor

    config, db = _open(args)
    ring = KeyRing.open(Path(config.keys_dir).expanduser())
    old = ring.active_key_id()
    new = ring.rotate()
    from clearance.server import checkpoints

    with db.write() as session:
        audit.append(session, cli_actor(), "keys.rotate", f"key:{new}", None,
                     {"previous": old, "keys_dir": str(config.keys_dir)})
        checkpoints.write(session, ring, cli_actor())  # a key change is anchored at once, with the new key
    from clearance.server import keyset

    keyset.publish(db, ring)  # every host serves the new public key from now on
    print(f"new active signing key {new} (previous {old} still verifies the approvals it signed)")
    print("clients that pinned the previous key accept it on their next pull (the previous key announced it); "
          "studios pinning keys in their policy must add it there")
    return 0


def run_keys_show(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from clearance.approvals import KeyRing
    from clearance.server.config import resolve

    config = resolve(args.config, keys_dir=args.keys_dir)
    print(json.dumps(KeyRing.open(Path(config.keys_dir).expanduser()).public_keys_document(), indent=2))
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from clearance.server.db import Database, db_label, migrate
    from clearance.server.runner import config_from

    config = config_from(args)
    db = Database(config.db)
    before, after = migrate(db)
    if before == after:
        print(f"{db_label(db.url)}: schema up to date (revision {after})")
    else:
        print(f"{db_label(db.url)}: migrated from {before or 'empty'} to {after}")
    return 0
