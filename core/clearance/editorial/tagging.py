"""Write and read Clearance tags on OTIO clips, so they survive EDL, FCP 7 XML and Resolve round trips.

A tag is written three ways on one clip, because each interchange format keeps something different:

- clip metadata ``clearance``: the tag JSON. Only OTIO files keep it.
- a marker whose ``comment`` holds ``CLEARANCE {tag JSON}``, with the same text as the FCP 7 XML
  marker ``<comment>`` (metadata ``fcp_xml.comment``). OTIO and FCP 7 XML keep it; Resolve keeps marker
  notes.
- that marker's name: ``CLEARANCE <record id> <first 16 hex digits of the digest>``. A CMX 3600 EDL
  keeps only a locator's colour and (upper-cased) name, so after an EDL round trip the record comes
  from a records folder (``--records DIR``) and is matched on id and digest.

Reading prefers metadata, then a marker's JSON, then the marker name.
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError
from clearance.record import UseRecord, decision_digest, load_record, record_files_in
from clearance.tags import MARKER_NAME, METADATA_KEY, STATUS_MARKER_COLOUR, Tag, decode_tag, encode_tag

COMMENT_PREFIX = MARKER_NAME + " "
DIGEST_REF_HEX = 16
_NAME_REF = re.compile(
    r"^\s*CLEARANCE\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\s+(?:SHA256:)?([0-9a-f]{8,64}))?",
    re.IGNORECASE,
)
# Where marker JSON may sit, by who wrote the file last: us, the FCP 7 XML reader, Resolve's exporter.
_MARKER_TEXT_PATHS: tuple[tuple[str, ...], ...] = (
    (METADATA_KEY,),
    ("fcp_xml", "comment"),
    ("Resolve_OTIO", "Note"),
    ("Resolve_OTIO", "Comments"),
)


@dataclass(slots=True)
class RawTag:
    """What a clip carries, before it is decoded: the JSON text, or only the marker name's reference."""

    text: str | dict[str, Any] | None
    source: str
    ref_id: str | None = None
    ref_digest: str | None = None
    marker_colour: str | None = None


def marker_name_for(tag: Tag) -> str:
    return f"{MARKER_NAME} {tag.record_id} {tag.digest.split(':', 1)[-1][:DIGEST_REF_HEX]}"


