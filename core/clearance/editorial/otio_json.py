"""Read an OpenTimelineIO JSON file for the check without building OpenTimelineIO objects.

``clearance check`` needs little of a cut: every clip's metadata, markers and active media reference, and
where each clip sits. Building OpenTimelineIO's objects for all of it costs more than the check itself, so
for ``.otio`` files the JSON is read here, a clip at a time (Python's C JSON scanner), into small objects
that offer the attributes the check reads, and places are computed as OpenTimelineIO computes them.

Answers must never differ from OpenTimelineIO's, so this reader models only what it has read in
OpenTimelineIO's C++ source (release 0.18.1: ``deserialization.cpp`` for the JSON reader and its type checks,
``typeRegistry.cpp`` for the Clip.1 and Marker.1 upgrades, ``clip.cpp``, ``item.cpp``, ``track.cpp``,
``stack.cpp``, ``transition.cpp``, ``opentime/rationalTime.h`` and ``timeRange.h`` for the times) and gives up
on anything else (``Unsupported``): the caller then reads the file through OpenTimelineIO, which gives the
answer, or the error, it always gave. It gives up on: schemas or versions other than Timeline.1, Stack.1,
Track.1, Clip.1/2, Gap.1, Transition.1, Marker.1/2, Effect.1, TimeEffect.1, LinearTimeWarp.1, FreezeFrame.1
and External/Missing/GeneratorReference.1; item colours, image bounds; a clip or gap whose length is unknown;
an OTIO object inside plain data (metadata, say) or a mapping of media references keyed ``OTIO_SCHEMA``;
object reference ids; a key written twice in one object
(Python's parser keeps the last, OpenTimelineIO's the first: found by comparing the keys parsed with a
count of the file's keys, see "what the file's bytes must show" below); ``\\u`` escapes (a lone surrogate is
refused by RapidJSON, kept by Python); NaN and Infinity; integers beyond 64 bits; numbers RapidJSON
(OpenTimelineIO's parser, not in full precision) may round otherwise than Python and that are not modelled in
``_rapidjson_double``; any JSON error; and an OpenTimelineIO set-up that changes what a read returns (hooks, a
default media linker).
"""

from __future__ import annotations

import json
import json.scanner
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from clearance.documents import JsonOutline

_MODELLED_RELEASE = "0.18."  # the OpenTimelineIO release whose reader this one follows (see above)
_WINDOW = 1 << 20  # characters decoded at a time: the file's bytes are held once, not also as text
_MARGIN = 1 << 16  # a value starting this close to the window's end is read from a new window
_WS = re.compile(r"[ \t\n\r]*")
_STREAMED = re.compile(r'\{[ \t\n\r]*"OTIO_SCHEMA"[ \t\n\r]*:[ \t\n\r]*"(Timeline\.1|Stack\.1|Track\.1)"')
_NEXT = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")  # after a child: the next one, or the end of the list
_KEY = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_NUMBER = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?")
_FAST_PATH = (1 << 53) - 1


class Unsupported(Exception):
    """Something this reader does not model: read the file through OpenTimelineIO instead."""


# --- numbers as OpenTimelineIO's parser reads them ------------------------------------------------------


def _rapidjson_double(text: str) -> float:
    """The double RapidJSON's default (not full precision) number parser gives for ``text``.

    It is the correctly rounded value when the digits fit in 53 bits and the power of ten is small (one
    exact operation); past 2^53 it keeps one more digit in a rounded double, and that is modelled here for
    numbers without an exponent (NTSC rates such as 23.976023976023978 are written that way).
    """
    found = _NUMBER.fullmatch(text)
    if found is None:
        raise Unsupported(f"number {text!r}")
    minus, whole, frac, exp_text = found.groups()
    frac = frac or ""
    exponent = int(exp_text) if exp_text else 0
    digits = int(whole + frac)
    power = exponent - len(frac)
    if digits <= _FAST_PATH and -22 <= power <= 22:
        return float(text)
    if exp_text or len(whole) > 15:
        raise Unsupported(f"number {text!r}")
    # reader.h ParseNumber: the integer part, then fraction digits into 64 bits while under 2^53, then
    # into a double while fewer than 17 significant digits have been seen; then one division.
    significant = len(whole) - 1 if whole != "0" else 0
    i64 = int(whole)
    k = 0
    while k < len(frac) and i64 <= _FAST_PATH:
        i64 = i64 * 10 + ord(frac[k]) - 48
        k += 1
        if i64:
            significant += 1
    d = float(i64)
    expfrac = -k
    while k < len(frac):
        if significant < 17:
            d = d * 10.0 + (ord(frac[k]) - 48)
            expfrac -= 1
            if d > 0.0:
                significant += 1
        k += 1
    if expfrac < -308:
        raise Unsupported(f"number {text!r}")
    d = d / float(10 ** -expfrac) if expfrac < 0 else d * float(10 ** expfrac)
    return -d if minus else d


class _Floats(dict[str, float]):
    """Float literals as RapidJSON reads them, each distinct literal worked out once (dict lookups in C)."""

    def __missing__(self, text: str) -> float:
        value = _rapidjson_double(text)
        self[text] = value
        return value


def _int(text: str) -> int:
    value = int(text)
    if not -(1 << 63) <= value < (1 << 63):
        raise Unsupported(f"integer {text[:30]}")  # RapidJSON stores it as a double or masks it
    return value


def _constant(text: str) -> Any:
    raise Unsupported(f"constant {text}")


