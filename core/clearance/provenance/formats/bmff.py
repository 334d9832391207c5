"""ISO BMFF (MP4, MOV, HEIF/AVIF, M4A): top-level boxes only, seeking over ``mdat``.

C2PA sits in a top-level ``uuid`` box (d8fec3d6-1b0e-483c-9297-5828877ec481: version/flags, a purpose
string, for 'manifest' an 8-byte offset, then the JUMBF store). XMP sits in a ``uuid`` box
(be7acfcb-97a9-42e8-9c71-999491e3afac) or in ``moov/udta/XMP_``; in HEIF/AVIF stills XMP and EXIF are
items of the top-level ``meta`` box (``iinf`` names them, ``iloc`` says where their bytes are).
"""

from __future__ import annotations

from clearance.provenance.formats import tiff
from clearance.provenance.jumbf import StoreBytes, c2pa_hits
from clearance.provenance.signals import xmp_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

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
                if usertype == XMP_UUID:
                    xmp_hits(src.exact(body_at + 16, body_len - 16, f"BMFF {where} box"), "bmff", "uuid (XMP)", hits)
                else:
                    src.require(body_at + 16, body_len - 16, f"BMFF {where} box")
                    _c2pa_uuid(src, body_at + 16, body_len - 16, hits)
        elif kind == "meta" and not path:
            if body_len > MAX_BOX_READ:
                raise ScanProblem(f"BMFF: meta box of {body_len} bytes is over the metadata limit")
            _meta(src, src.exact(body_at, body_len, "BMFF meta box"), hits)
        elif kind in ("moov", "udta") and depth < 2:
            _walk(src, body_at, body_at + body_len, hits, where, depth + 1)
        elif kind == "XMP_" and path.endswith("udta"):
            if body_len > MAX_BOX_READ:
                raise ScanProblem(f"BMFF: {where} box of {body_len} bytes is over the metadata limit")
            xmp_hits(src.exact(body_at, body_len, f"BMFF {where}"), "bmff", where, hits)
        pos += size


def _c2pa_uuid(src: Source, at: int, length: int, hits: list[Hit]) -> None:
    """The box after its usertype, read in place: the head for the purpose, then only what the store needs."""
    # FullBox version/flags, then a NUL-terminated purpose; 'manifest' adds an 8-byte merkle offset.
    head = src.read(at, min(length, 256))
    end = head.find(b"\0", 4)
    if end < 0 and len(head) < length:  # a purpose longer than any C2PA defines: look through the whole box
        head = src.read(at, length)
        end = head.find(b"\0", 4)
    if end < 0:
        raise ScanProblem("BMFF: C2PA uuid box without a purpose string")
    purpose = head[4:end].decode("latin-1")
    if purpose != "manifest":
        return  # 'merkle' boxes hold hashes of fragmented media, no provenance claims
    skip = min(end + 1 + 8, length)
    c2pa_hits(StoreBytes.in_file(src, [(at + skip, length - skip)]), "bmff", "uuid (C2PA)", hits)


def read(src: Source, hits: list[Hit]) -> None:
    _walk(src, 0, src.size, hits, "", 0)


MAX_ITEMS = 4096
MAX_ITEM_BYTES = 4 * 1024 * 1024


def _children(data: bytes, start: int, end: int) -> dict[str, tuple[int, int]]:
    """Child boxes of an in-memory box: type -> (body start, body end) (first of each type)."""
    out: dict[str, tuple[int, int]] = {}
    pos = start
    count = 0
    while pos + 8 <= end:
        count += 1
        if count > MAX_ITEMS:
            raise ScanProblem("BMFF: too many boxes in meta")
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8].decode("latin-1")
        header = 8
        if size == 1 and pos + 16 <= end:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ScanProblem(f"BMFF: meta child '{kind}' claims {size} bytes, {end - pos} are left (lying length)")
        out.setdefault(kind, (pos + header, pos + size))
        pos += size
    return out


def _uint(data: bytes, pos: int, size: int, end: int) -> tuple[int, int]:
    if pos + size > end:
        raise ScanProblem("BMFF: truncated meta item table")
    return (int.from_bytes(data[pos : pos + size], "big") if size else 0), pos + size


