"""Provenance scanner: find media whose own metadata says a generative model made it.

Fast path: built-in readers walk headers only (JPEG, PNG, ISO BMFF, RIFF, TIFF, OpenEXR, DPX, XMP) and a
built-in JUMBF/CBOR reader reads every C2PA manifest. ``verify_file`` adds full C2PA validation through
c2pa-python. See docs/scanner.md.
"""

from __future__ import annotations

from clearance.provenance.model import (
    GENAI_VERDICTS,
    VERDICT_RANK,
    C2paValidation,
    Evidence,
    ScanResult,
    Verdict,
    is_genai,
)
from clearance.provenance.scanner import scan_file, scan_path, scan_paths

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
