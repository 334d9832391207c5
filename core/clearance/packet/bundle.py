"""Write a delivery packet (register + machine-readable bundle + signed manifest of digests) and verify one offline.

Layout::

    DIR/register.html  register.pdf           the readable register
    DIR/bundle/packet.json                    production, time, origin, per-use and per-shot summary
    DIR/bundle/records.json decisions.json    every record (latest version, less prompts it keeps private) and its
                                              decision
    DIR/bundle/approvals.json                 the approvals exactly as the service signed them
    DIR/bundle/revocations.json keys.json     the signed revocation list, the approver keys
    DIR/bundle/checkpoint.json                the service's signed audit checkpoint, when it gives one
    DIR/MANIFEST.json                         sha256 and size of every file above, signed by the vendor

The manifest is signed with the vendor's signing identity (the one Content Credentials use): an edited
byte anywhere changes a digest, and an edited manifest breaks its signature. Approvals, the revocation
list and the checkpoint keep the service's own signatures, checked against the keys in the packet; the
keys themselves are only as good as their fingerprints, which the studio can compare with its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clearance import __version__
from clearance.credentials.identity import (
    TEST_ORGANIZATION,
    SigningIdentity,
    chain_problem,
    describe_certificate,
    sign_bytes,
    verify_signature,
)
from clearance.documents import canonical_json
from clearance.errors import ClearanceError
from clearance.packet.assess import Assessment, ShotView, UseView, assess
from clearance.record import without_private_prompt

FORMAT = "clearance.packet/1"
MANIFEST = "MANIFEST.json"
BUNDLE = "bundle"
MAX_FILE_BYTES = 512 << 20


def _dump(data: Any) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes, files: dict[str, dict[str, Any]], root: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    files[path.relative_to(root).as_posix()] = {"sha256": _digest(data), "bytes": len(data)}


def _article_50(a: Assessment) -> dict[str, Any]:
    return {"deep_fake": a.deep_fake, "why": a.why, "suggested_disclosure": a.disclosure or None,
            "artistic_work": a.artistic}


def summary(uses: list[UseView], shots: list[ShotView] | None) -> dict[str, Any]:
    return {
        "uses": [{"record_id": u.record_id, "decision": u.outcome, "status": u.status, "rules": u.rules,
                  "approvals": [{"approval_id": a.approval_id, "approver": a.approver, "issued_at": a.issued_at,
                                 "expires_at": a.expires_at or None, "conditions": a.conditions, "state": a.state}
                                for a in u.approvals],
                  "denial": u.denial or None, "prompt": u.record.prompt.shared_text(),
                  "prompt_withheld": u.record.prompt.withheld(),
                  "article_50": _article_50(assess([u]))} for u in uses],
        "shots": None if shots is None else [
            {"shot": s.shot, "record_in": s.timecode_in, "record_out": s.timecode_out, "record_ids": s.record_ids,
             "clips": [{"name": c.name, "track": c.track, "in": c.timecode_in, "out": c.timecode_out,
                        "record_id": c.record_id, "status": c.status} for c in s.clips],
             "untagged_ai": [{"name": c.name, "media": c.media, "in": c.timecode_in} for c in s.untagged_ai],
             "article_50": None if s.assessment is None else _article_50(s.assessment)}
            for s in shots],
    }


def write_packet(
    out: Path, *, production: str, generated_at: datetime, origin: str, records: dict[str, Any],
    decisions: dict[str, Any], approvals: list[dict[str, Any]], revocations: dict[str, Any] | None,
    keys: dict[str, Any] | None, checkpoint: dict[str, Any] | None, notes: list[str], html: str,
    pdf: Path | None, uses: list[UseView], shots: list[ShotView] | None, identity: SigningIdentity,
) -> Path:
    """Write the packet into ``out`` (created; must be empty or absent) and sign its manifest."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ClearanceError(f"{out}: exists and is not an empty folder; give a new folder with -o")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    _write(out / "register.html", html.encode("utf-8"), files, out)
    if pdf is not None:
        _write(out / "register.pdf", pdf.read_bytes(), files, out)
    bundle = out / BUNDLE
    packet = {"format": FORMAT, "production": production, "generated_at": generated_at.isoformat(),
              "generator": f"Clearance {__version__}", "origin": origin, "notes": notes, **summary(uses, shots)}
    _write(bundle / "packet.json", _dump(packet), files, out)
    # the records as the studio holds them, less the prompts they do not allow sharing: a packet leaves the studio
    shareable = {key: without_private_prompt(data) if isinstance(data, dict) else data for key, data in records.items()}
    _write(bundle / "records.json", _dump(shareable), files, out)
    _write(bundle / "decisions.json", _dump(decisions), files, out)
    _write(bundle / "approvals.json", _dump(approvals), files, out)
    for name, doc in (("revocations.json", revocations), ("keys.json", keys), ("checkpoint.json", checkpoint)):
        if doc is not None:
            _write(bundle / name, _dump(doc), files, out)
    manifest: dict[str, Any] = {
        "format": FORMAT, "production": production, "generated_at": generated_at.isoformat(), "files": files,
        "signer": {"certificate_chain": identity.chain_pem.decode("ascii"), "algorithm": identity.algorithm,
                   "subject": identity.subject, "test_identity": identity.test},
    }
    signature = sign_bytes(identity, canonical_json(manifest))
    manifest["signature"] = base64.b64encode(signature).decode("ascii")
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return out


