"""`clearance`: the command line. Each command group lives in its own module with a ``register``.

Exit codes everywhere: 0 done, 1 a check found something blocking, 2 bad input or arguments.
Nobody sees a traceback: a ClearanceError prints one line; anything unexpected prints one line
and asks for CLEARANCE_DEBUG=1, which shows the traceback for a bug report.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from clearance import __version__
from clearance.errors import ClearanceError

# Every top-level command and the module that registers it, in `clearance --help` order. Only the module
# of the command being run is imported, so `clearance evaluate` does not pay for the server or OTIO.
COMMANDS: dict[str, str] = {
    "record": "record",
    "evaluate": "evaluate",
    "schema": "schema",
    "policy": "policy",
    "submit": "submit",
    "sync": "submit",
    "status": "submit",
    "approvals": "approvals",
    "consents": "consents",
    "serve": "serve",
    "admin": "admin",
    "audit": "audit",
    "demo": "demo",
    "publish": "publish",
    "tag": "tag",
    "check": "check",
    "timeline": "timeline",
    "scan": "scan",
    "credentials": "credentials",
    "packet": "packet",
    "install": "install",
}


# What never builds a pydantic model, so need not ask about pydantic's plugins: the version, and `clearance scan`,
# which works on plain records (its start-up imports neither pydantic nor the packages' metadata).
BUILDS_NO_MODEL = frozenset({"--version", "scan"})


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as argparse does, but with the hint
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with only the module that registers ``only``."""
    parser = _Parser(prog="clearance", description="GenAI disclosure and clearance for film and TV pipelines.")
    parser.add_argument("--version", action="version", version=f"clearance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if only == "--version":
        modules: list[str] = []
    elif only in COMMANDS:
        modules = [COMMANDS[only]]
    else:
        modules = list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(f"clearance.cli.{name}_cmd").register(sub)
    return parser


def _command_parser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
    return None


def _no_pydantic_plugins_to_find() -> None:
    """Spare pydantic its search for plugins when no installed package declares one.

    pydantic looks for plugins (the ``pydantic`` entry point group) when it builds its first model, parsing every
    installed package's entry points (6 to 8 ms). When none declares the group, setting pydantic's documented
    switch ``PYDANTIC_DISABLE_PLUGINS`` ("Pydantic Plugins" in its docs) gives the same answer, no plugins,
    without the search; the packages' entry points are read once for this and for the rule packs
    (clearance.installed_groups). A user's own setting is left alone, and an installed plugin is found and
    loaded by pydantic as always.
    """
    if "PYDANTIC_DISABLE_PLUGINS" in os.environ or "pydantic.plugin._loader" in sys.modules:
        return
    from clearance.installed_groups import declared

    if not declared("pydantic"):
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BUILDS_NO_MODEL:
        _no_pydantic_plugins_to_find()
    parser = build_parser(argv[0] if argv else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Report against the command's own parser, so the usage and the --help hint are the command's.
        command_parser = _command_parser(parser, getattr(args, "command", None)) or parser
        command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
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
    except OSError as exc:  # the machine's doing, not a bug: a full or read-only disk, a vanished folder
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"clearance: error: {where}{exc.strerror or exc}; check the disk space and that the folder is writable",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a bug: one line for the artist, the traceback on request
        if os.environ.get("CLEARANCE_DEBUG"):
            raise
        print(
            f"clearance: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; run again with CLEARANCE_DEBUG=1 and report the output)",
            file=sys.stderr,
        )
        return 3


# Commands that leave without the interpreter's teardown (see _leave_without_teardown): read-only ones whose
# output is stdout, stderr and files they closed themselves.
QUICK_EXIT = frozenset({"check"})
_leaving_without_teardown = False
_kept_until_exit: list[tuple[object, ...]] = []


def keep_until_exit(*objects: object) -> None:
    """Hold a command's results until the process ends, when it is to end without teardown (the console script
    running a QUICK_EXIT command); otherwise do nothing, and they are freed as usual.

    Freeing a long cut's objects one by one costs what reading a tenth of it does (30,000 clips: 20-35 ms), for
    memory the system takes back at once. They are also frozen out of the cyclic collector's sight, which would
    otherwise walk them all at its next run.
    """
    if _leaving_without_teardown:
        gc.freeze()
        _kept_until_exit.append(objects)


def entry() -> None:
    global _leaving_without_teardown
    exit_code: list[int] = []
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        # Registered first, so it runs after every exit handler registered while the command ran.
        atexit.register(_leave_without_teardown, exit_code)
        _leaving_without_teardown = True
    code = main()
    exit_code.append(code)
    sys.exit(code)


def _leave_without_teardown(exit_code: list[int]) -> None:
    """End the process as the interpreter would, without its teardown.

    After the exit handlers, the interpreter frees every object one by one and searches them all for cycles,
    twice: after a check, the libraries' hundreds of thousands of objects and the cut's, about 40 ms of CPU for
    memory the system takes back at once (bench/timeline.py, start-up line). Here the output is flushed and
    the process ends with the command's exit code. When the command did not finish (an exception, --help),
    another thread is still running, or the output cannot be flushed, the interpreter's own exit runs instead,
    with its usual messages.
    """
    threading = sys.modules.get("threading")  # not imported: no thread was started through it
    if exit_code and (threading is None or threading.active_count() == 1):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # e.g. a closed pipe: the interpreter reports it as it always did
            pass
        else:
            os._exit(exit_code[0])
    gc.unfreeze()  # the teardown runs after all: what keep_until_exit froze is collected as it would have been


if __name__ == "__main__":
    entry()
