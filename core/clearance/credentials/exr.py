"""``clearance/*`` string attributes written into an OpenEXR header (single-part scanline files).

The header is a list of attributes (name, type, size, value) ended by a null byte, followed by the
offset table: absolute file positions of each chunk (OpenEXR file layout, "Header" and "Line Offset
Table"). Adding attributes moves every chunk by the same number of bytes, so each offset is shifted by
it; the pixel data is copied as it is. Tiled, deep and multi-part files are left alone (their offset
tables need the tile layout): they still get the ``.c2pa`` sidecar.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from clearance.errors import ClearanceError

MAGIC = b"\x76\x2f\x31\x01"
TILED, LONG_NAMES, DEEP, MULTIPART = 0x200, 0x400, 0x800, 0x1000
# Scanlines per chunk for each compression (OpenEXR "compression" attribute, in enum order).
LINES_PER_CHUNK = {0: 1, 1: 1, 2: 1, 3: 16, 4: 32, 5: 16, 6: 32, 7: 32, 8: 32, 9: 256}
MAX_HEADER = 16 << 20


class NotWritable(Exception):
    """The file is valid EXR but of a kind whose header Clearance does not rewrite; the reason is the message."""


def _cstr(src: BinaryIO, where: str) -> bytes:
    out = bytearray()
    while True:
        c = src.read(1)
        if not c:
            raise ClearanceError(f"{where}: the EXR header ends early")
        if c == b"\x00":
            return bytes(out)
        out += c
        if len(out) > 255:
            raise ClearanceError(f"{where}: an EXR attribute name is too long; the header is damaged")


def head(src: BinaryIO, attributes: dict[str, str], where: str) -> bytes:
    """The header with the given string attributes set (replacing same-named ones) and the shifted offset
    table; ``src`` is left where the pixel data starts, to be copied after it as it is."""
    if src.read(4) != MAGIC:
        raise ClearanceError(f"{where}: not an OpenEXR file (bad magic number)")
    version = struct.unpack("<I", src.read(4))[0]
    if version & (TILED | DEEP | MULTIPART):
        raise NotWritable("tiled, deep or multi-part EXR")
    limit = 255 if version & LONG_NAMES else 31
    kept: list[bytes] = []
    compression = None
    window = None
    read = 8
    while True:
        name = _cstr(src, where)
        if not name:
            break
        kind = _cstr(src, where)
        size = struct.unpack("<i", src.read(4))[0]
        if size < 0 or read + size > MAX_HEADER:
            raise ClearanceError(f"{where}: an EXR attribute has an impossible size; the header is damaged")
        value = src.read(size)
        read += len(name) + len(kind) + 6 + size
        if name == b"compression":
            compression = value[0]
        elif name == b"dataWindow":
            window = struct.unpack("<iiii", value)
        if name.decode("latin-1") in attributes:
            continue
        kept.append(name + b"\x00" + kind + b"\x00" + struct.pack("<i", size) + value)
    if compression not in LINES_PER_CHUNK or window is None:
        raise NotWritable("unknown compression or no dataWindow")
    height = window[3] - window[1] + 1
    chunks = -(-height // LINES_PER_CHUNK[compression])
    table = src.read(8 * chunks)
    if len(table) != 8 * chunks:
        raise ClearanceError(f"{where}: the EXR offset table is cut short")
    header = bytearray(MAGIC + struct.pack("<I", version))
    for entry in kept:
        header += entry
    for key, text in attributes.items():
        if len(key) > limit:
            raise ClearanceError(f"EXR attribute name {key!r} is longer than {limit} characters")
        data = text.encode("utf-8")
        header += key.encode("latin-1") + b"\x00string\x00" + struct.pack("<i", len(data)) + data
    header += b"\x00"
    old_start = src.tell() - len(table)
    shift = len(header) - (old_start)
    offsets = struct.unpack(f"<{chunks}Q", table)
    return bytes(header) + struct.pack(f"<{chunks}Q", *(o + shift for o in offsets))
