"""Read and write timelines through OTIO's adapters, turning every failure into one clear line.

EDLs are read here rather than by OTIO's file reader because the cmx_3600 adapter only reads strings
and OTIO would decode the file as UTF-8: EDLs from older Avid and Nucoda systems are often Latin-1.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from clearance.documents import DocumentError, check_json_nesting, decode_text, kind_of, os_problem, read_bytes
from clearance.errors import ClearanceError

# Suffix -> adapter, for the formats an editor brings; OTIO's manifest decides for anything else.
READABLE = {
    ".otio": "otio_json",
    ".otioz": "otioz",
    ".otiod": "otiod",
    ".edl": "cmx_3600",
    ".xml": "fcp_xml",
    ".fcpxml": "fcpx_xml",
    ".aaf": "AAF",
}
ADAPTER_PACKAGES = {
    "cmx_3600": "otio-cmx3600-adapter",
    "fcp_xml": "otio-fcp-adapter",
    "fcpx_xml": "otio-fcpx-xml-adapter",
    "AAF": "otio-aaf-adapter",
}
DEFAULT_EDL_RATE = 24.0
MAX_TIMELINE_BYTES = 128 * 1024 * 1024
"""A feature's OTIO is tens of megabytes; the OpenTimelineIO sample with effects is 356 KB."""
WHAT = "a timeline file (.otio, .otioz, .otiod, .edl, .xml, .aaf)"
_READ_AS_BYTES = {"cmx_3600", "fcp_xml"}  # and otio_json, read by _read_otio_json


def _otio() -> Any:
    # A broken third-party plugin makes OTIO log a traceback on every manifest load; the user can do
    # nothing about it while checking a cut, and the adapter lookup below names what is missing.
    logging.getLogger().addFilter(_quiet_plugin_errors)
    import opentimelineio as otio

    return otio


