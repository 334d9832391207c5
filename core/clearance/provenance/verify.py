"""Full C2PA validation through c2pa-python (``clearance scan --verify``), offline.

Settings: no remote manifest fetch, no OCSP fetch; trust anchors only when the user gives a PEM bundle.
c2pa-python's reading of the manifests goes through the same interpretation as the built-in reader
(jumbf.manifest_hits), so the two paths can be compared verdict for verdict.
"""

from __future__ import annotations

import json
from typing import Any, Literal, cast

from clearance.provenance.jumbf import manifest_hits
from clearance.provenance.model import VERDICT_RANK, C2paValidation, Hit, Verdict

OFFLINE_SETTINGS: dict[str, Any] = {"verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}
# Failure codes that only say the signer is not on a trust list: the content itself is intact.
def _trust_only(code: str) -> bool:
    code = code.removeprefix("ingredient: ")
    return code.endswith(".untrusted") or code.startswith("signingCredential.ocsp")

_contexts: dict[str | None, Any] = {}


def _context(trust_anchors: str | None) -> Any:
    ctx = _contexts.get(trust_anchors)
    if ctx is None:
        import c2pa

        settings = json.loads(json.dumps(OFFLINE_SETTINGS))
        if trust_anchors:
            settings["trust"] = {"trust_anchors": trust_anchors}
        ctx = _contexts[trust_anchors] = c2pa.Context.from_dict(settings)
    return ctx


def verdict_of(hits: list[Hit]) -> Verdict:
    if not hits:
        return "none"
    return cast("Verdict", max(hits, key=lambda h: VERDICT_RANK[h.verdict]).verdict)  # readers say valid verdicts


def _failures(report: dict[str, Any]) -> list[str]:
    codes: list[str] = []
    results = report.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    for entry in active.get("failure") or []:
        codes.append(str(entry.get("code")))
    for delta in results.get("ingredientDeltas") or []:
        for entry in ((delta.get("validationDeltas") or {}).get("failure")) or []:
            codes.append(f"ingredient: {entry.get('code')}")
    for entry in report.get("validation_status") or []:
        code = str(entry.get("code"))
        if code not in codes and not code.endswith((".validated", ".match", ".insideValidity", ".trusted")):
            codes.append(code)
    return codes


def manifests_from_report(report: dict[str, Any]) -> list[dict[str, Any]]:
    """c2pa-python's JSON -> the shape jumbf.manifest_hits reads."""
    out = []
    for label, manifest in (report.get("manifests") or {}).items():
        assertions = [
            {"label": a.get("label", ""), "data": a.get("data")}
            for a in manifest.get("assertions") or []
            if isinstance(a, dict) and str(a.get("label", "")).startswith("c2pa.actions")
        ]
        claim = {"claim_generator": manifest.get("claim_generator"),
                 "claim_generator_info": manifest.get("claim_generator_info")}
        out.append({"label": label, "claim": claim, "assertions": assertions})
    return out


def verify_file(path: str, trust_anchors: str | None = None) -> C2paValidation:
    """Validate the C2PA manifest store of one file. Never raises for a bad file."""
    try:
        import c2pa
    except ImportError:
        return C2paValidation(status="unsupported", verdict="none",
                              detail="c2pa-python is not installed (pip install 'clearance[scanner]')")
    try:
        reader = c2pa.Reader(path, context=_context(trust_anchors))
    except c2pa.C2paError.ManifestNotFound:
        return C2paValidation(status="no_manifest", verdict="none", detail="no C2PA manifest store")
    except c2pa.C2paError.NotSupported as exc:
        return C2paValidation(status="unsupported", verdict="none", detail=_one_line(exc))
    except c2pa.C2paError.RemoteManifest as exc:
        return C2paValidation(status="remote", verdict="none",
                              detail=f"the manifest is stored remotely and this scan is offline: {_one_line(exc)}")
    except c2pa.C2paError as exc:
        if str(exc).startswith("Remote"):  # c2pa-python 0.38 raises the base class with a 'Remote:' prefix
            return C2paValidation(status="remote", verdict="none",
                                  detail=f"the manifest is stored remotely and this scan is offline: {_one_line(exc)}")
        return C2paValidation(status="invalid", verdict="none",
                              detail=f"the manifest cannot be validated: {_one_line(exc)}")
    except OSError as exc:
        return C2paValidation(status="error", verdict="none", detail=str(exc))
    try:
        report = json.loads(reader.json())
    finally:
        reader.close()
    hits = manifest_hits(manifests_from_report(report), "c2pa", "c2pa-python", report.get("active_manifest"))
    failures = _failures(report)
    state = report.get("validation_state")
    status: Literal["signed", "untrusted", "tampered"]
    if state == "Trusted":
        status = "signed"
    elif state == "Valid" or (failures and all(_trust_only(f) for f in failures)):
        status = "untrusted"
    else:
        status = "tampered"
    detail = {"signed": "valid signature from a trusted signer",
              "untrusted": "valid signature, signer not on the trust list (give --trust-anchors)",
              "tampered": "validation failed: the media or its manifests changed after signing"}[status]
    return C2paValidation(status=status, verdict=verdict_of(hits), detail=f"{detail} (state {state})",
                          failures=failures[:20])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
