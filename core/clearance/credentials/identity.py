"""The signing identity for Content Credentials: a certificate chain and a key, or an external signer command.

Where it comes from, first match wins:

1. the policy's ``credentials`` section: ``cert_chain`` + ``key`` (PEM files), or ``cert_chain`` +
   ``signer_command`` (a program that signs; the key never touches this machine), with ``tsa_url``;
2. the test identity ``clearance credentials init`` made under the Clearance home (``credentials/``),
   unless the policy sets ``credentials.allow_test_identity: false``.

Nothing else: with neither, signing is refused. C2PA readers only show a signer as known when its chain
leads to a CA on their trust list (the C2PA trust list, or a reader's own); the test identity's CA is on
none, so readers show its credentials as signed by an unknown signer. Real deliveries need a certificate
from a CA that readers trust.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shlex
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError
from clearance.paths import data_dir

TEST_ORGANIZATION = "Clearance test identity (not for delivery)"
IDENTITY_DIR = "credentials"
CHAIN_FILE = "signer-chain.pem"
KEY_FILE = "signer-key.pem"
CA_FILE = "test-ca.pem"
INFO_FILE = "identity.json"
ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")
SIGNER_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SigningIdentity:
    """What signs: a PEM chain (leaf first) and either a PEM key or a signer command."""

    chain_pem: bytes
    algorithm: str
    source: str
    key_pem: bytes | None = None
    command: tuple[str, ...] | None = None
    tsa_url: str | None = None
    test: bool = False

    @property
    def subject(self) -> str:
        return describe_certificate(self.chain_pem)


def identity_dir() -> Path:
    return data_dir() / IDENTITY_DIR


@functools.lru_cache(maxsize=32)  # parsing the chain costs a tenth of a millisecond per signed file otherwise
def describe_certificate(chain_pem: bytes) -> str:
    """'CN, O (valid until DATE)' for the leaf certificate of a chain."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    leaf = x509.load_pem_x509_certificates(chain_pem)[0]

    def attr(oid: Any) -> str:
        found = leaf.subject.get_attributes_for_oid(oid)
        return str(found[0].value) if found else ""

    parts = [p for p in (attr(NameOID.COMMON_NAME), attr(NameOID.ORGANIZATION_NAME)) if p]
    return f"{', '.join(parts) or 'unnamed'} (valid until {leaf.not_valid_after_utc:%Y-%m-%d})"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if sys.platform != "win32":
        os.chmod(path, 0o600)


