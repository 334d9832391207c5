"""Bounded access to one file: every reader goes through a Source, so no reader can read too much.

A Source counts the bytes it read, refuses to go past a per-file byte budget and a time budget, and
reads with positioned reads (one syscall each) through a small block cache so header walks over
tightly packed segments cost one read. Readers raise ScanProblem for anything wrong with the file;
the scanner turns it into the item's ``error`` and the scan goes on.
"""

from __future__ import annotations

import os
import re
import stat
import time
from typing import BinaryIO

MAX_METADATA_BYTES = 16 * 1024 * 1024  # per file: metadata is small; 16 MiB is already generous
MAX_SECONDS = 2.0  # per file: a header walk that takes longer is stuck on a hostile file
BLOCK = 16 * 1024  # first read: covers the headers of most JPEG/PNG/EXR/DPX files in one syscall
SMALL = 512  # later header reads: after seeking over a payload, the next header is all we need
MAX_DEPTH = 32  # nesting of boxes/superboxes/IFDs
MAX_ENTRIES = 20_000  # segments, chunks, boxes or IFD entries walked per file

_HAS_PREAD = hasattr(os, "pread")


# C0 and C1 controls, DEL and characters beyond the Basic Multilingual Plane: the complement of
# [\x20-\x7e\u00a0-\uffff], written as ranges because the negated class takes ~8 ms to compile.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """One printable line: box types and keys read from hostile files may hold control bytes."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class ScanProblem(Exception):
    """The file is damaged, hostile or over a limit. The message is one line for the scan report."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


class Source:
    """A file (or an in-memory buffer) read only through bounded positioned reads."""

    __slots__ = ("_block", "_block_at", "_data", "_fd", "_file", "budget", "bytes_read", "deadline", "reserved", "size",
                 "steps")

    def __init__(
        self,
        path: str | None = None,
        data: bytes | None = None,
        budget: int = MAX_METADATA_BYTES,
        seconds: float = MAX_SECONDS,
    ) -> None:
        self._fd = -1
        self._file: BinaryIO | None = None
        self._data = data
        self.bytes_read = 0
        self.reserved = 0  # bytes of ranges taken on by require() and read only in part
        self.budget = budget
        self.deadline = time.monotonic() + seconds
        self._block_at = -1
        self._block = b""
        self.steps = 0
        if data is not None:
            self.size = len(data)
        elif path is None:
            raise ValueError("Source needs a path or data")
        elif _HAS_PREAD:
            # O_NONBLOCK: opening a FIFO met in a folder walk must not hang the scan (no effect on regular files)
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
            info = os.fstat(self._fd)
            if not stat.S_ISREG(info.st_mode):
                os.close(self._fd)
                self._fd = -1
                raise ScanProblem("not a regular file (device, FIFO or socket): not scanned")
            self.size = info.st_size
        else:  # pragma: no cover - Windows has no pread
            self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
            self.size = os.fstat(self._file.fileno()).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def step(self) -> None:
        """Called once per segment/box/chunk walked: bounds the work on files made of millions of tiny boxes."""
        self.steps += 1
        if self.steps > MAX_ENTRIES:
            raise ScanProblem(f"more than {MAX_ENTRIES} boxes/segments/chunks: not a sane media file")
        if not self.steps & 63:
            self.check_time()

    def header(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset``, read as they are, past the block cache: for walks that only look at
        one header per payload (image data chunks). Counts against the budget like any read; the caller checks
        the time budget (check_time) every so many headers."""
        if offset < 0 or n < 0:
            raise ScanProblem("negative offset or length in the file's structure")
        return self._raw(offset, n, timed=False)

    def check_time(self) -> None:
        """The time budget alone, for walks over runs of chunks that are not counted as entries."""
        if time.monotonic() > self.deadline:
            raise ScanProblem("took too long reading the headers (time budget exceeded)")

    def _raw(self, offset: int, n: int, timed: bool = True) -> bytes:
        if self._data is not None:
            return self._data[offset : offset + n]
        if self.bytes_read + n > self.budget:
            raise ScanProblem(f"more than {self.budget // (1024 * 1024)} MiB of metadata (read budget exceeded)")
        if timed:
            self.check_time()
        if self._fd >= 0:
            chunk = os.pread(self._fd, n, offset)
        else:  # pragma: no cover
            assert self._file is not None  # opened in __init__ when there is no pread
            self._file.seek(offset)
            chunk = self._file.read(n)
        self.bytes_read += len(chunk)
        return chunk

    def read(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer at the end of the file). Small reads go through the block cache."""
        start = offset - self._block_at
        if start >= 0 and n >= 0 and self._block_at >= 0 and start + n <= len(self._block):
            return self._block[start : start + n]  # the common case first: a header inside the block held
        if offset < 0 or n < 0:
            raise ScanProblem("negative offset or length in the file's structure")
        if offset >= self.size or n == 0:
            return b""
        n = min(n, self.size - offset)
        start = offset - self._block_at
        if self._block_at >= 0 and start >= 0 and start + n <= len(self._block):
            return self._block[start : start + n]
        if n >= BLOCK:
            return self._raw(offset, n)
        self._block = self._raw(offset, BLOCK if self._block_at < 0 else max(n, SMALL))
        self._block_at = offset
        return self._block[:n]

    def exact(self, offset: int, n: int, what: str) -> bytes:
        """Exactly ``n`` bytes or a 'truncated' problem naming what was being read."""
        if n > self.budget:
            raise ScanProblem(f"{what} claims {n} bytes, more than the metadata budget (lying length?)")
        data = self.read(offset, n)
        if len(data) != n:
            raise ScanProblem(f"truncated: {what} needs {n} bytes at offset {offset}, the file ends at {self.size}")
        return data

    def require(self, offset: int, n: int, what: str) -> None:
        """The checks of ``exact`` without the read, for a range read later only in the parts needed (a C2PA
        store's claims, not its thumbnails). The range still counts in full against the metadata budget: a
        file declaring more metadata than the budget is refused whether or not all of it gets read."""
        if n > self.budget:
            raise ScanProblem(f"{what} claims {n} bytes, more than the metadata budget (lying length?)")
        if offset < 0 or n < 0:
            raise ScanProblem("negative offset or length in the file's structure")
        if self._data is None and self.bytes_read + self.reserved + n > self.budget:
            raise ScanProblem(f"more than {self.budget // (1024 * 1024)} MiB of metadata (read budget exceeded)")
        self.reserved += n
        if n and (offset >= self.size or offset + n > self.size):
            raise ScanProblem(f"truncated: {what} needs {n} bytes at offset {offset}, the file ends at {self.size}")
