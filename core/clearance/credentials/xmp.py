"""IPTC 2025.1 AI fields in XMP, written into the file before the C2PA signature covers its bytes.

Properties (IPTC Photo Metadata Standard 2025.1, namespace Iptc4xmpExt): DigitalSourceType, AISystemUsed,
AISystemVersionUsed, AIPromptInformation (only when the record allows sharing the prompt). An existing XMP
packet is kept: these properties are replaced in it, everything else stays. Where each format carries XMP
(XMP Specification Part 3, "Storage in Files", 2016; sections by title where numbering differs by edition):

- JPEG: an APP1 segment (1.1.3); PNG: an iTXt chunk keyed ``XML:com.adobe.xmp`` (1.1.5). The header before
  the image data is rewritten and the image data follows unchanged.
- TIFF and DNG (classic TIFF): tag 700 (XMLPacket) in IFD0 (1.1.6 TIFF, 1.1.1 DNG; TIFF 6.0 for the layout).
  The packet and a copy of IFD0 with tag 700 added or replaced are appended, and the header points at that
  copy; every other value stays where it is.
- MP4, M4V (ISO movies): a top-level ``uuid`` box with UUID BE7ACFCB-97A9-42E8-9C71-999491E3AFAC ("MPEG-4"),
  appended. MOV (QuickTime movies, whose XMP the XMP Toolkit reads from ``moov/udta/XMP_`` only): a copy of the
  movie box with ``udta/XMP_`` is appended and the old one renamed ``free``. Either way the media data does
  not move, so no sample offset (``stco``/``co64``) changes.
- WAV: a ``_PMX`` RIFF chunk ("RIFF-based formats"), appended inside the RIFF chunk.
- WebP: an ``XMP `` chunk appended inside the RIFF chunk, with the XMP flag set in the VP8X chunk (WebP
  Container Specification, RFC 9649 "Extended File Format"); a simple file is given the VP8X chunk.

In MP4, MOV, WAV and WebP an XMP box or chunk already there has its type renamed in place (``free``,
``JUNK``: the same length, so nothing moves) and its packet carried into the new one. How the staged file
is made from the source is a ``Rewrite``, which the signing paths write from; a file laid out otherwise than
modelled here raises ``NotWritable`` with the reason, and is signed without XMP.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, replace
from typing import BinaryIO

from clearance.credentials.fileio import Piece, Slot
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


class NotWritable(Exception):
    """The format takes XMP, but this file is not laid out as Clearance writes it (BigTIFF, RF64, sizes that
    do not add up...): it is signed without XMP, and the reason is reported."""


@dataclass(frozen=True)
class Rewrite:
    """How the staged file is made from the source: ``head`` replaces the source's first ``rest`` bytes; the
    source follows from ``rest`` to ``end`` with each of ``patches`` (source offset, bytes) written over it,
    and ``tail`` inserted where the source reaches ``insert_at`` (None: after it all). ``slot`` is where in
    ``head`` a C2PA manifest goes when Clearance places it in the header (where the C2PA library puts it: JPEG
    after the JFIF/Exif segments, PNG right after IHDR); ``jumbf`` says the header already holds JUMBF (JPEG
    APP11, PNG caBX), which only the C2PA library knows how to replace."""

    head: bytes
    rest: int
    end: int
    slot: int = 0
    jumbf: bool = False
    patches: tuple[tuple[int, bytes], ...] = ()
    tail: bytes = b""
    insert_at: int | None = None

    def pieces(self, head: bytes | None = None, manifest: bytes | None = None) -> list[Piece]:
        """The staged file as ``fileio`` writes it; ``head`` stands in for this one (same meaning, e.g. a RIFF
        size grown further), ``manifest`` goes into a slot at ``slot``."""
        lead = self.head if head is None else head
        out: list[Piece] = [lead] if manifest is None else [lead[:self.slot], Slot(manifest), lead[self.slot:]]
        insert = self.end if self.insert_at is None else self.insert_at
        position = self.rest
        placed = False
        for offset, data in sorted(self.patches):
            if not placed and offset >= insert:
                out += [(position, insert), self.tail]
                position, placed = insert, True
            if offset < position:
                raise ValueError(f"overlapping changes at source offset {offset}")  # a writer's bug
            out += [(position, offset), data]
            position = offset + len(data)
        if not placed:
            if insert < position:
                raise ValueError(f"the tail's place {insert} is inside a change")  # a writer's bug
            out += [(position, insert), self.tail]
            position = insert
        out.append((position, self.end))
        return out


def jpeg_head(src: BinaryIO, fields: AiFields, where: str, end: int) -> Rewrite:
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
        fix = ("; the shared prompts make most of it: shorten their records' prompt.text, or share fewer "
               "(prompt.shareable)" if fields.prompt and len(packet(replace(fields, prompt=None), existing))
               <= MAX_JPEG_XMP else "")
        raise ClearanceError(f"{where}: the XMP packet would be {len(data)} bytes, more than one JPEG segment holds"
                             + fix)
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
    return Rewrite(bytes(out), src.tell(), end, slot, any(s[1] == 0xEB for s in segments))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_head(src: BinaryIO, fields: AiFields, where: str, end: int) -> Rewrite:
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
    return Rewrite(bytes(out), src.tell(), end, slot, jumbf)


MAX_CARRIED = 16 << 20  # an XMP packet is kilobytes; a size claiming more is damage, not metadata to load


def _read_packet(src: BinaryIO, offset: int, length: int) -> bytes:
    """The existing packet at ``offset``, to carry over; a packet too large to be one is refused."""
    if length > MAX_CARRIED:
        raise NotWritable(f"its XMP packet at offset {offset} claims {length} bytes, more than Clearance carries "
                          f"over ({MAX_CARRIED >> 20} MB)")
    src.seek(offset)
    return src.read(length)


TIFF_XMP_TAG = 700
_TIFF_UNDEFINED = 7
_CLASSIC_MAX = 0xFFFFFFFF  # classic TIFF and RIFF address their bytes with 32-bit offsets and sizes


def tiff_rewrite(src: BinaryIO, fields: AiFields, where: str, end: int) -> Rewrite:
    """Classic TIFF (and DNG): the packet and a copy of IFD0 with tag 700 added or replaced, appended at the
    end on word boundaries (TIFF 6.0: values and IFDs start on a word boundary); the header points at the copy.
    The old IFD0 stays behind, unreferenced; every value it points to is still where it was."""
    header = src.read(8)
    order = {b"II": "<", b"MM": ">"}.get(header[:2])
    if len(header) < 8 or order is None:
        raise NotWritable("no TIFF header (byte order II or MM)")
    magic, ifd = struct.unpack(order + "HI", header[2:])
    if magic == 43:
        raise NotWritable("BigTIFF: Clearance writes XMP into classic TIFF only")
    if magic != 42:
        raise NotWritable(f"not a TIFF header (version {magic}, expected 42)")
    if ifd < 8 or ifd + 2 > end:
        raise NotWritable(f"IFD0 at offset {ifd} is not inside the file")
    src.seek(ifd)
    (count,) = struct.unpack(order + "H", src.read(2))
    if count == 0 or ifd + 2 + 12 * count + 4 > end:
        raise NotWritable(f"IFD0 ({count} entries at offset {ifd}) does not fit in the file")
    raw = src.read(12 * count)
    follower = src.read(4)  # the next IFD's offset, kept: the copy replaces IFD0 only
    entries: dict[int, bytes] = {}
    for n in range(count):
        entry = raw[12 * n:12 * n + 12]
        tag = struct.unpack(order + "H", entry[:2])[0]
        if tag in entries:
            raise NotWritable(f"IFD0 has tag {tag} twice")
        entries[tag] = entry
    existing: bytes | None = None
    kind = _TIFF_UNDEFINED
    if TIFF_XMP_TAG in entries:
        kind, length, value = struct.unpack(order + "HI4s", entries[TIFF_XMP_TAG][2:])
        if kind not in (1, _TIFF_UNDEFINED):  # BYTE or UNDEFINED, as XMP Part 3 says; anything else is rewritten
            kind = _TIFF_UNDEFINED
        if length <= 4:
            existing = value[:length]
        else:
            (offset,) = struct.unpack(order + "I", value)
            if offset + length > end:
                raise NotWritable(f"its XMP (tag 700, {length} bytes at offset {offset}) runs past the file's end")
            existing = _read_packet(src, offset, length)
    data = packet(fields, existing)
    at = end + end % 2
    ifd_at = at + len(data) + len(data) % 2
    entries[TIFF_XMP_TAG] = struct.pack(order + "HHII", TIFF_XMP_TAG, kind, len(data), at)
    copy = struct.pack(order + "H", len(entries)) + b"".join(entries[t] for t in sorted(entries)) + follower
    if ifd_at + len(copy) > _CLASSIC_MAX:
        raise NotWritable("with its XMP the file would pass the 4 GB a classic TIFF can address")
    tail = b"\x00" * (end % 2) + data + b"\x00" * (len(data) % 2) + copy
    return Rewrite(header[:4] + struct.pack(order + "I", ifd_at), 8, end, tail=tail)


BMFF_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_BOX_LIMIT = 100_000  # a file with more top-level boxes is not one a delivery tool wrote


def bmff_boxes(src: BinaryIO, start: int, end: int, *, user_data: bool = False) -> list[tuple[bytes, int, int, int]]:
    """The boxes from ``start`` to ``end`` (ISO/IEC 14496-12, 4.2): (type, offset, header length, size). A
    size of 0 (to the end) is given its real size; boxes that do not add up to ``end`` raise NotWritable.
    A QuickTime user data list may end with a 32-bit zero (QuickTime File Format, "User Data Atoms")."""
    boxes: list[tuple[bytes, int, int, int]] = []
    position = start
    while position < end:
        if len(boxes) >= _BOX_LIMIT:
            raise NotWritable(f"more than {_BOX_LIMIT} boxes")
        src.seek(position)
        head = src.read(8)
        if user_data and end - position == 4 and head == bytes(4):
            break
        if len(head) < 8:
            raise NotWritable(f"a box header at offset {position} is cut short")
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            large = src.read(8)
            if len(large) < 8:
                raise NotWritable(f"a box header at offset {position} is cut short")
            (size,) = struct.unpack(">Q", large)
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise NotWritable(f"the '{kind.decode('latin-1')}' box at offset {position} runs past its container")
        boxes.append((kind, position, header, size))
        position += size
    return boxes


MAX_MOOV = 64 << 20  # a movie box is kilobytes to a few megabytes; one claiming more is not copied


def _box(kind: bytes, body: bytes) -> bytes:
    size = 8 + len(body)
    if size <= _CLASSIC_MAX:
        return struct.pack(">I", size) + kind + body
    return struct.pack(">I", 1) + kind + struct.pack(">Q", size + 8) + body


def _quicktime(src: BinaryIO, boxes: list[tuple[bytes, int, int, int]]) -> bool:
    """A QuickTime movie rather than an ISO one: no ``ftyp``, or ``qt  `` among its brands (how the XMP
    Toolkit's MPEG-4 handler tells them apart; it reads a QuickTime movie's XMP from ``moov/udta/XMP_`` only)."""
    kind, offset, header, size = boxes[0]
    if kind != b"ftyp":
        return True
    src.seek(offset + header)
    brands = src.read(min(size - header, 4096))
    return any(brands[n:n + 4] == b"qt  " for n in range(0, len(brands) - 3, 4) if n != 4)  # 4: minor version


def bmff_rewrite(src: BinaryIO, fields: AiFields, where: str, end: int) -> Rewrite:
    """MP4/MOV, where each reader looks (XMP Toolkit, MPEG4_Handler): an ISO movie (MP4, M4V) gets a top-level
    XMP ``uuid`` box appended; a QuickTime movie gets the packet in ``moov/udta/XMP_``, by appending a copy of
    its movie box with it and renaming the old one ``free`` in place. Either way the media data does not move,
    so no sample offset (``stco``/``co64``) changes. Any other XMP box is renamed ``free``; the packet the
    reader prefers (QuickTime: ``XMP_``; ISO: the ``uuid`` box) is carried over."""
    src.seek(0)
    boxes = bmff_boxes(src, 0, end)
    kinds = [kind for kind, _, _, _ in boxes]
    if kinds.count(b"moov") != 1:
        raise NotWritable(f"{kinds.count(b'moov')} movie boxes (moov) at the top level, not one")
    # A fragmented movie's index (mfra) stays last, where readers find it through the mfro box that ends it;
    # what Clearance adds goes before it (the index points only at fragments, which do not move).
    insert_at = boxes[-1][1] if kinds[-1] == b"mfra" else end
    quicktime = _quicktime(src, boxes)
    in_uuid: list[tuple[int, bytes]] = []  # (offset of the box's type, packet)
    in_udta: list[tuple[int, bytes]] = []
    patches: list[tuple[int, bytes]] = []
    moov = next(box for box in boxes if box[0] == b"moov")
    for kind, offset, header, size in boxes:
        if kind == b"uuid" and size >= header + 16:
            src.seek(offset + header)
            if src.read(16) == BMFF_XMP_UUID:
                in_uuid.append((offset + 4, _read_packet(src, offset + header + 16, size - header - 16)))
    _, moov_at, moov_header, moov_size = moov
    children = bmff_boxes(src, moov_at + moov_header, moov_at + moov_size)
    for child, c_offset, c_header, c_size in children:
        if child == b"udta":
            for item, i_offset, i_header, i_size in bmff_boxes(src, c_offset + c_header, c_offset + c_size,
                                                                user_data=True):
                if item == b"XMP_":
                    in_udta.append((i_offset + 4, _read_packet(src, i_offset + i_header, i_size - i_header)))
    _, last, _, last_size = boxes[-1]
    src.seek(last)
    if struct.unpack(">I", src.read(4))[0] == 0:  # "to the end of the file": a box appended would be inside it
        if last_size > _CLASSIC_MAX:
            raise NotWritable("its last box runs to the end of the file and is over 4 GB")
        patches.append((last, struct.pack(">I", last_size)))
    preferred = in_udta + in_uuid if quicktime else in_uuid + in_udta
    data = packet(fields, preferred[0][1] if preferred else None)
    patches += [(at, b"free") for at, _ in in_uuid]
    if not quicktime:
        patches += [(at, b"free") for at, _ in in_udta]
        return Rewrite(b"", 0, end, patches=tuple(patches), tail=_box(b"uuid", BMFF_XMP_UUID + data),
                       insert_at=insert_at)
    if moov_size > MAX_MOOV:
        raise NotWritable(f"its movie box (moov) is {moov_size} bytes, more than Clearance copies "
                          f"({MAX_MOOV >> 20} MB)")
    body = b""
    for child, c_offset, _, c_size in children:
        if child == b"udta":
            continue  # rebuilt below, with the XMP_ box and without the old one
        src.seek(c_offset)
        body += src.read(c_size)
    user_data = b""
    for child, c_offset, c_header, c_size in children:
        if child != b"udta":
            continue
        for item, i_offset, _, i_size in bmff_boxes(src, c_offset + c_header, c_offset + c_size, user_data=True):
            if item != b"XMP_":
                src.seek(i_offset)
                user_data += src.read(i_size)
    body += _box(b"udta", user_data + _box(b"XMP_", data))
    patches.append((moov_at + 4, b"free"))  # the old movie box, left in place as free space
    return Rewrite(b"", 0, end, patches=tuple(patches), tail=_box(b"moov", body), insert_at=insert_at)


def riff_chunks(fh: BinaryIO, end: int) -> list[tuple[bytes, int, int]] | None:
    """The top-level chunks of a RIFF file (id, offset, size with header), or None when they overrun it
    (chunks: id, little-endian size, data, a pad byte to an even length)."""
    chunks: list[tuple[bytes, int, int]] = []
    position = 12
    while position < end:
        fh.seek(position)
        head = fh.read(8)
        if len(head) < 8:
            return None
        size = 8 + struct.unpack("<I", head[4:])[0]
        chunks.append((head[:4], position, size))
        position += size + size % 2
    return chunks if position == end else None


RIFF_HEADROOM = 1 << 20  # room kept for the C2PA chunk that follows


def wav_rewrite(src: BinaryIO, fields: AiFields, where: str, end: int) -> Rewrite:
    """WAV: a ``_PMX`` chunk appended inside the RIFF chunk, whose size grows; a ``_PMX`` chunk already there
    is renamed ``JUNK`` and its packet carried over."""
    header = src.read(12)
    if header[:4] in (b"RF64", b"BW64"):
        raise NotWritable(f"{header[:4].decode()}: Clearance writes XMP into RIFF WAVE files only")
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WAVE":
        raise NotWritable("not a RIFF WAVE file")
    riff_size = struct.unpack("<I", header[4:8])[0]
    if riff_size + 8 != end or riff_size % 2:
        raise NotWritable(f"its RIFF size ({riff_size}) does not match the file ({end} bytes)")
    chunks = riff_chunks(src, end)
    if chunks is None:
        raise NotWritable("its chunks do not add up to its RIFF size")
    existing: bytes | None = None
    patches: list[tuple[int, bytes]] = []
    for kind, offset, size in chunks:
        if kind == b"_PMX":
            if existing is None:
                existing = _read_packet(src, offset + 8, size - 8)
            patches.append((offset, b"JUNK"))
    data = packet(fields, existing)
    chunk = b"_PMX" + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
    if end + len(chunk) + RIFF_HEADROOM > _CLASSIC_MAX:
        raise NotWritable("with its XMP the file would pass the 4 GB a RIFF file holds")
    return Rewrite(b"RIFF" + struct.pack("<I", riff_size + len(chunk)), 8, end, patches=tuple(patches), tail=chunk)


_VP8X_XMP, _VP8X_ALPHA, _VP8X_EXIF = 0x04, 0x10, 0x08  # VP8X flag bits (WebP Container Specification)
_SIMPLE = (b"VP8 ", b"VP8L")


def _webp_canvas(src: BinaryIO, kind: bytes, offset: int, size: int) -> tuple[int, int, bool]:
    """(width, height, alpha) of a simple WebP's one image, from its bitstream header (RFC 9649: VP8 key
    frame header, VP8L header)."""
    src.seek(offset + 8)
    data = src.read(min(size - 8, 10))
    if kind == b"VP8 ":
        if len(data) < 10 or data[0] & 1 or data[3:6] != b"\x9d\x01\x2a":
            raise NotWritable("its VP8 image does not start with a key frame")
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if len(data) < 5 or data[0] != 0x2F:
        raise NotWritable("its VP8L image has no VP8L signature")
    (bits,) = struct.unpack("<I", data[1:5])
    if bits >> 29:
        raise NotWritable(f"its VP8L image has version {bits >> 29}, not 0")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)


def webp_rewrite(src: BinaryIO, fields: AiFields, where: str, end: int) -> Rewrite:
    """WebP: an ``XMP `` chunk appended inside the RIFF chunk, with the XMP flag set in VP8X; a simple
    (VP8/VP8L only) file gets the VP8X chunk it then needs, its canvas the image's size. An ``XMP `` chunk
    already there is renamed ``JUNK`` (an unknown chunk, which readers skip) and its packet carried over."""
    header = src.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WEBP":
        raise NotWritable("not a RIFF WEBP file")
    riff_size = struct.unpack("<I", header[4:8])[0]
    if riff_size + 8 != end or riff_size % 2:
        raise NotWritable(f"its RIFF size ({riff_size}) does not match the file ({end} bytes)")
    chunks = riff_chunks(src, end)
    if not chunks:
        raise NotWritable("its chunks do not add up to its RIFF size")
    existing: bytes | None = None
    patches: list[tuple[int, bytes]] = []
    for kind, offset, size in chunks:
        if kind == b"XMP ":
            if existing is None:
                existing = _read_packet(src, offset + 8, size - 8)
            patches.append((offset, b"JUNK"))
    kinds = {kind for kind, _, _ in chunks}
    first, first_at, first_size = chunks[0]
    extended = b""
    if first == b"VP8X":
        if first_size < 18:
            raise NotWritable("its VP8X chunk is too short")
        src.seek(first_at + 8)
        patches.append((first_at + 8, bytes([src.read(1)[0] | _VP8X_XMP])))
    elif first in _SIMPLE and not kinds & {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH"} and \
            sum(kind in _SIMPLE for kind, _, _ in chunks) == 1:
        width, height, alpha = _webp_canvas(src, first, first_at, first_size)
        flags = _VP8X_XMP | (_VP8X_ALPHA if alpha else 0) | (_VP8X_EXIF if b"EXIF" in kinds else 0)
        extended = b"VP8X" + struct.pack("<IB3x", 10, flags) + (width - 1).to_bytes(3, "little") + \
            (height - 1).to_bytes(3, "little")
    else:
        raise NotWritable(f"its first chunk is '{first.decode('latin-1')}', not VP8X, VP8 or VP8L")
    data = packet(fields, existing)
    chunk = b"XMP " + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
    grown = riff_size + len(extended) + len(chunk)
    if grown + 8 + RIFF_HEADROOM > _CLASSIC_MAX:
        raise NotWritable("with its XMP the file would pass the 4 GB a RIFF file holds")
    return Rewrite(b"RIFF" + struct.pack("<I", grown) + b"WEBP" + extended, 12, end, patches=tuple(patches),
                   tail=chunk)


WRITERS = {"image/jpeg": jpeg_head, "image/png": png_head, "image/tiff": tiff_rewrite,
           "image/x-adobe-dng": tiff_rewrite, "video/mp4": bmff_rewrite, "video/x-m4v": bmff_rewrite,
           "video/quicktime": bmff_rewrite, "audio/wav": wav_rewrite, "image/webp": webp_rewrite}
