"""scan_file / scan_paths: read files through the format readers and turn their hits into verdicts.

The work is done on plain records (verdicts.ScanRecord); the public functions wrap each record in its
pydantic model (model.ScanResult) and ``clearance scan`` writes the records themselves, so a command-line
scan never imports pydantic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from clearance.provenance.sequences import Sequence, expand_pattern, frame_range, group, is_pattern
from clearance.provenance.sniff import EXTENSION_FORMAT, detect, reader
from clearance.provenance.source import ScanProblem, Source, printable
from clearance.provenance.verdicts import VERDICT_RANK, Hit

if TYPE_CHECKING:
    from pathlib import Path

    from clearance.provenance.model import ScanResult
    from clearance.provenance.verdicts import EvidenceRecord, ScanRecord

Progress = Callable[[int, int], None]
# (format, error, bytes read, hits): what one file yields; a plain tuple so worker processes ship it cheaply.
RawScan = tuple[str | None, str | None, int, list[Hit]]

_FORMAT_NAMES = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "exr": "OpenEXR", "dpx": "DPX", "bmff": "ISO BMFF",
                 "riff": "RIFF", "xmp": "XMP", "mp3": "MP3"}


def read_raw(path: str) -> RawScan:
    """Read one file's provenance metadata. Never raises: problems come back as the error string."""
    hits: list[Hit] = []
    fmt: str | None = None
    try:
        src = Source(path)
    except FileNotFoundError:
        return None, "file not found", 0, hits
    except IsADirectoryError:
        return None, "is a directory", 0, hits
    except ScanProblem as exc:
        return None, str(exc), 0, hits
    except OSError as exc:
        return None, f"cannot open: {exc.strerror or exc}", 0, hits
    error: str | None = None
    try:
        fmt = detect(src.read(0, 4096))  # served from the first block read: no extra I/O
        expected = EXTENSION_FORMAT.get(path.rsplit(".", 1)[-1].lower()) if "." in path else None
        if fmt is None:
            if expected:
                error = f"not a {_FORMAT_NAMES[expected]} file as its extension says: its content matches no " \
                        "format the scanner reads"
            return fmt, error, src.bytes_read, hits
        if expected and expected != fmt:
            error = f"named as {_FORMAT_NAMES[expected]} but the content is {_FORMAT_NAMES[fmt]} (read as " \
                    f"{_FORMAT_NAMES[fmt]})"
        reader(fmt)(src, hits)
    except ScanProblem as exc:
        error = f"{error}; {exc}" if error else str(exc)
    except OSError as exc:
        error = f"read error: {exc.strerror or exc}"
    except RecursionError:
        error = "structure nested too deep"
    except Exception as exc:  # a reader bug must not stop a scan of thousands of files; the fuzz tests hunt these
        error = printable(f"could not read ({type(exc).__name__}: {exc})")
    finally:
        src.close()
    return fmt, error, src.bytes_read, hits


def _combine(confidences: list[float]) -> float:
    # Independent pieces of evidence for the same verdict reinforce each other (noisy-or), capped below certainty.
    miss = 1.0
    for c in confidences:
        miss *= 1.0 - c
    return round(min(0.99, 1.0 - miss), 3)


def _verify(paths: list[str], record: ScanRecord, trust_anchors: str | None) -> None:
    """Attach c2pa-python's validation; the worst status over the frames wins, confidence follows it."""
    from clearance.provenance.verify import verify_file

    order = ["signed", "no_manifest", "unsupported", "remote", "untrusted", "error", "invalid", "tampered"]
    worst = None
    for path in paths:
        check = verify_file(path, trust_anchors)
        if worst is None or order.index(check.status) > order.index(worst.status):
            worst = check
    if worst is None:
        return
    record["c2pa"] = {"status": worst.status, "verdict": worst.verdict, "detail": worst.detail,
                      "failures": list(worst.failures)}
    if worst.status == "tampered" and any(e["manifest"] for e in record["evidence"]):
        record["confidence"] = round(record["confidence"] * 0.75, 3)
        note = f"C2PA validation failed ({', '.join(worst.failures[:3]) or worst.detail}): its claims may be forged"
        record["error"] = f"{record['error']}; {note}" if record["error"] else note
    elif worst.status == "signed" and any(
        e["manifest"] and e["verdict"] == record["verdict"] for e in record["evidence"]
    ):
        record["confidence"] = max(record["confidence"], 0.99)


