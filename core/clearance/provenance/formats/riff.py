"""RIFF (WAV, WebP, AVI): walk chunks to the end of the file, seeking over ``data``/``movi``.

C2PA sits in a ``C2PA`` chunk, which writers may place after a large ``data`` chunk; XMP in ``XMP ``
(WebP) or ``_PMX`` (WAV from Adobe tools); ``EXIF`` (WebP: UserComment with A1111 parameters);
``LIST``/``INFO`` holds ISFT (software) and ICMT (comment).
"""

from __future__ import annotations

from clearance.provenance.formats import tiff
from clearance.provenance.jumbf import StoreBytes, c2pa_hits
from clearance.provenance.signals import text_field_hits, xmp_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

MAX_CHUNK = 16 * 1024 * 1024
_INFO_FIELDS = {b"ISFT": "ISFT (software)", b"ICMT": "ICMT (comment)", b"IART": "IART (artist)",
                b"ISRC": "ISRC (source)", b"IENG": "IENG (engineer)"}


def read(src: Source, hits: list[Hit]) -> None:
    head = src.exact(0, 12, "RIFF header")
    form = head[8:12].decode("latin-1").strip()
    # Chunks after the declared RIFF size exist in the wild (appended C2PA); walk to the end of the file.
    _walk(src, 12, src.size, hits, form, 0)


def _walk(src: Source, start: int, end: int, hits: list[Hit], form: str, depth: int) -> None:
    pos = start
    while pos + 8 <= end:
        src.step()
        head = src.exact(pos, 8, "RIFF chunk header")
        kind = head[:4]
        size = int.from_bytes(head[4:8], "little")
        body_at = pos + 8
        if body_at + size > end:
            if kind == b"data" and size in (0xFFFFFFFF, 0x7FFFFFFF):
                return  # a streaming writer's open-ended payload at the end: nothing after it
            raise ScanProblem(f"truncated: RIFF chunk {kind.decode('latin-1')!r} at byte {pos} claims {size} bytes, "
                              f"{end - body_at} are left (or a lying length)")
        name = kind.decode("latin-1")
        if kind in (b"C2PA", b"XMP ", b"_PMX", b"EXIF") or (depth and kind in _INFO_FIELDS):
            if size > MAX_CHUNK:
                raise ScanProblem(f"RIFF: {name} chunk of {size} bytes is over the metadata limit")
            if kind == b"C2PA":  # read in place: only the parts of the store provenance needs
                src.require(body_at, size, f"RIFF {name} chunk")
                c2pa_hits(StoreBytes.in_file(src, [(body_at, size)]), "riff", "C2PA chunk", hits)
                pos = body_at + size + (size & 1)
                continue
            body = src.exact(body_at, size, f"RIFF {name} chunk")
            if kind in (b"XMP ", b"_PMX"):
                xmp_hits(body, "riff", f"{name.strip()} chunk", hits)
            elif kind == b"EXIF":
                exif = body[6:] if body.startswith(b"Exif\0\0") else body
                tiff.read(Source(data=exif), hits, fmt="riff", location="EXIF chunk")
            else:
                text = body.rstrip(b"\0").decode("utf-8", errors="replace")
                text_field_hits("riff", f"LIST/INFO {name}", _INFO_FIELDS[kind], text, hits)
        elif kind == b"LIST" and depth == 0 and size >= 4 and src.exact(body_at, 4, "RIFF LIST type") == b"INFO":
            _walk(src, body_at + 4, body_at + size, hits, form, depth + 1)
        pos = body_at + size + (size & 1)
    if end - pos >= 2:  # one stray pad byte is common; a partial chunk header is not
        raise ScanProblem(f"truncated: a RIFF chunk header at byte {pos} is cut off by the end of the file")
