"""Ed25519 signature checks: one verifier, the fastest sound implementation available.

libsodium (through PyNaCl, `pip install pynacl`) verifies about twice as fast as `cryptography` on the
machines measured (bench/verify.py prints both in the same run); `cryptography` is the fallback and is
always installed. Both implement RFC 8032 verification and refuse non-canonical signatures, so the choice
changes speed, never an answer. Nothing here remembers a result on disk: a "verified" on disk could be
forged by anyone who can write the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_sodium_open: Callable[[bytes, bytes], bytes] | None
try:  # libsodium releases the GIL while it verifies, so a batch spreads over threads and cores
    from nacl.bindings import crypto_sign_open as _sodium_open
    from nacl.exceptions import BadSignatureError as _SodiumBad

    BACKEND = "libsodium"
except ImportError:  # pragma: no cover - PyNaCl is a dependency; this keeps a broken install verifying
    _sodium_open = None
    BACKEND = "cryptography"

SIGNATURE_BYTES = 64
BATCH_MIN = 256
"""Below this many first checks a batch is checked in this thread: spreading it costs more than it saves."""

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


def _sodium_ok(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    assert _sodium_open is not None
    try:
        _sodium_open(signature + data, public_raw)
    except _SodiumBad:
        return False
    return True


def verify(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    """Does ``signature`` sign ``data`` under the raw 32-byte Ed25519 key ``public_raw``?"""
    if len(signature) != SIGNATURE_BYTES or len(public_raw) != 32:
        return False
    if _sodium_open is not None:
        return _sodium_ok(public_raw, signature, data)
    return _cryptography_ok(public_raw, signature, data)


def verify_many(items: Sequence[tuple[bytes, bytes, bytes]], *, workers: int | None = None) -> list[bool]:
    """``verify`` for each (public key, signature, data), spread over the machine's cores for large batches."""
    count = workers or os.cpu_count() or 1
    if len(items) < BATCH_MIN or count < 2 or _sodium_open is None:
        return [verify(*item) for item in items]
    size = -(-len(items) // count)
    parts = [items[start:start + size] for start in range(0, len(items), size)]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        answers = pool.map(lambda part: [verify(*item) for item in part], parts)
    return [ok for part in answers for ok in part]
