"""PNG: walk chunks, skipping IDAT/fdAT payloads; read text chunks, caBX (C2PA) and eXIf.

Text chunks (tEXt, zTXt, iTXt) are judged by key: ``parameters`` (AUTOMATIC1111 / Forge),
``prompt`` and ``workflow`` (ComfyUI), ``invokeai_metadata``, ``Software``, ``XML:com.adobe.xmp``.
Compressed text is inflated with a size cap, so a zip bomb costs nothing.
"""

from __future__ import annotations

import zlib

from clearance.provenance.formats import tiff
from clearance.provenance.jumbf import StoreBytes, c2pa_hits
from clearance.provenance.signals import MAX_TEXT, text_field_hits, xmp_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT = frozenset([b"tEXt", b"zTXt", b"iTXt"])
MAX_CHUNK = 16 * 1024 * 1024


def read(src: Source, hits: list[Hit]) -> None:
    pos = 8
    while True:
        src.step()
        head = src.read(pos, 8)
        if len(head) < 8:
            if pos >= src.size:
                raise ScanProblem("truncated: the PNG ends without an IEND chunk")
            raise ScanProblem(f"truncated: PNG chunk header at byte {pos}")
        length = int.from_bytes(head[:4], "big")
        kind = head[4:8]
        if length > 0x7FFFFFFF:
            raise ScanProblem(f"PNG: chunk {kind!r} at byte {pos} has an impossible length {length}")
        if kind == b"IEND":
            return
        if pos + 12 + length > src.size:
            raise ScanProblem(f"truncated: PNG chunk {kind.decode('latin-1')} at byte {pos} claims {length} bytes, "
                              f"the file ends at {src.size}")
        if kind in _PAYLOAD:
            pos = _skip_payload_run(src, pos + 12 + length)
            continue
        if kind in _TEXT or kind in (b"caBX", b"eXIf"):
            if length > MAX_CHUNK:
                raise ScanProblem(f"PNG: {kind.decode('latin-1')} chunk of {length} bytes is over the "
                                  f"{MAX_CHUNK // 1048576} MiB limit")
            if kind == b"caBX":  # read in place: only the parts of the store provenance needs
                src.require(pos + 8, length, "PNG caBX chunk")
                c2pa_hits(StoreBytes.in_file(src, [(pos + 8, length)]), "png", "caBX", hits)
                pos += 12 + length
                continue
            body = src.exact(pos + 8, length, f"PNG {kind.decode('latin-1')} chunk")
            if kind == b"eXIf":
                tiff.read(Source(data=body), hits, fmt="png", location="eXIf")
            else:
                _text_chunk(kind.decode("latin-1"), body, hits)
        pos += 12 + length


# Image data chunks. Encoders split the image into many (libpng: 8 KiB each, so 12,000 for a 100 MB texture);
# text chunks may follow them, so the walk goes on to IEND, but over these in a tight loop that neither
# counts them as entries (a large image is not a hostile file) nor pays the general loop's cost per chunk.
_PAYLOAD = frozenset([b"IDAT", b"fdAT"])


def _skip_payload_run(src: Source, pos: int) -> int:
    """The position of the first chunk after a run of whole image data chunks starting at ``pos``; anything
    else (another chunk, a bad length, a cut-off file) is left to the main loop to read or report."""
    size = src.size
    walked = 0
    while True:
        head = src.header(pos, 8)
        if len(head) < 8 or head[4:8] not in _PAYLOAD:
            return pos
        end = pos + 12 + int.from_bytes(head[:4], "big")
        if end > size or end - pos - 12 > 0x7FFFFFFF:
            return pos
        pos = end
        walked += 1
        if not walked & 255:
            src.check_time()


def _inflate(data: bytes, what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT + 1)
    except zlib.error as exc:
        raise ScanProblem(f"PNG: {what} does not decompress ({exc})") from None
    if len(out) > MAX_TEXT:
        raise ScanProblem(f"PNG: {what} inflates to more than {MAX_TEXT // 1048576} MiB (decompression bomb?)")
    return out


def _text_chunk(kind: str, body: bytes, hits: list[Hit]) -> None:
    sep = body.find(b"\0")
    if sep <= 0 or sep > 79:
        raise ScanProblem(f"PNG: {kind} chunk has no valid keyword")
    key = body[:sep].decode("latin-1")
    rest = body[sep + 1 :]
    location = f"{kind} {key}"
    if kind == "tEXt":
        text = rest.decode("latin-1")
    elif kind == "zTXt":
        text = _inflate(rest[1:], location).decode("latin-1")
    else:
        if len(rest) < 2:
            raise ScanProblem(f"PNG: truncated iTXt chunk {key}")
        compressed = rest[0]
        rest = rest[2:]
        lang_end = rest.find(b"\0")
        trans_end = rest.find(b"\0", lang_end + 1) if lang_end >= 0 else -1
        if trans_end < 0:
            raise ScanProblem(f"PNG: malformed iTXt chunk {key}")
        payload = rest[trans_end + 1 :]
        if compressed:
            payload = _inflate(payload, location)
        if key == "XML:com.adobe.xmp":
            xmp_hits(payload, "png", location, hits)
            return
        text = payload.decode("utf-8", errors="replace")
    text_field_hits("png", location, key, text, hits)