def _meta(src: Source, meta: bytes, hits: list[Hit]) -> None:
    boxes = _children(meta, 4, len(meta))  # meta is a FullBox: skip version/flags
    if "iinf" not in boxes or "iloc" not in boxes:
        return
    wanted = _item_types(meta, *boxes["iinf"])
    if not wanted:
        return
    idat = boxes.get("idat")
    for item_id, (kind, extents) in _locations(meta, *boxes["iloc"], wanted).items():
        data = b""
        for method, offset, length in extents:
            if length > MAX_ITEM_BYTES or len(data) + length > MAX_ITEM_BYTES:
                raise ScanProblem(f"BMFF: meta item {item_id} is over the metadata limit")
            if method == 0:
                data += src.exact(offset, length, f"HEIF item {item_id}")
            elif method == 1 and idat is not None:
                start = idat[0] + offset
                if start + length > idat[1]:
                    raise ScanProblem(f"BMFF: meta item {item_id} runs past its idat box")
                data += meta[start : start + length]
        if kind == "xmp":
            xmp_hits(data, "bmff", "meta item (XMP)", hits)
        elif kind == "exif" and len(data) > 4:
            skip = int.from_bytes(data[:4], "big")  # offset of the TIFF header after this field
            if 4 + skip < len(data):
                tiff.read(Source(data=data[4 + skip :]), hits, fmt="bmff", location="meta item (EXIF)")


def _item_types(meta: bytes, start: int, end: int) -> dict[int, str]:
    """iinf: item id -> 'xmp' or 'exif' for the items we read."""
    version = meta[start] if start < end else 0
    pos = start + 4
    _, pos = _uint(meta, pos, 2 if version == 0 else 4, end)
    found: dict[int, str] = {}
    for _ in range(MAX_ITEMS):
        if pos + 8 > end:
            break
        size = int.from_bytes(meta[pos : pos + 4], "big")
        if size < 8 or pos + size > end:
            raise ScanProblem(f"BMFF: infe box claims {size} bytes, {end - pos} are left (lying length)")
        body, box_end = pos + 8, pos + size
        if meta[pos + 4 : pos + 8] == b"infe" and box_end - body >= 8 and meta[body] >= 2:
            item_id, p = _uint(meta, body + 4, 2 if meta[body] == 2 else 4, box_end)
            p += 2  # protection index
            item_type = meta[p : p + 4]
            p += 4
            name_end = meta.find(b"\0", p, box_end)
            if item_type == b"Exif":
                found[item_id] = "exif"
            elif item_type == b"mime" and name_end >= 0:
                content_end = meta.find(b"\0", name_end + 1, box_end)
                content = meta[name_end + 1 : content_end if content_end >= 0 else box_end]
                if content.strip() == b"application/rdf+xml":
                    found[item_id] = "xmp"
        pos = box_end
    return found


Extent = tuple[int, int, int]  # (construction method, offset, length)


def _locations(meta: bytes, start: int, end: int, wanted: dict[int, str]) -> dict[int, tuple[str, list[Extent]]]:
    """iloc: where the bytes of the wanted items are, as (construction method, offset, length) extents."""
    version = meta[start] if start < end else 0
    pos = start + 4
    if pos + 2 > end:
        raise ScanProblem("BMFF: truncated iloc box")
    offset_size, length_size = meta[pos] >> 4, meta[pos] & 15
    base_size, index_size = meta[pos + 1] >> 4, (meta[pos + 1] & 15) if version in (1, 2) else 0
    if any(n not in (0, 4, 8) for n in (offset_size, length_size, base_size)) or index_size not in (0, 4, 8):
        raise ScanProblem("BMFF: iloc uses field sizes other than 0, 4 or 8")
    count, pos = _uint(meta, pos + 2, 2 if version < 2 else 4, end)
    if count > MAX_ITEMS:
        raise ScanProblem(f"BMFF: iloc claims {count} items")
    out: dict[int, tuple[str, list[Extent]]] = {}
    for _ in range(count):
        item_id, pos = _uint(meta, pos, 2 if version < 2 else 4, end)
        method = 0
        if version in (1, 2):
            raw, pos = _uint(meta, pos, 2, end)
            method = raw & 15
        _, pos = _uint(meta, pos, 2, end)  # data reference index
        base, pos = _uint(meta, pos, base_size, end)
        extents_count, pos = _uint(meta, pos, 2, end)
        extents: list[Extent] = []
        for _ in range(extents_count):
            _, pos = _uint(meta, pos, index_size, end)
            offset, pos = _uint(meta, pos, offset_size, end)
            length, pos = _uint(meta, pos, length_size, end)
            extents.append((method, base + offset, length))
        if item_id in wanted:
            out[item_id] = (wanted[item_id], extents)
    return out
