"""Provenance scanner: find media whose own metadata says a generative model made it.

Fast path: built-in readers walk headers only (JPEG, PNG, ISO BMFF, RIFF, TIFF, OpenEXR, DPX, XMP) and a
built-in JUMBF/CBOR reader reads every C2PA manifest. ``verify_file`` adds full C2PA validation through
c2pa-python. See docs/scanner.md.

The pydantic models (ScanResult, Evidence, C2paValidation) are imported on first use (PEP 562): the
scanner itself works on plain values, so ``clearance scan`` does not pay for pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from clearance.provenance.scanner import scan_file, scan_path, scan_paths
from clearance.provenance.verdicts import GENAI_VERDICTS, VERDICT_RANK, Verdict, is_genai

if TYPE_CHECKING:
    from clearance.provenance.model import C2paValidation, Evidence, ScanResult

_MODELS = frozenset({"C2paValidation", "Evidence", "ScanResult"})

__all__ = [
    "GENAI_VERDICTS",
    "VERDICT_RANK",
    "C2paValidation",
    "Evidence",
    "ScanResult",
    "Verdict",
    "is_genai",
    "scan_file",
    "scan_path",
    "scan_paths",
]


def __getattr__(name: str) -> Any:
    if name not in _MODELS:
        raise AttributeError(f"module 'clearance.provenance' has no attribute {name!r}")
    value = getattr(importlib.import_module("clearance.provenance.model"), name)
    globals()[name] = value
    return value
