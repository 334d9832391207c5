"""An embedded manifest (JPEG, PNG) signed over a SHA-256 Clearance computes while it writes the signed file.

Left to itself, the C2PA library reads the whole file into memory, parses it, writes the signed copy and
hashes it in its own code, one step after another on one core: about ten times the cost of copying the
file. The C API has the documented alternative for callers that place the manifest themselves (c2pa-rs
``c2pa_c_ffi``, "a low-level method for advanced use cases where the caller handles embedding the
manifest"):

1. ``c2pa_builder_data_hashed_placeholder``: the manifest, composed for the format (JPEG: APP11 segments,
   PNG: a ``caBX`` chunk), with room reserved for the hash and the signature;
2. the caller writes the file with the placeholder where the library would put it (JPEG after the JFIF and
   Exif segments, PNG right after IHDR) and hashes it, the placeholder excluded: here the kernel copies the
   image data while a second thread hashes what has been written (``fileio.write_hashed``);
3. ``c2pa_builder_sign_data_hashed_embeddable`` with that data hash returns the signed manifest, composed
   and padded to the placeholder's exact size, which is written over the placeholder.

The library checks the signed manifest before returning it (``verify.verify_after_sign``); the hash is of
the bytes written, read back from the output. The XMP (IPTC AI fields) is in the header written in step 2,
so the signature covers it, as on the library's own path.

Only what is modelled here takes this path: JPEG and PNG over 10 MB (smaller ones get a thumbnail, which
the library makes only when it writes the file) whose header holds no JUMBF yet (a file that already
carries credentials, whose store must be replaced, is left to the library), with the c2pa-python version
these calls were checked against. Anything else, and ``CLEARANCE_C2PA_LIBRARY_EMBED=1``, signs
through the library's own path, before anything is written.
"""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path
from typing import Any

from clearance.credentials import detached, fileio
from clearance.credentials.xmp import Head
from clearance.errors import ClearanceError

FORMATS = ("image/jpeg", "image/png")
ENDS = {"image/jpeg": b"\xff\xd9", "image/png": b"\x00\x00\x00\x00IEND\xaeB`\x82"}  # EOI, the IEND chunk


def active() -> bool:
    """Are manifests placed and hashed here at all (this c2pa-python, not switched off)?"""
    if os.environ.get("CLEARANCE_C2PA_LIBRARY_EMBED"):  # forces the library's own path (tests, troubleshooting)
        return False
    return detached.available()


def usable(mime: str, head: Head, parent: bool, thumbnail: bool) -> bool:
    """Can this file be signed here rather than by the library? Not when the manifest is to carry a thumbnail:
    the library makes one only when it writes the file itself (files up to ``THUMBNAIL_MAX_BYTES``)."""
    return mime in FORMATS and not head.jumbf and not parent and not thumbnail and active()


def sign(builder: Any, signer: Any, mime: str, source: Path, head: Head, rest: int, out: Path) -> None:
    """Write ``out``: ``head`` with the manifest at ``head.slot``, then ``source`` from ``rest`` unchanged.
    Raises ``c2pa.C2paError`` when the library refuses, ClearanceError or OSError when the file cannot be
    written as modelled; ``out`` is then incomplete and the caller removes it."""
    calls = detached.library_calls()
    import c2pa

    builder._ensure_valid_state()
    fmt = mime.encode("ascii")
    byte_ptr = ctypes.POINTER(ctypes.c_ubyte)
    reserved = byte_ptr()
    size = calls.placeholder(builder._handle, signer.reserve_size(), fmt, ctypes.byref(reserved))
    if size < 0:
        raise c2pa.C2paError(calls.error())
    placeholder = calls.take(reserved, size)
    end = os.stat(source).st_size
    pieces: list[fileio.Piece] = [head.data[:head.slot], fileio.Slot(placeholder), head.data[head.slot:], (rest, end)]
    with fileio.descriptor(source, os.O_RDONLY) as src_fd, \
            fileio.descriptor(out, os.O_RDWR | os.O_CREAT) as out_fd:
        digest, slots = fileio.write_hashed(pieces, src_fd, out_fd)
        [(start, length)] = slots
        data_hash = {"name": "jumbf manifest", "alg": "sha256", "hash": list(digest), "pad": [],
                     "exclusions": [{"start": start, "length": length}]}
        signed = byte_ptr()
        size = calls.sign(builder._handle, signer._handle, json.dumps(data_hash).encode("ascii"), fmt, None,
                          ctypes.byref(signed))
        if size < 0:
            raise c2pa.C2paError(calls.error())
        manifest = calls.take(signed, size)
        if len(manifest) != length:
            raise ClearanceError(f"{source}: the C2PA library returned a manifest of {len(manifest)} bytes for a "
                                 f"place of {length}; nothing was written. Sign again with "
                                 "CLEARANCE_C2PA_LIBRARY_EMBED=1 and report it")
        fileio.pwrite_all(out_fd, manifest, start)
    # The header as written, the manifest in its place, the image data left out: what a reader finds.
    detached.check_claims(source, mime, head.data[:head.slot] + manifest + ENDS[mime], None, digest,
                          [(start, length)])
