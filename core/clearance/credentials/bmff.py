"""An MP4/MOV manifest placed and hashed by Clearance, as the C2PA library places it, over a hash taken while
the file is written.

Left to itself, the C2PA library copies the whole movie into memory with the manifest's box inserted, hashes
that copy, signs, and copies it again to the output, one step after another on one core: about ten times the
cost of copying the file. A movie's hard binding is a BMFF hash (``c2pa.hash.bmff.v3``; C2PA Technical
Specification 2.x, "BMFF-Based Hash"), so placing the manifest means what the library's BMFF writer does
(c2pa-rs ``sdk/src/asset_handlers/bmff_io.rs``, ``write_cai`` and ``adjust_known_offsets``):

- the C2PA ``uuid`` box (UUID D8FEC3D6-1B0E-483C-9297-5828877EC481, purpose ``manifest``) goes right after
  the ``ftyp`` box, so every top-level box after it moves by the box's size;
- the chunk offsets that point into the file (``moov/trak/mdia/minf/stbl/stco`` and ``co64``) grow by that
  size; the other boxes the library adjusts (``meta/iloc``, ``moof/traf/tfhd``, ``mfra/tfra``, ``saio``)
  are not modelled here, and a movie that has them is left to the library, as a fragmented one is. A 32-bit
  offset that would pass 4 GB is refused (the library would wrap it).

The hash follows the library's BMFF hash (c2pa-rs ``sdk/src/assertions/bmff_hash.rs``, default exclusions, and
``bmff_to_jumbf_exclusions``): the top-level boxes in file order, leaving out ``ftyp``, ``free``, ``skip``,
``mfra`` and the C2PA ``uuid`` box; before each box kept, its offset in the file as 8 big-endian bytes
(hashes of version 2 and later bind where boxes sit). Here the media data is read once, a chunk at a time,
into buffers that a second thread hashes while they are written out (``fileio``'s hashing writer): one
pass over the data, and the hash is of the very bytes written.

Signing uses the C API's caller-placed workflow (c2pa-rs ``c2pa_c_ffi``: ``c2pa_builder_placeholder``, then
``c2pa_builder_sign_embeddable``, which pads the signed manifest to the placeholder's exact size): a first
Builder, its BMFF hash assertion holding zeros, gives the size of the box; the file is written and hashed
with a placeholder of that size; a second Builder, the same manifest with the hash in its assertion, signs,
and its box is written over the placeholder. c2pa-python does not wrap those calls; they are made through the
library it loaded, on its Builders, with the signer in the Builder's Context as those calls expect.

The manifest is then read back with c2pa-python's Reader from the output's first boxes (``ftyp`` and the
manifest's box: where a reader finds it): signature, certificate and every assertion must validate, and the
BMFF hash must be the one Clearance computed with the exclusions above; re-hashing the movie in the library,
as a full validation does, would cost one more pass over the file and prove nothing more about these bytes.

Only what is modelled here takes this path: MP4, M4V and MOV (of any size: the library makes no thumbnail
for a movie), one ``moov`` with ``stco``/``co64`` chunk offsets and no ``saio``, top-level boxes among
``ftyp`` (first), ``moov``, ``mdat``, ``free``, ``skip``, ``wide`` and non-C2PA ``uuid``, none running "to
the end of the file", that carry no credentials yet, with the c2pa-python version these calls were checked
against. Anything else (fragmented movies, several movie boxes, HEIF-style ``meta``) signs through the
library's own path, decided before anything is written; ``CLEARANCE_C2PA_LIBRARY_EMBED=1`` forces that path.
The
library's Reader has parsed the source's boxes by then (asked whether it carries credentials), so a movie its
parser refuses is refused before this module writes anything; what this module adds (a ``uuid`` box, moved
chunk offsets, the XMP box) is what the library's own writer adds.
"""

from __future__ import annotations

import base64
import ctypes
import io
import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from clearance.credentials import detached, embedding, fileio
from clearance.credentials.xmp import NotWritable, bmff_boxes
from clearance.errors import ClearanceError

