"""The signature check calls libsodium's crypto_sign_open itself (one output buffer per batch): it must answer
exactly as PyNaCl's own ``crypto_sign_open`` and as `cryptography` (the fallback) do, for a batch spread over
threads as for one signature: valid, altered data, another key, a flipped bit, a non-canonical S (S + L), a
small-order key or R, and wrong lengths."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from clearance import signatures

L = 2**252 + 27742317777372353535851937790883648493  # the order of the Ed25519 base point (RFC 8032)
SMALL_ORDER = bytes([1]) + bytes(31)  # the neutral point: order 1


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _pynacl(key: bytes, signature: bytes, data: bytes) -> bool:
    if len(signature) != 64 or len(key) != 32:
        return False
    try:
        crypto_sign_open(signature + data, key)
    except BadSignatureError:
        return False
    return True


def _cryptography(key: bytes, signature: bytes, data: bytes) -> bool:
    if len(signature) != 64 or len(key) != 32:
        return False
    return signatures._cryptography_ok(key, signature, data)


def _cases() -> list[tuple[str, tuple[bytes, bytes, bytes]]]:
    rng = random.Random(7)
    one, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    cases: list[tuple[str, tuple[bytes, bytes, bytes]]] = []
    for size in (0, 1, 63, 64, 300, 5000):
        data = rng.randbytes(size)
        signature = one.sign(data)
        cases.append((f"valid {size}", (_raw(one), signature, data)))
        cases.append((f"another key {size}", (_raw(other), signature, data)))
        if data:
            cases.append((f"data altered {size}", (_raw(one), signature, bytes([data[0] ^ 1]) + data[1:])))
        flipped = bytearray(signature)
        flipped[rng.randrange(64)] ^= 1 << rng.randrange(8)
        cases.append((f"a bit flipped {size}", (_raw(one), bytes(flipped), data)))
        s = int.from_bytes(signature[32:], "little")
        cases.append((f"S + L {size}", (_raw(one), signature[:32] + (s + L).to_bytes(32, "little"), data)))
        cases.append((f"small-order R {size}", (_raw(one), SMALL_ORDER + signature[32:], data)))
        cases.append((f"short signature {size}", (_raw(one), signature[:63], data)))
        cases.append((f"long signature {size}", (_raw(one), signature + b"\0", data)))
        cases.append((f"short key {size}", (_raw(one)[:31], signature, data)))
    cases.append(("small-order key", (SMALL_ORDER, bytes(32) + bytes(32), b"anything")))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("name", "item"), CASES, ids=[name for name, _item in CASES])
def test_one_signature_answers_as_pynacl_and_cryptography(name: str, item: tuple[bytes, bytes, bytes]) -> None:
    answer = signatures.verify(*item)
    assert answer == _pynacl(*item)
    assert answer == name.startswith("valid")
    if not name.startswith("small-order"):  # OpenSSL's check of small-order points is its own
        assert answer == _cryptography(*item)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_batch_over_threads_answers_as_one_at_a_time(workers: int) -> None:
    items = [item for _name, item in CASES] * 12  # over BATCH_MIN: spread over the threads
    assert len(items) >= signatures.BATCH_MIN
    expected = [_pynacl(*item) for item in items]
    assert signatures.verify_many(items, workers=workers) == expected
    assert [signatures.verify(*item) for item in items] == expected
    assert signatures._checks(items) == expected
    assert any(expected) and not all(expected)


def test_the_fallback_answers_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [item for name, item in CASES if not name.startswith("small-order")]
    expected = signatures.verify_many(items)
    monkeypatch.setattr(signatures, "_lib", None)
    assert signatures.verify_many(items, workers=2) == expected


class _Watched:
    """libsodium's binding, with each crypto_sign_open call checked for what libsodium will read."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.calls = 0

    def crypto_sign_open(self, out: object, size: object, signed: bytes, length: int, key: bytes) -> int:
        assert len(key) == 32 and length == len(signed) >= 64  # never a read past what was given
        self.calls += 1
        return self.real.crypto_sign_open(out, size, signed, length, key)  # type: ignore[attr-defined,no-any-return]


def test_libsodium_is_never_given_a_key_or_signature_of_another_length(monkeypatch: pytest.MonkeyPatch) -> None:
    watched = _Watched(signatures._lib)
    monkeypatch.setattr(signatures, "_lib", watched)
    items = [item for _name, item in CASES]
    assert signatures.verify_many(items) == [_pynacl(*item) for item in items]
    assert 0 < watched.calls < len(items)


def test_libsodium_is_initialised_before_it_verifies() -> None:
    """libsodium's first rule: sodium_init() before anything else. nacl.bindings would call it on import, but
    the verifier loads only PyNaCl's compiled module; in a fresh process it must have called it itself (a
    second call answers 1, "already initialised")."""
    program = ("import sys, clearance.signatures as s; assert 'nacl.bindings' not in sys.modules, 'bindings loaded';"
               " print(s._lib.sodium_init())")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
