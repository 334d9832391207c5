"""Which reader a file needs, from its first bytes (never from its extension)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

EXTENSION_FORMAT = {
    "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "png": "png", "tif": "tiff", "tiff": "tiff", "dng": "tiff",
    "exr": "exr", "dpx": "dpx", "mp4": "bmff", "mov": "bmff", "m4v": "bmff", "m4a": "bmff", "heic": "bmff",
    "heif": "bmff", "avif": "bmff", "3gp": "bmff", "wav": "riff", "webp": "riff", "avi": "riff", "xmp": "xmp",
    "mp3": "mp3",
}
_BMFF_TYPES = frozenset([b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pnot", b"styp", b"meta"])


def detect(head: bytes) -> str | None:
    """Format name from the first bytes (up to 4 KiB: XML needs a look inside), or None when it is none we read."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF":
        return "riff"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "tiff"
    if head[:4] == b"\x76\x2f\x31\x01":
        return "exr"
    if head[:4] in (b"SDPX", b"XPDS"):
        return "dpx"
    if head[:3] == b"ID3":
        return "mp3"
    if head[4:8] in _BMFF_TYPES:
        return "bmff"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"<?xpacket", b"<x:xmpmeta")):
        return "xmp"
    if stripped.startswith(b"<?xml") and b"<x:xmpmeta" in head and b"<svg" not in head:
        return "xmp"  # an XML sidecar that is an XMP packet (not SVG or other XML that may embed one)
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mp3"  # MPEG audio frames straight away: no ID3v2 tag, nothing to read, but not an error
    return None


_READERS: dict[str, Callable[..., None]] = {}


def reader(fmt: str) -> Callable[..., None]:
    """The ``read(src, hits)`` function of a format, imported on first use."""
    found = _READERS.get(fmt)
    if found is None:
        import importlib

        module: ModuleType = importlib.import_module(f"clearance.provenance.formats.{fmt}")
        found = _READERS[fmt] = module.read
    return found
