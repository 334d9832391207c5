"""Image sequences: ``sh010.1001.exr`` ... ``sh010.1010.exr`` become one item ``sh010.####.exr``."""

from __future__ import annotations

import os
import re

FRAME = re.compile(r"^(?P<head>.*[._])(?P<frame>\d+)(?P<tail>\.[A-Za-z0-9]+)$")
PATTERN = re.compile(r"(?P<hashes>#+)|%(?P<width>0\d+)?d")


class Sequence:
    __slots__ = ("directory", "frames", "head", "tail", "width")

    def __init__(self, directory: str, head: str, tail: str, width: int) -> None:
        self.directory = directory
        self.head = head
        self.tail = tail
        self.width = width
        self.frames: dict[int, str] = {}

    @property
    def pattern(self) -> str:
        return os.path.join(self.directory, f"{self.head}{'#' * self.width}{self.tail}")

    def ordered(self) -> list[tuple[int, str]]:
        return sorted(self.frames.items())

    def missing(self) -> list[int]:
        frames = sorted(self.frames)
        have = set(frames)
        return [f for f in range(frames[0], frames[-1] + 1) if f not in have]


def frame_range(frames: list[int]) -> str:
    """[1001, 1002, 1003, 1007, 1008] -> '1001-1003,1007-1008'."""
    if not frames:
        return ""
    frames = sorted(set(frames))
    parts, start, prev = [], frames[0], frames[0]
    for f in frames[1:]:
        if f == prev + 1:
            prev = f
            continue
        parts.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = f
    parts.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(parts)


# Numbered files are a sequence only when their numbers are dense enough to be frames: at most this many
# missing numbers, or 100 per file found, inside their range. Stills named by an id or a timestamp
# (unit_still_48213377.jpg, unit_still_90417725.jpg) stay separate files; as one "sequence" they would list
# tens of millions of missing frames (memory and time without bound, and no use to anyone).
MAX_MISSING = 10_000
MISSING_PER_FRAME = 100


def _dense(seq: Sequence) -> bool:
    count = len(seq.frames)
    span = max(seq.frames) - min(seq.frames) + 1
    return count >= 2 and span - count <= max(MAX_MISSING, MISSING_PER_FRAME * count)


def group(files: list[str]) -> list[str | Sequence]:
    """Files in order; numbered files sharing a head, tail and padding become one Sequence at the first's place
    (when their numbers are dense enough to be frames: see MAX_MISSING)."""
    found: dict[tuple[str, str, str, int], Sequence] = {}
    keyed: list[tuple[str, tuple[str, str, str, int] | None]] = []
    for path in files:
        directory, name = os.path.split(path)
        match = FRAME.match(name)
        if not match:
            keyed.append((path, None))
            continue
        digits = match.group("frame")
        key = (directory, match.group("head"), match.group("tail"), len(digits))
        seq = found.get(key)
        if seq is None:
            seq = found[key] = Sequence(directory, key[1], key[2], key[3])
        seq.frames[int(digits)] = path
        keyed.append((path, key))
    out: list[str | Sequence] = []
    placed: set[tuple[str, str, str, int]] = set()
    sequences = {key for key, seq in found.items() if _dense(seq)}
    for path, where in keyed:
        if where is None or where not in sequences:
            out.append(path)
        elif where not in placed:
            placed.add(where)
            out.append(found[where])
    return out


def is_pattern(path: str) -> bool:
    return bool(PATTERN.search(os.path.basename(path)))


def expand_pattern(path: str) -> Sequence | None:
    """``sh010.####.exr`` or ``sh010.%04d.exr`` -> the frames on disk, or None when none exist."""
    directory, name = os.path.split(path)
    match = PATTERN.search(name)
    if not match:
        return None
    head, tail = name[: match.start()], name[match.end() :]
    if match.group("hashes"):
        width = len(match.group("hashes"))
        digits = rf"\d{{{width}}}" if width > 1 else r"\d+"
    elif match.group("width"):
        width = int(match.group("width"))
        digits = rf"\d{{{width}}}"
    else:
        width, digits = 0, r"\d+"
    regex = re.compile(re.escape(head) + f"({digits})" + re.escape(tail) + "$")
    seq = Sequence(directory, head, tail, max(width, 1))
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return None
    for candidate in names:
        m = regex.match(candidate)
        if m:
            seq.frames[int(m.group(1))] = os.path.join(directory, candidate)
    if not seq.frames:
        return None
    if not width:
        seq.width = min(len(m) for m in (str(f) for f in seq.frames))
    return seq