FORMATS = ("video/mp4", "video/x-m4v", "video/quicktime")
C2PA_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
HASH_LABEL = "c2pa.hash.bmff.v3"
EXCLUDED = (b"ftyp", b"mfra", b"free", b"skip")  # the library's default exclusions, with the C2PA uuid box
TOP_LEVEL = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid")  # modelled; others hold offsets
MAX_MOOV = 64 << 20  # a movie box is kilobytes to a few megabytes; one claiming more is left to the library
_STBL_PATH = (b"trak", b"mdia", b"minf", b"stbl")
_U32 = 0xFFFFFFFF


def exclusions() -> list[dict[str, Any]]:
    """The BMFF hash's exclusions as the library writes them by default (``BmffHash::set_default_exclusions``)."""
    return [{"xpath": "/uuid", "data": [{"offset": 8, "value": list(C2PA_UUID)}]},
            {"xpath": "/ftyp"}, {"xpath": "/mfra"}, {"xpath": "/free"}, {"xpath": "/skip"}]


def hash_assertion(digest: bytes) -> dict[str, Any]:
    return {"label": HASH_LABEL, "data": {"exclusions": exclusions(), "alg": "sha256", "hash": list(digest),
                                          "name": "jumbf manifest"}}


class _Staged(io.RawIOBase):
    """The file as the XMP rewrite stages it (``pieces``: literal bytes and source ranges), read without
    writing it: only box headers and the movie box are read."""

    def __init__(self, fd: int, pieces: list[fileio.Piece]) -> None:
        super().__init__()
        self._fd = fd
        self._spans: list[tuple[int, int, fileio.Piece]] = []
        position = 0
        for piece in pieces:
            length = piece[1] - piece[0] if isinstance(piece, tuple) else len(_data(piece))
            if length:
                self._spans.append((position, position + length, piece))
            position += length
        self.size = position
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = {0: 0, 1: self._position, 2: self.size}[whence] + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        data = self.read_at(self._position, len(buffer))
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def read_at(self, offset: int, count: int) -> bytes:
        out = bytearray()
        end = min(offset + count, self.size)
        for start, stop, piece in self._spans:
            if stop <= offset or start >= end:
                continue
            a, b = max(start, offset), min(stop, end)
            if isinstance(piece, tuple):
                out += os.pread(self._fd, b - a, piece[0] + a - start)
            else:
                out += _data(piece)[a - start:b - start]
        return bytes(out)

    def cut(self, offset: int, end: int) -> list[fileio.Piece]:
        """The pieces that make the staged bytes from ``offset`` to ``end``."""
        out: list[fileio.Piece] = []
        for start, stop, piece in self._spans:
            if stop <= offset or start >= end:
                continue
            a, b = max(start, offset), min(stop, end)
            out.append((piece[0] + a - start, piece[0] + b - start) if isinstance(piece, tuple)
                       else _data(piece)[a - start:b - start])
        return out


def _data(piece: fileio.Piece) -> bytes:
    assert not isinstance(piece, tuple)
    return piece.data if isinstance(piece, fileio.Slot) else piece


class NotModelled(Exception):
    """The movie is not laid out as modelled here: the library's own path signs it."""


class OffsetsTooFar(Exception):
    """A 32-bit chunk offset (``stco``) would pass 4 GB once the manifest's box is in. The library's writer
    would wrap it (c2pa-rs ``adjust_known_offsets`` adds without a check, and its release build does not trap
    overflow), breaking the movie under a valid manifest: refused, not left to the library."""


@dataclass(frozen=True)
class Layout:
    """Where the manifest's box goes (right after ``ftyp``), the movie box with its chunk offsets moved by the
    box's size, and the top-level boxes of the staged file (type, offset, size)."""

    after_ftyp: int
    moov: tuple[int, int]
    boxes: list[tuple[bytes, int, int]]
    chunk_offsets: list[tuple[int, int, int]]  # (offset in moov of the entries, count, entry size 4 or 8)
    moov_bytes: bytes

    def moved_moov(self, delta: int) -> bytes:
        moov = bytearray(self.moov_bytes)
        for at, count, width in self.chunk_offsets:
            form = f">{count}{'I' if width == 4 else 'Q'}"
            values = struct.unpack_from(form, moov, at)
            if width == 4 and values and max(values) + delta > _U32:
                raise OffsetsTooFar(f"a chunk offset ({max(values)}) would pass 4 GB in a 32-bit stco box")
            struct.pack_into(form, moov, at, *(v + delta for v in values))
        return bytes(moov)

    def pieces(self, staged: _Staged, box: bytes) -> list[fileio.Piece]:
        start, end = self.moov
        return [*staged.cut(0, self.after_ftyp), fileio.Slot(box), *staged.cut(self.after_ftyp, start),
                self.moved_moov(len(box)), *staged.cut(end, staged.size)]

    def hashed(self, box_size: int) -> list[tuple[int, int]]:
        """The output's hashed ranges in order; a range of length 0 stands for a box's offset (8 bytes)."""
        out: list[tuple[int, int]] = []
        for kind, offset, size in self.boxes:
            if kind in EXCLUDED:
                continue
            moved = offset + box_size if offset >= self.after_ftyp else offset
            out += [(moved, moved), (moved, moved + size)]
        return out


