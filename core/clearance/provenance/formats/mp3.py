"""MP3 (and other ID3v2-tagged audio): the ID3v2 tag at the start of the file; audio frames are never read.

C2PA sits in a GEOB frame with MIME type ``application/x-c2pa-manifest-store``; encoder and comment
frames (TSSE, TENC, COMM, TXXX) are judged like any text field (generative audio tools name themselves
there).
"""

from __future__ import annotations

from clearance.provenance.jumbf import c2pa_hits
from clearance.provenance.signals import text_field_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

C2PA_MIMES = (b"application/x-c2pa-manifest-store", b"application/c2pa")
_TEXT_FRAMES = {b"TSSE": "TSSE (encoder settings)", b"TENC": "TENC (encoded by)", b"TIT3": "TIT3 (subtitle)",
                b"TCOP": "TCOP (copyright)", b"TPUB": "TPUB (publisher)"}
_WANTED = frozenset([*_TEXT_FRAMES, b"TXXX", b"COMM", b"GEOB"])
_ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}


def _syncsafe(raw: bytes) -> int:
    return (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (raw[3] & 0x7F)


def read(src: Source, hits: list[Hit]) -> None:
    if src.read(0, 3) != b"ID3":
        return  # bare MPEG audio: no ID3v2 tag, so no provenance metadata
    head = src.exact(0, 10, "ID3 header")
    major, flags = head[3], head[5]
    if major not in (2, 3, 4):
        raise ScanProblem(f"ID3: unsupported version 2.{major}")
    size = _syncsafe(head[6:10])
    tag = src.exact(10, size, "ID3 tag")
    if flags & 0x80 and major < 4:  # whole-tag unsynchronisation (v2.2/2.3)
        tag = tag.replace(b"\xff\x00", b"\xff")
    pos = 0
    if flags & 0x40 and major >= 3:  # extended header
        if len(tag) < 4:
            raise ScanProblem("truncated: ID3 extended header")
        ext = _syncsafe(tag[:4]) if major == 4 else int.from_bytes(tag[:4], "big") + 4
        pos = ext
    id_len, header_len = (3, 6) if major == 2 else (4, 10)
    while pos + header_len <= len(tag):
        src.step()
        frame_id = tag[pos : pos + id_len]
        if frame_id[0] == 0:
            return  # padding
        raw_size = tag[pos + id_len : pos + id_len + (3 if major == 2 else 4)]
        frame_size = _syncsafe(raw_size) if major == 4 else int.from_bytes(raw_size, "big")
        body_at = pos + header_len
        if body_at + frame_size > len(tag):
            raise ScanProblem(f"ID3: frame {frame_id.decode('latin-1')} claims {frame_size} bytes, "
                              f"{len(tag) - body_at} are left (truncated or lying length)")
        if major == 2:
            frame_id = {b"TSS": b"TSSE", b"TEN": b"TENC", b"TXX": b"TXXX", b"COM": b"COMM", b"GEO": b"GEOB"}.get(
                frame_id, frame_id)
        if frame_id in _WANTED and frame_size:
            _frame(frame_id, tag[body_at : body_at + frame_size], hits)
        pos = body_at + frame_size


def _split(data: bytes, encoding: int) -> tuple[bytes, bytes]:
    """One terminated string and the rest, for the frame's text encoding."""
    if encoding in (1, 2):
        i = 0
        while i + 1 < len(data):
            if data[i] == 0 and data[i + 1] == 0:
                return data[:i], data[i + 2 :]
            i += 2
        return data, b""
    end = data.find(b"\0")
    return (data, b"") if end < 0 else (data[:end], data[end + 1 :])


def _text(raw: bytes, encoding: int) -> str:
    return raw.decode(_ENCODINGS.get(encoding, "latin-1"), errors="replace").strip("\0 \ufeff")


def _frame(frame_id: bytes, body: bytes, hits: list[Hit]) -> None:
    encoding = body[0]
    rest = body[1:]
    if frame_id == b"GEOB":
        mime, rest = _split(rest, 0)
        _filename, rest = _split(rest, encoding)
        _description, data = _split(rest, encoding)
        if mime.strip().lower() in C2PA_MIMES:
            c2pa_hits(data, "mp3", "ID3 GEOB (C2PA)", hits)
        return
    if frame_id == b"TXXX":
        description, value = _split(rest, encoding)
        text_field_hits("mp3", "ID3 TXXX", _text(description, encoding) or "TXXX", _text(value, encoding), hits)
    elif frame_id == b"COMM":
        _short, text = _split(rest[3:], encoding)
        text_field_hits("mp3", "ID3 COMM", "COMM (comment)", _text(text, encoding), hits)
    else:
        text_field_hits("mp3", "ID3 " + frame_id.decode("latin-1"), _TEXT_FRAMES[frame_id], _text(rest, encoding),
                        hits)
