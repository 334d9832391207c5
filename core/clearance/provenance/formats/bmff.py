"""ISO BMFF (MP4, MOV, HEIF/AVIF, M4A): top-level boxes only, seeking over ``mdat``.

C2PA sits in a top-level ``uuid`` box (d8fec3d6-1b0e-483c-9297-5828877ec481: version/flags, a purpose
string, for 'manifest' an 8-byte offset, then the JUMBF store). XMP sits in a ``uuid`` box
(be7acfcb-97a9-42e8-9c71-999491e3afac) or in ``moov/udta/XMP_``.
"""

from __future__ import annotations

from clearance.provenance.jumbf import c2pa_hits
from clearance.provenance.model import Hit
from clearance.provenance.signals import xmp_hits
from clearance.provenance.source import ScanProblem, Source

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
MAX_BOX_READ = 16 * 1024 * 1024


def _walk(src: Source, start: int, end: int, hits: list[Hit], path: str, depth: int) -> None:
    pos = start
    while pos + 8 <= end:
        src.step()
        head = src.exact(pos, 8, f"BMFF box header in {path or 'file'}")
        size = int.from_bytes(head[:4], "big")
        kind = head[4:8].decode("latin-1")
        header = 8
        if size == 1:
            size = int.from_bytes(src.exact(pos + 8, 8, f"BMFF '{kind}' large size"), "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ScanProblem(f"BMFF: box '{kind}' at byte {pos} claims {size} bytes, {end - pos} are left "
                              "(truncated or lying length)")
        body_at, body_len = pos + header, size - header
        where = f"{path}/{kind}" if path else kind
        if kind == "uuid" and body_len >= 16:
            usertype = src.exact(body_at, 16, "BMFF uuid")
            if usertype in (C2PA_UUID, XMP_UUID):
                if body_len > MAX_BOX_READ:
                    raise ScanProblem(f"BMFF: {where} box of {body_len} bytes is over the metadata limit")
                body = src.exact(body_at + 16, body_len - 16, f"BMFF {where} box")
                if usertype == XMP_UUID:
                    xmp_hits(body, "bmff", "uuid (XMP)", hits)
                else:
                    _c2pa_uuid(body, hits)
        elif kind in ("moov", "udta") and depth < 2:
            _walk(src, body_at, body_at + body_len, hits, where, depth + 1)
        elif kind == "XMP_" and path.endswith("udta"):
            if body_len > MAX_BOX_READ:
                raise ScanProblem(f"BMFF: {where} box of {body_len} bytes is over the metadata limit")
            xmp_hits(src.exact(body_at, body_len, f"BMFF {where}"), "bmff", where, hits)
        pos += size


def _c2pa_uuid(body: bytes, hits: list[Hit]) -> None:
    # FullBox version/flags, then a NUL-terminated purpose; 'manifest' adds an 8-byte merkle offset.
    end = body.find(b"\0", 4)
    if end < 0:
        raise ScanProblem("BMFF: C2PA uuid box without a purpose string")
    purpose = body[4:end].decode("latin-1")
    if purpose != "manifest":
        return  # 'merkle' boxes hold hashes of fragmented media, no provenance claims
    c2pa_hits(body[end + 1 + 8 :], "bmff", "uuid (C2PA)", hits)


def read(src: Source, hits: list[Hit]) -> None:
    _walk(src, 0, src.size, hits, "", 0)
