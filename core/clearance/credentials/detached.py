"""A detached manifest (the ``.c2pa`` sidecar of an EXR, DPX or MXF) signed over a SHA-256 Clearance computes.

A sidecar binds the whole file by a C2PA data hash with no exclusions. Left to itself, the C2PA library
reads the file through c2pa-python's stream callbacks, copies it to a sink nobody reads and hashes it in its
own code: about four times the CPU of ``hashlib`` (OpenSSL) reading the same file here. The C API has the
documented alternative for callers that hash the asset themselves: ``c2pa_builder_data_hashed_placeholder``,
then ``c2pa_builder_sign_data_hashed_embeddable`` with the DataHash (c2pa-rs ``c2pa_c_ffi``, "a low-level
method for advanced use cases where the caller handles embedding the manifest"). c2pa-python does not wrap
those two calls, so they are made through the library c2pa-python loaded, on its own Builder and Signer.

The hash is taken while the file is written (``fileio.write_hashed``: the EXR with its new header, or the
copy ``-o`` asks for), or over the file as it is (a DPX or MXF signed where it lies). The sidecar is then
read back with c2pa-python's Reader before it is written (``check_claims``): the signature, the certificate
and every assertion must validate, and the hard binding must be the digest Clearance computed; re-hashing
the file in the library, as a full validation does, would prove nothing more and cost about four hashes.
The library's own ``verify_after_sign`` (which never re-hashed a detached manifest's file either) is then
left off. When a piece used here is missing from the installed c2pa-python, ``available()`` is False and
the caller signs through the library's own path.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import hashlib
import io
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from clearance.credentials import fileio
from clearance.errors import ClearanceError

SIDECAR_FORMAT = b"application/c2pa"  # the raw manifest store, as a .c2pa file holds it
_HASH_BLOCK = 1 << 20
_OK_STATES = ("Valid", "Trusted")
CHECKED_VERSION = "0.38."  # c2pa-python, as pyproject.toml pins it


class _Calls:
    def __init__(self, module: Any) -> None:
        self.module = module
        lib = ctypes.CDLL(module._lib._name)  # the same loaded library, with call signatures of our own
        byte_ptr = ctypes.POINTER(ctypes.c_ubyte)
        self.placeholder = lib.c2pa_builder_data_hashed_placeholder
        self.placeholder.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(byte_ptr)]
        self.placeholder.restype = ctypes.c_int64
        self.sign = lib.c2pa_builder_sign_data_hashed_embeddable
        self.sign.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                              ctypes.POINTER(byte_ptr)]
        self.sign.restype = ctypes.c_int64
        # The caller-placed calls a movie's BMFF hash is signed with (``bmff``); None in a library without them.
        self.placeholder_embeddable: Any = None
        self.sign_embeddable: Any = None
        if hasattr(lib, "c2pa_builder_placeholder") and hasattr(lib, "c2pa_builder_sign_embeddable"):
            self.placeholder_embeddable = lib.c2pa_builder_placeholder
            self.sign_embeddable = lib.c2pa_builder_sign_embeddable
            for call in (self.placeholder_embeddable, self.sign_embeddable):
                call.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(byte_ptr)]
                call.restype = ctypes.c_int64

    def take(self, pointer: Any, size: int) -> bytes:
        try:
            return ctypes.string_at(pointer, size)
        finally:
            self.module._lib.c2pa_free(pointer)

    def error(self) -> str:
        reader = getattr(self.module, "_read_native_error", None)
        return str(reader() or "unknown error") if reader is not None else "unknown error"


@functools.lru_cache(maxsize=1)
def _calls() -> _Calls | None:
    if os.environ.get("CLEARANCE_C2PA_LIBRARY_HASH"):  # forces the library's own path (tests, troubleshooting)
        return None
    try:
        import c2pa
        from c2pa import c2pa as module

        lib = module._lib
        if not all(hasattr(lib, name) for name in ("c2pa_builder_data_hashed_placeholder",
                                                    "c2pa_builder_sign_data_hashed_embeddable", "c2pa_free")):
            return None
        if not (hasattr(c2pa.Builder, "_ensure_valid_state") and hasattr(c2pa.Signer, "reserve_size")):
            return None
        if not metadata.version("c2pa-python").startswith(CHECKED_VERSION):
            return None  # the private handles and call shapes used here are those of this version
        return _Calls(module)
    except (ImportError, OSError, AttributeError, TypeError, metadata.PackageNotFoundError):
        return None


def available() -> bool:
    return _calls() is not None


def library_calls() -> _Calls:
    """The data-hashed calls (only when ``available()``)."""
    calls = _calls()
    if calls is None:
        raise RuntimeError("the C2PA library's data-hashed calls are used where available() is False")
    return calls


def sha256_of(path: Path) -> bytes:
    """The file's SHA-256, read in large blocks (``hashlib`` releases the GIL while it hashes)."""
    digest = hashlib.sha256()
    block = bytearray(_HASH_BLOCK)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(view):
            digest.update(view[:n])
    return digest.digest()


