"""The one reader of YAML and JSON documents, bounded so that no input can hang or exhaust the machine.

Records, policies, publish manifests, key files, approvals, revocation lists and server settings all come
through here. Whatever the input, the answer is a parsed document or one ClearanceError line naming the file
and the limit it broke (the CLI exits 2):

- only regular files are opened: a FIFO, socket or device is refused from ``stat`` before any ``open``
  (a FIFO would block ``open``; ``/dev/zero`` has no size), and the file is opened ``O_NONBLOCK`` and
  checked again with ``fstat`` in case it was swapped in between;
- the size limit is judged on the bytes actually read, so a file that grows while it is read stops too;
- a symlink loop, a folder, an empty file, or text that is not UTF-8 is named as such;
- YAML aliases are limited in number and in what they expand to ("billion laughs"), nesting in depth,
  integers in digits; a key given twice in one mapping is refused with both lines.

The limits are module constants, not settings; docs/input-limits.md lists them with the answer each gives.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
"""Records, policies, manifests, keys and approvals are far smaller; a publish manifest of 10,000 items is ~2 MB."""
MAX_DEPTH = 64
"""Nesting of mappings and lists. Clearance's own formats nest fewer than 10 levels."""
MAX_ALIASES = 100
"""YAML ``*alias`` uses per document."""
MAX_ALIAS_VALUES = 10_000
"""Values that all the aliases of a document stand for together ("billion laughs" stops here)."""
MAX_NODES = 200_000
"""Values in a document, each alias counted as everything it stands for (stops alias bombs). A publish
manifest of 10,000 items holds about 90,000; reading 200,000 takes a few seconds."""
MAX_INT_DIGITS = 64
"""Digits of an integer (Python would spend quadratic time converting a 100,000-digit one)."""
MAX_JSON_NESTING = 512
"""Nesting of JSON handed to a parser outside Python (OpenTimelineIO), which would crash on deep input."""
MAX_JSON_BRACKETS = 16 * 1024 * 1024
"""Brackets left in such JSON once its innermost levels are set aside: a 128 MB timeline has a few million."""

_CHUNK = 1024 * 1024


@dataclass
class Document:
    """A parsed document and the line of every key and list item in it.

    For a JSON file the lines are found only when asked for (an error message needs them), so reading a
    valid JSON document costs one C-speed ``json.loads``.
    """

    source: str
    data: Any
    _lines: dict[tuple[Any, ...], int] | None = field(default=None, repr=False)
    _text: str | None = field(default=None, repr=False)

    @property
    def lines(self) -> dict[tuple[Any, ...], int]:
        if self._lines is None:
            self._lines = {}
            if self._text is not None:
                # valid JSON that YAML reads differently (or refuses) just gets no line numbers
                with contextlib.suppress(ClearanceError):
                    self._lines = parse_text(self._text, self.source).lines
        return self._lines

    def line_of(self, loc: Sequence[Any]) -> int | None:
        """The line of the deepest part of ``loc`` that the document has (1-based)."""
        lines = self.lines
        loc = tuple(loc)
        while loc:
            if loc in lines:
                return lines[loc]
            loc = loc[:-1]
        return None


class DocumentError(ClearanceError):
    """A file or text that is not a readable document, or breaks one of the limits above.

    ``problem`` reads after the input's name ("is a named pipe (FIFO), expected ..."), so a caller that
    names the input differently (a tag on a Nuke node) can reuse it with its own fix.
    """

    def __init__(self, source: str, problem: str, *, fix: str | None = None, line: int | None = None) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}" + (f"; {fix}" if fix else ""))
        self.source, self.problem, self.fix, self.line = source, problem, fix, line


# ------------------------------------------------------------------------------------------ reading files


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def os_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symlink loop (a link that leads back to itself); point it at a real file"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "file not found"
    if exc.errno == errno.EACCES:
        return "cannot read: permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long"
    return f"cannot read: {exc.strerror or exc}"


