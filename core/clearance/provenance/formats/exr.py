"""OpenEXR: read the header attributes (name\\0 type\\0 size value) and stop at the end of the header.

``clearance/*`` attributes are what our Nuke integration writes into renders of tagged scripts
(``clearance/record_ids``: the records of the GenAI uses inside). Other string attributes
(software, comments, owner, a ``prompt`` some generators write) are judged like any text field.
Multi-part files: every part header is read; pixel data never is.
"""

from __future__ import annotations

import json

from clearance.provenance.model import Hit
from clearance.provenance.signals import CONFIDENCE_CLEARANCE_RECORD, short, text_field_hits
from clearance.provenance.source import ScanProblem, Source

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
    pos = 8
    part = 0
    while True:
        pos, count = _header(src, pos, hits, part if multipart else None)
        if not multipart or count == 0:
            return
        part += 1
        if part > 1024:
            raise ScanProblem("EXR: more than 1024 parts")


def _cstr(src: Source, pos: int, what: str) -> tuple[str, int]:
    chunk = src.read(pos, 256)
    end = chunk.find(b"\0")
    if end < 0:
        if len(chunk) < 256:
            raise ScanProblem(f"truncated: the EXR header ends inside an attribute {what}")
        raise ScanProblem(f"EXR: attribute {what} longer than 255 bytes")
    return chunk[:end].decode("latin-1"), pos + end + 1


def _header(src: Source, pos: int, hits: list[Hit], part: int | None) -> tuple[int, int]:
    count = 0
    where = "header" if part is None else f"part {part} header"
    while True:
        src.step()
        name, pos = _cstr(src, pos, "name")
        if not name:
            return pos, count
        count += 1
        if count > MAX_ATTRIBUTES:
            raise ScanProblem(f"EXR: more than {MAX_ATTRIBUTES} attributes in one header")
        kind, pos = _cstr(src, pos, "type")
        size = int.from_bytes(src.exact(pos, 4, f"EXR attribute {name} size"), "little", signed=True)
        pos += 4
        if size < 0 or pos + size > src.size:
            raise ScanProblem(f"EXR: attribute {name!r} claims {size} bytes, {src.size - pos} are left "
                              "(truncated or lying length)")
        if kind in ("string", "stringvector") and (name.startswith(CLEARANCE_PREFIX) or size <= MAX_VALUE):
            if size > MAX_VALUE:
                raise ScanProblem(f"EXR: attribute {name!r} of {size} bytes is over the metadata limit")
            value = src.exact(pos, size, f"EXR attribute {name}")
            texts = [value.decode("utf-8", errors="replace")] if kind == "string" else _strings(value, name)
            for text in texts:
                _attribute(name, text, where, hits)
        pos += size


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
