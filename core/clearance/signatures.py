"""Ed25519 signature checks: one verifier, the fastest sound implementation available.

libsodium (through PyNaCl, `pip install pynacl`) verifies about twice as fast as `cryptography` on the
machines measured (bench/verify.py prints both in the same run); `cryptography` is the fallback and is
always installed. Both implement RFC 8032 verification and refuse non-canonical signatures, so the choice
changes speed, never an answer. Nothing here remembers a result on disk: a "verified" on disk could be
forged by anyone who can write the file.

libsodium is called through PyNaCl's own binding of it (``nacl._sodium``, what ``nacl.bindings`` calls):
``crypto_sign_open`` on the signature followed by the signed bytes, as ``nacl.bindings.crypto_sign_open``
does, but with one output buffer for a whole batch instead of two allocations, an exception and a copy of
the output per signature. It is the same check as the detached one: libsodium's ``crypto_sign_ed25519_open``
calls ``crypto_sign_ed25519_verify_detached`` on the first 64 bytes and the rest (libsodium's source,
src/libsodium/crypto_sign/ed25519/ref10/open.c; "Combined mode" and "Detached mode" in its documentation,
https://doc.libsodium.org/public-key_cryptography/public-key_signatures), which refuses a non-canonical S
and a small-order R or public key. PyNaCl 1.6 binds no ``crypto_sign_verify_detached`` to call directly.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_ffi: Any
_lib: Any
try:  # libsodium releases the GIL while it verifies, so a batch spreads over threads and cores
    _sodium: Any = importlib.import_module("nacl._sodium")  # compiled by cffi: no types to check against
    _ffi, _lib = _sodium.ffi, _sodium.lib
    # libsodium is used only after sodium_init() (its documentation's first rule; nacl.bindings calls it on
    # import, which this module skips): 0 done now, 1 done before, -1 failed (then cryptography verifies)
    if _lib.sodium_init() < 0:  # pragma: no cover - libsodium could not set itself up
        raise ImportError("libsodium failed to initialise")

    BACKEND = "libsodium"
except ImportError:  # pragma: no cover - PyNaCl is a dependency; this keeps a broken install verifying
    _ffi = _lib = None
    BACKEND = "cryptography"

SIGNATURE_BYTES = 64
KEY_BYTES = 32
BATCH_MIN = 256
"""Below this many first checks a batch is checked in this thread: spreading it costs more than it saves."""

Item = tuple[bytes, bytes, bytes]
"""(raw 32-byte public key, 64-byte signature, the signed bytes)."""

_keys: dict[bytes, Ed25519PublicKey] = {}


def _cryptography_ok(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    key = _keys.get(public_raw)
    if key is None:
        key = _keys[public_raw] = Ed25519PublicKey.from_public_bytes(public_raw)
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _sodium_checks(items: Sequence[Item]) -> list[bool]:
    """libsodium's ``crypto_sign_open`` of each (key, signature, data), 0 meaning the signature holds."""
    sign_open = _lib.crypto_sign_open
    # crypto_sign_open writes the message (or zeros, when refused) into the output: as long as the longest data
    out = _ffi.new("unsigned char[]", max([len(data) for _key, _signature, data in items], default=0) + 1)
    size = _ffi.new("unsigned long long *")
    # libsodium reads 32 bytes of key and 64 of signature whatever it is given: other lengths never reach it
    return [len(signature) == SIGNATURE_BYTES and len(key) == KEY_BYTES
            and sign_open(out, size, signature + data, SIGNATURE_BYTES + len(data), key) == 0
            for key, signature, data in items]


def _checks(items: Sequence[Item]) -> list[bool]:
    if _lib is not None:
        return _sodium_checks(items)
    return [len(signature) == SIGNATURE_BYTES and len(key) == KEY_BYTES and _cryptography_ok(key, signature, data)
            for key, signature, data in items]


def verify(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    """Does ``signature`` sign ``data`` under the raw 32-byte Ed25519 key ``public_raw``?"""
    return _checks([(public_raw, signature, data)])[0]


def verify_many(items: Sequence[Item], *, workers: int | None = None) -> list[bool]:
    """``verify`` for each (public key, signature, data), spread over the machine's cores for large batches.

    libsodium runs without the GIL, one part per thread, so the wait is nearly divided by the number of cores,
    for 2-4% more CPU time on a quiet machine (up to a fifth more when another process holds a core: measured
    in bench/RESULTS.md); a large batch is spread, since the artist waits for the wall clock."""
    count = workers or os.cpu_count() or 1
    if len(items) < BATCH_MIN or count < 2 or _lib is None:
        return _checks(items)
    size = -(-len(items) // count)
    parts = [items[start:start + size] for start in range(0, len(items), size)]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        answers = pool.map(_sodium_checks, parts)
    return [ok for part in answers for ok in part]