def read_bytes(path: str | Path, *, limit: int = MAX_DOCUMENT_BYTES, what: str = "a YAML or JSON file") -> bytes:
    """The bytes of a regular file, at most ``limit``; ClearanceError naming the file for anything else.

    Never blocks: the file's type is checked with ``stat`` before it is opened, and it is opened
    ``O_NONBLOCK``. The limit is applied to what is read, not to what ``stat`` says.
    """
    source = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise DocumentError(source, os_problem(exc)) from None
    except ValueError:  # an embedded NUL byte in the path
        raise DocumentError(source, "is not a usable path (it contains a NUL byte)") from None
    kind = kind_of(info.st_mode)
    if kind:
        raise DocumentError(source, f"is {kind}, expected {what}")
    if info.st_size > limit:
        raise DocumentError(source, f"is {info.st_size} bytes, over the {limit}-byte limit for {what}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DocumentError(source, os_problem(exc)) from None
    try:
        kind = kind_of(os.fstat(fd).st_mode)
        if kind:  # swapped for something else between stat and open
            raise DocumentError(source, f"is {kind}, expected {what}")
        chunks: list[bytes] = []
        total = 0
        # A regular file's size is known: one read gets it all (and one more byte shows it has not grown),
        # so a large file is not copied a second time by the join below.
        want = max(_CHUNK, info.st_size + 1)
        while True:
            chunk = os.read(fd, min(want, limit + 1 - total))
            want = _CHUNK
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise DocumentError(source, f"is over the {limit}-byte limit for {what} (it grew while being read)")
    except OSError as exc:
        raise DocumentError(source, os_problem(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is allowed); ClearanceError naming the file otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(source, "is UTF-16 text", fix="save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            source, f"is not UTF-8 text (bad byte at offset {exc.start})", fix="save it as UTF-8"
        ) from None


def read_text(path: str | Path, *, limit: int = MAX_DOCUMENT_BYTES, what: str = "a text file") -> str:
    """A bounded, non-blocking read of a UTF-8 text file (see read_bytes)."""
    return decode_text(read_bytes(path, limit=limit, what=what), str(path))


# ------------------------------------------------------------------------------------------------ YAML


def parse_text(text: str, source: str) -> Document:
    """Parse YAML (JSON is YAML too) within the limits, with line numbers. Raises ClearanceError."""
    from clearance.bounded_yaml import parse  # PyYAML only when a YAML document is read

    data, lines = parse(text, source)
    return Document(source=source, data=data, _lines=lines)


# ------------------------------------------------------------------------------------------------ JSON


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLong(len(text))
    return int(text)


class _TooLong(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _unique_pairs(source: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):  # the first key given twice, found only then (objects are many)
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    raise DocumentError(source, f"has key {key!r} twice in one object", fix="keep one")
                seen.add(key)
        return result

    return build


def _within_limits(data: Any, source: str) -> None:
    """Depth and number of values, the limits YAML documents get while they are composed."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    values = 1
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DocumentError(source, f"is nested deeper than the {MAX_DEPTH}-level limit")
        children = value.values() if isinstance(value, dict) else value
        values += len(children)
        if values > MAX_NODES:
            raise DocumentError(source, f"holds more than {MAX_NODES} values")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')
_NOT_ESCAPE_OR_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"\\/bfnrtu')
_NOT_ESCAPE_STRUCTURE_OR_COLON = bytes(c for c in range(256) if c not in b'[]{}":\\/bfnrtu')
_NOT_QUOTE_OR_COLON = bytes(c for c in range(256) if c not in b'":')
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes


@dataclass(frozen=True, slots=True)
class JsonOutline:
    """What ``check_json_nesting`` sees of a document on the way, when asked."""

    keys: int  # colons outside strings: one per key of every object
    unicode_escapes: bool  # whether a string holds a \u escape


def check_json_nesting(raw: bytes, source: str, *, limit: int = MAX_JSON_NESTING,
                       outline: bool = False) -> JsonOutline | None:
    """Refuse JSON nested deeper than ``limit`` or with unbalanced brackets, without parsing it.

    For JSON handed to a parser that recurses on the C stack (OpenTimelineIO's), where a deep enough
    document crashes the process instead of raising. Escapes and strings are dropped and everything but
    brackets deleted (at C speed); leaf pairs are peeled off while that shrinks the rest a lot; what
    remains is walked once. With ``outline``, it also counts the keys (the timeline check's reader compares
    them with the keys it parsed: a key written twice in one object is kept once by Python's parser).
    """
    # The escapes first matter only for the characters around them, so the text is first cut down (at C
    # speed) to brackets, quotes, backslashes and the letters a JSON escape may use: a backslash still stands
    # before the very character it escapes, and the escape removal below runs on a fraction of the bytes.
    # (An invalid escape such as \x is where OpenTimelineIO's parser stops, so what follows it never counts.)
    reduced = raw.translate(None, delete=_NOT_ESCAPE_STRUCTURE_OR_COLON if outline else _NOT_ESCAPE_OR_STRUCTURE)
    unescaped = reduced.replace(b"\\\\", b"").replace(b'\\"', b"")  # no quote is escaped any more
    found = None
    if outline:
        colons = unescaped.translate(None, delete=_NOT_QUOTE_OR_COLON).replace(b'""', b"")
        found = JsonOutline(sum(piece.count(b":") for piece in colons.split(b'"')[0::2]), b"\\u" in unescaped)
    # Quotes now alternate open/close: the even pieces between them are outside strings (adjacent pairs go
    # first, cheaply; dropping them only joins strings with nothing structural between them).
    quoted = unescaped.translate(None, delete=_NOT_STRUCTURE).replace(b'""', b"")
    brackets = b"".join(quoted.split(b'"')[0::2])  # strings hold no bracket
    for _pass in range(8):  # a real document loses most of its brackets in its first few levels
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        shrunk = len(brackets) - len(peeled)
        brackets = peeled
        if shrunk * 10 < len(brackets) + shrunk:
            break
    if len(brackets) > MAX_JSON_BRACKETS:
        raise DocumentError(source, f"holds more than {MAX_JSON_BRACKETS // 2} nested objects and lists")
    steps = memoryview(brackets.translate(_DEPTH_STEP)).cast("b")
    if max(accumulate(steps), default=0) > limit - 8:  # 8: the levels peeled off above, at most
        raise DocumentError(source, f"is nested deeper than the {limit}-level limit")
    if min(accumulate(steps), default=0) < 0 or sum(steps) != 0:
        raise DocumentError(source, "not valid JSON: its brackets do not match (is it cut short?)")
    return found


@functools.lru_cache(maxsize=64)
def _json_decoder(source: str) -> json.JSONDecoder:
    """The decoder ``json.loads`` would build for ``source`` on every call, built once (tags and approvals are
    parsed by the thousand under a few sources). It keeps nothing from one document to the next: its only state
    is the parser's table of keys already seen, which it empties after each document."""
    return json.JSONDecoder(parse_int=_bounded_int, object_pairs_hook=_unique_pairs(source))


def _loads(text: str | bytes, source: str) -> Any:
    """``json.loads(text, parse_int=..., object_pairs_hook=...)``, through the decoder kept for ``source``."""
    if not isinstance(text, str):  # bytes (from an untyped caller): json.loads detects their encoding
        return json.loads(text, parse_int=_bounded_int, object_pairs_hook=_unique_pairs(source))
    if text.startswith("\ufeff"):  # json.loads refuses a byte order mark before decoding, in these words
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _json_decoder(source).decode(text)


def parse_json_text(text: str, source: str) -> Any:
    """Strict JSON within the same limits as documents: depth, integer digits, no key twice."""
    try:
        data = _loads(text, source)
    except _TooLong as exc:
        raise DocumentError(
            source, f"holds an integer of {exc.size} characters, over the {MAX_INT_DIGITS}-digit limit"
        ) from None
    except json.JSONDecodeError as exc:
        raise DocumentError(
            source, f"not valid JSON: {exc.msg}", fix="fix the syntax", line=exc.lineno
        ) from None
    except RecursionError:
        raise DocumentError(source, f"is nested deeper than the {MAX_DEPTH}-level limit") from None
    if isinstance(data, dict | list) and not surely_within_limits(text):
        _within_limits(data, source)
    return data


def surely_within_value_limit(text: str) -> bool:
    """True when the text is too small to hold more than ``MAX_NODES`` values (the second half of
    ``surely_within_limits``: values are at most its commas and opening brackets, plus one; so at most its
    length plus one, which settles it without counting for any text shorter than the limit)."""
    if len(text) < MAX_NODES:
        return True
    return text.count("{") + text.count("[") + text.count(",") + 1 <= MAX_NODES


def surely_within_limits(text: str) -> bool:
    """True when the text is too small to break the limits: it cannot nest deeper than it has opening
    brackets, nor hold more values than commas and opening brackets (those in strings only add to both), so
    the walk over the parsed data is skipped for the many small documents (tags, approvals)."""
    opening = text.count("{") + text.count("[")
    return opening <= MAX_DEPTH and (len(text) < MAX_NODES or opening + text.count(",") + 1 <= MAX_NODES)


# ------------------------------------------------------------------------------------------- documents


def load_document(path: str | Path, *, what: str = "a YAML or JSON file") -> Document:
    """Read a YAML or JSON file within the limits. Raises ClearanceError naming the file for every failure."""
    source = str(path)
    raw = read_bytes(path, what=what)
    if not raw.strip():
        raise DocumentError(source, f"is empty, expected {what}")
    text = decode_text(raw, source)
    if Path(path).suffix.lower() == ".json":
        return Document(source=source, data=parse_json_text(text, source), _text=text)
    return parse_text(text, source)


def load_json(path: str | Path, *, what: str = "a JSON file") -> Any:
    """Read a JSON file within the limits, without line numbers (faster: for files Clearance wrote)."""
    source = str(path)
    raw = read_bytes(path, what=what)
    if not raw.strip():
        raise DocumentError(source, f"is empty, expected {what}")
    return parse_json_text(decode_text(raw, source), source)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""What ``json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` builds on every call:
made once, since digests encode many small values (the encoder keeps no state between calls)."""


_encode_text: Callable[[str], str] = json.encoder.encode_basestring
"""How the canonical form writes a text, a key or a value (``ensure_ascii`` off)."""


def _encoder() -> Callable[[Any], str]:
    """``_CANONICAL.encode``, without the encoder it builds on every call: the C encoder the standard library
    makes in ``JSONEncoder.iterencode``, made once with the same settings (a third of the time of encoding a
    record's members, bench/blender.py). It is made without the circular-reference check (whose state would
    outlive a failed call): what is encoded is parsed JSON or a model's dump, never circular. Where the C
    encoder is missing, ``_CANONICAL.encode`` itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return _CANONICAL.encode
    chunks = make(None, _CANONICAL.default, _encode_text, None, ":", ",", True, False, True)
    join = "".join

    def encode(value: Any) -> str:
        if isinstance(value, str):  # as JSONEncoder.encode: a string is encoded whole
            return _encode_text(value)
        return join(chunks(value, 0))

    return encode


_encode = _encoder()


def canonical_json(data: Any) -> bytes:
    """The one byte form that digests and signatures are computed over."""
    return _encode(data).encode("utf-8")


def canonical_members(data: dict[str, Any]) -> dict[str, str]:
    """Each member of a JSON object as ``canonical_json`` writes it (``"key":value``), for assembling the
    canonical form of several objects that share members: ``canonical_object`` of any subset of them is
    byte for byte ``canonical_json`` of that subset of ``data``."""
    key_text, encode = _encode_text, _encode
    return {key: f"{key_text(key)}:{encode(value)}" for key, value in data.items()}


def canonical_object(members: dict[str, str]) -> bytes:
    """``canonical_json`` of the object whose members ``canonical_members`` encoded (sorted by key)."""
    return ("{" + ",".join([members[key] for key in sorted(members)]) + "}").encode("utf-8")


Layout = tuple[tuple[str, ...], tuple[tuple[int, str, str], ...]]
"""A canonical object's members in key order, laid out once (``canonical_layout``): the text of each member
known in advance ("" where a member changes from object to object), and for each changing member its place,
its key's text with ``:``, and its key."""


def canonical_layout(fixed: dict[str, str], keys: Iterable[str]) -> Layout:
    """How ``canonical_object`` lays out the members ``fixed`` (as ``canonical_members`` writes them) together
    with members for ``keys``, whose values change from object to object (``canonical_laid_out``)."""
    key_text = _encode_text
    pieces: list[str] = []
    changing: list[tuple[int, str, str]] = []
    for key in sorted({*fixed, *keys}):
        if key in fixed:
            pieces.append(fixed[key])
        else:
            changing.append((len(pieces), f"{key_text(key)}:", key))
            pieces.append("")
    return tuple(pieces), tuple(changing)


def canonical_laid_out(layout: Layout, values: dict[str, Any]) -> bytes | None:
    """``canonical_object`` of the layout's fixed members plus the members of ``values``, byte for byte (one
    encoding per changing value, no sort); None unless ``values`` holds exactly the layout's changing keys."""
    fixed, changing = layout
    if len(values) != len(changing):
        return None
    pieces = list(fixed)
    encode, encode_text = _encode, _encode_text
    try:
        for index, key_text, key in changing:
            value = values[key]
            # the plain fields are mostly texts and nulls: written here as _encode writes them, without its call
            if value is None:
                pieces[index] = key_text + "null"
            elif type(value) is str:
                pieces[index] = key_text + encode_text(value)
            else:
                pieces[index] = key_text + encode(value)
    except KeyError:
        return None
    return ("{" + ",".join(pieces) + "}").encode("utf-8")
