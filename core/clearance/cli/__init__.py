"""The `clearance` command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def show_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The action of a command group run without its sub-command: print the group's help, exit 2."""

    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show
