"""A corpus of hostile input files, and what each must be refused with.

Used by test_hostile_inputs.py (every command that reads a file) and hostile_driver.py (which runs many
commands in one limited process). Each entry: the file's stem, how to make it, and a fragment the
one-line error must contain (the limit or the kind of file).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[Path], None]
    expect: str  # a fragment of the error line, lower-case
    yaml_only: bool = False  # YAML syntax: in a .json file it is (rightly) refused as not JSON


def _write(data: bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(data)

    return make


def _billion_laughs() -> bytes:
    # The classic: nine levels of nine aliases each, 342 bytes that stand for 10**9 strings.
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(8):
        this, prev = chr(ord("b") + level), chr(ord("a") + level)
        lines.append(f"{this}: &{this} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def _many_aliases() -> bytes:
    return ("base: &x 1\nitems: [" + ", ".join(["*x"] * 500) + "]\n").encode()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    here = os.getcwd()
    os.chdir(path.parent)  # bind by a short relative name: socket paths are limited to ~100 bytes
    try:
        server.bind(path.name)
    finally:
        os.chdir(here)
    _KEEP.append(server)  # keep it bound for the test's lifetime


_KEEP: list[socket.socket] = []


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _loop(path: Path) -> None:
    other = path.with_name(path.name + ".other")
    path.symlink_to(other.name)
    other.symlink_to(path.name)


def _folder(path: Path) -> None:
    path.mkdir()


def _huge(path: Path) -> None:
    with path.open("wb") as handle:  # a sparse 9 GB file: costs no disk, says 9 GB to stat
        handle.truncate(9 * 1024**3)


DOCUMENT_CORPUS: tuple[Hostile, ...] = (
    Hostile("billion_laughs", _write(_billion_laughs()), "alias", yaml_only=True),
    Hostile("many_aliases", _write(_many_aliases()), "aliases", yaml_only=True),
    Hostile("self_alias", _write(b"a: &a [1, *a]\n"), "alias", yaml_only=True),
    Hostile("deep_yaml", _write(b"[" * 100_000 + b"]" * 100_000), "nested deeper"),
    Hostile("deep_block", _write("".join("  " * i + "k:\n" for i in range(200)).encode()), "nested deeper",
            yaml_only=True),
    Hostile("huge_integer", _write(b"id: " + b"9" * 100_001 + b"\n"), "digit limit", yaml_only=True),
    Hostile("duplicate_key", _write(b"production: A\ndescription: x\nproduction: B\n"), "twice", yaml_only=True),
    Hostile("latin1", _write("description: café\n".encode("latin-1")), "utf-8"),
    Hostile("utf16", _write("description: x\n".encode("utf-16")), "utf-16"),
    Hostile("empty", _write(b""), "empty"),
    Hostile("blank", _write(b"   \n\n"), "empty"),
    Hostile("folder", _folder, "folder"),
    Hostile("fifo", _fifo, "fifo"),
    Hostile("socket", _socket, "socket"),
    Hostile("dev_zero", _device, "device"),
    Hostile("symlink_loop", _loop, "symlink loop"),
    Hostile("huge_file", _huge, "byte limit"),
)

JSON_ONLY: tuple[Hostile, ...] = (
    Hostile("deep_json", _write(b"[" * 100_000 + b"]" * 100_000), "nested deeper"),
    Hostile("huge_integer_json", _write(b'{"id": ' + b"9" * 100_001 + b"}"), "digit limit"),
    Hostile("duplicate_key_json", _write(b'{"production": "A", "production": "B"}'), "twice"),
)

# What a timeline reader must refuse before an adapter opens it (the formats' own parsers judge content).
TIMELINE_CORPUS: tuple[Hostile, ...] = (
    Hostile("fifo", _fifo, "fifo"),
    Hostile("socket", _socket, "socket"),
    Hostile("dev_zero", _device, "device"),
    Hostile("symlink_loop", _loop, "symlink loop"),
    Hostile("folder", _folder, "folder"),
    Hostile("huge_file", _huge, "byte limit"),
    Hostile("latin1", _write(b'{"OTIO_SCHEMA": "Timeline.1", "name": "caf\xe9"}'), "utf-8"),
    Hostile("deep_json", _write(b"[" * 100_000 + b"]" * 100_000), "nested deeper"),
    Hostile("cut_short", _write(b'{"OTIO_SCHEMA": "Timeline.1", "tracks": {"children": ['), "brackets do not match"),
)


def build(folder: Path, corpus: tuple[Hostile, ...], suffix: str) -> dict[str, tuple[Path, str]]:
    """Make every input of ``corpus`` in ``folder`` with ``suffix``: name -> (path, expected fragment)."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, tuple[Path, str]] = {}
    for entry in corpus:
        if (entry.name == "socket" and sys.platform == "win32") or (entry.yaml_only and suffix != ".yaml"):
            continue
        path = folder / f"{entry.name}{suffix}"
        entry.make(path)
        made[entry.name] = (path, entry.expect)
    return made
