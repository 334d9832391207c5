"""An embedded manifest (JPEG, PNG, WAV) signed over a SHA-256 Clearance computes while it writes the file.

Left to itself, the C2PA library reads the whole file into memory, parses it, writes the signed copy and
hashes it in its own code, one step after another on one core: about ten times the cost of copying the
file. The C API has the documented alternative for callers that place the manifest themselves (c2pa-rs
``c2pa_c_ffi``, "a low-level method for advanced use cases where the caller handles embedding the
manifest"):

1. ``c2pa_builder_data_hashed_placeholder``: the manifest, with room reserved for the hash and the
   signature, composed for the format by the library (JPEG: APP11 segments, PNG: a ``caBX`` chunk) or
   framed here (WAV: a ``C2PA`` RIFF chunk around the raw store, as c2pa-rs ``riff_io`` writes it);
2. the caller writes the file with the placeholder where readers look for it (JPEG: after the JFIF and
   Exif segments, the library puts it right after JFIF; PNG: right after IHDR, as the library does; WAV:
   appended after the sound, where the library puts it as the last top-level chunk, in room reserved
   ahead and followed by a ``JUNK`` chunk filling it, see ``AtRiffEnd``) and hashes it, the placeholder excluded:
   here the image or sound data is read once into a few reused buffers, each hashed by a second thread
   while this one writes it (``fileio.write_hashed``). For a JPEG or PNG, whose hashed bytes do not depend
   on the placeholder's size, the hash starts before step 1 (``hash_ahead``); for a WAV too, with room
   reserved at its end before the manifest is composed (``AtRiffEnd.reserved``), since its RIFF size, hashed
   first, counts the manifest's chunk;
3. ``c2pa_builder_sign_data_hashed_embeddable`` with that data hash returns the signed manifest, padded to
   the placeholder's exact size, which is written over the placeholder.

The hash is of the very buffers written to the output. The manifest is then read back with
c2pa-python's Reader (``detached.check_claims``: signature, certificate, assertions, and the binding
against that digest; for a WAV, whose chunk a reader finds only after the sound, its place is checked by
walking the written file's chunks). The XMP (IPTC AI fields) is written in step 2 (JPEG, PNG: in the header;
WAV: a ``_PMX`` chunk before the ``C2PA`` chunk), from the same ``xmp.Rewrite`` the library's path stages, so
the signature covers it there too.

Only what is modelled here takes this path: JPEG, PNG and WAV over 10 MB (smaller ones get a thumbnail,
which the library makes only when it writes the file) that carry no credentials yet (a store to replace is
left to the library), on a system with positioned reads and writes (``fileio.overlapped``), with the
c2pa-python version these calls were checked against. Anything else, and ``CLEARANCE_C2PA_LIBRARY_EMBED=1``,
signs through the library's own path.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.credentials import detached, fileio
from clearance.credentials.tiff import FORMATS as TIFF_FORMATS
from clearance.credentials.tiff import AtTiffEnd
from clearance.credentials.xmp import RIFF_HEADROOM, Rewrite, riff_chunks
from clearance.errors import ClearanceError

FORMATS = ("image/jpeg", "image/png", "audio/wav", *TIFF_FORMATS)
RAW = "application/c2pa"  # the manifest store as it is, for a container whose chunk Clearance frames itself
ENDS = {"image/jpeg": b"\xff\xd9", "image/png": b"\x00\x00\x00\x00IEND\xaeB`\x82"}  # EOI, the IEND chunk
_RIFF_MAX = 0xFFFFFFFF
_MAX_SEGMENTS = 4096  # a header with more is not plain: the library's Reader decides


def active() -> bool:
    """Are manifests placed and hashed here at all (this c2pa-python, not switched off)?"""
    if os.environ.get("CLEARANCE_C2PA_LIBRARY_EMBED"):  # forces the library's own path (tests, troubleshooting)
        return False
    return fileio.overlapped() and detached.available()  # tested on Linux; elsewhere the library places it


@dataclass(frozen=True)
class InHeader:
    """JPEG or PNG: the rewritten header with the manifest at its ``slot``, then the source's image data."""

    mime: str
    rewrite: Rewrite
    compose = ""  # the library composes for ``mime`` itself

    def framed(self, manifest: bytes) -> bytes:
        return manifest

    def pieces(self, framed: bytes) -> list[fileio.Piece]:
        return self.rewrite.pieces(manifest=framed)

    def found_by_reader(self, framed: bytes) -> bytes:
        """The header as written, the manifest in its place, the image data left out: what a reader finds."""
        return self.rewrite.head[:self.rewrite.slot] + framed + ENDS[self.mime]