def build_record(path: str, frames: list[tuple[int | None, RawScan]], sequence: Sequence | None = None) -> ScanRecord:
    """Aggregate the raw scans of one file (or of every frame of a sequence) into one item's record."""
    merged: dict[tuple[object, ...], tuple[Hit, list[int]]] = {}
    errors: list[str] = []
    formats: list[str] = []
    total_bytes = 0
    for frame, (fmt, error, nbytes, hits) in frames:
        total_bytes += nbytes
        if fmt and fmt not in formats:
            formats.append(fmt)
        if error:
            errors.append(f"frame {frame}: {error}" if frame is not None else error)
        for hit in hits:
            entry = merged.get(hit.key())
            if entry is None:
                merged[hit.key()] = (hit, [frame] if frame is not None else [])
            elif frame is not None:
                entry[1].append(frame)
    hits = [h for h, _ in merged.values()]
    verdict = "none"
    if hits:
        verdict = max(hits, key=lambda h: (VERDICT_RANK[h.verdict], h.confidence)).verdict
    if verdict == "none":
        confidence = 0.5 if hits else 0.0
    else:
        by_place: dict[tuple[str, str | None], float] = {}
        for h in hits:
            if h.verdict == verdict:
                place = (h.location, h.manifest)
                by_place[place] = max(by_place.get(place, 0.0), h.confidence)
        confidence = _combine(list(by_place.values()))
    ordered = sorted(merged.values(), key=lambda e: (-VERDICT_RANK[e[0].verdict], not e[0].active, -e[0].confidence))
    evidence: list[EvidenceRecord] = [
        {"verdict": h.verdict, "format": h.format, "location": h.location, "field": h.field, "value": h.value,
         "generator": h.generator, "prompt_embedded": h.prompt, "confidence": float(h.confidence),
         "manifest": h.manifest, "active_manifest": h.active,
         "frames": frame_range(fr) if sequence is not None else None}
        for h, fr in ordered
    ]
    generators: list[str] = []
    record_ids: list[str] = []
    for h in hits:
        if h.generator and h.generator not in generators and h.generator != "Clearance record":
            generators.append(h.generator)
        if h.field == "clearance/record_ids":
            record_ids.extend(i for i in h.value.split(", ") if i and i not in record_ids)
    error = None
    if errors:
        error = errors[0] if len(errors) == 1 else f"{len(errors)} of {len(frames)} frames: {errors[0]}"
    frame_span: str | None = None
    frame_count: int | None = None
    missing: list[int] = []
    if sequence is not None:
        numbers = sorted(sequence.frames)
        frame_span = f"{numbers[0]}-{numbers[-1]}"
        frame_count = len(numbers)
        missing = sequence.missing()
    return {
        "path": path, "verdict": verdict, "confidence": float(confidence), "evidence": evidence, "error": error,
        "format": "+".join(formats) or None, "prompt_embedded": any(h.prompt for h in hits),
        "generators": generators, "record_ids": record_ids, "frames": frame_span, "frame_count": frame_count,
        "missing_frames": missing, "files": len(frames), "bytes_read": total_bytes, "c2pa": None,
    }


def build_result(path: str, frames: list[tuple[int | None, RawScan]], sequence: Sequence | None = None) -> ScanResult:
    """``build_record`` as the public model."""
    from clearance.provenance.model import ScanResult

    return ScanResult.model_validate(build_record(path, frames, sequence))