_DECODER = json.JSONDecoder(parse_float=_Floats().__getitem__, parse_int=_int, parse_constant=_constant)
_SCAN = json.scanner.make_scanner(cast(Any, _DECODER))  # what ``_DECODER.raw_decode`` calls, without its wrapper


# --- what the check reads -------------------------------------------------------------------------------


@dataclass(slots=True)
class JsonMarker:
    name: str
    color: str
    comment: str
    metadata: dict[str, Any]


@dataclass(slots=True)
class JsonReference:
    """A media reference: ``kind`` is OpenTimelineIO's schema name."""

    kind: str
    name: str
    metadata: dict[str, Any]
    available_range: tuple[tuple[float, float], tuple[float, float]] | None
    target_url: str | None = None  # ExternalReference only


@dataclass(slots=True)
class JsonClip:
    name: str
    metadata: dict[str, Any]
    markers: list[JsonMarker]
    media_reference: JsonReference | None
    source_range: tuple[tuple[float, float], tuple[float, float]] | None
    duration: tuple[float, float]  # (value, rate) of the trimmed range's duration

    def trimmed_range(self) -> Any:
        import opentimelineio as otio

        span = self.source_range
        if span is None and self.media_reference is not None:
            span = self.media_reference.available_range
        if span is None:  # never: such clips are not read here
            raise ValueError("no source range and no available range")
        rt = otio.opentime.RationalTime
        (sv, sr), (dv, dr) = span
        return otio.opentime.TimeRange(rt(sv, sr), rt(dv, dr))


@dataclass(slots=True)
class JsonGap:
    duration: tuple[float, float]


@dataclass(slots=True)
class JsonTransition:
    in_offset: tuple[float, float]
    out_offset: tuple[float, float]


@dataclass(slots=True)
class JsonComposition:
    schema: str  # "Track" or "Stack"
    name: str
    kind: str
    source_range: tuple[tuple[float, float], tuple[float, float]] | None
    children: list[Any] = field(default_factory=list)
    length: tuple[float, float] | None = None  # worked out when a parent needs it (top-level tracks never do)

    @property
    def duration(self) -> tuple[float, float]:
        if self.length is None:
            self.length = _composition_duration(self)
        return self.length

    def __iter__(self) -> Any:
        return iter(self.children)


@dataclass(slots=True)
class JsonTimeline:
    """A timeline read from OTIO JSON: what ``check_timeline`` needs, and no OpenTimelineIO objects."""

    name: str
    start: tuple[float, float] | None
    tracks: JsonComposition

    @property
    def global_start_time(self) -> Any:
        return None if self.start is None else _rt(self.start)


# --- field checks, as OpenTimelineIO's reader checks them -----------------------------------------------


