"""`clearance record new|presets|show|migrate`: start a record from a preset, list presets, print or migrate one."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TextIO

from clearance.cli import show_help
from clearance.errors import ClearanceError
from clearance.policy import default_policy, evaluate
from clearance.presets import new_record, parse_target, presets
from clearance.record import Prompt, dump_record, load_record


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("record", help="start a use record from a preset, list presets, show a record")
    rsub = p.add_subparsers(dest="record_command", metavar="ACTION")

    new = rsub.add_parser("new", help="write a filled-in record from a preset, to edit")
    new.add_argument("--preset", required=True, metavar="NAME", help="see `clearance record presets`")
    new.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it (.yaml or .json)")
    new.add_argument("--production", default="",
                     help="the production code, e.g. EXAMPLE_S01 (default: CLEARANCE_PRODUCTION)")
    new.add_argument("--vendor", default=None, help="the vendor that makes the material")
    new.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="KIND:REF",
        help="what the use is attached to, e.g. shot:sh010 (repeatable)",
    )
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(func=run_new)

    lst = rsub.add_parser("presets", help="list the presets and the outcome each gets under the default policy")
    lst.set_defaults(func=run_presets)

    show = rsub.add_parser("show", help="print a record (after reading and checking it)")
    show.add_argument("record", metavar="FILE")
    show.add_argument("--json", action="store_true", help="print as JSON instead of YAML")
    show.set_defaults(func=run_show)
    mig = rsub.add_parser(
        "migrate", help="rewrite version 1 records as version 2 (the new questions stay unanswered: unsure)"
    )
    mig.add_argument("records", nargs="+", metavar="FILE")
    where = mig.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="FILE", help="write the migrated record here (one record only)")
    where.add_argument("--in-place", action="store_true", help="replace each file (a .v1 copy is kept beside it)")
    mig.add_argument("--policy", action="append", default=None, metavar="FILE",
                     help="judge before and after with these policy files (default: the policy in force)")
    mig.set_defaults(func=run_migrate)
    p.set_defaults(func=show_help(p))


def run_new(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not args.force:
        raise ClearanceError(f"{out}: already exists; choose another name or pass --force to overwrite it")
    if out.exists() and out.is_dir():
        raise ClearanceError(f"{out}: is a folder; give a file name such as {out / 'record.yaml'}")
    targets = [parse_target(t) for t in args.target]
    production = args.production or os.environ.get("CLEARANCE_PRODUCTION", "").strip()
    if not production:
        raise ClearanceError(
            "the record needs a production: pass --production CODE or set CLEARANCE_PRODUCTION (the service refuses "
            "records without one)"
        )
    login, who = _declared_by()
    record = new_record(args.preset, production=production, targets=targets, vendor=args.vendor, declared_by=login)
    if record.schema_version == 2 and "prompt" not in record.model_fields_set:
        # The file is a form to fill in: the prompt section is written out, private until someone says yes.
        record = record.model_copy(update={"prompt": Prompt(shareable="no")})
    fmt = "json" if out.suffix.lower() == ".json" else "yaml"
    text = dump_record(record, fmt)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)  # no half-written record if interrupted
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ClearanceError(f"{out}: cannot write: {exc.strerror}") from None
    from clearance.policy.loading import describe_in_force, policy_in_force

    decision = evaluate(record, policy_in_force())
    print(f"wrote {out} (preset {args.preset}, production {production}, id {record.id}, "
          f"declared by {record.declared_by} {who})")
    print(f"the policy in force ({describe_in_force()}) says {decision.outcome}")
    print(f"edit what differs in your case, then run: clearance evaluate {out}")
    return 0


def _declared_by() -> tuple[str | None, str]:
    """The service login when one is known (CLEARANCE_SERVER and CLEARANCE_TOKEN), else the OS user."""
    from clearance.client import DisclosureClient

    if os.environ.get("CLEARANCE_SERVER") and os.environ.get("CLEARANCE_TOKEN"):
        with DisclosureClient(timeout=(2.0, 3.0)) as client:
            login = client.login_name()
        if login:
            return login, "(your service login)"
        return None, "(the OS user: the service did not say who the token belongs to)"
    return None, "(the OS user: no service is set)"


def run_presets(args: argparse.Namespace) -> int:
    items = presets()
    width = max(len(n) for n in items)
    policy = default_policy()
    from clearance.presets import new_record as make

    for name, preset in items.items():
        outcome = evaluate(make(name), policy).outcome
        print(f"{name:<{width}}  {outcome:<17}  {preset.title}")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from clearance.documents import load_document
    from clearance.policy import load_policy, policy_in_force
    from clearance.record import V2_FIELDS, migrate_data, record_from_data

    if args.output and len(args.records) > 1:
        raise ClearanceError("-o/--output takes one record; use --in-place for several")
    policy = load_policy(args.policy) if args.policy else policy_in_force()
    for name in args.records:
        doc = load_document(name)
        if not isinstance(doc.data, dict):
            raise ClearanceError(f"{doc.source}: a use record must be a mapping of fields")
        old = record_from_data(doc.data, doc.source, doc)
        if old.schema_version != 1:
            print(f"{name}: already version {old.schema_version}; nothing to do")
            continue
        new = record_from_data(migrate_data(doc.data), doc.source)
        before, after = evaluate(old, policy).outcome, evaluate(new, policy).outcome
        fmt = "json" if Path(name).suffix.lower() == ".json" else "yaml"
        text = dump_record(new, fmt)
        if args.in_place or args.output:
            target = Path(args.output) if args.output else Path(name)
            if args.in_place:
                Path(name).with_suffix(Path(name).suffix + ".v1").write_bytes(Path(name).read_bytes())
            _write_atomic(target, text)
            print(f"{name}: migrated to version 2 -> {target}")
        else:
            print(text, end="")
        change = "the same" if before == after else f"{after} (was {before})"
        print(f"{name}: version 1 decided {before}; as version 2 it decides {change}", file=_stderr())
        if before != after:
            asked = ", ".join(f for f in V2_FIELDS if not f.endswith(("terms", "inputs")))
            print(f"{name}: answer the version 2 questions ({asked}) to settle it", file=_stderr())
    return 0


def _stderr() -> TextIO:
    import sys

    return sys.stderr


def _write_atomic(out: Path, text: str) -> None:
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ClearanceError(f"{out}: cannot write: {exc.strerror}") from None


def run_show(args: argparse.Namespace) -> int:
    record = load_record(args.record)
    print(dump_record(record, "json" if args.json else "yaml"), end="")
    return 0
