"""The `clearance` command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

# pydantic looks for plugins by scanning the metadata of every installed distribution the first time a
# model is built: a tenth of a second on each run of a short command, for plugins Clearance does not use.
# PYDANTIC_DISABLE_PLUGINS is pydantic's documented switch ("Pydantic Plugins" in its docs); a user who
# wants a plugin for the CLI sets the variable to something else.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def show_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The action of a command group run without its sub-command: print the group's help, exit 2."""

    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show
