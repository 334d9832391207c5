"""The bundled example production EXAMPLE_S01: a dozen realistic use records for demos and tests.

``example_records()`` returns them in file order; ``example_paths()`` gives the files (to show people
what a record looks like, or to run ``clearance evaluate`` on). ``studio_policy_path()`` is an example
studio policy with a tool registry.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable  # importlib.resources.abc from Python 3.11
from pathlib import Path

from clearance.record import UseRecord, parse_record

PRODUCTION = "EXAMPLE_S01"


def _folder() -> Traversable:
    return resources.files("clearance.examples").joinpath(PRODUCTION)


def example_paths() -> list[Path]:
    return sorted(Path(str(entry)) for entry in _folder().iterdir() if entry.name.endswith(".yaml"))


def example_records() -> list[UseRecord]:
    """Every record of the example production, validated, in file order."""
    records = []
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            records.append(parse_record(entry.read_text(encoding="utf-8"), f"examples/{PRODUCTION}/{entry.name}"))
    return records


def studio_policy_path() -> Path:
    return Path(str(resources.files("clearance.examples").joinpath("studio_policy.yaml")))
