"""JPEG: walk marker segments up to the first SOS (scan data is never read).

APP11 carries C2PA as JUMBF, possibly split over many segments (reassembled by box instance and
packet sequence number, as file ranges: only the parts of the store provenance needs are read); APP1
carries EXIF (UserComment, ImageDescription, Software) and XMP, including extended XMP split by GUID and
offset; COM carries free text some generators write.
"""

from __future__ import annotations

from clearance.provenance.formats import tiff
from clearance.provenance.jumbf import StoreBytes, c2pa_hits
from clearance.provenance.signals import text_field_hits, xmp_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/\0"
MAX_EXTENDED_XMP = 8 * 1024 * 1024
_STANDALONE = frozenset([0x01, 0xD8, *range(0xD0, 0xD8)])


def read(src: Source, hits: list[Hit]) -> None:
    pos = 2
    jumbf: dict[int, dict[int, tuple[int, int, bytes]]] = {}
    extended: dict[bytes, dict[int, bytes]] = {}
    extended_size: dict[bytes, int] = {}
    while True:
        src.step()
        head = src.read(pos, 4)
        if len(head) < 2:
            raise ScanProblem(f"truncated: the JPEG ends at byte {pos} before its image data")
        if head[0] != 0xFF:
            raise ScanProblem(f"JPEG: expected a marker at byte {pos}, found 0x{head[0]:02x}")
        marker = head[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: the metadata is over
            break
        if len(head) < 4:
            raise ScanProblem(f"truncated: JPEG segment 0x{marker:02x} at byte {pos} has no length")
        length = int.from_bytes(head[2:4], "big")
        if length < 2:
            raise ScanProblem(f"JPEG: segment 0x{marker:02x} at byte {pos} has an impossible length {length}")
        body_at, body_len = pos + 4, length - 2
        if marker == 0xEB:
            src.require(body_at, body_len, "APP11 segment")
            _app11(src.read(body_at, min(body_len, 16)), body_at, body_len, jumbf)
        elif marker == 0xE1:
            body = src.exact(body_at, body_len, "APP1 segment")
            if body.startswith(b"Exif\0"):
                tiff.read(Source(data=body[6:]), hits, fmt="jpeg", location="APP1 EXIF")
            elif body.startswith(XMP_ID):
                xmp_hits(body[len(XMP_ID) :], "jpeg", "APP1 XMP", hits)
            elif body.startswith(XMP_EXT_ID):
                _extended_xmp(body[len(XMP_EXT_ID) :], extended, extended_size)
        elif marker == 0xFE:
            text = src.exact(body_at, min(body_len, 65535), "COM segment").decode("utf-8", errors="replace")
            text_field_hits("jpeg", "COM", "comment", text, hits)
        pos = body_at + body_len
    for instance in sorted(jumbf):
        packets = jumbf[instance]
        store = StoreBytes.in_file(src, _reassemble(packets))
        c2pa_hits(store, "jpeg", "APP11 JUMBF" + (f" (instance {instance})" if len(jumbf) > 1 else ""), hits)
    for guid, parts in extended.items():
        data = b"".join(parts[o] for o in sorted(parts))
        if len(data) < extended_size[guid]:
            raise ScanProblem(f"JPEG: extended XMP {guid.decode('latin-1')} is incomplete ({len(data)} of "
                              f"{extended_size[guid]} bytes)")
        xmp_hits(data, "jpeg", "APP1 extended XMP", hits)


def _app11(head: bytes, at: int, length: int, jumbf: dict[int, dict[int, tuple[int, int, bytes]]]) -> None:
    """Note where one APP11 packet's box lies (``head``: its first 16 bytes). Nothing else is read here."""
    # JPEG XT: 'JP' common identifier, box instance number (En), packet sequence number (Z), then the box.
    if length < 16 or head[:2] != b"JP":
        return
    instance = int.from_bytes(head[2:4], "big")
    sequence = int.from_bytes(head[4:8], "big")
    packets = jumbf.setdefault(instance, {})
    if sequence in packets:
        raise ScanProblem(f"JPEG: APP11 box instance {instance} repeats packet {sequence}")
    if packets and len(packets) > 4096:
        raise ScanProblem("JPEG: too many APP11 packets")
    packets[sequence] = (at + 8, length - 8, head[8:12])


def _reassemble(packets: dict[int, tuple[int, int, bytes]]) -> list[tuple[int, int]]:
    """The file ranges that make up the store, in packet order."""
    # Every packet repeats the superbox header (LBox, TBox, and XLBox when LBox == 1); keep the first one only.
    order = sorted(packets)
    at, length, _ = packets[order[0]]
    ranges = [(at, length)]
    for z in order[1:]:
        at, length, box = packets[z]
        header = 16 if box == b"\0\0\0\1" else 8
        ranges.append((at + header, max(0, length - header)))
    return ranges


def _extended_xmp(body: bytes, extended: dict[bytes, dict[int, bytes]], sizes: dict[bytes, int]) -> None:
    if len(body) < 40:
        raise ScanProblem("JPEG: truncated extended XMP header")
    guid = body[:32]
    full = int.from_bytes(body[32:36], "big")
    offset = int.from_bytes(body[36:40], "big")
    if full > MAX_EXTENDED_XMP:
        raise ScanProblem(f"JPEG: extended XMP claims {full} bytes, over the {MAX_EXTENDED_XMP // 1048576} MiB limit")
    if offset + len(body) - 40 > full:
        raise ScanProblem(f"JPEG: extended XMP chunk at offset {offset} runs past its declared size {full}")
    sizes[guid] = full
    extended.setdefault(guid, {})[offset] = body[40:]
