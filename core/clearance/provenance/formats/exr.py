"""OpenEXR: read the header attributes (name\\0 type\\0 size value) and stop at the end of the header.

``clearance/*`` attributes are what our Nuke integration writes into renders of tagged scripts
(``clearance/record_ids``: the records of the GenAI uses inside). Other string attributes
(software, comments, owner, a ``prompt`` some generators write) are judged like any text field.
Multi-part files: every part header is read; pixel data never is.
"""

from __future__ import annotations

import json

from clearance.provenance.signals import CONFIDENCE_CLEARANCE_RECORD, short, text_field_hits
from clearance.provenance.source import ScanProblem, Source
from clearance.provenance.verdicts import Hit

MAGIC = b"\x76\x2f\x31\x01"
MULTIPART = 0x1000
MAX_ATTRIBUTES = 4096
MAX_VALUE = 4 * 1024 * 1024
CLEARANCE_PREFIX = "clearance/"


def read(src: Source, hits: list[Hit]) -> None:
    version = int.from_bytes(src.exact(4, 4, "EXR version"), "little")
    if version & 0xFF != 2:
        raise ScanProblem(f"EXR: unsupported version {version & 0xFF}")
    multipart = bool(version & MULTIPART)
    header = _Header(src)
    part = 0
    while True:
        count = _header(header, hits, part if multipart else None)
        if not multipart or count == 0:
            return
        part += 1
        if part > 1024:
            raise ScanProblem("EXR: more than 1024 parts")


class _Header:
    """The header read through a window of large blocks (a Nuke header is a few KiB: usually one read)."""

    __slots__ = ("base", "buf", "pos", "src")

    def __init__(self, src: Source) -> None:
        self.src = src
        self.base = 0
        self.buf = src.read(0, 16 * 1024)
        self.pos = 8

    def _window(self, n: int) -> None:
        rel = self.pos - self.base
        if rel + n <= len(self.buf):
            return
        if self.base + len(self.buf) >= self.src.size and rel <= len(self.buf):
            return  # the window already reaches the end of the file
        self.base = self.pos
        self.buf = self.src.read(self.pos, max(n, 64 * 1024))

    def cstr(self, what: str) -> str:
        self._window(256)
        rel = self.pos - self.base
        end = self.buf.find(b"\0", rel, rel + 256)
        if end < 0:
            if len(self.buf) - rel < 256:
                raise ScanProblem(f"truncated: the EXR header ends inside an attribute {what}")
            raise ScanProblem(f"EXR: attribute {what} longer than 255 bytes")
        self.pos = self.base + end + 1
        return self.buf[rel:end].decode("latin-1")

    def take(self, n: int, what: str) -> bytes:
        self._window(n)
        rel = self.pos - self.base
        if rel + n > len(self.buf):
            raise ScanProblem(f"truncated: {what} needs {n} bytes at offset {self.pos}, the file ends at "
                              f"{self.src.size}")
        self.pos += n
        return self.buf[rel : rel + n]


def _header(h: _Header, hits: list[Hit], part: int | None) -> int:
    count = 0
    where = "header" if part is None else f"part {part} header"
    while True:
        h.src.step()
        name = h.cstr("name")
        if not name:
            return count
        count += 1
        if count > MAX_ATTRIBUTES:
            raise ScanProblem(f"EXR: more than {MAX_ATTRIBUTES} attributes in one header")
        kind = h.cstr("type")
        size = int.from_bytes(h.take(4, f"EXR attribute {name} size"), "little", signed=True)
        if size < 0 or h.pos + size > h.src.size:
            raise ScanProblem(f"EXR: attribute {name!r} claims {size} bytes, {h.src.size - h.pos} are left "
                              "(truncated or lying length)")
        if kind in ("string", "stringvector"):
            if size > MAX_VALUE:
                raise ScanProblem(f"EXR: attribute {name!r} of {size} bytes is over the metadata limit")
            value = h.take(size, f"EXR attribute {name}")
            texts = [value.decode("utf-8", errors="replace")] if kind == "string" else _strings(value, name)
            for text in texts:
                _attribute(name, text, where, hits)
        else:
            h.pos += size  # binary attributes (windows, chromaticities, previews) are stepped over


def _strings(value: bytes, name: str) -> list[str]:
    out, i = [], 0
    while i + 4 <= len(value):
        n = int.from_bytes(value[i : i + 4], "little", signed=True)
        if n < 0 or i + 4 + n > len(value):
            raise ScanProblem(f"EXR: stringvector {name!r} holds a lying length")
        out.append(value[i + 4 : i + 4 + n].decode("utf-8", errors="replace"))
        i += 4 + n
    return out


def record_ids(text: str) -> list[str]:
    """``clearance/record_ids`` as written by the Nuke integration: a JSON list or comma/space separated ids."""
    text = text.strip()
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, list):
            return [str(x) for x in data if str(x).strip()]
    return [part for part in text.replace(",", " ").split() if part]


def _attribute(name: str, text: str, where: str, hits: list[Hit]) -> None:
    location = f"{where} attribute {name}"
    if name.startswith(CLEARANCE_PREFIX):
        if name == "clearance/record_ids":
            ids = record_ids(text)
            if ids:
                hits.append(Hit("ai_composite", "exr", location, name, ", ".join(ids), generator="Clearance record",
                                confidence=CONFIDENCE_CLEARANCE_RECORD))
        elif text.strip():
            hits.append(Hit("none", "exr", location, name, short(text), confidence=0.5))
        return
    text_field_hits("exr", location, name, text, hits)
