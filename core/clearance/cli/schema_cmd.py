"""`clearance schema`: print the use record's JSON Schema."""

from __future__ import annotations

import argparse
import json

from clearance.record import json_schema


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print the use record's JSON Schema")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0
