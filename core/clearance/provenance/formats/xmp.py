"""A standalone XMP file (sidecar ``.xmp`` or a bare packet)."""

from __future__ import annotations

from clearance.provenance.signals import MAX_TEXT, xmp_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit


def read(src: Source, hits: list[Hit]) -> None:
    if src.size > MAX_TEXT:
        raise ScanProblem(f"XMP sidecar of {src.size} bytes is over the {MAX_TEXT // 1048576} MiB limit")
    xmp_hits(src.exact(0, src.size, "XMP packet"), "xmp", "sidecar", hits)