def init_test_identity(directory: Path | None = None, *, organization: str = "", force: bool = False) -> Path:
    """Make a test CA and an ES256 signing certificate it issued (C2PA's certificate profile), 0600 in 0700."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = directory or identity_dir()
    if (folder / KEY_FILE).exists() and not force:
        raise ClearanceError(f"{folder}: a signing identity is already there; keep it, or replace it with --force")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform != "win32":
        os.chmod(folder, 0o700)
    now = dt.datetime.now(dt.timezone.utc)
    org = TEST_ORGANIZATION + (f": {organization}" if organization else "")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Clearance test CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    no_usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                              "encipher_only", "decipher_only"), False)
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **no_usage),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Clearance test signer"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    # The C2PA certificate profile: an end-entity certificate (not self-signed) with digitalSignature and
    # an extended key usage readers accept (emailProtection here).
    leaf = (
        x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **no_usage),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    _write_private(folder / KEY_FILE, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / CHAIN_FILE).write_bytes(chain)
    (folder / CA_FILE).write_bytes(ca.public_bytes(pem))
    info = {"kind": "test", "algorithm": "es256", "created_at": now.isoformat(timespec="seconds"),
            "note": "self-made test identity: C2PA readers show it as an unknown signer; real deliveries need a "
                    "certificate from a CA on the C2PA trust list"}
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return folder


def _read(path_text: str, what: str) -> bytes:
    from clearance.documents import DocumentError, read_bytes

    path = Path(path_text).expanduser()
    try:  # bounded and never blocking: a key or certificate is a few kilobytes
        return read_bytes(path, limit=1024 * 1024, what=f"the {what} (a PEM file)")
    except DocumentError as exc:
        raise ClearanceError(f"{exc}; fix credentials.{what} in the policy") from None


def _check_key_permissions(path: Path) -> None:
    if sys.platform == "win32":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ClearanceError(f"{path}: the signing key is readable by other users (mode {mode:o}); "
                             f"fix it with `chmod 600 {path}`")


def _algorithm_of(chain_pem: bytes, where: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError:
        raise ClearanceError(f"{where}: no PEM certificate in it; give the signing certificate chain, leaf "
                             "first") from None
    key = leaf.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(key.curve.name, "")
    if isinstance(key, rsa.RSAPublicKey):
        return "ps256"
    return ""


def _check_validity(chain_pem: bytes, where: str) -> None:
    from cryptography import x509

    leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    now = dt.datetime.now(dt.timezone.utc)
    if leaf.not_valid_after_utc <= now:
        raise ClearanceError(f"{where}: the signing certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}; "
                             "renew it (or run `clearance credentials init --force` for a new test identity)")
    if leaf.not_valid_before_utc > now:
        raise ClearanceError(f"{where}: the signing certificate is not valid before "
                             f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC; check this machine's clock")


def resolve_identity(settings: Any | None = None) -> SigningIdentity:
    """The identity signing uses now (see the module docstring), or a one-line refusal saying how to get one."""
    chain_path = getattr(settings, "cert_chain", None)
    key_path = getattr(settings, "key", None)
    command = getattr(settings, "signer_command", None)
    tsa = getattr(settings, "tsa_url", None)
    if tsa and not str(tsa).startswith(("http://", "https://")):
        raise ClearanceError(f"credentials.tsa_url {tsa!r} is not an http(s) URL; fix it in the policy")
    if chain_path or key_path or command:
        if not chain_path:
            raise ClearanceError("credentials.cert_chain is not set: give the PEM certificate chain that goes with "
                                 "credentials.key or credentials.signer_command")
        if not key_path and not command:
            raise ClearanceError("credentials.cert_chain is set but neither credentials.key nor "
                                 "credentials.signer_command: give one of them")
        if key_path and command:
            raise ClearanceError("credentials.key and credentials.signer_command are both set: keep one")
        chain = _read(chain_path, "cert_chain")
        algorithm = (getattr(settings, "algorithm", None) or _algorithm_of(chain, chain_path)).lower()
        if algorithm not in ALGORITHMS:
            raise ClearanceError(f"{chain_path}: the certificate's key type is not one C2PA signs with; use an "
                                 "EC P-256/384/521, Ed25519 or RSA-PSS key")
        _check_validity(chain, chain_path)
        if key_path:
            _check_key_permissions(Path(key_path).expanduser())
            return SigningIdentity(chain, algorithm, f"policy ({chain_path})", key_pem=_read(key_path, "key"),
                                   tsa_url=tsa)
        parts = tuple(command) if isinstance(command, list | tuple) else tuple(shlex.split(str(command)))
        if not parts:
            raise ClearanceError("credentials.signer_command is empty: give the program and its arguments")
        return SigningIdentity(chain, algorithm, f"policy ({chain_path}, signer command {parts[0]})",
                               command=parts, tsa_url=tsa)
    folder = identity_dir()
    if not (folder / KEY_FILE).is_file():
        raise ClearanceError("no signing identity: set credentials.cert_chain and credentials.key (or "
                             "credentials.signer_command) in the policy, or run `clearance credentials init` "
                             "for a test identity")
    if settings is not None and not getattr(settings, "allow_test_identity", True):
        raise ClearanceError(f"the policy forbids the test identity (credentials.allow_test_identity: false) and "
                             f"sets no other; set credentials.cert_chain and credentials.key ({folder} is a "
                             "test identity)")
    _check_key_permissions(folder / KEY_FILE)
    chain = _read(str(folder / CHAIN_FILE), "cert_chain")
    _check_validity(chain, str(folder / CHAIN_FILE))
    return SigningIdentity(chain, "es256", f"test identity ({folder})", key_pem=_read(str(folder / KEY_FILE), "key"),
                           tsa_url=tsa, test=True)


def _run_signer(command: tuple[str, ...], data: bytes) -> bytes:
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=SIGNER_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise ClearanceError(f"credentials.signer_command: {command[0]} was not found; fix the command") from None
    except subprocess.TimeoutExpired:
        raise ClearanceError(f"credentials.signer_command: {command[0]} gave no signature within "
                             f"{SIGNER_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0 or not done.stdout:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ClearanceError(f"credentials.signer_command: {command[0]} failed (exit {done.returncode})"
                             + (f": {said[-1]}" if said else ""))
    return done.stdout


def make_signer(identity: SigningIdentity) -> Any:
    """A c2pa.Signer for the identity. A signer command gets the bytes on stdin and answers the raw signature."""
    import c2pa

    try:
        if identity.key_pem is not None:
            info = c2pa.C2paSignerInfo(identity.algorithm.encode(), identity.chain_pem, identity.key_pem,
                                       identity.tsa_url.encode() if identity.tsa_url else None)
            return c2pa.Signer.from_info(info)
        assert identity.command is not None
        command = identity.command
        failures: list[ClearanceError] = []

        def sign(data: bytes) -> bytes:
            try:
                return _run_signer(command, bytes(data))
            except ClearanceError as exc:
                failures.append(exc)
                raise

        alg = getattr(c2pa.C2paSigningAlg, identity.algorithm.upper())
        signer = c2pa.Signer.from_callback(sign, alg, identity.chain_pem.decode("ascii"), identity.tsa_url)
        signer._clearance_failures = failures  # read back by the signing code to report the command's own error
        return signer
    except c2pa.C2paError as exc:
        raise ClearanceError(f"{identity.source}: the C2PA library refuses this identity ({_short(exc)}); check "
                             "that the chain starts with the signing certificate and matches the key") from None


_kept = threading.local()


def signer_for(identity: SigningIdentity) -> Any:
    """``make_signer(identity)``, kept for the next file this thread of this process signs with the same chain,
    key and timestamp authority: making one loads and checks the certificate and key, which costs about what
    signing does, and a publish signs many files. Only in memory, where the key already is (never on disk, never
    shared with another process or thread). A signer command's signer is made afresh: it carries the
    command's failures of its own signing. The identity's validity was checked when it was resolved."""
    if identity.key_pem is None:
        return make_signer(identity)
    key = (os.getpid(), identity.algorithm, identity.chain_pem, identity.key_pem, identity.tsa_url)
    kept: tuple[tuple[Any, ...], Any] | None = getattr(_kept, "signer", None)
    if kept is None or kept[0] != key:
        kept = (key, make_signer(identity))
        _kept.signer = kept
    return kept[1]


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def sign_bytes(identity: SigningIdentity, data: bytes) -> bytes:
    """A raw signature over ``data`` with the identity (ECDSA as r||s, as C2PA signers answer)."""
    if identity.command is not None:
        return _run_signer(identity.command, data)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    assert identity.key_pem is not None
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    digest = _hash_for(identity.algorithm)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
    raise ClearanceError(f"{identity.source}: the key type cannot sign (use EC, Ed25519 or RSA)")


def _hash_for(algorithm: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(algorithm[-3:],
                                                                                         hashes.SHA256())


def verify_signature(chain_pem: bytes, algorithm: str, data: bytes, signature: bytes) -> str | None:
    """None when the chain's leaf certificate signed ``data``; else why not."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError:
        return "the signer's certificate chain is not readable PEM"
    key = leaf.public_key()
    digest = _hash_for(algorithm)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                return "the signature has the wrong length for the certificate's key"
            der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
            key.verify(der, data, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size),
                       digest)
        else:
            return "the certificate's key type is not one Clearance verifies"
    except InvalidSignature:
        return "the signature does not match: the manifest was edited after signing, or signed by another key"
    return None


def chain_problem(chain_pem: bytes, anchors_pem: str) -> str | None:
    """None when the chain leads, certificate by certificate, to one of the anchors; else why not."""
    from cryptography import x509

    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
        anchors = x509.load_pem_x509_certificates(anchors_pem.encode())
    except ValueError:
        return "a certificate is not readable PEM"
    current = chain[0]
    pool = chain[1:] + anchors
    for _ in range(len(pool) + 1):
        if any(current == anchor for anchor in anchors):
            return None
        issuer = next((c for c in pool if c.subject == current.issuer and _issued(current, c)), None)
        if issuer is None:
            return f"the signer's chain does not lead to a trusted root ({current.issuer.rfc4514_string()} unknown)"
        if any(issuer == anchor for anchor in anchors):
            return None
        current = issuer
    return "the signer's chain loops"


def _issued(cert: Any, issuer: Any) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:  # any failure (signature, names, algorithm) means: not issued by this certificate
        return False