def scan_file(path: str | os.PathLike[str], verify: bool = False, trust_anchors: str | None = None) -> ScanResult:
    """Scan one file. Never raises for a bad file: the problem is in ``result.error``.

    ``verify`` adds full C2PA validation through c2pa-python (offline) when the file carries a manifest.
    """
    from clearance.provenance.model import ScanResult

    text = os.fspath(path)
    raw = read_raw(text)
    record = build_record(text, [(None, raw)])
    if verify and any(h.manifest for h in raw[3]):
        _verify([text], record, trust_anchors)
    return ScanResult.model_validate(record)


def scan_record(path: str | os.PathLike[str]) -> ScanRecord:
    """``scan_file`` as a plain record, without pydantic: the keys and values ``ScanResult.model_dump(mode="json")``
    gives, for callers that only read a verdict and want no model building at start-up."""
    text = os.fspath(path)
    return build_record(text, [(None, read_raw(text))])


def _expand(paths: Iterable[str | os.PathLike[str]], recursive: bool) -> list[str | Sequence]:
    files: list[str] = []
    items: list[str | Sequence] = []
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            if recursive:
                for root, dirs, names in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    files.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
            else:
                with os.scandir(path) as entries:
                    files.extend(sorted(e.path for e in entries if e.is_file() and not e.name.startswith(".")))
        elif not os.path.exists(path) and is_pattern(path):
            seq = expand_pattern(path)
            if seq is not None:
                items.extend(group(files))
                files = []
                items.append(seq)
            else:
                files.append(path)  # reported as 'file not found'
        else:
            files.append(path)
    items.extend(group(files))
    return items


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    jobs: int = 1,
    progress: Progress | None = None,
    verify: bool = False,
    trust_anchors: str | None = None,
) -> list[ScanResult]:
    """Scan files, folders (``recursive`` walks sub-folders) and sequence patterns (``sh010.####.exr``).

    Numbered files become one item per sequence, every frame read. A path that does not exist comes back as
    an item with ``error`` set; callers that want to refuse bad arguments check existence first (the CLI does).
    ``verify`` validates every file carrying a C2PA manifest with c2pa-python (offline; PEM ``trust_anchors``).
    """
    from clearance.provenance.model import ScanResult

    records = scan_records(paths, recursive, jobs, progress, verify, trust_anchors)
    return [ScanResult.model_validate(record) for record in records]


def scan_records(
    paths: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    jobs: int = 1,
    progress: Progress | None = None,
    verify: bool = False,
    trust_anchors: str | None = None,
) -> list[ScanRecord]:
    """``scan_paths`` as plain records: what ``clearance scan`` writes (``--json``: one record a line)."""
    items = _expand(paths, recursive)
    flat: list[str] = []
    for item in items:
        if isinstance(item, Sequence):
            flat.extend(p for _, p in item.ordered())
        else:
            flat.append(item)
    raws = _read_all(flat, max(1, jobs), progress)
    records: list[ScanRecord] = []
    for item in items:
        if isinstance(item, Sequence):
            members = item.ordered()
            record = build_record(item.pattern, [(number, raws[p]) for number, p in members], item)
            signed = [p for _, p in members if any(h.manifest for h in raws[p][3])]
        else:
            record = build_record(item, [(None, raws[item])])
            signed = [item] if any(h.manifest for h in raws[item][3]) else []
        if verify and signed:
            _verify(signed, record, trust_anchors)
        records.append(record)
    return records


def _read_all(files: list[str], jobs: int, progress: Progress | None) -> dict[str, RawScan]:
    total = len(files)
    out: dict[str, RawScan] = {}
    if jobs > 1 and total >= 64:
        from concurrent.futures import ProcessPoolExecutor

        chunk = max(1, min(256, total // (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, raw in enumerate(pool.map(read_raw, files, chunksize=chunk), 1):
                out[files[i - 1]] = raw
                if progress is not None and (i == total or not i % 50):
                    progress(i, total)
        return out
    for i, path in enumerate(files, 1):
        out[path] = read_raw(path)
        if progress is not None and (i == total or not i % 50):
            progress(i, total)
    return out


def scan_path(path: str | Path) -> ScanResult:
    """One file or one sequence pattern -> one result (what host collectors hand over for a Read node)."""
    results = scan_paths([path])
    return results[0] if results else scan_file(path)
