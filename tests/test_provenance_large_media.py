"""Large real-world images: a PNG's image data split into many chunks (libpng writes 8 KiB each).

Text chunks may follow the image data, so the walk goes to IEND; the image data chunks are stepped over
without counting as entries, so a large texture is neither an error nor slow, and a file made of
millions of empty chunks still stops within the per-file time and read budgets.
"""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

from clearance.provenance import samples as s
from clearance.provenance import scan_file


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_with_chunks(path: Path, count: int, size: int, after: bytes) -> None:
    head = s.png(size=1)
    start = head.index(b"IDAT") - 4
    data = _chunk(b"IDAT", bytes(size))
    path.write_bytes(head[:start] + data * count + after + _chunk(b"IEND", b""))


def test_text_after_25000_image_chunks_is_read(tmp_path: Path) -> None:
    path = tmp_path / "texture.png"
    _png_with_chunks(path, 25_000, 16, _chunk(b"tEXt", b"Software\0Midjourney v6"))
    result = scan_file(path)
    assert result.error is None, result.error
    assert result.verdict == "ai_generated" and result.generators == ["Midjourney"]
    assert result.bytes_read < 25_000 * 16  # a header per chunk, never the image data


def test_a_flood_of_empty_chunks_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "flood.png"
    _png_with_chunks(path, 400_000, 0, b"")
    started = time.monotonic()
    result = scan_file(path)
    assert time.monotonic() - started < 30  # the 2 s time budget, with room for a busy machine
    assert result.error is None or "budget" in result.error