@dataclass(frozen=True)
class AtRiffEnd:
    """WAV: the source whole (or as ``rewrite`` stages it: the XMP's ``_PMX`` chunk appended), its RIFF size
    grown, and a ``C2PA`` chunk appended as the last top-level chunk, where the C2PA library puts it (c2pa-rs
    ``riff_io``; RIFF chunks: id, little-endian size, data, a pad byte to an even length).

    ``reserved`` (0: none): the room, in bytes, kept at the end for the ``C2PA`` chunk and a ``JUNK`` chunk
    filling what it leaves, chosen before the manifest is composed (``with_reserved_slot``), so that the RIFF
    size, hashed first, is known before the library's placeholder and the hash starts at once (``hash_ahead``):
    the data-hash placeholder design, where the caller reserves the manifest's room and hashes around it.
    ``JUNK`` is RIFF's chunk for space to be skipped (Microsoft "Multimedia Programming Interface and Data
    Specifications 1.0"); it is hashed like the sound, and the exclusion stays the ``C2PA`` chunk alone. A
    reader finds the ``C2PA`` chunk among the top-level chunks wherever it lies (c2pa-rs ``riff_io``
    ``read_cai`` and ``get_manifest_pos``: the first top-level chunk with that id); the library itself puts it
    last ("for maximum compatibility", ``inject_c2pa``). A placeholder that does not fit the room is placed
    as when none is reserved (``exact``)."""

    mime: str
    riff_size: int
    end: int
    rewrite: Rewrite | None = None
    reserved: int = 0
    compose = RAW

    def framed(self, manifest: bytes) -> bytes:
        return b"C2PA" + struct.pack("<I", len(manifest)) + manifest

    def fits(self, framed: bytes) -> bool:
        """Does the framed manifest, its pad byte and a ``JUNK`` chunk's header fit the reserved room?"""
        return not self.reserved or len(framed) + len(framed) % 2 + 8 <= self.reserved

    def exact(self) -> AtRiffEnd:
        """This placement without reserved room: the RIFF size from the manifest's exact size."""
        return AtRiffEnd(self.mime, self.riff_size, self.end, self.rewrite)

    def _staged(self) -> int:
        return self.riff_size + (len(self.rewrite.tail) if self.rewrite else 0)

    def _grown(self, framed: bytes) -> bytes:
        size = self._staged() + (self.reserved or len(framed) + len(framed) % 2)
        if size > _RIFF_MAX:
            raise ClearanceError(f"the WAV would be {size + 8} bytes with its manifest, more than a RIFF file holds "
                                 "(4 GB); deliver it as RF64/BW64 or split it")
        return b"RIFF" + struct.pack("<I", size)

    def _body(self, framed: bytes) -> list[fileio.Piece]:
        grown = self._grown(framed)
        return self.rewrite.pieces(head=grown) if self.rewrite else [grown, (8, self.end)]

    def ahead(self) -> list[fileio.Piece]:
        """What is hashed before the manifest's chunk, known before the manifest when room is reserved."""
        if not self.reserved:
            raise RuntimeError("a WAV's hash starts ahead only with room reserved for its manifest")
        return self._body(b"")

    def pieces(self, framed: bytes) -> list[fileio.Piece]:
        if not self.fits(framed):
            raise RuntimeError(f"a manifest of {len(framed)} bytes placed in {self.reserved} reserved")
        pad = b"\x00" * (len(framed) % 2)
        rest = [] if not self.reserved else [_junk(self.reserved - len(framed) - len(pad))]
        return [*self._body(framed), fileio.Slot(framed), pad, *rest]

    def found_by_reader(self, framed: bytes) -> None:
        """A reader finds the chunk only after all the sound: too much to read back (``placed_at`` finds the
        chunk where it was written, walking the top-level chunks as a reader does)."""
        return None

    def store(self, framed: bytes) -> bytes:
        return framed[8:]

    def placed_at(self, out: Path) -> tuple[int, int] | None:
        """The first ``C2PA`` chunk of the written file (offset, size with header), as a reader finds it."""
        with open(out, "rb") as fh:
            chunks = riff_chunks(fh, os.fstat(fh.fileno()).st_size)
        return next(((offset, size) for kind, offset, size in chunks or [] if kind == b"C2PA"), None)