def sign(builder: Any, signer: Any, path: Path, digest: bytes | None = None) -> bytes:
    """The signed manifest store for ``path`` (whose SHA-256 is ``digest`` when the caller computed it while
    writing the file), checked against it (only when ``available()``). Raises ``c2pa.C2paError`` when the
    library refuses, ClearanceError when the read-back does not validate."""
    calls = library_calls()
    import c2pa

    builder._ensure_valid_state()
    byte_ptr = ctypes.POINTER(ctypes.c_ubyte)
    reserved = byte_ptr()
    size = calls.placeholder(builder._handle, signer.reserve_size(), SIDECAR_FORMAT, ctypes.byref(reserved))
    if size < 0:
        raise c2pa.C2paError(calls.error())
    calls.take(reserved, size)
    digest = digest or sha256_of(path)
    data_hash = {"name": "jumbf manifest", "alg": "sha256", "hash": list(digest), "pad": []}
    signed = byte_ptr()
    size = calls.sign(builder._handle, signer._handle, json.dumps(data_hash).encode("ascii"), SIDECAR_FORMAT, None,
                      ctypes.byref(signed))
    if size < 0:
        raise c2pa.C2paError(calls.error())
    manifest = calls.take(signed, size)
    check_claims(path, "application/octet-stream", b"", manifest, digest, [])
    return manifest


def check_claims(where: Path, mime: str, stream: bytes, manifest: bytes | None, digest: bytes,
                 exclusions: list[tuple[int, int]], *, located: bool = True) -> None:
    """Read a manifest just signed back with the library's Reader (``fileio.read_back``, else c2pa-python's
    Reader, which reports the same), without the file's bytes (``stream`` is at most the file's header, where
    an embedded manifest sits): the signature, the certificate and every
    assertion must validate, and the hard binding must be the SHA-256 Clearance computed over the bytes it
    wrote, with the exclusions it made. Only the data hash cannot match (the Reader has no data to hash):
    the digest is compared instead, which is what re-hashing the file would have proved, at no cost. A
    manifest that sits after the data (``located=False``, the caller has checked where it is) is read alone,
    and the Reader also reports it not found where its exclusion says, which is then expected."""
    import c2pa

    # The detailed report carries the same validation results as the plain one: one report, not two.
    if fileio.reads_back_natively():
        detailed = fileio.read_back(stream, mime, manifest)
    else:
        reader = c2pa.Reader(mime, io.BytesIO(stream), manifest)
        try:
            detailed = json.loads(reader.detailed_json())
        finally:
            reader.close()
    results = detailed.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    failures = [str(f.get("code")) for f in active.get("failure") or []]
    real = [c for c in failures if not c.endswith(".untrusted") and not c.startswith("signingCredential.ocsp")]
    signed = any(s.get("code") == "claimSignature.validated" for s in active.get("success") or [])
    try:
        binding = detailed["manifests"][detailed["active_manifest"]]["assertion_store"]["c2pa.hash.data"]
        bound = (binding.get("alg") == "sha256" and base64.b64decode(binding["hash"]) == digest
                 and [(e["start"], e["length"]) for e in binding.get("exclusions") or []] == exclusions)
    except (KeyError, TypeError, ValueError):
        bound = False
    expected = ["assertion.dataHash.mismatch"] * (1 if located or not exclusions else 2)
    if not (signed and bound and real == expected):
        problems = [c for c in real if c != "assertion.dataHash.mismatch"] or ["the data hash is not the file's"]
        raise ClearanceError(f"{where}: the signed manifest does not read back as signed ({', '.join(problems)}); "
                             "nothing was written. Sign again; if it repeats, report it with the file")
