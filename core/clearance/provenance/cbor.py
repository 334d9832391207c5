"""A minimal CBOR (RFC 8949) decoder for C2PA claims and assertions.

All major types 0-7, definite and indefinite lengths, tags (the tag number is dropped: C2PA fields we
read do not depend on it), half/single/double floats. Hostile input is bounded: nesting depth, item
count, and every declared length is checked against the bytes left before anything is allocated.
"""

from __future__ import annotations

import struct
from typing import Any

from clearance.provenance.source import ScanProblem

MAX_DEPTH = 64
MAX_ITEMS = 200_000

_BREAK = object()
Spec = dict[str, "Spec"] | None
_ARG_SIZE = {24: 1, 25: 2, 26: 4, 27: 8}


class _Decoder:
    __slots__ = ("data", "end", "items", "pos")

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.pos = 0
        self.items = 0
        self.end = len(data)

    def _arg(self, info: int) -> int:
        if info < 24:
            return info
        size = _ARG_SIZE.get(info)
        if size is None:
            raise ScanProblem(f"CBOR: reserved additional information {info} at byte {self.pos}")
        pos = self.pos
        if pos + size > self.end:
            raise ScanProblem("CBOR: truncated length")
        self.pos = pos + size
        if size == 1:
            return self.data[pos]
        return int.from_bytes(self.data[pos : pos + size], "big")

    def skip(self, depth: int = 0) -> None:
        """Step over one item without building it (values nobody reads: hashes, ingredient lists).

        Iterative: a stack of items still owed per open container (-1: indefinite, until a break). The
        position and item count live in locals here: this loop steps over most of a C2PA claim."""
        data, end = self.data, self.end
        pos, items = self.pos, self.items
        stack = [1]
        deepest = MAX_DEPTH + 1 - depth
        while stack:
            top = stack[-1]
            if top == 0:
                stack.pop()
                continue
            if len(stack) > deepest:
                raise ScanProblem(f"CBOR: nested deeper than {MAX_DEPTH} levels (nesting bomb?)")
            if pos >= end:
                raise ScanProblem("CBOR: truncated item")
            initial = data[pos]
            if top < 0:
                if initial == 0xFF:
                    pos += 1
                    stack.pop()
                    continue
            else:
                stack[-1] = top - 1
            items += 1
            if items > MAX_ITEMS:
                raise ScanProblem(f"CBOR: more than {MAX_ITEMS} items")
            pos += 1
            major, info = initial >> 5, initial & 0x1F
            if info == 31:
                if major in (0, 1, 6, 7):
                    raise ScanProblem("CBOR: unexpected break or indefinite length")
                stack.append(-1)
                continue
            if major == 7:
                if 24 <= info <= 27:
                    size = _ARG_SIZE[info]
                    if size > end - pos:
                        raise ScanProblem(f"CBOR: a string claims {size} bytes but only {end - pos} are left "
                                          "(lying length)")
                    pos += size
                elif info > 27:
                    raise ScanProblem(f"CBOR: reserved simple value {info}")
                continue
            if info < 24:
                arg = info
            else:
                width = _ARG_SIZE.get(info)
                if width is None:
                    raise ScanProblem(f"CBOR: reserved additional information {info} at byte {pos}")
                if pos + width > end:
                    raise ScanProblem("CBOR: truncated length")
                arg = data[pos] if width == 1 else int.from_bytes(data[pos : pos + width], "big")
                pos += width
            if major in (2, 3):
                if arg > end - pos:
                    raise ScanProblem(f"CBOR: a string claims {arg} bytes but only {end - pos} are left "
                                      "(lying length)")
                pos += arg
            elif major in (4, 5):
                owed = arg if major == 4 else arg * 2
                if owed > end - pos:
                    raise ScanProblem(f"CBOR: a container claims {arg} entries but only {end - pos} bytes "
                                      "are left")
                if owed:
                    stack.append(owed)
            elif major == 6:
                stack.append(1)
        self.pos, self.items = pos, items

    def decode_filtered(self, spec: Spec, depth: int = 0) -> Any:
        """Decode following ``spec``: None builds the item whole; a dict keeps only its keys of a map (each
        value decoded by its own spec) and applies to every element of an array. Other values are skipped."""
        if spec is None:
            return self.decode(depth)
        if depth > MAX_DEPTH:
            raise ScanProblem(f"CBOR: nested deeper than {MAX_DEPTH} levels (nesting bomb?)")
        if self.pos >= self.end:
            raise ScanProblem("CBOR: truncated item")
        initial = self.data[self.pos]
        major, info = initial >> 5, initial & 0x1F
        if major not in (4, 5):
            return self.decode(depth)
        self.pos += 1
        self.items += 1
        count = -1 if info == 31 else self._arg(info)
        if count > self.end - self.pos:
            raise ScanProblem(f"CBOR: a container claims {count} entries but only {self.end - self.pos} bytes are left")
        out: Any = [] if major == 4 else {}
        while count:
            if count < 0:
                if self.pos >= self.end:
                    raise ScanProblem("CBOR: truncated indefinite container")
                if self.data[self.pos] == 0xFF:
                    self.pos += 1
                    break
            if major == 4:
                out.append(self.decode_filtered(spec, depth + 1))
            else:
                initial = self.data[self.pos] if self.pos < self.end else 0
                if 0x60 <= initial < 0x78 and depth + 1 <= MAX_DEPTH:
                    # A short text key, as C2PA's are: read in place (what decode() would do, without the calls).
                    self.items += 1
                    if self.items > MAX_ITEMS:
                        raise ScanProblem(f"CBOR: more than {MAX_ITEMS} items")
                    at = self.pos + 1
                    n = initial - 0x60
                    if n > self.end - at:
                        raise ScanProblem(f"CBOR: a string claims {n} bytes but only {self.end - at} are left "
                                          "(lying length)")
                    key = bytes(self.data[at : at + n]).decode("utf-8", errors="replace")
                    self.pos = at + n
                else:
                    key = _hashable(self.decode(depth + 1))
                if key in spec:
                    out[key] = self.decode_filtered(spec[key], depth + 1)
                else:
                    self.skip(depth + 1)
            count -= 1
        return out

    def _take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise ScanProblem(f"CBOR: a string claims {n} bytes but only {self.end - self.pos} are left (lying length)")
        chunk = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return chunk

    def decode(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ScanProblem(f"CBOR: nested deeper than {MAX_DEPTH} levels (nesting bomb?)")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise ScanProblem(f"CBOR: more than {MAX_ITEMS} items")
        if self.pos >= self.end:
            raise ScanProblem("CBOR: truncated item")
        initial = self.data[self.pos]
        self.pos += 1
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self._simple(info)
        if info == 31:
            return self._indefinite(major, depth)
        arg = info if info < 24 else self._arg(info)
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self._take(arg)
        if major == 3:
            return self._take(arg).decode("utf-8", errors="replace")
        if major == 4:
            if arg > self.end - self.pos:  # every item is at least one byte
                raise ScanProblem(f"CBOR: an array claims {arg} items but only {self.end - self.pos} bytes are left")
            return [self.decode(depth + 1) for _ in range(arg)]
        if major == 5:
            if arg * 2 > self.end - self.pos:
                raise ScanProblem(f"CBOR: a map claims {arg} entries but only {self.end - self.pos} bytes are left")
            out: dict[Any, Any] = {}
            for _ in range(arg):
                key = _hashable(self.decode(depth + 1))
                out[key] = self.decode(depth + 1)
            return out
        # major 6: a tag; the value is what we need
        return self.decode(depth + 1)

    def _indefinite(self, major: int, depth: int) -> Any:
        if major in (2, 3):
            parts: list[Any] = []
            while True:
                if self.pos >= self.end:
                    raise ScanProblem("CBOR: truncated indefinite string")
                if self.data[self.pos] == 0xFF:
                    self.pos += 1
                    break
                part = self.decode(depth + 1)
                if not isinstance(part, bytes if major == 2 else str):
                    raise ScanProblem("CBOR: an indefinite string holds a chunk of another type")
                parts.append(part)
            return b"".join(parts) if major == 2 else "".join(parts)
        if major == 4:
            items: list[Any] = []
            while True:
                item = self._next_or_break(depth)
                if item is _BREAK:
                    return items
                items.append(item)
        if major == 5:
            out: dict[Any, Any] = {}
            while True:
                key = self._next_or_break(depth)
                if key is _BREAK:
                    return out
                out[_hashable(key)] = self.decode(depth + 1)
        raise ScanProblem(f"CBOR: major type {major} cannot have an indefinite length")

    def _next_or_break(self, depth: int) -> Any:
        if self.pos >= self.end:
            raise ScanProblem("CBOR: truncated indefinite container")
        if self.data[self.pos] == 0xFF:
            self.pos += 1
            return _BREAK
        return self.decode(depth + 1)

    def _simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 24:
            return self._arg(24)
        if info == 25:
            return struct.unpack(">e", self._take(2))[0]
        if info == 26:
            return struct.unpack(">f", self._take(4))[0]
        if info == 27:
            return struct.unpack(">d", self._take(8))[0]
        if info == 31:
            raise ScanProblem("CBOR: unexpected break")
        if info < 20:
            return info
        raise ScanProblem(f"CBOR: reserved simple value {info}")


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, dict):
        return repr(key)
    return key


def loads(data: bytes | memoryview, spec: Spec = None) -> Any:
    """Decode one CBOR item. Raises ScanProblem for malformed, truncated or hostile input.

    With a ``spec`` (see ``decode_filtered``) only the fields named are built; everything else is stepped
    over, still checked for truncation and nesting. Most of a C2PA claim or action is never built."""
    decoder = _Decoder(bytes(data))
    return decoder.decode_filtered(spec)
