"""IPTC 2025.1 AI fields in XMP, written into JPEG and PNG before the C2PA signature covers the bytes.

Properties (IPTC Photo Metadata Standard 2025.1, namespace Iptc4xmpExt): DigitalSourceType, AISystemUsed,
AISystemVersionUsed, AIPromptInformation (only when the record allows sharing the prompt). An existing XMP
packet is kept: these properties are replaced in it, everything else stays. JPEG carries XMP in an APP1
segment (XMP Specification Part 3, 1.1.3), PNG in an iTXt chunk keyed ``XML:com.adobe.xmp`` (ibid. 1.1.5).
Only the header before the image data is rewritten (``HEADS``: the new header, the source left where its image
data starts); the caller writes the image data after it as it is.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from clearance.errors import ClearanceError

NS_IPTC = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_X = "adobe:ns:meta/"
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_JPEG_XMP = 65502  # an APP1 segment holds at most 65535 bytes, less its length and the XMP header
_OURS = ("DigitalSourceType", "AISystemUsed", "AISystemVersionUsed", "AIPromptInformation")

for _prefix, _uri in (("x", NS_X), ("rdf", NS_RDF), ("Iptc4xmpExt", NS_IPTC), ("xmp", "http://ns.adobe.com/xap/1.0/"),
                      ("dc", "http://purl.org/dc/elements/1.1/"), ("photoshop", "http://ns.adobe.com/photoshop/1.0/"),
                      ("xmpMM", "http://ns.adobe.com/xap/1.0/mm/"), ("tiff", "http://ns.adobe.com/tiff/1.0/"),
                      ("exif", "http://ns.adobe.com/exif/1.0/"), ("stEvt", "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"),
                      ("stRef", "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"),
                      ("dcterms", "http://purl.org/dc/terms/")):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class AiFields:
    source_type: str
    systems: str
    versions: str
    prompt: str | None = None


def packet(fields: AiFields, existing: bytes | None = None) -> bytes:
    """An XMP packet with the AI fields: a new one, or ``existing`` with those properties replaced."""
    root: ET.Element | None = None
    if existing:
        try:
            text = existing.decode("utf-8").strip()
            start = text.find("<x:xmpmeta")
            end = text.rfind("</x:xmpmeta>")
            if start >= 0 and end > start:
                root = ET.fromstring(text[start:end + len("</x:xmpmeta>")])
        except (UnicodeDecodeError, ET.ParseError):
            root = None  # an unreadable packet is replaced rather than left contradicting ours
    if root is None:
        root = ET.Element(f"{{{NS_X}}}xmpmeta")
    rdf = root.find(f"{{{NS_RDF}}}RDF")
    if rdf is None:
        rdf = ET.SubElement(root, f"{{{NS_RDF}}}RDF")
    for description in rdf.findall(f"{{{NS_RDF}}}Description"):
        for name in _OURS:
            description.attrib.pop(f"{{{NS_IPTC}}}{name}", None)
            for child in description.findall(f"{{{NS_IPTC}}}{name}"):
                description.remove(child)
    ours = ET.SubElement(rdf, f"{{{NS_RDF}}}Description", {f"{{{NS_RDF}}}about": ""})
    values = [("DigitalSourceType", fields.source_type), ("AISystemUsed", fields.systems),
              ("AISystemVersionUsed", fields.versions), ("AIPromptInformation", fields.prompt or "")]
    for name, value in values:
        if value:
            ET.SubElement(ours, f"{{{NS_IPTC}}}{name}").text = value
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body +
            '\n<?xpacket end="w"?>').encode("utf-8")


@dataclass(frozen=True)
class Head:
    """A rewritten header: ``data`` replaces the source's header, whose image data then follows unchanged from
    the source's current position. ``slot`` is where in ``data`` a C2PA manifest goes (where the C2PA library
    puts it: JPEG after the JFIF/Exif segments, PNG right after IHDR); ``jumbf`` says the header already
    holds JUMBF (JPEG APP11, PNG caBX), which only the C2PA library knows how to replace."""

    data: bytes
    slot: int
    jumbf: bool


def jpeg_head(src: BinaryIO, fields: AiFields, where: str) -> Head:
    if src.read(2) != b"\xff\xd8":
        raise ClearanceError(f"{where}: not a JPEG file (no SOI marker)")
    segments: list[bytes] = []
    existing: bytes | None = None
    while True:
        head = src.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            raise ClearanceError(f"{where}: the JPEG headers are damaged before the image data")
        marker = head[1]
        length = struct.unpack(">H", head[2:])[0]
        if marker == 0xDA or (not 0xE0 <= marker <= 0xEF and marker != 0xFE):
            src.seek(-4, 1)
            break  # image data or tables: everything from here is copied unchanged
        body = src.read(length - 2)
        if marker == 0xE1 and body.startswith(JPEG_XMP_HEADER):
            existing = body[len(JPEG_XMP_HEADER):]
            continue
        segments.append(head + body)
    data = packet(fields, existing)
    if len(data) > MAX_JPEG_XMP:
        raise ClearanceError(f"{where}: the XMP packet would be {len(data)} bytes, more than one JPEG segment holds")
    app1 = b"\xff\xe1" + struct.pack(">H", len(JPEG_XMP_HEADER) + len(data) + 2) + JPEG_XMP_HEADER + data
    out = bytearray(b"\xff\xd8")
    # XMP goes after JFIF/EXIF (APP0/APP1), as the XMP specification recommends, before the rest.
    lead = [s for s in segments if s[1] in (0xE0,) or (s[1] == 0xE1 and s[4:10] == b"Exif\x00\x00")]
    for segment in lead:
        out += segment
    slot = len(out)
    out += app1
    for segment in segments:
        if segment not in lead:
            out += segment
    return Head(bytes(out), slot, any(s[1] == 0xEB for s in segments))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_head(src: BinaryIO, fields: AiFields, where: str) -> Head:
    if src.read(8) != PNG_SIGNATURE:
        raise ClearanceError(f"{where}: not a PNG file (bad signature)")
    out = bytearray(PNG_SIGNATURE)
    existing: bytes | None = None
    pending: list[bytes] = []
    wrote = False
    jumbf = False
    while True:
        head = src.read(8)
        if len(head) < 8:
            raise ClearanceError(f"{where}: the PNG ends before its image data")
        length, kind = struct.unpack(">I4s", head)
        if kind in (b"IDAT", b"IEND"):
            src.seek(-8, 1)
            break
        body = src.read(length + 4)
        if kind == b"iTXt" and body.startswith(PNG_XMP_KEYWORD + b"\x00"):
            rest = body[len(PNG_XMP_KEYWORD) + 1:-4]
            flag, _method = rest[0], rest[1]
            rest = rest[2:]
            rest = rest[rest.index(b"\x00") + 1:]  # language tag
            rest = rest[rest.index(b"\x00") + 1:]  # translated keyword
            existing = zlib.decompress(rest) if flag else rest
            continue
        jumbf = jumbf or kind == b"caBX"
        pending.append(head + body)
        if kind == b"IHDR":
            out += head + body
            pending.clear()
            wrote = True
    if not wrote:
        raise ClearanceError(f"{where}: the PNG has no IHDR chunk first")
    slot = len(out)
    out += _chunk(b"iTXt", PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet(fields, existing))
    for chunk in pending:
        out += chunk
    return Head(bytes(out), slot, jumbf)


HEADS = {"image/jpeg": jpeg_head, "image/png": png_head}
