"""`clearance`: the command line. Each command group lives in its own module with a ``register``.

Exit codes everywhere: 0 done, 1 a check found something blocking, 2 bad input or arguments.
Nobody sees a traceback: a ClearanceError prints one line; anything unexpected prints one line
and asks for CLEARANCE_DEBUG=1, which shows the traceback for a bug report.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence

from clearance import __version__
from clearance.errors import ClearanceError

# Order is the order of `clearance --help`.
COMMAND_MODULES = (
    "record",
    "evaluate",
    "schema",
    "policy",
    "submit",
    "approvals",
    "serve",
    "admin",
    "audit",
    "demo",
    "publish",
    "tag",
    "check",
    "timeline",
    "scan",
    "install",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as argparse does, but with the hint
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clearance", description="GenAI disclosure and clearance for film and TV pipelines.")
    parser.add_argument("--version", action="version", version=f"clearance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(f"clearance.cli.{name}_cmd") is None:  # DEV-ONLY: remove before landing
            continue
        module = importlib.import_module(f"clearance.cli.{name}_cmd")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ClearanceError as exc:
        print(f"clearance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("clearance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the artist, the traceback on request
        if os.environ.get("CLEARANCE_DEBUG"):
            raise
        print(
            f"clearance: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; run again with CLEARANCE_DEBUG=1 and report the output)",
            file=sys.stderr,
        )
        return 3


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