def _quiet_plugin_errors(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("could not load plugin")


def adapter_for(path: Path) -> str:
    otio = _otio()
    suffix = path.suffix.lower()
    name = READABLE.get(suffix)
    available = set(otio.adapters.available_adapter_names())
    if name is None:
        try:
            return str(otio.adapters.from_filepath(str(path)).name)
        except Exception:
            known = ", ".join(sorted(READABLE))
            raise ClearanceError(
                f"{path}: no timeline format for '{suffix or 'no suffix'}'; use one of {known}"
            ) from None
    if name not in available:
        raise ClearanceError(
            f"{path}: reading {suffix} needs the {ADAPTER_PACKAGES.get(name, name)} package; "
            f"install it with `pip install {ADAPTER_PACKAGES.get(name, name)}`"
        )
    return name


def _decode_edl(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 covers what Avid and Premiere write on Windows; latin-1 never fails.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 200:
        text = text[:197] + "..."
    return text


def _check_kind(p: Path) -> None:
    """Refuse what is not a timeline file before any adapter opens it (a FIFO would block the open)."""
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:
        raise ClearanceError(f"{p}: {os_problem(exc)}") from None
    if stat.S_ISDIR(mode):
        if p.suffix.lower() != ".otiod":
            raise ClearanceError(f"{p}: is a folder, expected {WHAT}")
    elif not stat.S_ISREG(mode):
        raise ClearanceError(f"{p}: is {kind_of(mode)}, expected {WHAT}")


def _check_nesting(data: bytes, p: Path, adapter: str) -> None:
    # OpenTimelineIO's JSON reader recurses on the C stack: a deeply nested file would crash the process.
    try:
        check_json_nesting(data, str(p))
    except DocumentError as exc:
        raise ClearanceError(f"{p}: not a readable {adapter} timeline: {exc.problem}") from None


def _check_bundle(p: Path, adapter: str) -> None:
    """The content.otio inside an .otioz (zip) or .otiod (folder): bounded, and not nested too deep."""
    if adapter == "otiod":
        _check_nesting(read_bytes(p / "content.otio", limit=MAX_TIMELINE_BYTES, what=WHAT), p, adapter)
        return
    try:
        with zipfile.ZipFile(p) as bundle:
            info = bundle.getinfo("content.otio")
            if info.file_size > MAX_TIMELINE_BYTES:
                raise ClearanceError(f"{p}: content.otio is {info.file_size} bytes, over the "
                                     f"{MAX_TIMELINE_BYTES}-byte limit for a timeline")
            with bundle.open(info) as member:
                data = member.read(MAX_TIMELINE_BYTES + 1)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ClearanceError(f"{p}: not a readable otioz timeline: {_reason(exc)}") from None
    if len(data) > MAX_TIMELINE_BYTES:  # the zip's directory understated it
        raise ClearanceError(f"{p}: content.otio is over the {MAX_TIMELINE_BYTES}-byte limit for a timeline")
    _check_nesting(data, p, adapter)


def read_timeline(path: str | Path, *, rate: float = DEFAULT_EDL_RATE) -> Any:
    """The timeline in ``path``; raises ClearanceError (one line, naming the file) for anything wrong."""
    p = Path(path)
    _check_kind(p)
    adapter = adapter_for(p)
    otio = _otio()
    # The formats read from bytes go through the bounded reader: no FIFO, device or endless file.
    data = read_bytes(p, limit=MAX_TIMELINE_BYTES, what=WHAT) if adapter in _READ_AS_BYTES else b""
    try:
        if adapter == "cmx_3600":
            text = _decode_edl(p, data)
            result = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
        elif adapter == "fcp_xml":
            # The FCP adapter has no file reader; OTIO would open the file as UTF-8 text, which
            # breaks on XML declared in another encoding, so let the XML parser decode the bytes.
            result = otio.adapters.read_from_string(data, adapter_name="fcp_xml")
        elif adapter == "otio_json":
            result = _read_otio_json(otio, p)
        elif adapter in ("otioz", "otiod"):
            _check_bundle(p, adapter)
            result = otio.adapters.read_from_file(str(p), adapter_name=adapter)
        else:
            result = otio.adapters.read_from_file(str(p), adapter_name=adapter)
    except ClearanceError:
        raise
    except OSError as exc:
        raise ClearanceError(f"{p}: cannot read: {exc.strerror or _reason(exc)}") from None
    except Exception as exc:
        if adapter == "otio_json" and not data:
            try:
                data = read_bytes(p, limit=MAX_TIMELINE_BYTES, what=WHAT)
            except Exception:
                data = b""
        schema = _unknown_schema(data) if adapter == "otio_json" else None
        if schema:
            inside = re.search(r"While reading object named '([^']*)'", str(exc))
            where = f" ('{inside.group(1)}')" if inside and inside.group(1) else ""
            raise ClearanceError(f"{p}{where}: {schema}") from None
        raise ClearanceError(f"{p}: not a readable {adapter} timeline: {_reason(exc)}") from None
    return as_timeline(result, p)


def _checked_otio_json(p: Path) -> tuple[str | None, os.stat_result]:
    """Read the file through the bounded reader and check its nesting; (its text when OpenTimelineIO cannot
    read the file itself, else None; its stat). The bytes are let go on return."""
    before = os.stat(p)
    data = read_bytes(p, limit=MAX_TIMELINE_BYTES, what=WHAT)
    _check_nesting(data, p, "otio_json")
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or not _is_utf8(data):
        return decode_text(data, str(p)), before
    if len(data) != before.st_size:
        raise ClearanceError(f"{p}: changed while it was being read; read it again")
    return None, before


def _read_otio_json(otio: Any, p: Path) -> Any:
    """Parse checked OTIO JSON. Plain UTF-8 (the common case) is parsed by OpenTimelineIO from the file
    itself: handing it a Python string would hold the document three times (bytes, text and OTIO's own
    copy) and cost a third more time. The file must still be the one checked, in size and time stamp."""
    text, before = _checked_otio_json(p)
    if text is not None:
        return otio.adapters.read_from_string(text, adapter_name="otio_json")
    result = otio.adapters.read_from_file(str(p), adapter_name="otio_json")
    after = os.stat(p)
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
        raise ClearanceError(f"{p}: changed while it was being read; read it again")
    return result


def _is_utf8(data: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the bytes are UTF-8, checked a megabyte at a time (no text copy of the whole file)."""
    import codecs

    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(data[start:start + chunk], final=start + chunk >= len(data))
    except UnicodeDecodeError:
        return False
    return True


_VALUE_TYPES = {"RationalTime": 1, "TimeRange": 1, "TimeTransform": 1}
_SCHEMA = re.compile(rb'"OTIO_SCHEMA"\s*:\s*"([A-Za-z_][\w]*)\.(\d+)"')


def _unknown_schema(data: bytes) -> str | None:
    """Name the first schema OTIO does not know, when that is why a .otio file would not load."""
    otio = _otio()
    known = {**otio.core.type_version_map(), **_VALUE_TYPES}
    for match in _SCHEMA.finditer(data):
        name, version = match.group(1).decode(), int(match.group(2))
        if name not in known:
            return (f"uses schema {name}.{version}, which OpenTimelineIO {otio.__version__} does not know "
                    "(written by a plugin or a newer OTIO); export the timeline without it")
        if version > known[name]:
            return (f"uses {name}.{version}, newer than the {name}.{known[name]} that OpenTimelineIO "
                    f"{otio.__version__} reads; upgrade OpenTimelineIO or export an older version")
    return None


def as_timeline(result: Any, source: Path | str) -> Any:
    otio = _otio()
    if result is None:  # e.g. an FCP X XML with no project or sequence in it
        raise ClearanceError(f"{source}: holds no timeline (nothing the reader could use); export the cut again")
    if isinstance(result, otio.schema.Timeline):
        return result
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = list(result.find_children(descended_from_type=otio.schema.Timeline, shallow_search=True))
        if len(timelines) == 1:
            return timelines[0]
        if not timelines:
            raise ClearanceError(f"{source}: holds a collection with no timeline in it")
        names = ", ".join(repr(t.name) for t in timelines[:5])
        raise ClearanceError(
            f"{source}: holds {len(timelines)} timelines ({names}); export the one to check on its own"
        )
    if isinstance(result, otio.schema.Track | otio.schema.Stack):
        timeline = otio.schema.Timeline(name=result.name or Path(str(source)).stem)
        if isinstance(result, otio.schema.Stack):
            timeline.tracks = result
        else:
            timeline.tracks.append(result)
        return timeline
    if getattr(result, "is_unknown_schema", False):
        raise ClearanceError(
            f"{source}: holds an object of unknown schema {result.original_schema_name}."
            f"{result.original_schema_version}, not a timeline"
        )
    kind = {"AnyVector": "a JSON list", "AnyDictionary": "a JSON object"}.get(type(result).__name__)
    raise ClearanceError(f"{source}: holds {kind or 'a ' + type(result).__name__}, not a timeline")


def _pin_source_ranges(timeline: Any, media_ranges: bool = False) -> None:
    # The EDL and FCP 7 XML writers need every clip's source range; OTIO allows it to be implied by
    # the media's available range. Writing it out keeps the cut the same and lets the write succeed.
    # The FCP 7 XML writer also needs each file's available range, which an EDL never gives: the part
    # of the media the clip uses is all that is known of it.
    for clip in timeline.find_clips():
        if clip.source_range is None:
            try:
                clip.source_range = clip.trimmed_range()
            except Exception:
                continue
        ref = clip.media_reference
        if media_ranges and ref is not None and clip.source_range is not None and \
                getattr(ref, "available_range", True) is None and hasattr(ref, "target_url"):
            ref.available_range = clip.source_range


def write_timeline(timeline: Any, path: str | Path, *, purpose: str = "tag") -> None:
    """Write through the adapter for ``path``'s suffix, atomically: a failed write leaves nothing behind.

    ``purpose`` reaches the Clearance OTIO hook, which only gates deliveries.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    otio = _otio()
    adapter = adapter_for(p)
    hook_args = {"clearance": {"purpose": purpose}}
    if adapter in {"cmx_3600", "fcp_xml", "fcpx_xml"}:  # these writers need every clip's source range
        _pin_source_ranges(timeline, media_ranges=adapter == "fcp_xml")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=suffix, dir=p.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # the bundle writers refuse to overwrite; the unique name stays ours
        from .hook import writing_work_in_progress

        token = writing_work_in_progress.set(purpose == "tag")
        try:
            otio.adapters.write_to_file(timeline, str(tmp), adapter_name=adapter,
                                        hook_function_argument_map=hook_args)
        finally:
            writing_work_in_progress.reset(token)
        if suffix == ".otiod" and p.is_dir():
            shutil.rmtree(p)
        os.replace(tmp, p)
    except ClearanceError:
        raise
    except Exception as exc:
        if type(exc).__name__ == "NotAFileOnDisk":
            raise ClearanceError(
                f"{p}: a {suffix} bundle carries every media file, and {_reason(exc)} is not on this machine; "
                "relink the media or write .otio instead"
            ) from None
        raise ClearanceError(f"{p}: cannot write as {adapter}: {_reason(exc)}") from None
    finally:
        if tmp.exists():
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink()