def plain(value: Any) -> Any:
    """An OTIO AnyDictionary/AnyVector as plain Python data."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or (hasattr(value, "__len__") and hasattr(value, "__getitem__")):
        return [plain(v) for v in value]
    return value


def _keys(mapping: Any) -> list[str]:
    # ``key in AnyDictionary`` costs an exception round trip through C++ for every miss; most
    # mappings here are empty, which len() answers at once.
    if not len(mapping):
        return []
    return list(mapping)


def _text_at(metadata: Any, path: tuple[str, ...]) -> Any:
    node = metadata
    for key in path:
        if key not in _keys(node):
            return None
        node = node[key]
    return node


def _strip_prefix(text: str) -> str:
    stripped = text.strip()
    if stripped[:len(COMMENT_PREFIX)].upper() == COMMENT_PREFIX:
        return stripped[len(COMMENT_PREFIX):].strip()
    return stripped


def _is_marker(name: str) -> bool:
    return name[:len(MARKER_NAME)].upper() == MARKER_NAME


def read_raw_tag(clip: Any) -> RawTag | None:
    """The tag a clip carries, undecoded; None when it carries none. Cheap for untagged clips."""
    metadata = clip.metadata
    # len() first: most clips carry no metadata, and a lookup that misses costs an exception in C++.
    value = metadata.get(METADATA_KEY) if len(metadata) else None
    if value is not None:
        if isinstance(value, str):
            return RawTag(text=value, source="metadata")
        return RawTag(text=plain(value), source="metadata")
    markers = clip.markers
    if not len(markers):
        return None
    for marker in markers:
        name = marker.name or ""
        if not _is_marker(name):
            continue
        colour = str(marker.color) if marker.color else None
        comment = getattr(marker, "comment", "") or ""
        text = comment.strip()
        if text and (text[:len(COMMENT_PREFIX)].upper() == COMMENT_PREFIX or text.startswith("{")):
            return RawTag(text=_strip_prefix(text), source="marker", marker_colour=colour)
        for path in _MARKER_TEXT_PATHS:
            found = _text_at(marker.metadata, path)
            if isinstance(found, str) and found.strip():
                return RawTag(text=_strip_prefix(found), source="marker", marker_colour=colour)
            if found is not None and hasattr(found, "items"):
                return RawTag(text=plain(found), source="marker", marker_colour=colour)
        match = _NAME_REF.match(name)
        if match:
            return RawTag(
                text=None, source="marker name", ref_id=match.group(1).lower(),
                ref_digest=(match.group(2) or "").lower() or None, marker_colour=colour,
            )
        # A marker called CLEARANCE with nothing we can read is a broken tag, not an untagged clip.
        return RawTag(text="", source="marker", marker_colour=colour)
    return None


def local_records_dir() -> Path:
    """Every record `clearance tag` attached on this machine, as ``<id>.json``: EDL tags resolve here
    without ``--records``."""
    from clearance.paths import data_dir

    return data_dir() / "records"


def remember_record(record: UseRecord) -> Path:
    """Keep a copy of a tagged record in the local store (atomic write; the id names the file)."""
    import os
    import tempfile

    from clearance.record import dump_record

    folder = local_records_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record.id}.json"
    text = dump_record(record, "json")
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{record.id}.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


class RecordIndex:
    """Records by id, read lazily: the ``--records DIR`` folders (every file, once), then the local store
    of tagged records (one file looked up by id). Where tags that carry only a reference find their record."""

    def __init__(self, folders: list[Path] | None = None) -> None:
        self.folders = [Path(f) for f in folders or []]
        self._by_id: dict[str, UseRecord] | None = None
        self.problems: list[str] = []

    def _load(self) -> dict[str, UseRecord]:
        if self._by_id is not None:
            return self._by_id
        found: dict[str, UseRecord] = {}
        for folder in self.folders:
            if not folder.is_dir():
                raise ClearanceError(f"{folder}: records folder not found; pass the folder that holds the record files")
            for path in record_files_in(folder):  # a pipe among them is refused when read, and said
                try:
                    record = load_record(path)
                except ClearanceError as exc:
                    self.problems.append(str(exc))
                    continue
                found.setdefault(str(record.id), record)
        self._by_id = found
        return found

    def get(self, record_id: str) -> UseRecord | None:
        found = self._load().get(record_id.lower())
        if found is None:
            found = self._from_local_store(record_id.lower())
        return found

    def _from_local_store(self, record_id: str) -> UseRecord | None:
        try:
            uuid.UUID(record_id)
        except ValueError:
            return None
        path = local_records_dir() / f"{record_id}.json"
        if not path.is_file():
            return None
        try:
            record = load_record(path)
        except ClearanceError as exc:
            self.problems.append(str(exc))
            return None
        if str(record.id) != record_id:
            self.problems.append(f"{path}: holds record {record.id}, not {record_id}")
            return None
        self._load()[record_id] = record
        return record

    def by_digest(self, prefix: str) -> UseRecord | None:
        """A record whose decision digest starts with ``prefix``: a record file written without an ``id``
        gets a new id each time it is read, but its decision digest stays the same."""
        prefix = prefix.lower()
        for record in self._load().values():
            if decision_digest(record).split(":", 1)[-1].startswith(prefix):
                return record
        return None

    def add(self, record: UseRecord) -> None:
        self._load()[str(record.id)] = record


class TagDecoder:
    """Decodes raw tags once per distinct text: a cut reuses one record on many clips."""

    def __init__(self, records: RecordIndex | None = None, base_dir: Path | None = None) -> None:
        self.records = records or RecordIndex()
        self.base_dir = base_dir
        self._cache: dict[Any, tuple[Tag | None, UseRecord | None, str | None]] = {}

    def records_seen(self) -> list[UseRecord]:
        """Every distinct record the decoded tags led to."""
        seen = {str(r.id): r for _tag, r, _err in self._cache.values() if r is not None}
        return list(seen.values())

    def decode(self, raw: RawTag, where: str) -> tuple[Tag | None, UseRecord | None, str | None]:
        """(tag, record, error). ``error`` is one line naming the clip; the tag and record may be None then."""
        if raw.text is None:
            key: Any = ("ref", raw.ref_id, raw.ref_digest)
        elif isinstance(raw.text, str):
            key = raw.text
        else:
            key = json.dumps(raw.text, sort_keys=True)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._decode(raw)
            self._cache[key] = cached
        tag, record, error = cached
        if error:
            return tag, record, f"{where}: {error}"
        return tag, record, None

    def _decode(self, raw: RawTag) -> tuple[Tag | None, UseRecord | None, str | None]:
        if raw.text is None:
            return self._from_reference(raw.ref_id or "", raw.ref_digest)
        if isinstance(raw.text, str) and not raw.text.strip():
            return None, None, f"the {MARKER_NAME} {raw.source} holds no tag; re-tag the clip with `clearance tag`"
        try:
            tag = decode_tag(raw.text, "tag")
        except ClearanceError as exc:
            # decode_tag names its `where` first; ours is added by the caller
            return None, None, str(exc).removeprefix("tag: ")
        if tag.record is not None:
            return tag, tag.record, None
        return self._resolve_unembedded(tag)

    def _resolve_unembedded(self, tag: Tag) -> tuple[Tag | None, UseRecord | None, str | None]:
        record = self.records.get(str(tag.record_id))
        if record is None:
            same = self.records.by_digest(tag.digest.split(":", 1)[-1])
            if same is not None:
                record = same.model_copy(update={"id": tag.record_id})
        if record is None and tag.record_path:
            path = Path(tag.record_path)
            if not path.is_absolute() and self.base_dir is not None:
                path = self.base_dir / path
            if path.is_file():
                try:
                    record = load_record(path)
                except ClearanceError as exc:
                    return tag, None, f"the tagged record cannot be read: {exc}"
                if record.id != tag.record_id:
                    if decision_digest(record) != tag.digest:
                        return tag, None, (
                            f"{path} holds record {record.id}, the tag names {tag.record_id}; re-tag the clip"
                        )
                    record = record.model_copy(update={"id": tag.record_id})  # a file written without `id`
        if record is None:
            return tag, None, (
                f"record {tag.record_id} is not embedded in the tag and was not found; "
                "pass the folder of record files with --records DIR"
            )
        if decision_digest(record) != tag.digest:
            return tag, record, (
                f"record {tag.record_id} was edited after the clip was tagged (digest mismatch); re-tag the clip"
            )
        return tag, record, None

    def _from_reference(self, ref_id: str, ref_digest: str | None) -> tuple[Tag | None, UseRecord | None, str | None]:
        record = self.records.get(ref_id)
        if record is None and ref_digest and len(ref_digest) >= DIGEST_REF_HEX:
            same = self.records.by_digest(ref_digest)
            if same is not None:
                # Same decision-relevant content; the id is the one the clip was tagged (and approved) with.
                record = same.model_copy(update={"id": uuid.UUID(ref_id)})
        if record is None:
            return None, None, (
                f"the {MARKER_NAME} marker names record {ref_id}, which this format cannot carry in full; "
                "pass the folder of record files with --records DIR"
            )
        digest = decision_digest(record)
        if ref_digest and not digest.split(":", 1)[-1].startswith(ref_digest):
            return None, record, (
                f"record {ref_id} in the records folder differs from the one tagged (digest mismatch); "
                "use the record as tagged or re-tag the clip"
            )
        if not ref_digest:
            return None, record, f"the {MARKER_NAME} marker for record {ref_id} has no digest; re-tag the clip"
        return Tag(record_id=record.id, digest=digest, record=None), record, None


# --- finding clips -------------------------------------------------------------------------------------


def iter_clips(timeline: Any) -> Iterator[Any]:
    """Every clip in timeline order (track by track, nested compositions in place)."""
    import opentimelineio as otio

    def walk(composition: Any) -> Iterator[Any]:
        for child in composition:
            if isinstance(child, otio.schema.Clip):
                yield child
            elif isinstance(child, otio.core.Composition):
                yield from walk(child)

    yield from walk(timeline.tracks)


def _shot_values(clip: Any) -> list[str]:
    values: list[str] = []
    metadata = clip.metadata
    for key in _keys(metadata):
        value = metadata[key]
        if isinstance(value, str):
            if key.lower() in {"shot", "shot_code", "shotname", "shot_name"}:
                values.append(value)
        elif hasattr(value, "items"):
            for inner in _keys(value):
                if inner.lower() in {"shot", "shot_code", "shotname", "shot_name"}:
                    found = value[inner]
                    if isinstance(found, str):
                        values.append(found)
    return values


ShotMatch = str  # "field", "name", "word" or "suffix": how a shot code named a clip


def shot_match(clip: Any, code: str) -> ShotMatch | None:
    """How the shot code ``code`` names the clip, or None. The rule, strongest first (case never matters):

    - ``field``: a shot field in the clip's metadata (``shot``, ``shot_code``, ``shot_name``, at the top or one
      level down, as Resolve and ShotGrid exports write them) equals the code;
    - ``name``: the clip name is the code;
    - ``word``: the code appears in the name as whole words: ``sh010`` names ``sc01_sh010_comp.mov`` and
      ``sh010 v2`` but not ``sh0100`` or ``xsh010``;
    - ``suffix``: the code plus one setup or take letter, as editors name clips: ``ZZ100_504`` names
      ``ZZ100_504C (LAY1)``. A letter suffix also marks inserted shots (``sh010a`` between ``sh010`` and
      ``sh020``), so ``select_clips`` uses this form only when nothing matches more strongly, and refuses
      when it finds several different suffixes.
    """
    wanted = code.strip().lower()
    if not wanted:
        return None
    if any(v.strip().lower() == wanted for v in _shot_values(clip)):
        return "field"
    name = (clip.name or "").lower()
    if name == wanted:
        return "name"
    # Separators are interchangeable: "sc01 sh010" names "sc01_sh010_anim.mov".
    code_words, name_words = _words(wanted), _words(name)
    if not code_words:
        return None
    escaped = re.escape(code_words)
    if re.search(rf"(?<![0-9a-z]){escaped}(?![0-9a-z])", name_words):
        return "word"
    if re.search(rf"(?<![0-9a-z]){escaped}[a-z](?![0-9a-z])", name_words):
        return "suffix"
    return None


def _words(text: str) -> str:
    return "_".join(t for t in re.split(r"[^0-9a-z]+", text) if t)


def matches_shot(clip: Any, code: str) -> bool:
    """Whether the shot code names the clip in any of the ways ``shot_match`` lists."""
    return shot_match(clip, code) is not None


def _suffix_of(clip: Any, code: str) -> str:
    escaped = re.escape(_words(code.strip().lower()))
    found = re.search(rf"(?<![0-9a-z]){escaped}([a-z])(?![0-9a-z])", _words((clip.name or "").lower()))
    return found.group(1) if found else ""


_PICK = re.compile(r"^(.*)#(\d+)$")


def select_clips(timeline: Any, clip_names: list[str], shots: list[str], all_matching: bool, source: str) -> list[Any]:
    """The clips the editor named: every clip of each exact name (NAME#N: the Nth one). Unknown names are refused
    with the close names listed."""
    clips = list(iter_clips(timeline))
    chosen: list[Any] = []
    seen: set[int] = set()

    def add(clip: Any) -> None:
        if id(clip) not in seen:
            seen.add(id(clip))
            chosen.append(clip)

    names = [c.name or "" for c in clips]
    for wanted in clip_names:
        pick = None
        base = wanted
        m = _PICK.match(wanted)
        if m and not any(n == wanted for n in names):
            base, pick = m.group(1), int(m.group(2))
        if all_matching and any(ch in base for ch in "*?["):
            found = [c for c in clips if fnmatch.fnmatchcase(c.name or "", base)]
        else:
            found = [c for c in clips if (c.name or "") == base]
            if not found:
                found = [c for c in clips if (c.name or "").lower() == base.lower()]
        if not found:
            from difflib import get_close_matches  # only for the error: `check` never needs it

            close = get_close_matches(base, sorted(set(names)), n=4, cutoff=0.5)
            hint = f"; close names: {', '.join(repr(c) for c in close)}" if close else ""
            raise ClearanceError(f"{source}: no clip named {base!r}{hint}")
        if pick is not None:
            if pick < 1 or pick > len(found):
                raise ClearanceError(
                    f"{source}: {base!r} names {len(found)} clips; #{pick} is out of range (1-{len(found)})"
                )
            found = [found[pick - 1]]
        # A name used by several clips is the same media cut in several times: the same use, so every
        # one of them is tagged (the CLI says how many); NAME#N picks one.
        for clip in found:
            add(clip)
    for code in shots:
        matched = [(c, shot_match(c, code)) for c in clips]
        strong = [c for c, how in matched if how in {"field", "name", "word"}]
        found = strong or [c for c, how in matched if how == "suffix"]
        if not found:
            from difflib import get_close_matches

            close = get_close_matches(code, sorted(set(names)), n=4, cutoff=0.4)
            hint = f"; close clip names: {', '.join(repr(c) for c in close)}" if close else ""
            raise ClearanceError(f"{source}: no clip belongs to shot {code!r}{hint}")
        if not strong:
            suffixes = sorted({_suffix_of(c, code) for c in found})
            if len(suffixes) > 1 and not all_matching:
                listed = ", ".join(repr(c.name) for c in found[:6]) + (" ..." if len(found) > 6 else "")
                raise ClearanceError(
                    f"{source}: shot {code!r} is ambiguous: clips with the suffixes "
                    f"{', '.join(s.upper() for s in suffixes)} match ({listed}); name the shot in full "
                    f"(e.g. --shot {code}{suffixes[0].upper()}), pick clips with --clip NAME, or pass "
                    "--all-matching to tag them all"
                )
        for clip in found:
            add(clip)
    return chosen


# --- writing tags ---------------------------------------------------------------------------------------


def _colour(status: str | None) -> str:
    import opentimelineio as otio

    name = STATUS_MARKER_COLOUR.get(status or "approval_required", "ORANGE")
    return str(getattr(otio.schema.MarkerColor, name, otio.schema.MarkerColor.ORANGE))


def remove_tag(clip: Any) -> bool:
    """Take every Clearance tag off a clip. True when there was one."""
    had = False
    metadata = clip.metadata
    if metadata and METADATA_KEY in _keys(metadata):
        del metadata[METADATA_KEY]
        had = True
    markers = clip.markers
    for index in reversed(range(len(markers))):
        if _is_marker(markers[index].name or ""):
            del markers[index]
            had = True
    return had


def apply_tag(clip: Any, tag: Tag) -> None:
    """Put the tag on the clip (metadata and marker), replacing any earlier Clearance tag."""
    import opentimelineio as otio

    remove_tag(clip)
    text = encode_tag(tag)
    clip.metadata[METADATA_KEY] = text
    try:
        start = clip.trimmed_range().start_time
    except Exception:  # a clip with no source range and no media: mark its first frame
        start = otio.opentime.RationalTime(0, 24)
    marker = otio.schema.Marker(
        name=marker_name_for(tag),
        marked_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime(0, start.rate)),
        color=_colour(tag.status),
        comment=COMMENT_PREFIX + text,
        metadata={"fcp_xml": {"comment": COMMENT_PREFIX + text}},
    )
    clip.markers.append(marker)


def target_for(record: UseRecord, clip: Any, shot: str | None) -> str:
    """The target key the tag covers: the record's own target for this clip when it lists one."""
    name = clip.name or ""
    for target in record.targets:
        if target.kind == "clip" and target.ref == name:
            return target.key()
        if target.kind == "shot" and (
            (shot is not None and target.ref.lower() == shot.lower()) or matches_shot(clip, target.ref)
        ):
            return target.key()
    return f"shot:{shot}" if shot else f"clip:{name}"


def parse_target(key: str | None) -> tuple[str, str] | None:
    if not key or ":" not in key:
        return None
    kind, ref = key.split(":", 1)
    return kind, ref