def _junk(size: int) -> bytes:
    """A ``JUNK`` chunk of ``size`` bytes in all (even, at least its 8-byte header), its data zeros."""
    return b"JUNK" + struct.pack("<I", size - 8) + bytes(size - 8)


# The room reserved for a WAV's manifest: the library's placeholder is the manifest store (JUMBF) holding the
# claim, the assertions (the definition's, as CBOR: no larger than its JSON with every non-ASCII character
# escaped, as json.dumps writes it), the data hash's placeholder and the signature's reserve; the rest is
# JUMBF boxes, labels and the claim's hashed URIs. Placeholders measured at 3.9-4.1 KB for definitions of
# 0.9-1.0 KB and a reserve of 2.4 KB (bench/RESULTS.md, "WAV, later"): twice the definition plus the
# reserve plus 8 KB leaves more than twice the room seen. A file with inputs kept as ingredients (their
# stores go inside) is signed the exact way.
_RESERVE_MARGIN = 8 << 10


def reserved_room(definition: dict[str, Any], signer_reserve: int) -> int:
    """The bytes kept at a WAV's end for its ``C2PA`` chunk (and a ``JUNK`` chunk after it), even."""
    room = 2 * len(json.dumps(definition)) + signer_reserve + _RESERVE_MARGIN
    return room + room % 2


def with_reserved_slot(placement: Placement, definition: dict[str, Any], signer_reserve: int,
                       ingredients: bool) -> Placement:
    """A WAV placement with room reserved for its manifest (``AtRiffEnd.reserved``), so that its hash starts
    before the manifest is made; anything else, a WAV with ingredients, or one the room would push past 4 GB,
    as it is."""
    if not isinstance(placement, AtRiffEnd) or placement.reserved or ingredients:
        return placement
    room = reserved_room(definition, signer_reserve)
    if placement._staged() + room > _RIFF_MAX:
        return placement
    return AtRiffEnd(placement.mime, placement.riff_size, placement.end, placement.rewrite, room)


Placement = InHeader | AtRiffEnd | AtTiffEnd


def in_header(mime: str, rewrite: Rewrite, parent: bool, thumbnail: bool) -> InHeader | None:
    """A JPEG or PNG signed here rather than by the library, or None. Not when the manifest is to carry a
    thumbnail: the library makes one only when it writes the file itself (files up to 10 MB)."""
    if mime not in ENDS or rewrite.jumbf or parent or thumbnail or not active():
        return None
    return InHeader(mime, rewrite)


def jpeg_without_credentials(source: Path, end: int) -> bool:
    """True when a C2PA reader certainly finds no credentials in this JPEG, read from its header alone; False
    when it may (or the header is not plain), and the library's Reader must say.

    The library reads a JPEG's manifest from APP11 segments, and its JPEG parser (img-parts 0.4,
    ``Jpeg::from_bytes``) stops at the first SOS: segments after it are image data to it. With no manifest
    there it looks for a remote manifest named by ``dcterms:provenance`` in the XMP (APP1), and finds none
    without it (c2pa-rs ``Store::load_jumbf_from_stream``). So a header up to SOS with no APP11 segment and
    no APP1 segment mentioning ``provenance`` carries none; the Reader would read and parse the whole file
    twice to say so."""
    with open(source, "rb") as fh:
        if fh.read(2) != b"\xff\xd8":
            return False
        position = 2
        for _ in range(_MAX_SEGMENTS):
            fh.seek(position)
            head = fh.read(4)
            if len(head) < 2 or head[0] != 0xFF:
                return False
            marker = head[1]
            if marker == 0xFF:
                position += 1  # fill byte
                continue
            if marker == 0xDA:
                return True
            if marker == 0x01 or 0xD0 <= marker <= 0xD7:
                position += 2
                continue
            if marker in (0xD8, 0xD9) or len(head) < 4:
                return False
            length = struct.unpack(">H", head[2:])[0]
            if length < 2 or position + 2 + length > end or marker == 0xEB:
                return False
            if marker == 0xE1 and b"provenance" in fh.read(length - 2):
                return False
            position += 2 + length
    return False


_XMP_MAX = 16 << 20  # an XMP chunk larger than this is not plain: the library's Reader decides


