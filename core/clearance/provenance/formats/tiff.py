"""TIFF/DNG (and the TIFF structure inside JPEG EXIF): walk IFDs, never strips or tiles.

Tags read: 52545 (C2PA manifest store), 700 (XMP), 305 Software, 270 ImageDescription, 315 Artist,
and in the EXIF IFD 37510 UserComment. IFD chains, SubIFDs and the EXIF IFD are followed with loop
detection and a depth limit. Classic and BigTIFF.
"""

from __future__ import annotations

import struct
from typing import Literal

from clearance.provenance.jumbf import c2pa_hits
from clearance.provenance.signals import text_field_hits, xmp_hits
from clearance.provenance.source import MAX_DEPTH, ScanProblem, Source
from clearance.provenance.verdicts import Hit

ByteOrder = Literal["little", "big"]

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
TEXT_TAGS = {270: "ImageDescription", 305: "Software", 315: "Artist", 37510: "UserComment", 40092: "XPComment"}
TAG_XMP = 700
TAG_C2PA = 52545
POINTER_TAGS = {34665: "EXIF IFD", 330: "SubIFD"}
WANTED = frozenset([*TEXT_TAGS, *POINTER_TAGS, TAG_XMP, TAG_C2PA])
MAX_IFDS = 256
MAX_VALUE = 16 * 1024 * 1024


def read(src: Source, hits: list[Hit], fmt: str = "tiff", location: str = "") -> None:
    head = src.exact(0, 8, "TIFF header")
    if head[:2] == b"II":
        order: ByteOrder = "little"
    elif head[:2] == b"MM":
        order = "big"
    else:
        raise ScanProblem("TIFF: bad byte-order mark")
    magic = int.from_bytes(head[2:4], order)
    if magic == 42:
        big = False
        first = int.from_bytes(head[4:8], order)
    elif magic == 43:
        big = True
        first = int.from_bytes(src.exact(8, 8, "BigTIFF header"), order)
    else:
        raise ScanProblem(f"TIFF: unknown version {magic}")
    prefix = f"{location} " if location else ""
    seen: set[int] = set()
    pending = [(first, 0, "IFD0")]
    while pending:
        offset, depth, name = pending.pop()
        index = 0
        while offset:
            src.step()
            if offset in seen:
                break  # IFD loop: each IFD is read once
            if len(seen) >= MAX_IFDS:
                raise ScanProblem(f"TIFF: more than {MAX_IFDS} IFDs")
            seen.add(offset)
            label = name if index == 0 else f"IFD{index}"
            offset = _ifd(src, offset, order, big, depth, label, prefix, fmt, hits, pending)
            index += 1


def _ifd(src: Source, offset: int, order: ByteOrder, big: bool, depth: int, label: str, prefix: str, fmt: str,
         hits: list[Hit], pending: list[tuple[int, int, str]]) -> int:
    count_size, entry_size, value_size = (8, 20, 8) if big else (2, 12, 4)
    count = int.from_bytes(src.exact(offset, count_size, f"{label} entry count"), order)
    if count > 4096:
        raise ScanProblem(f"TIFF: {label} claims {count} entries (lying count?)")
    table = src.exact(offset + count_size, count * entry_size + value_size, f"{label} entries")
    # All tag numbers in one unpack; only the few tags we read are looked at further.
    tags = struct.unpack_from(("<" if order == "little" else ">") + f"H{entry_size - 2}x" * count, table)
    for i, tag in enumerate(tags):
        if tag not in WANTED:
            continue
        entry = table[i * entry_size : (i + 1) * entry_size]
        kind = int.from_bytes(entry[2:4], order)
        n = int.from_bytes(entry[4 : 4 + (8 if big else 4)], order)
        size = _TYPE_SIZE.get(kind, 1) * n
        if size > MAX_VALUE:
            raise ScanProblem(f"TIFF: tag {tag} in {label} claims {size} bytes (lying count?)")
        inline = entry[entry_size - value_size :]
        if size <= value_size:
            value = inline[:size]
        else:
            value = src.exact(int.from_bytes(inline, order), size, f"TIFF tag {tag} value")
        where = f"{prefix}{label} tag {tag}".strip()
        if tag in POINTER_TAGS:
            if depth + 1 > MAX_DEPTH:
                raise ScanProblem("TIFF: sub-IFDs nested too deep (nesting bomb?)")
            step = 8 if (big or kind in (16, 18)) else 4
            for j in range(0, min(len(value), 64 * step), step):
                target = int.from_bytes(value[j : j + step], order)
                if target:
                    pending.append((target, depth + 1, POINTER_TAGS[tag]))
        elif tag == TAG_C2PA:
            c2pa_hits(value, fmt, where + " (C2PA)", hits)
        elif tag == TAG_XMP:
            xmp_hits(value, fmt, where + " (XMP)", hits)
        else:
            text = _text(tag, value, order)
            if text:
                text_field_hits(fmt, where, TEXT_TAGS[tag], text, hits)
    return int.from_bytes(table[count * entry_size :], order)


def _text(tag: int, value: bytes, order: ByteOrder) -> str:
    if tag == 37510:  # UserComment: 8-byte character code, then the text
        code, body = value[:8], value[8:]
        if code.startswith(b"UNICODE"):
            # Writers disagree on the byte order; trust a BOM, else the TIFF byte order, else guess from zeros.
            if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return body.decode("utf-16", errors="replace").rstrip("\0 ")
            enc = "utf-16-le" if order == "little" else "utf-16-be"
            if len(body) > 1 and body[0] == 0 and body[1] != 0:
                enc = "utf-16-be"
            elif len(body) > 1 and body[1] == 0 and body[0] != 0:
                enc = "utf-16-le"
            return body.decode(enc, errors="replace").rstrip("\0 ")
        return body.decode("utf-8", errors="replace").rstrip("\0 ")
    if tag == 40092:
        return value.decode("utf-16-le", errors="replace").rstrip("\0 ")
    return value.decode("utf-8", errors="replace").rstrip("\0 ")