# ------------------------------------------------------------------------------------------------- verify


@dataclass
class Check:
    holds: bool
    text: str


@dataclass
class PacketVerification:
    folder: Path
    checks: list[Check] = field(default_factory=list)

    def hold(self, text: str) -> None:
        self.checks.append(Check(True, text))

    def fail(self, text: str) -> None:
        self.checks.append(Check(False, text))

    @property
    def ok(self) -> bool:
        return all(c.holds for c in self.checks)

    def lines(self) -> list[str]:
        out = [f"{'holds' if c.holds else 'FAILS'}: {c.text}" for c in self.checks]
        failed = sum(not c.holds for c in self.checks)
        out.append(f"{self.folder}: " + ("every check holds" if not failed else f"{failed} check(s) FAIL: do not "
                                         "rely on this packet"))
        return out


def _read_bounded(path: Path) -> bytes:
    """A packet file's bytes through the one bounded reader (regular files only, never blocking, size cap)."""
    from clearance.documents import read_bytes

    if path.is_symlink():
        raise ClearanceError(f"{path}: is a symbolic link; a packet holds plain files only")
    return read_bytes(path, limit=MAX_FILE_BYTES, what="a packet file")


def _json(path: Path) -> Any:
    """A bundle's JSON: bounded read, nesting checked before parsing (a bundle holds thousands of records, so
    the node budget of hand-written documents does not apply)."""
    from clearance.documents import check_json_nesting

    raw = _read_bounded(path)
    check_json_nesting(raw, str(path))
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ClearanceError(f"{path}: not valid JSON") from None