def wav_without_credentials(source: Path, end: int) -> bool:
    """True when a C2PA reader certainly finds no credentials in this WAV, read from its chunk headers alone;
    False when it may (or the file is not a plain RIFF WAVE), and the library's Reader must say.

    The library reads a WAV's manifest from a top-level ``C2PA`` chunk of its RIFF chunk (c2pa-rs
    ``riff_io``); with none, it looks for a remote manifest named by ``dcterms:provenance`` in the XMP, which
    it reads from a top-level ``XMP `` chunk (``riff_io`` ``read_xmp``; Clearance and Adobe write WAV XMP as
    ``_PMX``: both are looked at). So a RIFF WAVE whose top-level chunks fill it exactly, with no ``C2PA``
    chunk and no XMP chunk mentioning ``provenance``, carries none; asking the Reader costs a thread and a walk
    of the file beside the hash."""
    with open(source, "rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WAVE":
            return False
        if struct.unpack("<I", header[4:8])[0] + 8 != end:
            return False
        chunks = riff_chunks(fh, end)
        if chunks is None:
            return False
        for kind, offset, size in chunks:
            if kind == b"C2PA":
                return False
            if kind in (b"_PMX", b"XMP "):
                if size > _XMP_MAX:
                    return False
                fh.seek(offset + 8)
                if b"provenance" in fh.read(size - 8):
                    return False
    return True


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_CHUNKS = 1 << 16  # a PNG cut finer than this is not plain: the library's Reader decides
_PNG_TEXT = (b"iTXt", b"tEXt", b"zTXt")


def png_without_credentials(source: Path, end: int) -> bool:
    """True when a C2PA reader certainly finds no credentials in this PNG, read from its chunk headers alone;
    False when it may (or the file is not a plain PNG), and the library's Reader must say.

    The library reads a PNG's manifest from a ``caBX`` chunk, found by walking every chunk's header from the
    signature to ``IEND`` (c2pa-rs ``png_io`` ``get_png_chunk_positions``, ``get_cai_data``); with none, it
    looks for a remote manifest named by ``dcterms:provenance`` in the XMP, which it reads from an ``iTXt``
    chunk keyed ``XML:com.adobe.xmp`` (``png_io`` ``read_xmp``). So a PNG whose chunks, IHDR first, fill it
    exactly up to an ``IEND`` at its end, with no ``caBX`` chunk, no text chunk mentioning ``provenance``
    (any keyword) and no compressed text (``zTXt``, a compressed ``iTXt``: a newer reader may inflate it),
    carries none; the Reader would read and parse the whole file beside the hash, on a core the hash and
    the copy need."""
    with fileio.descriptor(source, os.O_RDONLY) as fd:  # one positioned read per chunk: it runs beside the hash
        if os.pread(fd, 8, 0) != _PNG_SIGNATURE:
            return False
        position = 8
        for n in range(_PNG_MAX_CHUNKS):
            header = os.pread(fd, 8, position)
            if len(header) < 8:
                return False
            length: int = struct.unpack(">I", header[:4])[0]
            kind = header[4:]
            if not kind.isalpha() or kind == b"caBX" or (n == 0) != (kind == b"IHDR") or length > 0x7FFFFFFF:
                return False
            following = position + 12 + length
            if following > end:
                return False
            if kind in _PNG_TEXT:
                if length > _XMP_MAX or kind == b"zTXt":
                    return False
                body = os.pread(fd, length, position + 8)
                rest = body.partition(b"\x00")[2]
                if b"provenance" in body or (kind == b"iTXt" and rest[:1] != b"\x00"):
                    return False  # named, or compressed where a newer reader might inflate it
            if kind == b"IEND":
                return following == end
            position = following
    return False


def at_riff_end(source: Path, end: int, rewrite: Rewrite | None = None) -> AtRiffEnd | None:
    """A WAV signed here rather than by the library, or None: a single RIFF ``WAVE`` chunk that is the whole
    file, whose top-level chunks lie within it and include no ``C2PA`` chunk yet (RF64, a file with data after
    its RIFF chunk or one whose sizes do not add up is left to the library, as one that has credentials).
    ``rewrite``: how the XMP is staged (``xmp.wav_rewrite``), written before the manifest's chunk."""
    if not active():
        return None
    with open(source, "rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WAVE":
            return None
        riff_size = struct.unpack("<I", header[4:8])[0]
        grown = end + (len(rewrite.tail) if rewrite else 0)
        if riff_size + 8 != end or riff_size % 2 or grown + RIFF_HEADROOM > _RIFF_MAX:
            return None
        chunks = riff_chunks(fh, end)
    if chunks is None or any(kind == b"C2PA" for kind, _, _ in chunks):
        return None
    return AtRiffEnd("audio/wav", riff_size, end, rewrite)


def hash_ahead(source: Path, placement: Placement) -> fileio.HashAhead | None:
    """Start hashing the file ``placement`` will write, before its manifest is made, where what is hashed does
    not depend on the manifest's size (JPEG, PNG: the header and image data around the slot; a WAV with room
    reserved for its manifest: its RIFF size counts the room; a TIFF's offsets and a WAV's without room do
    depend on it); None elsewhere. ``sign(..., ahead=)`` takes it, and gives it up when the manifest does not
    fit the room; the caller closes it."""
    if isinstance(placement, InHeader):
        return fileio.HashAhead(source, placement.pieces(b""))
    if isinstance(placement, AtRiffEnd) and placement.reserved:
        return fileio.HashAhead(source, placement.ahead())
    return None


def sign(builder: Any, signer: Any, source: Path, placement: Placement, out: Callable[[], Path],
         ahead: fileio.HashAhead | None = None, beside: Callable[[], None] | None = None) -> None:
    """Write the file ``out()`` names (made when first called), the source with the manifest placed as
    ``placement`` says, and sign it (``ahead``: its hash already started, ``hash_ahead``; else it starts as
    soon as the manifest's size is known, before the output is made; ``beside``: run while the hash is,
    ``fileio.write_hashed``). Raises ``c2pa.C2paError`` when the library refuses, ClearanceError or OSError
    when the file cannot be written as modelled, and what ``beside`` raises; the output is then incomplete
    and the caller removes it."""
    calls = detached.library_calls()
    import c2pa

    builder._ensure_valid_state()
    fmt = (placement.compose or placement.mime).encode("ascii")
    byte_ptr = ctypes.POINTER(ctypes.c_ubyte)
    reserved = byte_ptr()
    size = calls.placeholder(builder._handle, signer.reserve_size(), fmt, ctypes.byref(reserved))
    if size < 0:
        raise c2pa.C2paError(calls.error())
    placeholder = placement.framed(calls.take(reserved, size))
    if isinstance(placement, AtRiffEnd) and not placement.fits(placeholder):
        # More than the room reserved: the hash started for that room is given up, and the file is written
        # with the RIFF size for the placeholder's own size, as when no room is reserved.
        if ahead is not None:
            ahead.close()
            ahead = None
        placement = placement.exact()
    try:
        pieces = placement.pieces(placeholder)
    except ClearanceError as exc:
        raise ClearanceError(f"{source}: {exc}") from None
    with contextlib.ExitStack() as stack:
        if ahead is None:
            ahead = fileio.HashAhead(source, pieces)
            stack.callback(ahead.close)
        path = out()
        out_fd = stack.enter_context(fileio.descriptor(path, os.O_RDWR | os.O_CREAT))
        digest, slots = fileio.write_hashed(pieces, ahead.fd, out_fd, ahead, beside)
        [(start, length)] = slots
        data_hash = {"name": "jumbf manifest", "alg": "sha256", "hash": list(digest), "pad": [],
                     "exclusions": [{"start": start, "length": length}]}
        signed = byte_ptr()
        size = calls.sign(builder._handle, signer._handle, json.dumps(data_hash).encode("ascii"), fmt, None,
                          ctypes.byref(signed))
        if size < 0:
            raise c2pa.C2paError(calls.error())
        manifest = placement.framed(calls.take(signed, size))
        if len(manifest) != length:
            raise ClearanceError(f"{source}: the C2PA library returned a manifest of {len(manifest)} bytes for a "
                                 f"place of {length}; nothing was written. Sign again with "
                                 "CLEARANCE_C2PA_LIBRARY_EMBED=1 and report it")
        fileio.write_at(out_fd, manifest, start)
    seen = placement.found_by_reader(manifest)
    if seen is not None:
        detached.check_claims(source, placement.mime, seen, None, digest, [(start, length)])
        return
    assert not isinstance(placement, InHeader)
    found = placement.placed_at(path)
    if found != (start, length):
        raise ClearanceError(f"{source}: the manifest is not where it was written ({found} for "
                             f"{(start, length)}); nothing was written. Report it with the file")
    detached.check_claims(source, RAW, b"", placement.store(manifest), digest, [(start, length)], located=False)
