"""Builders of small, structurally valid media files carrying provenance metadata.

For tests, the benchmark corpus and pipeline smoke tests ("does our scanner see what this tool
writes?"): PNG with text chunks, JPEG with XMP / EXIF / C2PA APP11, TIFF, OpenEXR with attributes,
DPX, WebP/WAV (RIFF), MP4 (BMFF), and C2PA manifest stores (JUMBF + CBOR, unsigned). The pixels are
minimal; the metadata is laid out exactly as the formats' specifications say.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"

# --- CBOR encoding (the scanner only decodes; unsigned test manifests need the other direction) -------


def cbor(value: Any) -> bytes:
    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError("integer too large for CBOR")

    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode("utf-8")
        return head(3, len(data)) + data
    if isinstance(value, (list, tuple)):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


# --- JUMBF / C2PA ---------------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _jumd(type_uuid: bytes, label: str) -> bytes:
    return box(b"jumd", type_uuid + b"\x03" + label.encode("utf-8") + b"\0")


def superbox(type_uuid: bytes, label: str, children: list[bytes]) -> bytes:
    return box(b"jumb", _jumd(type_uuid, label) + b"".join(children))


def _uuid(tag: bytes) -> bytes:
    return tag + bytes.fromhex("00110010800000aa00389b71")


def c2pa_store(manifests: list[dict[str, Any]]) -> bytes:
    """An (unsigned) C2PA manifest store. Each manifest: ``label``, ``claim_generator`` (name),
    ``actions`` (list of action maps), optional ``actions_label`` (default c2pa.actions.v2). The last is active."""
    parts = []
    for m in manifests:
        actions_label = m.get("actions_label", "c2pa.actions.v2")
        actions = superbox(_uuid(b"cbor"), actions_label, [box(b"cbor", cbor({"actions": m.get("actions", [])}))])
        assertions = superbox(_uuid(b"c2as"), "c2pa.assertions", [actions])
        claim_body = {"claim_generator_info": {"name": m.get("claim_generator", "Clearance test"), "version": "1.0"},
                      "instanceID": "xmp:iid:test", "created_assertions": []}
        claim = superbox(_uuid(b"c2cl"), "c2pa.claim.v2", [box(b"cbor", cbor(claim_body))])
        signature = superbox(_uuid(b"c2cs"), "c2pa.signature", [box(b"cbor", cbor([b"", {}, None, b""]))])
        parts.append(superbox(_uuid(b"c2ma"), m.get("label", "urn:c2pa:test"), [assertions, claim, signature]))
    return superbox(_uuid(b"c2pa"), "c2pa", parts)


def created(source_type: str, agent: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"action": "c2pa.created", "digitalSourceType": IPTC + source_type}
    if agent:
        action["softwareAgent"] = {"name": agent}
    return action


# --- XMP -----------------------------------------------------------------------------------------------


def xmp_packet(
    digital_source_type: str | None = None,
    creator_tool: str | None = None,
    credit: str | None = None,
    prompt: str | None = None,
    padding: int = 0,
    extended_guid: str | None = None,
) -> bytes:
    attrs = []
    if extended_guid:
        attrs.append(f'xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="{extended_guid}"')
    if digital_source_type:
        attrs.append(f'Iptc4xmpExt:DigitalSourceType="{IPTC}{digital_source_type}"')
    if creator_tool:
        attrs.append(f'xmp:CreatorTool="{creator_tool}"')
    if credit:
        attrs.append(f'photoshop:Credit="{credit}"')
    if prompt:
        attrs.append(f'Iptc4xmpExt:AIPromptInformation="{prompt}"')
    body = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        + " ".join(attrs)
        + "/></rdf:RDF></x:xmpmeta>\n"
        + " " * padding
        + '<?xpacket end="w"?>'
    )
    return body.encode("utf-8")


# --- PNG -----------------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(
    text: dict[str, str] | None = None,
    itxt: dict[str, str] | None = None,
    ztxt: dict[str, str] | None = None,
    cabx: bytes | None = None,
    size: int = 1,
    text_after_idat: bool = False,
) -> bytes:
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    idat = _chunk(b"IDAT", zlib.compress(b"".join(b"\0" + bytes(size) for _ in range(size))))
    meta = b""
    for key, value in (text or {}).items():
        meta += _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1", "replace"))
    for key, value in (ztxt or {}).items():
        meta += _chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + zlib.compress(value.encode("latin-1", "replace")))
    for key, value in (itxt or {}).items():
        meta += _chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8"))
    if cabx is not None:
        meta += _chunk(b"caBX", cabx)
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if text_after_idat:
        return head + idat + meta + _chunk(b"IEND", b"")
    return head + meta + idat + _chunk(b"IEND", b"")


# --- TIFF / EXIF ---------------------------------------------------------------------------------------


def tiff(entries: dict[int, tuple[int, bytes]], little: bool = True, image: bytes = b"\0") -> bytes:
    """A one-IFD TIFF. ``entries``: tag -> (type, raw value bytes). Baseline 1x1 grey tags are added."""
    e = "<" if little else ">"
    base = {256: (3, struct.pack(e + "H", 1)), 257: (3, struct.pack(e + "H", 1)), 258: (3, struct.pack(e + "H", 8)),
            259: (3, struct.pack(e + "H", 1)), 262: (3, struct.pack(e + "H", 1)), 277: (3, struct.pack(e + "H", 1)),
            278: (3, struct.pack(e + "H", 1)), 279: (4, struct.pack(e + "I", len(image)))}
    base.update(entries)
    tags = [*sorted(base.items()), (273, (4, b"\x00\x00\x00\x00"))]
    tags.sort()
    ifd_at = 8
    count = len(tags)
    data_at = ifd_at + 2 + count * 12 + 4
    blobs = b""
    table = b""
    strip_entry = None
    for tag, (kind, raw) in tags:
        size_of = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1}[kind]
        n = len(raw) // size_of
        if tag == 273:
            strip_entry = len(table)
            table += struct.pack(e + "HHI", tag, kind, 1) + b"\0\0\0\0"
            continue
        if len(raw) <= 4:
            table += struct.pack(e + "HHI", tag, kind, n) + raw.ljust(4, b"\0")
        else:
            table += struct.pack(e + "HHII", tag, kind, n, data_at + len(blobs))
            blobs += raw + (b"\0" if len(raw) & 1 else b"")
    image_at = data_at + len(blobs)
    assert strip_entry is not None
    table = table[: strip_entry + 8] + struct.pack(e + "I", image_at) + table[strip_entry + 12 :]
    header = (b"II*\0" if little else b"MM\0*") + struct.pack(e + "I", ifd_at)
    return header + struct.pack(e + "H", count) + table + b"\0\0\0\0" + blobs + image


def ascii_value(text: str) -> tuple[int, bytes]:
    return 2, text.encode("utf-8") + b"\0"


def exif(software: str | None = None, user_comment: str | None = None, description: str | None = None) -> bytes:
    """An EXIF TIFF structure (what follows 'Exif\\0\\0' in APP1) with IFD0 text tags and an EXIF IFD."""
    ifd0: list[tuple[int, int, bytes]] = []
    if description:
        ifd0.append((270, *ascii_value(description)))
    if software:
        ifd0.append((305, *ascii_value(software)))
    exif_ifd: list[tuple[int, int, bytes]] = []
    if user_comment is not None:
        exif_ifd.append((37510, 7, b"UNICODE\0" + user_comment.encode("utf-16-be")))
    ifd0.append((34665, 4, b"\0\0\0\0"))  # patched below
    ifd0.sort()
    ifd0_at = 8
    ifd0_size = 2 + 12 * len(ifd0) + 4
    exif_at = ifd0_at + ifd0_size
    exif_size = 2 + 12 * len(exif_ifd) + 4
    data_at = exif_at + exif_size
    blobs = b""

    def table(entries: list[tuple[int, int, bytes]]) -> bytes:
        nonlocal blobs
        out = struct.pack(">H", len(entries))
        for tag, kind, given in entries:
            raw = struct.pack(">I", exif_at) if tag == 34665 else given
            n = len(raw) // (4 if kind == 4 else 1)
            if len(raw) <= 4:
                out += struct.pack(">HHI", tag, kind, n) + raw.ljust(4, b"\0")
            else:
                out += struct.pack(">HHII", tag, kind, n, data_at + len(blobs))
                blobs += raw + (b"\0" if len(raw) & 1 else b"")
        return out + b"\0\0\0\0"

    t0 = table(ifd0)
    t1 = table(exif_ifd)
    return b"MM\0*" + struct.pack(">I", ifd0_at) + t0 + t1 + blobs


# --- JPEG ----------------------------------------------------------------------------------------------


def _segment(marker: int, body: bytes) -> bytes:
    if len(body) + 2 > 0xFFFF:
        raise ValueError("JPEG segment too large")
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


_JPEG_TAIL = (
    # A 1x1 grey baseline image: DQT, SOF0, DHT (DC and AC, one code each), SOS, one MCU, EOI.
    _segment(0xDB, b"\0" + bytes([1] * 64))
    + _segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
    + _segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")
    + _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    + _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    + b"\x00\xff\xd9"
)


def jpeg(
    xmp: bytes | None = None,
    extended_xmp: bytes | None = None,
    exif_data: bytes | None = None,
    c2pa: bytes | None = None,
    comment: str | None = None,
    app11_chunk: int = 65000,
) -> bytes:
    """A minimal JPEG. ``c2pa`` is split over APP11 segments of ``app11_chunk`` bytes (JUMBF-in-JPEG rules);
    ``extended_xmp`` is split into extended-XMP segments referenced from the main packet by GUID."""
    out = b"\xff\xd8"
    out += _segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    if exif_data is not None:
        out += _segment(0xE1, b"Exif\0\0" + exif_data)
    if extended_xmp is not None:
        import hashlib

        guid = hashlib.md5(extended_xmp).hexdigest().upper().encode()
        if xmp is None:
            xmp = xmp_packet(extended_guid=guid.decode())
    if xmp is not None:
        out += _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp)
    if extended_xmp is not None:
        step = 65000
        for offset in range(0, len(extended_xmp), step):
            part = extended_xmp[offset : offset + step]
            out += _segment(0xE1, b"http://ns.adobe.com/xmp/extension/\0" + guid
                            + struct.pack(">II", len(extended_xmp), offset) + part)
    if c2pa is not None:
        header = c2pa[:8]
        payload = c2pa[8:]
        sequence = 1
        for offset in range(0, max(len(payload), 1), app11_chunk):
            part = payload[offset : offset + app11_chunk]
            out += _segment(0xEB, b"JP" + struct.pack(">HI", 1, sequence) + header + part)
            sequence += 1
    if comment is not None:
        out += _segment(0xFE, comment.encode("utf-8"))
    return out + _JPEG_TAIL


# --- OpenEXR -------------------------------------------------------------------------------------------


def exr_attribute(name: str, kind: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value


def exr(strings: dict[str, str] | None = None, extra: list[bytes] | None = None) -> bytes:
    """A valid 1x1 single-channel (R, half) scanline EXR, uncompressed, with extra string attributes."""
    channels = b"R\0" + struct.pack("<iBxxxii", 1, 0, 1, 1) + b"\0"
    header = b"".join([
        exr_attribute("channels", "chlist", channels),
        exr_attribute("compression", "compression", b"\0"),
        exr_attribute("dataWindow", "box2i", struct.pack("<iiii", 0, 0, 0, 0)),
        exr_attribute("displayWindow", "box2i", struct.pack("<iiii", 0, 0, 0, 0)),
        exr_attribute("lineOrder", "lineOrder", b"\0"),
        exr_attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        exr_attribute("screenWindowCenter", "v2f", struct.pack("<ff", 0.0, 0.0)),
        exr_attribute("screenWindowWidth", "float", struct.pack("<f", 1.0)),
        *(exr_attribute(k, "string", v.encode("utf-8")) for k, v in (strings or {}).items()),
        *(extra or []),
    ]) + b"\0"
    start = 8 + len(header)
    chunk_at = start + 8  # one scanline: offset table of one uint64
    return (b"\x76\x2f\x31\x01" + struct.pack("<I", 2) + header + struct.pack("<Q", chunk_at)
            + struct.pack("<ii", 0, 2) + b"\0\0")


# --- DPX -----------------------------------------------------------------------------------------------


def dpx(creator: str = "", project: str = "", copyright: str = "", input_device: str = "", file_name: str = "",
        user_data: str | None = None) -> bytes:
    """A big-endian DPX 2.0 header (8x8, 10-bit RGB, filled type A) and its pixels."""
    user = b""
    if user_data is not None:
        user = b"CLEARANCE-TEST".ljust(32, b"\0") + user_data.encode("utf-8")
    image_at = 2048 + len(user)
    h = bytearray(2048)
    h[0:4] = b"SDPX"
    struct.pack_into(">I", h, 4, image_at)
    h[8:16] = b"V2.0\0\0\0\0"
    struct.pack_into(">I", h, 16, image_at + 256)
    struct.pack_into(">I", h, 20, 1)
    struct.pack_into(">III", h, 24, 1664, 384, len(user))
    for offset, size, text in ((36, 100, file_name), (160, 100, creator), (260, 200, project), (460, 200, copyright),
                               (1556, 32, input_device)):
        raw = text.encode("latin-1", "replace")[: size - 1]
        h[offset : offset + len(raw)] = raw
    struct.pack_into(">HH", h, 768, 0, 1)  # orientation, one element
    struct.pack_into(">II", h, 772, 8, 8)  # pixels per line, lines
    h[800] = 50  # descriptor RGB
    h[803] = 10  # bit depth
    struct.pack_into(">HH", h, 804, 1, 0)  # packing, encoding
    struct.pack_into(">I", h, 808, image_at)
    return bytes(h) + user + bytes(256)


# --- RIFF and BMFF -------------------------------------------------------------------------------------


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def webp(xmp: bytes | None = None, c2pa: bytes | None = None) -> bytes:
    vp8x = struct.pack("<B3x", 0x04 if xmp else 0) + (0).to_bytes(3, "little") + (0).to_bytes(3, "little")
    vp8l = b"\x2f\x00\x00\x00\x00\x88\x88\x08\x00"  # a 1x1 lossless bitstream header
    body = b"WEBP" + _riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"VP8L", vp8l)
    if xmp is not None:
        body += _riff_chunk(b"XMP ", xmp)
    if c2pa is not None:
        body += _riff_chunk(b"C2PA", c2pa)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp3(c2pa: bytes | None = None, encoder: str | None = None, comment: str | None = None,
        txxx: dict[str, str] | None = None, audio: int = 4096) -> bytes:
    """An ID3v2.4 tag (GEOB C2PA, TSSE, COMM, TXXX frames, UTF-8) followed by MPEG audio frame bytes."""

    def syncsafe(n: int) -> bytes:
        return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])

    def frame(frame_id: bytes, body: bytes) -> bytes:
        return frame_id + syncsafe(len(body)) + b"\0\0" + body

    frames = b""
    if encoder:
        frames += frame(b"TSSE", b"\x03" + encoder.encode())
    if comment:
        frames += frame(b"COMM", b"\x03eng\0" + comment.encode())
    for key, value in (txxx or {}).items():
        frames += frame(b"TXXX", b"\x03" + key.encode() + b"\0" + value.encode())
    if c2pa is not None:
        frames += frame(b"GEOB", b"\x00application/x-c2pa-manifest-store\0c2pa\0c2pa manifest store\0" + c2pa)
    frames += bytes(64)  # padding
    header = b"ID3\x04\x00\x00" + syncsafe(len(frames))
    return header + frames + (b"\xff\xfb\x90\x00" + bytes(413)) * max(1, audio // 417)


def webp_exif(exif_data: bytes) -> bytes:
    body = b"WEBP" + _riff_chunk(b"VP8L", b"\x2f\x00\x00\x00\x00\x88\x88\x08\x00") + _riff_chunk(b"EXIF", exif_data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def wav(c2pa: bytes | None = None, data_size: int = 4096, software: str | None = None) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 48000, 96000, 2, 16)
    body = b"WAVE" + _riff_chunk(b"fmt ", fmt)
    if software:
        body += _riff_chunk(b"LIST", b"INFO" + _riff_chunk(b"ISFT", software.encode() + b"\0"))
    body += _riff_chunk(b"data", bytes(data_size))
    if c2pa is not None:
        body += _riff_chunk(b"C2PA", c2pa)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp4(c2pa: bytes | None = None, xmp: bytes | None = None, mdat_size: int = 4096) -> bytes:
    out = box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
    out += box(b"moov", box(b"mvhd", bytes(100)))
    if xmp is not None:
        out += box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + xmp)
    if c2pa is not None:
        out += box(b"uuid", bytes.fromhex("d8fec3d61b0e483c92975828877ec481") + b"\0\0\0\0manifest\0" + bytes(8) + c2pa)
    return out + box(b"mdat", bytes(mdat_size))


def heif(xmp: bytes | None = None, exif_data: bytes | None = None, mdat_size: int = 4096) -> bytes:
    """A HEIF still whose XMP and EXIF are meta items (iinf + iloc), their bytes in mdat after the image."""
    items = []
    if xmp is not None:
        items.append((2, b"mime", b"XMP\0application/rdf+xml\0", xmp))
    if exif_data is not None:
        items.append((3, b"Exif", b"Exif\0", b"\0\0\0\0" + exif_data))

    def full(kind: bytes, version: int, body: bytes) -> bytes:
        return box(kind, bytes([version, 0, 0, 0]) + body)

    infe = b"".join(full(b"infe", 2, struct.pack(">HH", item_id, 0) + kind + name) for item_id, kind, name, _ in items)
    iinf = full(b"iinf", 0, struct.pack(">H", len(items)) + infe)
    ftyp = box(b"ftyp", b"heic\0\0\0\0mif1heic")
    hdlr = full(b"hdlr", 0, b"\0\0\0\0pict" + bytes(12) + b"\0")

    def build(base: int) -> bytes:
        entries = b""
        offset = base
        for item_id, _, _, payload in items:
            entries += struct.pack(">HHHII", item_id, 0, 1, offset, len(payload))
            offset += len(payload)
        iloc = full(b"iloc", 0, bytes([0x44, 0x00]) + struct.pack(">H", len(items)) + entries)
        return box(b"meta", b"\0\0\0\0" + hdlr + iinf + iloc)

    meta = build(0)
    pixels = bytes(mdat_size)
    base = len(ftyp) + len(meta) + 8 + len(pixels)
    meta = build(base)
    return ftyp + meta + box(b"mdat", pixels + b"".join(p for *_, p in items))
