"""What a C2PA reader will see in a file's Content Credentials, read with c2pa-python, offline.

States: ``trusted`` (intact, signer chains to a given trust anchor), ``valid`` (intact, signer on no trust
list given: readers show an unknown signer), ``invalid`` (the bytes or the manifest were changed after
signing, or the manifest breaks the C2PA rules), ``none`` (no credentials, embedded or sidecar).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from clearance.credentials.identity import TEST_ORGANIZATION
from clearance.credentials.signing import ASSERTION_LABEL, EMBEDDED, OFFLINE, SIDECAR, sidecar_path
from clearance.errors import ClearanceError

State = Literal["trusted", "valid", "invalid", "none"]


class IngredientView(BaseModel):
    title: str
    relationship: str
    has_credentials: bool
    source_types: list[str] = Field(default_factory=list)


class CredentialView(BaseModel):
    path: str
    state: State
    where: Literal["embedded", "sidecar", "none"] = "none"
    signer: str = ""
    signed_at: str | None = None
    test_identity: bool = False
    source_types: list[str] = Field(default_factory=list, description="digitalSourceType of the active manifest")
    actions: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    clearance: dict[str, Any] | None = None
    ingredients: list[IngredientView] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)
    manifests: int = 0

    @property
    def ok(self) -> bool:
        return self.state in ("trusted", "valid")

    def lines(self) -> list[str]:
        if self.state == "none":
            return [f"{self.path}: no Content Credentials (nothing embedded, no {Path(self.path).stem}.c2pa beside it)"]
        head = {
            "trusted": "Content Credentials intact, signer trusted",
            "valid": "Content Credentials intact; the signer is on no trust list given, so readers show "
                     "an unknown signer",
            "invalid": "Content Credentials INVALID: readers will warn that the file or its manifest was changed",
        }[self.state]
        out = [f"{self.path}: {head} ({self.where})"]
        who = f"  signed by {self.signer or 'unknown'}" + (f" at {self.signed_at}" if self.signed_at else "")
        if self.test_identity:
            who += " - a Clearance TEST identity: not for delivery"
        out.append(who)
        if self.source_types:
            out.append("  made: " + ", ".join(_short_type(t) for t in self.source_types)
                       + (f" with {', '.join(self.tools)}" if self.tools else ""))
        if self.actions:
            out.append("  actions: " + ", ".join(self.actions))
        if self.clearance:
            uses = self.clearance.get("uses") or []
            for use in uses:
                approval = ", ".join(use.get("approval_ids") or []) or "none needed"
                out.append(f"  record {use.get('record_id')}: {use.get('decision')}; approval {approval}")
        for ing in self.ingredients:
            creds = "with its own credentials" if ing.has_credentials else "no credentials"
            kinds = f" ({', '.join(_short_type(t) for t in ing.source_types)})" if ing.source_types else ""
            out.append(f"  ingredient ({ing.relationship}): {ing.title}, {creds}{kinds}")
        for failure in self.failures:
            out.append(f"  failure: {failure}")
        return out


def _short_type(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _context(trust_pem: str | None) -> Any:
    import c2pa

    settings = json.loads(json.dumps(OFFLINE))
    if trust_pem:
        settings["trust"] = {"trust_anchors": trust_pem}
    return c2pa.Context.from_dict(settings)


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            out += [a for a in (assertion.get("data") or {}).get("actions") or [] if isinstance(a, dict)]
    return out


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label") == label and isinstance(assertion.get("data"), dict):
            return dict(assertion["data"])
    return None


def _source_types(manifest: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(a["digitalSourceType"] for a in _actions(manifest) if a.get("digitalSourceType")))


def read_credentials(path: str | Path, trust_pem: str | None = None) -> CredentialView:
    """Read one file's credentials (embedded, else a ``.c2pa`` sidecar beside it)."""
    import c2pa

    file = Path(path)
    if not file.is_file():
        raise ClearanceError(f"{file}: no such file")
    ext = file.suffix.lower().lstrip(".")
    mime = EMBEDDED.get(ext) or SIDECAR.get(ext) or ""
    context = _context(trust_pem)
    sidecar = sidecar_path(file)
    reader = None
    where: Literal["embedded", "sidecar", "none"] = "none"
    try:
        if ext not in SIDECAR:
            with open(file, "rb") as fh:
                reader = c2pa.Reader.try_create(mime or None, fh, None, context)
                where = "embedded" if reader is not None else "none"
                store = json.loads(reader.json()) if reader is not None else None
                results = reader.get_validation_results() if reader is not None else None
        if reader is None and sidecar.is_file():
            with open(file, "rb") as fh:
                reader = c2pa.Reader(mime or "application/octet-stream", fh, sidecar.read_bytes(), context)
                where = "sidecar"
                store = json.loads(reader.json())
                results = reader.get_validation_results()
    except c2pa.C2paError as exc:
        return CredentialView(path=str(file), state="invalid", where="sidecar" if sidecar.is_file() else "embedded",
                              failures=[" ".join(str(exc).split())[:300]])
    if reader is None or store is None:
        return CredentialView(path=str(file), state="none")
    reader.close()
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "") or {}
    failures = [f"{f.get('code')}: {f.get('explanation', '')}".strip()
                for f in ((results or {}).get("activeManifest") or {}).get("failure") or []]
    for ing in ((results or {}).get("ingredientDeltas") or []):
        for f in ((ing.get("validationDeltas") or {}).get("failure") or []):
            failures.append(f"ingredient: {f.get('code')}")
    untrusted = [f for f in failures if ".untrusted" in f or "signingCredential.ocsp" in f]
    real = [f for f in failures if f not in untrusted]
    state: State = "invalid" if real else ("valid" if untrusted else "trusted")
    sig = active.get("signature_info") or {}
    signer = ", ".join(str(x) for x in (sig.get("common_name"), sig.get("issuer")) if x)
    tools = []
    for action in _actions(active):
        agent = action.get("softwareAgent")
        name = agent.get("name") if isinstance(agent, dict) else agent
        if isinstance(name, str) and name:
            version = agent.get("version") if isinstance(agent, dict) else None
            tools.append(f"{name} {version}" if version else name)
    ingredients = []
    for ing in active.get("ingredients") or []:
        label = ing.get("active_manifest")
        inner = manifests.get(label) if label else None
        ingredients.append(IngredientView(
            title=str(ing.get("title") or "(untitled)"), relationship=str(ing.get("relationship") or ""),
            has_credentials=inner is not None, source_types=_source_types(inner) if inner else [],
        ))
    return CredentialView(
        path=str(file), state=state, where=where, signer=signer, signed_at=sig.get("time"),
        test_identity=TEST_ORGANIZATION in str(sig.get("issuer") or ""),
        source_types=_source_types(active), actions=[str(a.get("action")) for a in _actions(active)],
        tools=list(dict.fromkeys(tools)), clearance=_assertion(active, ASSERTION_LABEL), ingredients=ingredients,
        failures=(real + untrusted) if state != "trusted" else [], manifests=len(manifests),
    )
