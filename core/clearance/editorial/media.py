"""What a clip's media is (file, image sequence, offline, missing, generator) and whether it carries AI
provenance, for clips that carry no Clearance tag. Runs for every clip of a cut, so it is kept cheap."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, Field

from .otio_json import JsonReference

MAX_SEQUENCE_FRAMES_SCANNED = 3
MAX_MEDIA_EXAMPLES = 10
_OFFLINE: tuple[str, list[str]] = ("offline", [])  # shared: the file lists handed out are only read


class MediaSummary(BaseModel):
    files: int = 0
    offline: int = 0
    missing_reference: int = 0
    generator: int = 0
    remote: int = 0
    scanned: int = 0
    scan_errors: int = 0
    zero_length: int = 0
    examples: list[str] = Field(  # a lambda, not `list`: see ClipResult in clearance.editorial.check
        default_factory=lambda: [], description="A few untagged clips with offline or missing media"
    )


def _provenance() -> tuple[Callable[[str], Any], Callable[[str], bool]] | None:
    # The scanner's plain records: the verdicts `scan_file` gives, without building its pydantic models.
    from clearance.provenance.scanner import scan_record
    from clearance.provenance.verdicts import is_genai

    return scan_record, is_genai


def local_path(url: str) -> str | None:
    """A local file path for a media URL or path; None for other schemes (http, s3...)."""
    if not url:
        return None
    if url.startswith("file:"):
        parsed = urlparse(url)
        path = unquote(parsed.path)
        if parsed.netloc and parsed.netloc != "localhost":
            return f"//{parsed.netloc}{path}"
        if len(path) > 2 and path[0] == "/" and path[2] == ":":  # file:///C:/x -> C:/x
            path = path[1:]
        return path
    if "://" in url:
        return None
    return url


def media_url(clip: Any, ref: Any = None) -> str:
    """The media the clip names (file path, URL, first frame of a sequence), "" when it names none."""
    if ref is None:
        ref = clip.media_reference
    url = getattr(ref, "target_url", None)
    if isinstance(url, str) and url:
        return local_path(url) or url
    base = getattr(ref, "target_url_base", None)
    if isinstance(base, str) and base:
        try:
            return local_path(ref.target_url_for_image_number(0)) or base
        except Exception:
            return base
    return ""


class MediaInspector:
    """Looks at untagged clips' media: counts what is offline or missing, scans files for AI provenance.

    Called for every clip of the cut, so it avoids a system call per clip where it can: a folder found
    missing (an unmounted volume) answers for every file under it.
    """

    def __init__(self, summary: MediaSummary, scan: bool, base_dir: str | os.PathLike[str] | None = None) -> None:
        import opentimelineio as otio

        # A relative media path is relative to the timeline's folder (as OTIO's own samples use them).
        self.base_dir = os.fspath(base_dir) if base_dir is not None else None

        self.summary = summary
        self.scan = scan
        self._provenance: tuple[Callable[[str], Any], Callable[[str], bool]] | None = None  # imported on first use
        self._external = otio.schema.ExternalReference
        self._missing = otio.schema.MissingReference
        self._generator = otio.schema.GeneratorReference
        self._sequence = otio.schema.ImageSequenceReference
        self._scanned: dict[str, tuple[bool, str]] = {}
        self._dirs: dict[str, bool] = {}
        self._urls: dict[str, tuple[str, list[str]]] = {}
        self._posix = os.sep == "/"
        self.counts: dict[str, int] = {}
        self._examples: list[str] = []

    def describe(self, clip: Any, ref: Any = None) -> tuple[str, list[str]]:
        """(what the media is, files to scan) for a clip's active media reference."""
        if ref is None:
            ref = clip.media_reference
        if type(ref) is JsonReference:  # read from OTIO JSON without OpenTimelineIO (otio_json)
            kind = ref.kind
            if kind == "ExternalReference":
                return self._by_url(ref.target_url or "")
            return ("generator", []) if kind == "GeneratorReference" else ("missing", [])
        if type(ref) is self._external or isinstance(ref, self._external):
            return self._by_url(ref.target_url or "")
        if isinstance(ref, self._sequence):
            return self._sequence_files(clip, ref)
        if isinstance(ref, self._generator):
            return "generator", []
        if ref is None or isinstance(ref, self._missing):
            return "missing", []
        return type(ref).__name__, []

    def _by_url(self, url: str) -> tuple[str, list[str]]:
        """One answer per distinct media URL: a cut uses the same file in many clips, and a folder
        found missing answers for every file under it, so a file is looked at once."""
        known = self._urls.get(url)
        if known is not None:
            return known
        path = url if url[:1] == "/" and "://" not in url else local_path(url)
        if path is not None and self.base_dir and not os.path.isabs(path):
            path = os.path.join(self.base_dir, path)
        if path is None:
            known = ("remote", [])
        elif self._is_file(path):
            known = ("file", [path])
        else:
            known = ("offline", [])
        self._urls[url] = known
        return known

    def _dir_exists(self, folder: str) -> bool:
        known = self._dirs.get(folder)
        if known is None:
            parent = os.path.dirname(folder)
            known = (parent == folder or self._dir_exists(parent)) and os.path.isdir(folder)
            self._dirs[folder] = known
        return known

    def _is_file(self, path: str) -> bool:
        folder = (path.rpartition("/")[0] or "/") if os.sep == "/" else os.path.dirname(path)
        known = self._dirs.get(folder)
        if known is None:
            known = self._dir_exists(folder or ".")
        return known and os.path.isfile(path)

    def _sequence_files(self, clip: Any, ref: Any) -> tuple[str, list[str]]:
        try:
            count = int(ref.number_of_images_in_sequence())
            picks = sorted({0, count // 2, count - 1}) if count > 0 else []
            files = []
            for i in picks[:MAX_SEQUENCE_FRAMES_SCANNED]:
                path = local_path(ref.target_url_for_image_number(i))
                if path and self._is_file(path):
                    files.append(path)
        except Exception:
            return "sequence (unreadable)", []
        return ("sequence" if files else "offline"), files

    def untagged(self, clip: Any) -> tuple[str, str | None] | None:
        """For an untagged clip: None when nothing to report, else (media kind, AI evidence)."""
        ref = clip.media_reference
        kind_of = type(ref)
        if (kind_of is JsonReference and ref.kind == "ExternalReference") or kind_of is self._external:
            # the common case, inlined: this runs for every clip of the cut
            url = ref.target_url or ""
            found = self._urls.get(url)
            if found is None and url[:1] == "/" and self._posix and "://" not in url:
                # A plain path: a folder known to be missing (an unmounted volume) answers at once,
                # without remembering every offline file.
                folder = url.rpartition("/")[0] or "/"
                here = self._dirs.get(folder)
                if here is None:
                    here = self._dir_exists(folder)
                if not here:
                    found = _OFFLINE
            kind, files = found if found is not None else self._by_url(url)
        else:
            kind, files = self.describe(clip)
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        if (kind in {"offline", "missing"}) and len(self._examples) < MAX_MEDIA_EXAMPLES:
            self._examples.append(f"{clip.name}: {'media offline' if kind == 'offline' else 'no media reference'}")
        if not files or not self.scan:
            return None
        for path in files:
            is_ai, evidence = self._scan(path)
            if is_ai:
                return kind, f"{os.path.basename(path)}: {evidence}"
        return None

    def finish(self) -> MediaSummary:
        """Fold the per-kind counts into the summary (kept as plain ints while walking: it is per clip)."""
        c = self.counts
        s = self.summary
        s.files = c.get("file", 0) + c.get("sequence", 0)
        s.offline = c.get("offline", 0)
        s.missing_reference = c.get("missing", 0)
        s.generator = c.get("generator", 0)
        s.remote = c.get("remote", 0)
        s.examples = list(self._examples)
        return s

    def _scan(self, path: str) -> tuple[bool, str]:
        known = self._scanned.get(path)
        if known is not None:
            return known
        if self._provenance is None:
            self._provenance = _provenance()
            if self._provenance is None:  # the scanner is not installed: nothing can be scanned
                self.scan = False
                return False, "not scanned"
        scan_record, is_genai = self._provenance
        self.summary.scanned += 1
        try:
            result = scan_record(path)
        except Exception as exc:  # a scanner bug must not hide the rest of the cut
            self.summary.scan_errors += 1
            known = (False, f"scan failed: {exc}")
        else:
            if result.get("error"):
                self.summary.scan_errors += 1
            verdict = str(result.get("verdict") or "none")
            evidence = [e for e in result.get("evidence") or [] if e.get("verdict") == verdict]
            detail = verdict
            if evidence:
                first = evidence[0]
                what = first.get("generator") or first.get("value") or ""
                where = first.get("location") or ""
                detail = f"{verdict}: {what} in {where}" if what and where else f"{verdict}: {what or where}"
            known = (bool(is_genai(verdict)), detail)
        self._scanned[path] = known
        return known
