"""`clearance policy check|show|rules`: validate policy files, print the effective policy and its sources."""

from __future__ import annotations

import argparse
import json
import sys

from clearance.cli import show_help
from clearance.cli.evaluate_cmd import add_policy_argument
from clearance.errors import ClearanceError
from clearance.policy import SOURCE_URL, all_rules
from clearance.policy.loading import check_files, flatten, load_layers


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("policy", help="check policy files, show the effective policy, list the rules")
    psub = p.add_subparsers(dest="policy_command", metavar="ACTION")

    check = psub.add_parser(
        "check", help="check policy files (layered in the order given); errors name file, line, field"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=run_check)

    show = psub.add_parser("show", help="print the effective policy and which file each value came from")
    add_policy_argument(show)
    show.add_argument("--json", action="store_true", help="print {policy, sources, provenance} as JSON")
    show.set_defaults(func=run_show)

    rules = psub.add_parser("rules", help="list the rule codes with what triggers them")
    rules.set_defaults(func=run_rules)

    default = psub.add_parser(
        "default", help="print every section and setting with its default and what it means (a starting point)"
    )
    default.set_defaults(func=run_default)
    p.set_defaults(func=show_help(p))


def run_default(args: argparse.Namespace) -> int:
    from clearance.policy.reference import default_policy_commented

    print(default_policy_commented(), end="")
    return 0


def run_check(args: argparse.Namespace) -> int:
    problems = check_files(args.files)
    for problem in problems:
        print(f"clearance: error: {problem}", file=sys.stderr)
    if problems:
        return 2
    for path in args.files:
        print(f"{path}: ok")
    if len(args.files) > 1:
        print("layered in this order: ok (later files only make the policy stricter)")
    return 0


def _value(value: object) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def run_show(args: argparse.Namespace) -> int:
    loaded = load_layers(args.policy)
    dumped = loaded.policy.model_dump(mode="json")
    if args.json:
        print(
            json.dumps(
                {"policy": dumped, "sources": loaded.sources, "signed": loaded.signed, "provenance": loaded.provenance},
                indent=2,
            )
        )
        return 0
    print("layers: " + " -> ".join(loaded.sources))
    if loaded.signed:
        print("signed overlays: " + ", ".join(loaded.signed))
    rows = [(path, _value(value), loaded.source_of(path)) for path, value in flatten(dumped)]
    width = min(max(len(p) for p, _, _ in rows), 60)
    for path, value, source in rows:
        print(f"{path:<{width}}  {value}    # {source}")
    return 0


def run_rules(args: argparse.Namespace) -> int:
    rules = all_rules()
    if not rules:
        raise ClearanceError("no rules are defined")
    for info in rules:
        cites = ",".join(info.cites) or "-"
        pack = "" if info.pack == "core" else f"   (rule pack {info.pack})"
        print(f"{info.code:<19} {info.kind:<9} {cites:<6} {info.title}{pack}")
    print(f"\nsource: {SOURCE_URL}")
    return 0