def _number(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:  # the reader turns an integer into a double where it reads a double
        return float(value)
    raise Unsupported("a number of the wrong type")


def _text(d: dict[str, Any], key: str, default: str = "", required: bool = False) -> str:
    if key not in d:
        if required:
            raise Unsupported(f"no {key}")
        return default
    value = d[key]
    if type(value) is str:
        return value
    if value is None:  # the reader reads null as an empty string
        return ""
    raise Unsupported(f"{key} of the wrong type")


_EMPTY: dict[str, Any] = {}
_NONE: list[Any] = []
Range = tuple[tuple[float, float], tuple[float, float]]


_TIME_KEYS = frozenset({"OTIO_SCHEMA", "value", "rate"})
_RANGE_KEYS = frozenset({"OTIO_SCHEMA", "start_time", "duration"})
_ITEM_KEYS = frozenset({"OTIO_SCHEMA", "name", "metadata", "source_range", "effects", "markers", "enabled", "color"})
_CLIP_KEYS = _ITEM_KEYS | {"media_references", "active_media_reference_key"}
_COMPOSITION_KEYS = _ITEM_KEYS | {"children", "kind"}
_TRANSITION_KEYS = frozenset({"OTIO_SCHEMA", "name", "metadata", "in_offset", "out_offset", "transition_type"})
_MARKER_KEYS = frozenset({"OTIO_SCHEMA", "name", "metadata", "color", "marked_range", "comment"})
_EFFECT_KEYS = frozenset({"OTIO_SCHEMA", "name", "metadata", "effect_name", "enabled", "time_scalar"})
_REFERENCE_KEYS = frozenset({"OTIO_SCHEMA", "name", "metadata", "available_range", "available_image_bounds",
                             "target_url", "generator_kind", "parameters"})
# The fields of the objects OpenTimelineIO writes most, fetched in one call each (``_Reader.clip``).
_CLIP_FIELDS = itemgetter("OTIO_SCHEMA", "media_references", "active_media_reference_key", "name", "metadata",
                          "effects", "markers", "enabled", "color", "source_range")
_EXTERNAL_FIELDS = itemgetter("OTIO_SCHEMA", "metadata", "name", "available_range", "available_image_bounds",
                              "target_url")
_MARKER_FIELDS = itemgetter("OTIO_SCHEMA", "metadata", "name", "color", "marked_range", "comment")
_RANGE_FIELDS = itemgetter("OTIO_SCHEMA", "start_time", "duration")
_TIME_FIELDS = itemgetter("OTIO_SCHEMA", "value", "rate")
_TIMELINE_KEYS = frozenset({"OTIO_SCHEMA", "name", "metadata", "global_start_time", "tracks"})


class _Reader:
    """Reads OTIO objects from parsed JSON. Every object of the file is either read here as the schema it
    names or, where OpenTimelineIO keeps plain data (metadata, fields it does not know), looked through to
    make sure it holds no OTIO object; and every key is counted, so that the file's own count of keys finds
    one written twice in an object."""

    def __init__(self) -> None:
        self.keys = 0
        self.names: set[str] = set()  # the keys of plain data, fields the schema does not define, reference keys
        self.plain_depth = 0  # at least the deepest nesting of plain data (levels of objects and lists)

    def plain(self, value: Any) -> None:
        """Plain data (metadata, unknown fields): count its keys; an OTIO object in it is not modelled."""
        kind = type(value)
        if kind is not dict and kind is not list:
            return
        keys = 0
        names = self.names
        level = [value]
        depth = 0
        while level:  # a level at a time: its count is the depth (one more when the last holds no container)
            depth += 1
            below: list[Any] = []
            push = below.extend
            for v in level:
                kind = type(v)
                if kind is dict:
                    if v:
                        if "OTIO_SCHEMA" in v:
                            raise Unsupported("an OTIO object inside plain data")
                        keys += len(v)
                        names.update(v)
                        push(v.values())
                elif kind is list:
                    push(v)
            level = below
        self.keys += keys
        self.plain_depth = max(self.plain_depth, depth)

    def rest(self, d: dict[str, Any], known: frozenset[str]) -> None:
        """Count ``d``'s keys and look through the fields the schema does not define (OTIO keeps them)."""
        self.keys += len(d)
        extra = d.keys() - known
        if extra:
            if "OTIO_REF_ID" in extra:  # an object others may refer to: OpenTimelineIO's resolver is not modelled
                raise Unsupported("an object reference id")
            self.names.update(extra)
            for key in extra:
                self.plain(d[key])

    def mapping(self, d: dict[str, Any], key: str) -> dict[str, Any]:
        value = d.get(key, _EMPTY)
        if type(value) is not dict:
            raise Unsupported(f"{key} of the wrong type")
        if value:
            self.plain(value)
        return value

    def time(self, v: Any) -> tuple[float, float]:
        try:
            if v["OTIO_SCHEMA"] != "RationalTime.1":
                raise Unsupported("a RationalTime of another schema")
            value, rate = v["value"], v["rate"]
        except (KeyError, TypeError):
            raise Unsupported("a RationalTime without its value or rate") from None
        if type(v) is not dict:
            raise Unsupported("a RationalTime of the wrong type")
        if len(v) == 3:
            self.keys += 3
        else:
            self.rest(v, _TIME_KEYS)
        if type(value) is not float:
            value = _number(value)
        if type(rate) is not float:
            rate = _number(rate)
        return value, rate

    def range(self, v: Any) -> Range:
        try:
            if v["OTIO_SCHEMA"] != "TimeRange.1":
                raise Unsupported("a TimeRange of another schema")
            start, duration = v["start_time"], v["duration"]
        except (KeyError, TypeError):
            raise Unsupported("a TimeRange without its start or duration") from None
        if type(v) is not dict:
            raise Unsupported("a TimeRange of the wrong type")
        if len(v) == 3:
            self.keys += 3
        else:
            self.rest(v, _RANGE_KEYS)
        return self.time(start), self.time(duration)

    def optional_range(self, d: dict[str, Any], key: str) -> Range | None:
        value = d.get(key)
        return None if value is None else self.range(value)

    def item(self, d: dict[str, Any]) -> list[JsonMarker]:
        """An Item's own fields: effects, markers, enabled, colour (and name)."""
        _text(d, "name")
        effects = d.get("effects", _NONE)
        if type(effects) is not list:
            raise Unsupported("effects of the wrong type")
        for effect in effects:
            self.effect(effect)
        if "enabled" in d and type(d["enabled"]) is not bool:
            raise Unsupported("enabled of the wrong type")
        if d.get("color") is not None:
            raise Unsupported("an item colour")
        markers = d.get("markers", _NONE)
        if type(markers) is not list:
            raise Unsupported("markers of the wrong type")
        return self.markers(markers) if markers else []

    def markers(self, markers: list[Any]) -> list[JsonMarker]:
        out = []
        for written in markers:
            if type(written) is dict and len(written) == 6:
                # A marker written as OpenTimelineIO writes it: its six fields in one fetch, the same checks and
                # key count as below (a missing field or another type goes below).
                try:
                    schema, metadata, name, color, marked, comment = _MARKER_FIELDS(written)
                except KeyError:
                    schema = None
                if schema == "Marker.2" and type(metadata) is dict and type(name) is str and type(color) is str \
                        and type(comment) is str:
                    self.keys += 6
                    self.short_range(marked)
                    if metadata:
                        self.plain(metadata)
                    out.append(JsonMarker(name, color, comment, metadata))
                    continue
            schema = written.get("OTIO_SCHEMA") if type(written) is dict else None
            m = written
            if schema == "Marker.1":  # the upgrade to Marker.2 renames "range" (typeRegistry.cpp)
                if "range" not in m or "marked_range" in m:
                    raise Unsupported("a Marker.1 without its range")
                m = {k: v for k, v in written.items() if k != "range"} | {"marked_range": written["range"]}
            elif schema != "Marker.2":
                raise Unsupported("a marker of another schema")
            if "marked_range" not in m:
                raise Unsupported("a marker without marked_range")
            self.rest(m, _MARKER_KEYS)
            self.short_range(m["marked_range"])
            # Marker's colour defaults to GREEN (marker.h); a null string reads as "".
            out.append(JsonMarker(_text(m, "name"), _text(m, "color", "GREEN"), _text(m, "comment"),
                                  self.mapping(m, "metadata")))
        return out

    def effect(self, d: Any) -> None:
        """Effects change no range OpenTimelineIO computes (Item::duration ignores them): only checked."""
        schema = d.get("OTIO_SCHEMA") if type(d) is dict else None
        if schema not in ("Effect.1", "TimeEffect.1", "LinearTimeWarp.1", "FreezeFrame.1"):
            raise Unsupported(f"effect {schema}")
        known = _EFFECT_KEYS if schema in ("LinearTimeWarp.1", "FreezeFrame.1") else _EFFECT_KEYS - {"time_scalar"}
        self.rest(d, known)
        _text(d, "name")
        self.mapping(d, "metadata")
        _text(d, "effect_name", required=True)
        if "enabled" in d and type(d["enabled"]) is not bool:
            raise Unsupported("enabled of the wrong type")
        if "time_scalar" in known:
            if "time_scalar" not in d:
                raise Unsupported("no time_scalar")
            _number(d["time_scalar"])

    def reference(self, d: Any) -> JsonReference | None:
        if d is None:
            return None
        if type(d) is not dict:
            raise Unsupported("a media reference of the wrong type")
        schema = d.get("OTIO_SCHEMA")
        if d.get("available_image_bounds") is not None:
            raise Unsupported("image bounds")
        if schema == "ExternalReference.1":
            known = _REFERENCE_KEYS - {"generator_kind", "parameters"}
        elif schema == "GeneratorReference.1":
            known = _REFERENCE_KEYS - {"target_url"}
        elif schema == "MissingReference.1":
            known = _REFERENCE_KEYS - {"target_url", "generator_kind", "parameters"}
        else:
            raise Unsupported(f"media reference {schema}")
        self.rest(d, known)
        available = self.optional_range(d, "available_range")
        name, metadata = _text(d, "name"), self.mapping(d, "metadata")
        if schema == "ExternalReference.1":
            return JsonReference("ExternalReference", name, metadata, available,
                                 _text(d, "target_url", required=True))
        if schema == "MissingReference.1":
            return JsonReference("MissingReference", name, metadata, available)
        _text(d, "generator_kind", required=True)
        if type(d.get("parameters")) is not dict:
            raise Unsupported("generator parameters")
        self.mapping(d, "parameters")
        return JsonReference("GeneratorReference", name, metadata, available)

    def short_range(self, v: Any) -> Range:
        """``range`` for a TimeRange written as OpenTimelineIO writes it (fewer look-ups), else ``range``.

        Three keys each and every one of them found is the key set ``range`` would count (9 keys); a
        missing key or a value that is not an object goes to ``range``, which gives the same answer or error.
        """
        if type(v) is dict and len(v) == 3:
            try:
                schema, s, d = _RANGE_FIELDS(v)
                s_schema, sv, sr = _TIME_FIELDS(s)
                d_schema, dv, dr = _TIME_FIELDS(d)
            except (KeyError, TypeError):
                return self.range(v)
            if schema == "TimeRange.1" and s_schema == "RationalTime.1" and d_schema == "RationalTime.1" \
                    and type(s) is dict and type(d) is dict and len(s) == 3 and len(d) == 3 \
                    and type(sv) is float and type(sr) is float and type(dv) is float and type(dr) is float:
                self.keys += 9
                return (sv, sr), (dv, dr)
        return self.range(v)

    def clip(self, d: dict[str, Any]) -> JsonClip:
        """A clip: those written as OpenTimelineIO writes them, with one external reference, take fewer
        look-ups (the same checks); anything else goes through ``any_clip``. Ten keys and all ten of the
        fast path's found (six for the reference) is the key set ``any_clip`` would count."""
        if len(d) != 10:
            return self.any_clip(d)
        try:
            schema, refs, key, name, metadata, effects, markers, enabled, color, source_range = _CLIP_FIELDS(d)
        except KeyError:
            return self.any_clip(d)
        # The one reference's key may not be OTIO_SCHEMA: OpenTimelineIO would read the mapping as an object
        # (and refuse it); ``any_clip`` gives up on it.
        ref = refs.get(key) if type(refs) is dict and len(refs) == 1 and type(key) is str \
            and key != "OTIO_SCHEMA" else None
        if schema != "Clip.2" or type(ref) is not dict or len(ref) != 6:
            return self.any_clip(d)
        try:
            ref_schema, ref_metadata, ref_name, available_range, bounds, url = _EXTERNAL_FIELDS(ref)
        except KeyError:
            return self.any_clip(d)
        if ref_schema == "ExternalReference.1" and type(name) is str and type(metadata) is dict \
                and type(effects) is list and not effects and type(markers) is list and type(enabled) is bool \
                and color is None and bounds is None and type(ref_metadata) is dict and type(ref_name) is str \
                and type(url) is str:
            self.keys += 17  # the clip's ten, media_references' one, the reference's six
            if key != "DEFAULT_MEDIA":
                self.names.add(key)
            if metadata:
                self.plain(metadata)
            if ref_metadata:
                self.plain(ref_metadata)
            available = None if available_range is None else self.short_range(available_range)
            source = None if source_range is None else self.short_range(source_range)
            span = source if source is not None else available
            if span is None:
                raise Unsupported("a clip of unknown length")
            return JsonClip(name, metadata, self.markers(markers) if markers else [],
                            JsonReference("ExternalReference", ref_name, ref_metadata, available, url), source,
                            span[1])
        return self.any_clip(d)

    def any_clip(self, d: dict[str, Any]) -> JsonClip:
        if d.get("OTIO_SCHEMA") == "Clip.1":
            # The upgrade to Clip.2 (typeRegistry.cpp): the one reference becomes DEFAULT_MEDIA, and what is
            # not an OTIO object there (null, absent, plain data) becomes an empty MissingReference.
            if "media_references" in d or "active_media_reference_key" in d:
                raise Unsupported("a Clip.1 with Clip.2 fields")
            ref = d.get("media_reference")
            # Keys made here are not in the file: the two below and DEFAULT_MEDIA; "media_reference" was.
            self.keys += (1 if "media_reference" in d else 0) - 3
            if type(ref) is not dict or "OTIO_SCHEMA" not in ref:
                self.plain(ref)
                ref = {"OTIO_SCHEMA": "MissingReference.1"}
                self.keys -= 1
            d = {k: v for k, v in d.items() if k != "media_reference"}
            d["media_references"] = {"DEFAULT_MEDIA": ref}
            d["active_media_reference_key"] = "DEFAULT_MEDIA"
        refs = d.get("media_references")
        key = d.get("active_media_reference_key")
        if type(refs) is not dict or type(key) is not str or "OTIO_SCHEMA" in refs:
            raise Unsupported("a clip's media references")
        self.rest(d, _CLIP_KEYS)
        self.keys += len(refs)
        self.names.update(refs)
        active = None
        for ref_key, ref in refs.items():
            read = self.reference(ref)
            if ref_key == key:
                active = read
        if active is None:  # OpenTimelineIO would hand out a placeholder reference
            raise Unsupported("a clip without an active media reference")
        source = self.optional_range(d, "source_range")
        span = source if source is not None else active.available_range
        if span is None:
            raise Unsupported("a clip of unknown length")
        return JsonClip(_text(d, "name"), self.mapping(d, "metadata"), self.item(d), active, source, span[1])

    def node(self, d: Any) -> Any:
        """A composition's child read in one piece (and compositions not written the way OTIO writes them)."""
        if type(d) is not dict:
            raise Unsupported("a child of the wrong type")
        schema = d.get("OTIO_SCHEMA")
        if schema in {"Clip.2", "Clip.1"}:
            return self.clip(d)
        if schema == "Gap.1":
            self.rest(d, _ITEM_KEYS)
            self.mapping(d, "metadata")
            self.item(d)
            source = self.optional_range(d, "source_range")
            if source is None:
                raise Unsupported("a gap without a source range")
            return JsonGap(source[1])
        if schema == "Transition.1":
            self.rest(d, _TRANSITION_KEYS)
            _text(d, "name")
            self.mapping(d, "metadata")
            _text(d, "transition_type", required=True)
            if "in_offset" not in d or "out_offset" not in d:
                raise Unsupported("a transition without offsets")
            return JsonTransition(self.time(d["in_offset"]), self.time(d["out_offset"]))
        if schema in ("Track.1", "Stack.1"):
            children = d.get("children")
            if type(children) is not list:
                raise Unsupported("children of the wrong type")
            self.keys += len(d)
            return self.composition(d, [self.node(c) for c in children])
        raise Unsupported(f"schema {schema}")

    def composition(self, d: dict[str, Any], children: list[Any]) -> JsonComposition:
        """A Track or Stack whose own keys are counted by the caller (``d`` may lack ``children``)."""
        schema = d.get("OTIO_SCHEMA")
        if schema not in ("Track.1", "Stack.1"):
            raise Unsupported(f"composition {schema}")
        known = _COMPOSITION_KEYS if schema == "Track.1" else _COMPOSITION_KEYS - {"kind"}
        self.rest(d, known)
        self.keys -= len(d)  # counted by the caller
        kind = _text(d, "kind", required=True) if schema == "Track.1" else ""
        self.mapping(d, "metadata")
        self.item(d)
        node = JsonComposition(schema[:-2], _text(d, "name"), kind, self.optional_range(d, "source_range"),
                               children)
        return node

    def timeline(self, d: dict[str, Any], tracks: Any) -> JsonTimeline:
        """The Timeline, whose own keys are counted by the caller (``d`` lacks ``tracks``)."""
        self.rest(d, _TIMELINE_KEYS)
        self.keys -= len(d)  # counted by the caller
        _text(d, "name")
        self.mapping(d, "metadata")
        if not isinstance(tracks, JsonComposition) or tracks.schema != "Stack":
            raise Unsupported("a timeline whose tracks are not a Stack")
        if not all(isinstance(t, JsonComposition) for t in tracks.children):
            raise Unsupported("a clip at the top of the stack")
        start = d.get("global_start_time")
        return JsonTimeline(_text(d, "name"), None if start is None else self.time(start), tracks)


# --- time, as OpenTimelineIO computes it ----------------------------------------------------------------


def _rt(t: tuple[float, float]) -> Any:
    import opentimelineio as otio

    return otio.opentime.RationalTime(t[0], t[1])


def _duration_of(child: Any) -> Any:
    if isinstance(child, JsonTransition):  # Transition::duration
        return _rt(child.in_offset) + _rt(child.out_offset)
    return _rt(child.duration)


def _composition_duration(node: JsonComposition) -> tuple[float, float]:
    """Item::duration of a nested composition: its source range's, else Track/Stack::available_range."""
    if node.source_range is not None:
        return node.source_range[1]
    import opentimelineio as otio

    children = node.children
    if node.schema == "Track":
        total = otio.opentime.RationalTime()  # RationalTime(0, 1), then += each item's duration
        for child in children:
            if not isinstance(child, JsonTransition):
                total = total + _duration_of(child)
        if children and isinstance(children[0], JsonTransition):
            total = total + _rt(children[0].in_offset)
        if children and isinstance(children[-1], JsonTransition):
            total = total + _rt(children[-1].out_offset)
    else:
        if not children:
            return (0.0, 1.0)
        total = _duration_of(children[0])
        for child in children[1:]:
            other = _duration_of(child)
            total = other if total < other else total  # std::max
    return (total.value, total.rate)


class _Spans:
    """Child ranges kept as (start, duration) values at one rate; OpenTimelineIO's TimeRange on demand."""

    def __init__(self, spans: list[tuple[float, float] | None], rate: float) -> None:
        import opentimelineio as otio

        self.spans = spans
        self.rate = rate
        self.rt, self.tr = otio.opentime.RationalTime, otio.opentime.TimeRange  # looked up once, not per clip

    def __getitem__(self, index: int) -> Any:
        span = self.spans[index]
        if span is None:
            return None
        rt, rate = self.rt, self.rate
        return self.tr(rt(span[0], rate), rt(span[1], rate))


def child_ranges(node: JsonComposition) -> Any:
    """Composition::range_of_all_children, as OpenTimelineIO's TimeRange per child (None for transitions)."""
    import opentimelineio as otio

    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    children = node.children
    if node.schema == "Stack":
        stacked = []
        for child in children:
            length = _duration_of(child)
            stacked.append(tr(rt(0, length.rate), length))
        return stacked
    if not children:
        return []
    first = children[0]
    rate = first.in_offset[1] if isinstance(first, JsonTransition) else first.duration[1]
    if rate > 0:
        # One rate throughout (the common case): RationalTime's sums are then plain double sums of values,
        # and OpenTimelineIO's objects are made only for the children asked for. A child at another rate
        # stops this and the general sums below answer.
        out: list[tuple[float, float] | None] = []
        append = out.append
        end = 0.0
        for child in children:
            if type(child) is JsonTransition:
                append(None)
                continue
            value, child_rate = child.duration
            if child_rate != rate:
                break
            append((end, value))
            end = value + end  # end_time_exclusive(): duration + start, at the same rate
        else:
            return _Spans(out, rate)
    last_end = rt(0, rate)
    ranges: list[Any] = []
    for child in children:
        if isinstance(child, JsonTransition):
            ranges.append(None)
            continue
        span = tr(last_end, rt(*child.duration))
        ranges.append(span)
        last_end = span.end_time_exclusive()
    return ranges


# --- reading ---------------------------------------------------------------------------------------------


class _Text:
    """The file's text a window at a time, over its bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.view = memoryview(data)
        self.text = ""
        self.base = 0  # byte offset of text[0]
        self.ascii = True
        self.at_end = False

    def load(self, byte_offset: int, size: int = _WINDOW) -> None:
        end = min(len(self.data), byte_offset + size)
        lead = end - 3  # a UTF-8 character is at most four bytes: its first within three of any of them
        while end < len(self.data) and (self.data[end] & 0xC0) == 0x80:  # not inside a UTF-8 character
            end -= 1
            if end < lead:
                raise Unsupported("not UTF-8")
        # Decoded from a view (no copy of the window's bytes); a window is ASCII when no character took more
        # than one byte.
        self.text = str(self.view[byte_offset:end], "utf-8")
        self.ascii = len(self.text) == end - byte_offset
        self.base = byte_offset
        self.at_end = end >= len(self.data)

    def byte_at(self, index: int) -> int:
        if self.ascii:
            return self.base + index
        return self.base + len(self.text[:index].encode("utf-8"))

    def value(self, index: int) -> tuple[Any, int]:
        """The JSON value at ``index``, reloading the window when it runs past it."""
        size = _WINDOW
        if len(self.text) - index < _MARGIN and not self.at_end:
            # Move the window on before a value runs past its end: a failed scan costs a line count of it.
            self.load(self.byte_at(index))
            index = 0
        while True:
            text = self.text
            try:
                value, end = _DECODER.raw_decode(text, index)
            except json.JSONDecodeError:
                if self.at_end:
                    raise Unsupported("not valid JSON") from None
            except RecursionError:
                raise Unsupported("nested too deep for Python's JSON scanner") from None
            else:
                if end < len(text) or self.at_end:
                    return value, end
            start = self.byte_at(index)
            size *= 2
            self.load(start, size)
            index = 0

    def skip(self, index: int) -> int:
        """Past whitespace; reloads the window when it is used up."""
        index = _WS.match(self.text, index).end()  # type: ignore[union-attr]
        if index >= len(self.text) and not self.at_end:
            self.load(self.byte_at(index))
            index = _WS.match(self.text, 0).end()  # type: ignore[union-attr]
        return index

    def char(self, index: int) -> str:
        return self.text[index] if index < len(self.text) else ""

    def ensure(self, index: int, ahead: int) -> int:
        """Make ``ahead`` characters from ``index`` visible (for a look-ahead); the new index."""
        if index + ahead > len(self.text) and not self.at_end:
            self.load(self.byte_at(index), max(_WINDOW, ahead * 2))
            return 0
        return index


def _streamed(src: _Text, index: int, reader: _Reader) -> tuple[Any, int]:
    """The object at ``index``. A Timeline or composition written as OpenTimelineIO writes it (its schema
    first) is read key by key, so that its children are read one at a time; anything else in one scan."""
    index = src.ensure(index, 120)
    head = _STREAMED.match(src.text, index)
    if head is None:
        value, index = src.value(index)
        return reader.node(value), index
    schema = head.group(1)
    nested = "tracks" if schema == "Timeline.1" else "children"
    fields: dict[str, Any] = {}
    inner: Any = None
    index += 1
    first = True
    while True:
        index = src.skip(index)
        c = src.char(index)
        if c == "}":
            index += 1
            break
        if not first:
            if c != ",":
                raise Unsupported("not valid JSON")
            index = src.skip(index + 1)
        first = False
        index = src.ensure(index, 4096)
        key_match = _KEY.match(src.text, index)
        if key_match is None:
            raise Unsupported("a key this reader does not read")
        key = key_match.group(1)
        index = src.skip(key_match.end())
        if key in fields:
            raise Unsupported(f"key {key} twice")
        if key != nested:
            fields[key], index = src.value(index)
            continue
        fields[key] = None
        if schema == "Timeline.1":
            inner, index = _streamed(src, index, reader)
            continue
        if src.char(index) != "[":
            raise Unsupported("children of the wrong type")
        inner = []
        index = src.skip(index + 1)
        if src.char(index) == "]":
            index += 1
            continue
        clip, node, append, scan = reader.clip, reader.node, inner.append, _SCAN
        while True:
            text = src.text
            if len(text) - index > _MARGIN and text[index] == "{" and _STREAMED.match(text, index) is None:
                # The common case in one piece: a clip, gap or transition, well inside the window. The scanner
                # is called as ``src.value`` calls it; anything but a value ending inside the window (an error,
                # a value running past it) goes to ``src.value``, which gives the same value or error.
                try:
                    value, end = scan(text, index)
                except (StopIteration, ValueError, RecursionError):
                    end = len(text)
                if end < len(text):
                    index = end
                else:
                    value, index = src.value(index)
                append(clip(value) if type(value) is dict and value.get("OTIO_SCHEMA") == "Clip.2" else node(value))
            else:
                child, index = _streamed(src, index, reader)
                append(child)
            after = _NEXT.match(src.text, index)
            if after is not None and after.end() < len(src.text):
                index = after.end()
                if after.group(1) == "]":
                    break
                continue
            index = src.skip(index)
            c = src.char(index)
            if c == "]":
                index += 1
                break
            if c != ",":
                raise Unsupported("not valid JSON")
            index = src.skip(index + 1)
    reader.keys += len(fields)
    if nested not in fields:
        raise Unsupported(f"no {nested}")
    del fields[nested]
    if schema == "Timeline.1":
        return reader.timeline(fields, inner), index
    fields["OTIO_SCHEMA"] = schema
    return reader.composition(fields, inner), index


def read_otio_json(data: bytes, keys: int | None = None) -> JsonTimeline:
    """The timeline in OTIO JSON bytes (plain UTF-8, nesting checked, no \\u escapes) whose objects hold
    ``keys`` keys in all; Unsupported when this reader cannot promise OpenTimelineIO's reading of them."""
    root, reader = _read(data)
    if keys is not None and reader.keys != keys:
        raise Unsupported("a key written twice in one object")
    return root


def _read(data: bytes) -> tuple[JsonTimeline, _Reader]:
    src = _Text(data)
    src.load(0)
    reader = _Reader()
    index = src.skip(0)
    head = _STREAMED.match(src.text, index)
    if head is None or head.group(1) != "Timeline.1":  # a collection, a bare track...: not parsed here at all
        raise Unsupported("not a timeline written with its schema first")
    root, index = _streamed(src, index, reader)
    if not isinstance(root, JsonTimeline):
        raise Unsupported("not a timeline")
    index = src.skip(index)
    if index < len(src.text) or not src.at_end:
        raise Unsupported("text after the timeline")
    return root, reader


# --- what the file's bytes must show, cheaply when they can -----------------------------------------------
#
# Before its reading is trusted, a file must pass ``clearance.documents.check_json_nesting`` (as the file
# OpenTimelineIO reads must) and hold exactly the keys the reader parsed: Python's parser keeps the last of
# a key written twice in one object, OpenTimelineIO's the first. That exact pass reads every byte and costs
# a fifth of the read; for a file the reader has parsed whole (so valid JSON) cheap facts settle both
# questions in the usual case, and the exact pass runs whenever they do not.
#
# Keys. Delete every byte but  \ " : [ ] { } u /  (one pass in C) and count the  ": pairs left that are not
# preceded by \. Take a key of the file and q its closing quote:
#  - only whitespace lies between q and the key's colon, so  ": stands at q;
#  - what precedes q is the last kept byte of the key's text, or its opening quote. With no \u escape in
#    the file (no \u pair survives the deletion) and no parsed key holding \, \b, \f, \n, \r or \t, a key's
#    only escapes are \" and \/, whose two bytes are both kept, so that byte is never a lone \.
# So every key has its own counted pair: the count >= keys in the file >= keys parsed (a key written twice
# is parsed once), and when the count equals the keys parsed, no key was written twice. Strings that start
# with : or / (file:// URLs, timecodes) add pairs; a second count drops brackets and u and writes / as :,
# so that what follows a key's colon is always a quote (a value's first kept byte, or the next key's), and
# leaves out the pairs followed by : as well.
#
# Nesting. The exact pass refuses depth beyond MAX_JSON_NESTING - 8 (the levels it peels) and more than
# MAX_JSON_BRACKETS brackets; it never finds valid JSON unbalanced. Every object and list the reader accepts
# is an OTIO object at its place or plain data measured by ``_Reader.plain``: an item inside c compositions
# sits at level 2 + 2c (Timeline, Stack, children, Track, children...), OTIO objects reach at most four
# levels below an item (markers, a marker, its range, a time), and plain data starts at most one level
# below those. So depth <= 2c + 6 + the deepest plain data; and brackets outside strings <= the bytes kept.

_KEPT = b'\\":[]{}u/'
_NOT_KEPT = bytes(c for c in range(256) if c not in _KEPT)
_SLASH_AS_COLON = bytes.maketrans(b"/", b":")
_ESCAPE_IN_KEY = re.compile(r"[\\\x08\x0c\n\r\t]")


def _kept(data: bytes) -> bytes | None:
    """The bytes kept for the counts above, or None when the file may hold a \\u escape."""
    kept = data.translate(None, delete=_NOT_KEPT)
    return None if b"\\u" in kept else kept


def _no_key_twice(kept: bytes, keys: int) -> bool:
    count = kept.count
    pairs = count(b'":') - count(b'\\":')
    if pairs == keys:
        return True
    narrowed = kept.translate(_SLASH_AS_COLON, delete=b"[]{}u")
    count = narrowed.count
    return count(b'":') - count(b'\\":') - count(b'"::') + count(b'\\"::') == keys


def _compositions_deep(timeline: JsonTimeline) -> int:
    """The most compositions one inside another (the top stack counts one)."""
    deepest = 0
    level = [timeline.tracks]
    while level:
        deepest += 1
        level = [c for node in level for c in node.children if type(c) is JsonComposition]
    return deepest


def _settled(kept: bytes, reader: _Reader, timeline: JsonTimeline) -> bool:
    """Whether the cheap facts above prove what the exact pass would: within limits, no key twice (``kept``
    holds at most MAX_JSON_BRACKETS bytes: the caller checks that before the read)."""
    from clearance.documents import MAX_JSON_NESTING

    if 2 * _compositions_deep(timeline) + 6 + reader.plain_depth > MAX_JSON_NESTING - 8:
        return False
    if any(_ESCAPE_IN_KEY.search(name) for name in reader.names):
        return False
    return _no_key_twice(kept, reader.keys)


def _reading_is_customised() -> bool:
    """Whether OpenTimelineIO's file reader may read otherwise than this one: another release than the one
    modelled here, or a read changed after the fact by a hook script run after every read
    (``post_adapter_read``, ``post_media_linker``) or a default media linker ($OTIO_DEFAULT_MEDIA_LINKER)
    that relinks media (Adapter.read_from_file in opentimelineio/adapters/adapter.py)."""
    import os

    import opentimelineio as otio

    if not str(otio.__version__).startswith(_MODELLED_RELEASE):  # another release may read otherwise
        return True
    if os.environ.get("OTIO_DEFAULT_MEDIA_LINKER"):
        return True
    hooks = otio.plugins.ActiveManifest().hooks
    return bool(hooks.get("post_adapter_read") or hooks.get("post_media_linker"))


def load(path: Path) -> JsonTimeline | None:
    """The timeline in an ``.otio`` file read here, or None when it must be read through OpenTimelineIO
    (which then gives the answer, or the one-line error, that it always gave)."""
    from clearance.documents import DocumentError, read_bytes
    from clearance.errors import ClearanceError

    from .timeline_io import MAX_TIMELINE_BYTES, WHAT, _check_kind, adapter_for

    try:
        _check_kind(path)
        if adapter_for(path) != "otio_json" or _reading_is_customised():
            return None
        data = read_bytes(path, limit=MAX_TIMELINE_BYTES, what=WHAT)
    except (ClearanceError, DocumentError):
        return None
    # Not UTF-8: each window is decoded strictly, and the reader decodes every byte before it answers.
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    from clearance.documents import MAX_JSON_BRACKETS
    from clearance.gc_pause import paused_collector

    kept = _kept(data)
    if kept is None or len(kept) > MAX_JSON_BRACKETS:
        # A \\u escape may be there, or more brackets than the exact pass allows: it runs first, as it always
        # did, so that such a file is refused before it is parsed.
        outline = _exact(data, path)
        if outline is None:
            return None
        try:
            with paused_collector():
                return read_otio_json(data, outline.keys)
        except (Unsupported, ValueError, RecursionError, MemoryError):
            return None
    # Tens of thousands of small dicts and no cycles: the cyclic collector would only rescan them.
    try:
        with paused_collector():
            timeline, reader = _read(data)
        if _settled(kept, reader, timeline):
            return timeline
    except (Unsupported, ValueError, RecursionError, MemoryError):
        return None
    outline = _exact(data, path)
    return timeline if outline is not None and outline.keys == reader.keys else None


def _exact(data: bytes, path: Path) -> JsonOutline | None:
    """The exact pass's outline of the file, or None when it refuses the file or finds a \\u escape (a lone
    surrogate is refused by RapidJSON, kept by Python)."""
    from clearance.documents import DocumentError, check_json_nesting

    try:
        outline = check_json_nesting(data, str(path), outline=True)
    except DocumentError:
        return None
    return None if outline is None or outline.unicode_escapes else outline