def verify_packet(folder: Path, *, trust_pem: str | None = None, studio_keys: Any | None = None) -> PacketVerification:
    """Check every digest and signature of a packet offline; each check says what holds or what fails."""
    from clearance.approvals import TrustedKeys, parse_approval, signature_problem, verify_document
    from clearance.record import decision_digest, record_from_data

    result = PacketVerification(folder)
    if not folder.is_dir():
        raise ClearanceError(f"{folder}: no such packet folder")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ClearanceError(f"{folder}: no {MANIFEST}; this is not a Clearance delivery packet (or it lost its "
                             "manifest)")
    try:
        manifest = _json(manifest_path)
    except ClearanceError as exc:
        result.fail(f"{MANIFEST}: {str(exc).split(': ', 1)[-1]}: it was edited or damaged")
        return result
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        result.fail(f"{MANIFEST}: not a {FORMAT} manifest: it was edited, or this is not a Clearance packet")
        return result
    signer = manifest.get("signer") or {}
    chain = str(signer.get("certificate_chain") or "").encode("ascii", "replace")
    body = {k: v for k, v in manifest.items() if k != "signature"}
    try:
        signature = base64.b64decode(str(manifest.get("signature") or ""), validate=True)
    except ValueError:
        signature = b""
    problem = verify_signature(chain, str(signer.get("algorithm") or ""), canonical_json(body), signature) \
        if signature else "the manifest carries no signature"
    if problem:
        result.fail(f"{MANIFEST} signature: {problem}")
    else:
        who = describe_certificate(chain)
        test = TEST_ORGANIZATION in who
        result.hold(f"{MANIFEST} is signed by {who}" + (" - a TEST identity, not for delivery" if test else ""))
        if trust_pem:
            issue = chain_problem(chain, trust_pem)
            if issue:
                result.fail(f"signer trust: {issue}")
            else:
                result.hold("signer trust: the signer's certificate chains to a trusted root given")
        else:
            result.hold("signer trust: not checked (give --trust-anchors PEM to check the signer's CA)")
    listed = manifest.get("files")
    files: dict[str, Any] = listed if isinstance(listed, dict) else {}
    good = 0
    for rel, entry in sorted(files.items()):
        path = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            result.fail(f"{rel}: a path outside the packet is listed")
            continue
        if not path.is_file():
            result.fail(f"{rel}: listed in the manifest but missing")
            continue
        data = _read_bounded(path)
        if _digest(data) != entry.get("sha256") or len(data) != entry.get("bytes"):
            result.fail(f"{rel}: its sha256 differs from the manifest's: the file was edited after signing")
        else:
            good += 1
    if good:
        result.hold(f"{good} file(s) match their signed sha256 digests")
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST and rel not in files:
            result.fail(f"{rel}: not covered by the manifest (added after signing)")
    bundle = folder / BUNDLE
    needed = ["packet.json", "records.json", "decisions.json", "approvals.json"]
    for name in needed:
        if f"{BUNDLE}/{name}" not in files:
            result.fail(f"{BUNDLE}/{name}: missing from the manifest")
    if not result.ok:
        return result  # the content is not what was signed: judging it further would mislead
    keys_doc = _json(bundle / "keys.json") if (bundle / "keys.json").is_file() else None
    try:
        keys = TrustedKeys.from_document(keys_doc, "bundle/keys.json") if keys_doc else TrustedKeys()
    except ClearanceError as exc:
        result.fail(str(exc))
        return result
    if not len(keys):
        result.fail("bundle/keys.json: no approver keys in the packet: approvals cannot be checked")
    else:
        result.hold(f"approver keys in the packet: {', '.join(keys.key_ids())}")
        if studio_keys is not None:
            unknown = [k for k in keys.key_ids() if k not in studio_keys]
            if unknown:
                result.fail(f"approver keys {', '.join(unknown)} are not among the studio's pinned keys")
            else:
                result.hold("every approver key in the packet is one of the studio's pinned keys")
        else:
            result.hold("approver keys are the packet's own: compare their ids with the studio's (or give --keys)")
    records = _json(bundle / "records.json")
    decisions = _json(bundle / "decisions.json")
    approvals = _json(bundle / "approvals.json")
    parsed = {}
    for record_id, data in (records or {}).items():
        try:
            parsed[record_id] = record_from_data(data, f"bundle/records.json {record_id}")
        except ClearanceError as exc:
            result.fail(str(exc))
    missing = [r for r in parsed if r not in (decisions or {})]
    if missing:
        result.fail(f"bundle/decisions.json: no decision for record(s) {', '.join(missing[:5])}")
    else:
        result.hold(f"{len(parsed)} record(s), each with its decision")
    bad = 0
    for doc in approvals or []:
        try:
            approval = parse_approval(doc, "bundle/approvals.json")
        except ClearanceError as exc:
            result.fail(str(exc))
            bad += 1
            continue
        st = approval.statement
        record = parsed.get(str(st.record_id))
        issue = signature_problem(approval, keys)
        if issue is None and record is None:
            issue = f"it approves record {st.record_id}, which the packet does not hold"
        if issue is None and record is not None and st.record_digest != decision_digest(record):
            issue = "it approves another version of the record than the packet holds"
        if issue:
            result.fail(f"approval {st.approval_id}: {issue}")
            bad += 1
    if approvals and not bad:
        result.hold(f"{len(approvals)} approval(s): each signature is valid and binds the record the packet holds")
    for name, what in (("revocations.json", "revocation list"), ("checkpoint.json", "audit checkpoint")):
        path = bundle / name
        if not path.is_file():
            if name == "revocations.json":
                result.fail("bundle/revocations.json: no revocation list: nothing shows the approvals were not "
                            "revoked")
            else:
                result.hold("no audit checkpoint in the packet (built offline, or the service gives none)")
            continue
        doc = _json(path)
        from clearance.packet.assess import revocation_documents

        documents = revocation_documents(doc) if name == "revocations.json" and isinstance(doc, dict) else [doc]
        if not documents:
            result.fail(f"bundle/{name}: holds no {what}")
        for part in documents:
            check = verify_document(part, keys) if isinstance(part, dict) else None
            if check is None or not check.valid:
                result.fail(f"bundle/{name}: the {what}'s signature does not verify"
                            + (f" ({check.reason})" if check else ""))
            else:
                stamp = part.get("generated_at") or part.get("at") or ""
                anchors = f", anchoring audit entry {part['seq']}" if isinstance(part.get("seq"), int) else ""
                result.hold(f"the {what} is signed by approver key {check.key_id}{anchors}"
                            + (f", as of {stamp}" if stamp else ""))
    return result


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
