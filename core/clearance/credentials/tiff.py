"""A single-page TIFF's manifest placed by Clearance, where the C2PA library puts it: tag 52545 in IFD0.

The library's TIFF writer (c2pa-rs ``sdk/src/asset_handlers/tiff_io.rs``, ``TiffCloner::clone_c2pa_mode``)
rewrites the whole file to add its manifest, on one core, after Clearance has staged the file with its XMP:
about ten times the cost of copying the file. For a single-page TIFF the library puts the manifest store in
IFD0 (tag 52545 = 0xCD41, type UNDEFINED), which it rewrites with the tag added, and binds the file with a data
hash that leaves out the manifest's bytes. Clearance's XMP writer already appends a copy of IFD0 (with tag
700) and points the header at it (``xmp.tiff_rewrite``); here the same copy also gets tag 52545, pointing at a
manifest placeholder appended after it. ``embedding.sign`` then writes the file, hashes it while the kernel
copies the image data, and has the library sign that data hash (the C API's data-hashed calls, the raw
manifest store as the tag holds it).

Only what is modelled here takes this path: a classic TIFF or DNG over 10 MB with a single IFD in its chain
(a multi-page TIFF's manifest goes into an IFD of its own after the last page, which is left to the
library), no tag 52545 yet, whose XMP Clearance writes; anything else is signed by the library.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from clearance.credentials import fileio
from clearance.credentials.xmp import Rewrite
from clearance.errors import ClearanceError

FORMATS = ("image/tiff", "image/x-adobe-dng")
C2PA_TAG = 0xCD41
_UNDEFINED = 7
_CLASSIC_MAX = 0xFFFFFFFF
_HEADROOM = 1 << 20  # room kept for the manifest, whose size is known only later


@dataclass(frozen=True)
class AtTiffEnd:
    """The staged TIFF (``rewrite``: XMP packet and IFD0 copy appended) with tag 52545 added to the IFD0 copy
    and the manifest store appended after it, on a word boundary (TIFF 6.0)."""

    mime: str
    rewrite: Rewrite
    order: str
    ifd_at: int  # where the IFD0 copy starts in the staged file
    compose = "application/c2pa"  # the raw manifest store, as the tag holds it

    def framed(self, manifest: bytes) -> bytes:
        return manifest

    def _ifd(self, manifest_at: int, length: int) -> bytes:
        copy = self.rewrite.tail[self.ifd_at - self.rewrite.end:]
        (count,) = struct.unpack(self.order + "H", copy[:2])
        entries = {struct.unpack(self.order + "H", copy[2 + 12 * n:4 + 12 * n])[0]: copy[2 + 12 * n:14 + 12 * n]
                   for n in range(count)}
        entries[C2PA_TAG] = struct.pack(self.order + "HHII", C2PA_TAG, _UNDEFINED, length, manifest_at)
        return struct.pack(self.order + "H", len(entries)) + b"".join(entries[t] for t in sorted(entries)) + \
            copy[2 + 12 * count:]

    def pieces(self, framed: bytes) -> list[fileio.Piece]:
        """The staged file (its header pointing at the IFD0 copy, the source whole, the XMP packet), the IFD0
        copy with tag 52545, then the manifest store."""
        grown = self._ifd(0, 0)
        manifest_at = self.ifd_at + len(grown) + len(grown) % 2
        if manifest_at + len(framed) > _CLASSIC_MAX:
            raise ClearanceError(f"the TIFF would be {manifest_at + len(framed)} bytes with its manifest, more than "
                                 "a classic TIFF addresses (4 GB); deliver it as BigTIFF")
        rewrite = self.rewrite
        return [rewrite.head, (rewrite.rest, rewrite.end), rewrite.tail[:self.ifd_at - rewrite.end],
                self._ifd(manifest_at, len(framed)), b"\x00" * (len(grown) % 2), fileio.Slot(framed)]

    def found_by_reader(self, framed: bytes) -> None:
        """A reader finds the manifest through IFD0 at the file's end, after the image data: too much to
        hand the Reader (``placed_at`` finds the tag where it was written, as a reader does)."""
        return None

    def store(self, manifest: bytes) -> bytes:
        return manifest

    def placed_at(self, out: Path) -> tuple[int, int] | None:
        with open(out, "rb") as fh:
            return ifd0_manifest(fh)


def ifd0_manifest(fh: BinaryIO) -> tuple[int, int] | None:
    """Where tag 52545 of IFD0 says the manifest store is (offset, length), when IFD0 is the file's only IFD."""
    header = fh.read(8)
    order = {b"II": "<", b"MM": ">"}.get(header[:2])
    if len(header) < 8 or order is None or struct.unpack(order + "H", header[2:4])[0] != 42:
        return None
    (ifd,) = struct.unpack(order + "I", header[4:])
    fh.seek(ifd)
    raw = fh.read(2)
    if len(raw) < 2:
        return None
    (count,) = struct.unpack(order + "H", raw)
    body = fh.read(12 * count + 4)
    if len(body) < 12 * count + 4 or struct.unpack(order + "I", body[-4:])[0] != 0:
        return None
    for n in range(count):
        tag, kind, length, offset = struct.unpack(order + "HHII", body[12 * n:12 * n + 12])
        if tag == C2PA_TAG and kind == _UNDEFINED:
            return offset, length
    return None


def at_tiff_end(mime: str, rewrite: Rewrite) -> AtTiffEnd | None:
    """A TIFF signed here rather than by the library, or None: the staged file's IFD0 copy (``rewrite``, from
    ``xmp.tiff_rewrite``) is its only IFD and has no tag 52545 yet."""
    head = rewrite.head
    order = {b"II": "<", b"MM": ">"}.get(head[:2])
    if mime not in FORMATS or order is None or len(head) != 8 or rewrite.insert_at is not None or rewrite.patches:
        return None
    (ifd_at,) = struct.unpack(order + "I", head[4:8])
    copy = rewrite.tail[ifd_at - rewrite.end:] if ifd_at >= rewrite.end else b""
    if len(copy) < 6:
        return None
    (count,) = struct.unpack(order + "H", copy[:2])
    if len(copy) != 2 + 12 * count + 4 or struct.unpack(order + "I", copy[-4:])[0] != 0:
        return None  # another IFD follows (a multi-page TIFF): the library gives its manifest an IFD of its own
    tags = {struct.unpack(order + "H", copy[2 + 12 * n:4 + 12 * n])[0] for n in range(count)}
    if C2PA_TAG in tags or ifd_at + len(copy) + 12 + _HEADROOM > _CLASSIC_MAX:
        return None
    return AtTiffEnd(mime, rewrite, order, ifd_at)
