"""`clearance record new|presets|show`: start a use record from a preset, list presets, print a record."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clearance.cli import show_help
from clearance.errors import ClearanceError
from clearance.policy import default_policy, evaluate
from clearance.presets import new_record, parse_target, presets
from clearance.record import dump_record, load_record


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("record", help="start a use record from a preset, list presets, show a record")
    rsub = p.add_subparsers(dest="record_command", metavar="ACTION")

    new = rsub.add_parser("new", help="write a filled-in record from a preset, to edit")
    new.add_argument("--preset", required=True, metavar="NAME", help="see `clearance record presets`")
    new.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it (.yaml or .json)")
    new.add_argument("--production", default="", help="the production code, e.g. EXAMPLE_S01")
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
    p.set_defaults(func=show_help(p))


def run_new(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not args.force:
        raise ClearanceError(f"{out}: already exists; choose another name or pass --force to overwrite it")
    if out.exists() and out.is_dir():
        raise ClearanceError(f"{out}: is a folder; give a file name such as {out / 'record.yaml'}")
    targets = [parse_target(t) for t in args.target]
    record = new_record(args.preset, production=args.production, targets=targets, vendor=args.vendor)
    fmt = "json" if out.suffix.lower() == ".json" else "yaml"
    text = dump_record(record, fmt)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)  # no half-written record if interrupted
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ClearanceError(f"{out}: cannot write: {exc.strerror}") from None
    decision = evaluate(record, default_policy())
    print(f"wrote {out} (preset {args.preset}, id {record.id}); default policy says {decision.outcome}")
    print(f"edit what differs in your case, then run: clearance evaluate {out}")
    return 0


def run_presets(args: argparse.Namespace) -> int:
    items = presets()
    width = max(len(n) for n in items)
    policy = default_policy()
    from clearance.presets import new_record as make

    for name, preset in items.items():
        outcome = evaluate(make(name), policy).outcome
        print(f"{name:<{width}}  {outcome:<17}  {preset.title}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    record = load_record(args.record)
    print(dump_record(record, "json" if args.json else "yaml"), end="")
    return 0