@dataclass(frozen=True)
class Plan:
    """A movie this module places the manifest in: the staged file's pieces and its layout."""

    source: Path
    staged: _Staged
    layout: Layout


def plan(source: Path, pieces: list[fileio.Piece]) -> Plan:
    """How the staged movie (``pieces`` of ``source``) is laid out, read from its box headers and movie box;
    raises NotModelled when it is not a movie this module places manifests in."""
    with fileio.descriptor(source, os.O_RDONLY) as fd:
        staged = _Staged(fd, pieces)
        return Plan(source, staged, _layout(staged))


def _layout(staged: _Staged) -> Layout:
    reader: BinaryIO = io.BufferedReader(staged, buffer_size=64)
    try:
        found = bmff_boxes(reader, 0, staged.size)
    except NotWritable as why:
        raise NotModelled(str(why)) from None
    if not found or found[0][0] != b"ftyp" or found[0][1] != 0:
        raise NotModelled("it does not start with a file type box (ftyp)")
    boxes: list[tuple[bytes, int, int]] = []
    for kind, offset, header, size in found:
        if kind not in TOP_LEVEL:
            raise NotModelled(f"a top-level '{kind.decode('latin-1')}' box")
        raw = staged.read_at(offset, 24)
        if struct.unpack(">I", raw[:4])[0] == 0:
            raise NotModelled("a box runs to the end of the file")
        if kind == b"uuid" and (header != 8 or raw[8:24] == C2PA_UUID):
            raise NotModelled("a C2PA box already, or a uuid box with a 64-bit size")
        boxes.append((kind, offset, size))
    movies = [(offset, size) for kind, offset, size in boxes if kind == b"moov"]
    if len(movies) != 1 or movies[0][1] > MAX_MOOV:
        raise NotModelled("not one movie box (moov) of a modelled size")
    moov_at, moov_size = movies[0]
    moov = staged.read_at(moov_at, moov_size)
    if len(moov) != moov_size:
        raise NotModelled("the movie box was cut short while it was read")
    offsets = list(_chunk_offsets(moov))
    return Layout(boxes[0][2], (moov_at, moov_at + moov_size), boxes, offsets, moov)


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header length, size) of the boxes from ``start`` to ``end`` of ``data``."""
    position = start
    while position < end:
        if end - position < 8:
            raise NotModelled("a box header inside the movie box is cut short")
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            if end - position < 16:
                raise NotModelled("a box header inside the movie box is cut short")
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise NotModelled(f"the '{kind.decode('latin-1')}' box inside the movie box runs past its container")
        yield kind, position, header, size
        position += size


def _chunk_offsets(moov: bytes) -> Iterator[tuple[int, int, int]]:
    """Every ``moov/trak/mdia/minf/stbl/stco|co64`` table: (where its entries start, count, width)."""
    _, _, header, size = next(_children(moov, 0, len(moov)))

    def walk(start: int, end: int, path: tuple[bytes, ...]) -> Iterator[tuple[int, int, int]]:
        for kind, offset, head, length in _children(moov, start, end):
            if kind == b"mvex":
                raise NotModelled("a fragmented movie (moov/mvex)")
            if path == _STBL_PATH:
                if kind == b"saio":
                    raise NotModelled("sample auxiliary offsets (saio)")
                if kind in (b"stco", b"co64"):
                    width = 4 if kind == b"stco" else 8
                    if length < head + 8:
                        raise NotModelled(f"a cut-short {kind.decode()} box")
                    (count,) = struct.unpack_from(">I", moov, offset + head + 4)
                    if head + 8 + count * width > length:
                        raise NotModelled(f"a {kind.decode()} box with more entries than it holds")
                    yield offset + head + 8, count, width
            elif len(path) < len(_STBL_PATH) and kind == _STBL_PATH[len(path)]:
                yield from walk(offset + head, offset + length, (*path, kind))

    return walk(header, size, ())


def write_hashed(pieces: list[fileio.Piece], hashed: list[tuple[int, int]], source_fd: int,
                 out_fd: int) -> tuple[bytes, int]:
    """Write ``pieces`` to ``out_fd`` and return the BMFF hash of the ``hashed`` ranges (a range of length 0:
    its offset as 8 big-endian bytes) and where the one slot starts. As ``fileio.write_hashed`` does, each
    source range that is hashed is read once into the hashing thread's buffers, hashed there and written
    from that very buffer (what is delivered is what was hashed); what is left out of the hash (``ftyp``,
    ``free``, the manifest's box) is written without, copied by the kernel when it comes from the source."""
    total = sum(len(p) if isinstance(p, bytes) else len(p.data) if isinstance(p, fileio.Slot) else p[1] - p[0]
                for p in pieces)
    os.ftruncate(out_fd, total)
    hasher = fileio._Hasher()  # fileio's hashing writer's own: read(), add(), finish(), stop() are what is used
    try:
        slots = _write(pieces, hashed, source_fd, out_fd, hasher)
    except BaseException:
        hasher.stop()
        raise
    digest = hasher.finish()
    [(slot, _)] = slots
    return digest, slot


def _write(pieces: list[fileio.Piece], hashed: list[tuple[int, int]], source_fd: int, out_fd: int,
           hasher: Any) -> list[tuple[int, int]]:
    slots: list[tuple[int, int]] = []
    k = 0  # the next of ``hashed`` not yet fully hashed
    position = 0
    for piece in pieces:
        length = piece[1] - piece[0] if isinstance(piece, tuple) else len(_data(piece))
        end = position + length
        if isinstance(piece, fileio.Slot):
            if k < len(hashed) and hashed[k][0] < end:
                raise ValueError(f"the manifest's place at {position} is inside a hashed range")  # a plan's bug
            fileio.write_at(out_fd, piece.data, position)
            slots.append((position, length))
            position = end
            continue
        cur = position
        while cur < end:
            while k < len(hashed) and hashed[k][0] == hashed[k][1] and hashed[k][0] <= cur:
                hasher.add(struct.pack(">Q", hashed[k][0]))  # a box's offset, before the box
                k += 1
            inside = k < len(hashed) and hashed[k][0] <= cur < hashed[k][1]
            stop = min(end, hashed[k][1]) if inside else min(end, hashed[k][0]) if k < len(hashed) else end
            _span(piece, position, cur, stop, inside, source_fd, out_fd, hasher)
            cur = stop
            if inside and cur == hashed[k][1]:
                k += 1
        position = end
    if k != len(hashed):
        raise ValueError(f"{len(hashed) - k} hashed ranges lie past the end of the output")  # a plan's bug
    return slots


def _span(piece: fileio.Piece, at: int, start: int, stop: int, hashed: bool, source_fd: int, out_fd: int,
          hasher: Any) -> None:
    """Write the part of ``piece`` (written from ``at``) that goes from ``start`` to ``stop``, hashed or not."""
    if not isinstance(piece, tuple):
        data = _data(piece)[start - at:stop - at]
        fileio.write_at(out_fd, data, start)
        if hashed:
            hasher.add(data)
        return
    source = piece[0] + start - at
    if not hashed:
        fileio.copy_range(source_fd, out_fd, source, start, stop - start)
        return
    while start < stop:
        n = min(fileio._CHUNK, stop - start)
        fileio.write_at(out_fd, hasher.read(source_fd, source, n), start)
        source += n
        start += n


def active() -> bool:
    """Are movies' manifests placed and hashed here (this c2pa-python, not switched off)?"""
    return (embedding.active() and hasattr(os, "preadv")
            and detached.library_calls().sign_embeddable is not None)


def _composed(builder: Any, call: Callable[..., int], mime: str) -> bytes:
    import c2pa

    calls = detached.library_calls()
    builder._ensure_valid_state()
    pointer = ctypes.POINTER(ctypes.c_ubyte)()
    size = call(builder._handle, mime.encode("ascii"), ctypes.byref(pointer))
    if size < 0:
        raise c2pa.C2paError(calls.error())
    return calls.take(pointer, size)


def sign(movie: Plan, new_builder: Callable[[dict[str, Any]], Any], mime: str, out: Path) -> None:
    """Write ``out``: the staged movie with its manifest placed and signed. ``new_builder(hash_assertion)``
    makes a Builder of the manifest with that assertion added, its Context holding the signer. Raises
    ClearanceError before anything is written when a chunk offset would not fit once the box is in;
    ``c2pa.C2paError`` when the library refuses; ClearanceError or OSError when the file cannot be written as
    modelled (``out`` is then incomplete and the caller removes it)."""
    calls = detached.library_calls()
    source = movie.source
    sizing = new_builder(hash_assertion(bytes(32)))
    try:
        placeholder = _composed(sizing, calls.placeholder_embeddable, mime)
    finally:
        sizing.close()
    try:
        output = movie.layout.pieces(movie.staged, placeholder)
    except OffsetsTooFar as why:
        raise ClearanceError(f"{source}: {why} once the {len(placeholder)}-byte manifest box is inserted after "
                             "ftyp; nothing was written. Remux it with 64-bit chunk offsets (co64) and sign again") \
            from None
    with fileio.descriptor(source, os.O_RDONLY) as src_fd, \
            fileio.descriptor(out, os.O_RDWR | os.O_CREAT) as out_fd:
        digest, slot = write_hashed(output, movie.layout.hashed(len(placeholder)), src_fd, out_fd)
        signing = new_builder(hash_assertion(digest))
        try:
            if len(_composed(signing, calls.placeholder_embeddable, mime)) != len(placeholder):
                raise ClearanceError(f"{source}: the C2PA library sized the manifest differently twice; nothing "
                                     "was written. Sign again with CLEARANCE_C2PA_LIBRARY_EMBED=1 and report it")
            box = _composed(signing, calls.sign_embeddable, mime)
        finally:
            signing.close()
        if len(box) != len(placeholder) or box[:24] != placeholder[:24]:
            raise ClearanceError(f"{source}: the C2PA library returned a manifest box of {len(box)} bytes for a "
                                 f"place of {len(placeholder)}; nothing was written. Sign again with "
                                 "CLEARANCE_C2PA_LIBRARY_EMBED=1 and report it")
        fileio.write_at(out_fd, box, slot)
        head = os.pread(out_fd, slot + len(box), 0)
    check_claims(source, mime, head, digest)


def check_claims(where: Path, mime: str, head: bytes, digest: bytes) -> None:
    """Read the manifest just placed back with the library's Reader (``fileio.read_back``, else c2pa-python's
    Reader) from ``head`` (the output's ``ftyp`` and the manifest's box, where a reader finds it): the
    signature, the certificate and every assertion must validate, and the BMFF hash must be ``digest`` with the
    library's default exclusions. Only the hash itself cannot match (the Reader has no media to hash): the
    digest is compared instead."""
    import c2pa

    if fileio.reads_back_natively():
        detailed = fileio.read_back(head, mime, None)
    else:
        reader = c2pa.Reader(mime, io.BytesIO(head))
        try:
            detailed = json.loads(reader.detailed_json())
        finally:
            reader.close()
    results = detailed.get("validation_results") or {}  # the same results as the plain report's
    active_results = results.get("activeManifest") or {}
    failures = [str(f.get("code")) for f in active_results.get("failure") or []]
    real = [c for c in failures if not c.endswith(".untrusted") and not c.startswith("signingCredential.ocsp")]
    signed = any(s.get("code") == "claimSignature.validated" for s in active_results.get("success") or [])
    try:
        binding = detailed["manifests"][detailed["active_manifest"]]["assertion_store"][HASH_LABEL]
        found = binding.get("hash")
        found_digest = bytes(found) if isinstance(found, list) else base64.b64decode(found)
        bound = binding.get("alg") == "sha256" and found_digest == digest
    except (KeyError, TypeError, ValueError):
        bound = False
    if not (signed and bound and real == ["assertion.bmffHash.mismatch"]):
        problems = [c for c in real if c != "assertion.bmffHash.mismatch"] or ["the BMFF hash is not the file's"]
        raise ClearanceError(f"{where}: the signed manifest does not read back as signed ({', '.join(problems)}); "
                             "nothing was written. Sign again; if it repeats, report it with the file")
