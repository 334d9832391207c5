"""DPX (SMPTE 268M): the fixed-offset ASCII fields of the file, orientation and film headers, and the
start of the user data. Image data is never read."""

from __future__ import annotations

from typing import Literal

from clearance.provenance.signals import text_field_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

# (offset, length, field) in the generic file header and image orientation header
FIELDS = (
    (36, 100, "file name"),
    (160, 100, "creator"),
    (260, 200, "project"),
    (460, 200, "copyright"),
    (1432, 100, "source file name"),
    (1556, 32, "input device"),
    (1588, 32, "input device serial"),
)
HEADER = 2048
MAX_USER_DATA = 1024 * 1024


def read(src: Source, hits: list[Hit]) -> None:
    head = src.read(0, HEADER)
    if len(head) < 768:
        raise ScanProblem(f"truncated: the DPX header needs 768 bytes, the file has {len(head)}")
    order: Literal["little", "big"] = "big" if head[:4] == b"SDPX" else "little"
    for offset, length, field in FIELDS:
        raw = head[offset : offset + length]
        text = raw.split(b"\0", 1)[0].decode("latin-1").strip()
        if text:
            text_field_hits("dpx", "header", field, text, hits)
    user_size = int.from_bytes(head[32:36], order)
    image_offset = int.from_bytes(head[4:8], order)
    if 32 < user_size <= MAX_USER_DATA and len(head) == HEADER and user_size != 0xFFFFFFFF:
        if HEADER + user_size > min(src.size, image_offset if image_offset >= HEADER else src.size):
            raise ScanProblem(f"DPX: user data claims {user_size} bytes past the image data offset (lying length?)")
        data = src.exact(HEADER, user_size, "DPX user data")
        user_id = data[:32].split(b"\0", 1)[0].decode("latin-1").strip()
        text = data[32:].split(b"\0", 1)[0].decode("utf-8", errors="replace")
        if text.strip():
            text_field_hits("dpx", "user data", user_id or "user data", text, hits)
