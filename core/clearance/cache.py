"""The local approval cache: approvals, keys and the revocation list pulled from the server.

Validators and hosts read it offline. Layout under ``clearance.paths.cache_dir()``::

    approvals/<record_id>/<approval_id>.json   one signed approval each, verbatim
    keys.json                                  the keys pinned on first use (GET /api/v1/keys + server)
    revocations.json                           {"server", "documents": [signed GET /api/v1/revocations]}
    records/<record_id>.json                   the service's view of a record (status, requests, denials)

Every write goes to a temporary file first and is moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from clearance.approvals import (
    REFRESH_HINT,
    Revocations,
    SignedApproval,
    TrustedKeys,
    now_utc,
    parse_approval,
    read_approval_and_id,
)
from clearance.documents import MAX_DOCUMENT_BYTES, DocumentError, decode_text, load_json, read_bytes
from clearance.errors import ClearanceError
from clearance.paths import cache_dir

KEYS_FILE = "keys.json"
REVOCATIONS_FILE = "revocations.json"
FACTS_DIR = "records"
APPROVALS_DIR = "approvals"


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that it is either the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


_UNSAFE = frozenset("/\\\0:")


def _safe_name(value: str, what: str) -> str:
    # Ids become file names: refuse anything that could climb out of the cache folder.
    if not value or value in {".", ".."} or not _UNSAFE.isdisjoint(value) or len(value) > 200:
        raise ClearanceError(f"{what} {value!r} cannot be used as a file name in the approval cache")
    return value


_PARSED: dict[bytes, tuple[SignedApproval, str]] = {}
_PARSED_KEPT = 20_000
"""Approval files parsed in this process, by their exact bytes: a file read again with the same bytes is the
same approval, and its in-memory signature memo (``SignedApproval.checked``, keyed on the key and the signed
bytes) is kept with it, and its record id as text. Keyed by content, never by name or time stamp, and never
written anywhere."""

Stamp = tuple[int, int, int, int, int]
"""(device, inode, size, mtime_ns, ctime_ns) of a file or folder, as ``os.stat`` gives it."""

SETTLE_NS = 2_000_000_000
"""How long ago a file or folder must have last changed for what was read from it to be kept by its stamp.
File systems stamp changes with a coarse clock, so a second change within the same tick may leave every
stamp as it was; one that has not changed for this long cannot be changed again without its ctime moving
(the rule git applies to "racily clean" index entries)."""

_FILES: dict[str, tuple[Stamp, SignedApproval, str]] = {}
"""Approval files read in this process: path -> (the stamp of the file read, taken before the read, the
approval, its record id). A later read re-reads only a file whose stamp changed (a rewrite moves its ctime,
a replacement its inode). Kept in memory only, and only for files that had settled (SETTLE_NS)."""

_FOLDERS: dict[str, tuple[Stamp, Listing]] = {}
"""What is in the approval folders, listed again only when a folder's stamp changed (an entry added, removed
or renamed moves its mtime and ctime), for folders that had settled."""

_KEPT = 50_000


class Listing:
    """The names in one folder and its approval files (``*.json``, not hidden) in order, each with whether the
    folder lists it as a regular file (not a link, folder, pipe or device)."""

    __slots__ = ("files", "names")

    def __init__(self, names: frozenset[str], files: tuple[tuple[str, bool], ...]) -> None:
        self.names = names
        self.files = files


_NOTHING = Listing(frozenset(), ())
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_S_ISREG = stat.S_ISREG


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _settled(info: os.stat_result, now_ns: int) -> bool:
    return max(info.st_mtime_ns, info.st_ctime_ns) + SETTLE_NS <= now_ns


def _listing(folder: str, now_ns: int) -> Listing:
    """What is in ``folder``; nothing when it is missing or not a folder. Listed once per change of the folder."""
    try:
        info = os.stat(folder)
    except (OSError, ValueError):
        return _NOTHING
    stamp = _stamp(info)
    kept = _FOLDERS.get(folder)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    try:
        with os.scandir(folder) as entries:
            # the type each entry has in the folder (no stat of its own on the file systems that record it)
            found = [(entry.name, entry.is_file(follow_symlinks=False)) for entry in entries]
    except OSError:  # gone since the stat, or not a folder
        return _NOTHING
    # a record's folder usually holds one approval: nothing to sort
    files = found if len(found) == 1 and found[0][0].endswith(".json") and found[0][0][0] != "." else \
        sorted([entry for entry in found if entry[0].endswith(".json") and entry[0][0] != "."])
    listing = Listing(frozenset([name for name, _regular in found]), tuple(files))
    if _settled(info, now_ns):
        if len(_FOLDERS) >= _KEPT:
            _FOLDERS.clear()
        _FOLDERS[folder] = (stamp, listing)
    return listing


def _file_bytes(path: str, regular: bool) -> tuple[bytes, os.stat_result | None]:
    """The bytes of an approval file and the stamp of what was read (None: not known, so not kept).

    A file its folder lists as regular is opened straight away (never blocking), then checked with ``fstat``
    on what was opened, read in one call of its known size, and closed. Anything else (a link, a pipe, a
    device, a file that changed size, a read that fails) takes ``read_bytes``, whose checks and one-line
    messages are the same for every document.
    """
    if regular:
        try:
            fd = os.open(path, _READ_FLAGS)
        except (OSError, ValueError):
            pass  # read_bytes says why (or the caller finds it was removed)
        else:
            try:
                info = os.fstat(fd)
                size = info.st_size
                # swapped for something else since the listing, or too large: read_bytes says so
                if _S_ISREG(info.st_mode) and size <= MAX_DOCUMENT_BYTES:
                    raw = os.read(fd, size + 1)  # one byte more shows whether it grew since the fstat
                    if len(raw) == size:
                        return raw, info
            except OSError:
                pass
            finally:
                os.close(fd)
    try:
        before: os.stat_result | None = os.stat(path)  # the stamp before the read: a change after it shows
    except (OSError, ValueError):
        before = None
    return read_bytes(path, what="a signed approval"), before


def _damaged(path: str, exc: ClearanceError) -> str:
    return f"{path}: damaged approval file skipped ({exc}); run `clearance approvals pull`"


Fetched = tuple[tuple[SignedApproval, str] | None, bytes | None, os.stat_result | None, str | None]
"""What reading one approval file found: (the approval and record id kept by the file's unchanged stamp, the
bytes read, their stamp, why it could not be read); all None when it was removed since its folder was listed.
A plain tuple: one is made per file of a publish."""

_GONE: Fetched = (None, None, None, None)


def _fetch(path: str, regular: bool) -> Fetched:
    """Read one approval file unless it is kept in memory with the stamp it has now."""
    kept = _FILES.get(path)
    if kept is not None:
        try:
            now = os.stat(path)
        except (OSError, ValueError):
            regular = False  # the read below says why (or that it is gone)
        else:
            if kept[0] == _stamp(now):
                return ((kept[1], kept[2]), None, None, None)
            regular = _S_ISREG(now.st_mode)
    try:
        raw, info = _file_bytes(path, regular)
    except ClearanceError as exc:
        if not os.path.lexists(path):  # removed since the folder was listed
            return _GONE
        return (None, None, None, _damaged(path, exc))
    return (None, raw, info, None)


class ApprovalCache:
    """Approvals by record, trusted keys and revocations, on disk; plus folders given with ``--approvals``."""

    def __init__(self, dir: str | Path | None = None) -> None:
        self.root = Path(dir) if dir is not None else cache_dir()
        self.problems: list[str] = []
        self._extra: dict[str, dict[str, SignedApproval]] = {}
        self._facts_held: bool | None = None

    # ---------------------------------------------------------------- approvals

    def _record_dir(self, record_id: UUID | str) -> Path:
        return self.root / APPROVALS_DIR / _safe_name(str(record_id), "record id")

    def add_approval(self, approval: SignedApproval) -> Path:
        """Store one approval (replacing an earlier copy of the same approval id)."""
        folder = self._record_dir(approval.statement.record_id)
        path = folder / f"{_safe_name(approval.approval_id, 'approval id')}.json"
        atomic_write(path, approval.to_json())
        return path

    def _parsed(self, path: str, fetched: Fetched, now_ns: int) -> tuple[SignedApproval, str] | None:
        """The approval in one file and its record id, from what ``_fetch`` found; None when it is not one (a
        problem noted) or was removed since its folder was listed (nothing noted)."""
        held, raw, info, problem = fetched
        if held is not None:
            return held
        if raw is None:
            if problem is not None:
                self.problems.append(problem)
            return None
        read = _PARSED.get(raw)  # the same bytes parsed before: the same approval, its checked-signature memo
        if read is None:
            try:
                if not raw.strip():
                    raise DocumentError(path, "is empty, expected a signed approval")
                try:  # UTF-8 without a byte-order mark, as Clearance writes it; anything else as decode_text says
                    text = raw.decode("utf-8") if raw[:3] != b"\xef\xbb\xbf" else decode_text(raw, path)
                except UnicodeDecodeError:
                    text = decode_text(raw, path)
                read = read_approval_and_id(text, path)
            except ClearanceError as exc:
                self.problems.append(_damaged(path, exc))
                return None
            if len(_PARSED) >= _PARSED_KEPT:
                _PARSED.clear()
            _PARSED[raw] = read
        if info is not None and _settled(info, now_ns):
            if len(_FILES) >= _KEPT:
                _FILES.clear()
            _FILES[path] = (_stamp(info), *read)
        return read

    def _approval_file(self, path: str, now_ns: int, regular: bool = False) -> tuple[SignedApproval, str] | None:
        """The approval in one file and its record id, read again only when the file's stamp changed.
        ``regular``: its folder lists it as a regular file (it is then opened without a stat first)."""
        return self._parsed(path, _fetch(path, regular), now_ns)

    def approvals_for_many(self, record_ids: Iterable[UUID | str]) -> dict[str, list[SignedApproval]]:
        """``approvals_for`` of many records, by record id: the approvals folder is listed once; a record's
        folder is listed and its files read only when they changed since this process last read them.

        In three passes, each over every record: the folders are listed, then the files read, then what was
        read parsed (the same work as file by file, in the same order, measured about a third faster).
        """
        now_ns = time.time_ns()
        base = os.path.join(self.root, APPROVALS_DIR)
        listed = _listing(base, now_ns).names
        sep = os.sep  # ids hold no separator (_safe_name): joined by hand, as os.path.join would
        names: list[tuple[str, int]] = []  # each record's folder name and how many files it lists
        files: list[tuple[str, bool]] = []  # each file's path and whether its folder lists it as regular
        for record_id in record_ids:
            name = _safe_name(str(record_id), "record id")
            if name in listed:
                folder = f"{base}{sep}{name}"
                held = _listing(folder, now_ns).files
                for file, regular in held:
                    files.append((f"{folder}{sep}{file}", regular))
                names.append((name, len(held)))
            else:
                names.append((name, 0))
        fetched = [_fetch(path, regular) for path, regular in files]
        parse = self._parsed
        parsed = [parse(path, found, now_ns) for (path, _regular), found in zip(files, fetched, strict=True)]
        extras = self._extra
        out: dict[str, list[SignedApproval]] = {}
        at = 0
        for name, count in names:
            if count == 1 and not extras:  # the usual folder: one file
                read = parsed[at]
                out[name] = [read[0]] if read is not None and read[1] == name else []
                at += 1
                continue
            found_here: dict[str, SignedApproval] = {}
            for read in parsed[at:at + count]:
                if read is not None and read[1] == name:
                    found_here[read[0].statement.approval_id] = read[0]
            at += count
            extra = extras.get(name)
            if extra:
                found_here.update(extra)
            out[name] = list(found_here.values())
        return out

    def approvals_for(self, record_id: UUID | str) -> list[SignedApproval]:
        """Every approval held for the record, from the cache and from loaded folders."""
        return next(iter(self.approvals_for_many([record_id]).values()))

    def record_ids(self) -> list[str]:
        base = self.root / APPROVALS_DIR
        ids = {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()
        return sorted(ids | set(self._extra))

    def all_approvals(self) -> list[SignedApproval]:
        return [a for rid in self.record_ids() for a in self.approvals_for(rid)]

    def load_folder(self, path: str | Path) -> list[SignedApproval]:
        """Add a folder of approval JSON files (``--approvals DIR``), searched recursively.

        ``keys.json`` (never trusted) and ``revocations.json`` (see :func:`revocations_in`) in it are not
        approvals. A file that is not a signed approval is bad input.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise ClearanceError(f"{folder}: --approvals expects a folder of approval JSON files")
        loaded = []
        for file in sorted(folder.rglob("*.json")):
            if file.name in (KEYS_FILE, REVOCATIONS_FILE):
                continue
            approval = parse_approval(load_json(file, what="a signed approval JSON file"), str(file))
            self._extra.setdefault(str(approval.statement.record_id), {})[approval.approval_id] = approval
            loaded.append(approval)
        return loaded

    def add_approvals(self, approvals: Iterable[SignedApproval]) -> int:
        count = 0
        for approval in approvals:
            self.add_approval(approval)
            count += 1
        return count

    # ------------------------------------------------------------------- keys

    @property
    def keys_path(self) -> Path:
        return self.root / KEYS_FILE

    def store_keys(self, document: dict[str, Any], fetched_at: datetime | None = None,
                   server: str | None = None) -> Path:
        """Write the pinned keys (see ``clearance.trust.pin_keys``, the only caller that decides what to pin)."""
        TrustedKeys.from_document(document, "server keys document")  # refuse to cache a malformed one
        body = {**document, "server": server, "fetched_at": (fetched_at or now_utc()).isoformat()}
        atomic_write(self.keys_path, json.dumps(body, indent=2) + "\n")
        return self.keys_path

    def keys_document(self) -> dict[str, Any] | None:
        """The pinned keys document as stored (None when nothing was pinned yet)."""
        if not self.keys_path.exists():
            return None
        from clearance.documents import load_document

        data = load_document(self.keys_path).data
        return data if isinstance(data, dict) else None

    def keys(self) -> TrustedKeys:
        """The keys pinned on first use (empty when never pulled). Trust them only if the policy says so."""
        if not self.keys_path.exists():
            return TrustedKeys()
        return TrustedKeys.from_file(self.keys_path)

    # ------------------------------------------------------------ revocations

    @property
    def revocations_path(self) -> Path:
        return self.root / REVOCATIONS_FILE

    def store_revocations(self, document: dict[str, Any], keys: TrustedKeys, server: str | None = None) -> bool:
        """Add a signed revocation list to the held ones. Refuses (ClearanceError) an unsigned or badly signed
        list; returns False when it was ignored because it is older than the newest held and adds nothing."""
        incoming = Revocations.from_document(document, keys=keys, source=f"revocation list from {server or 'input'}")
        held = [(doc, rev) for doc, rev in self._revocation_documents(keys) if rev is not None]
        newest = max((rev.generated_at for _doc, rev in held if rev.generated_at), default=None)
        known = set().union(*(rev.revoked for _doc, rev in held)) if held else set()
        if newest is not None and incoming.generated_at is not None and incoming.generated_at < newest \
                and set(incoming.revoked) <= known:
            return False
        kept = [(document, incoming)]
        # A list whose every revocation another kept list also holds, and which is not the newest, adds nothing.
        for doc, rev in sorted(held, key=lambda pair: pair[1].generated_at or datetime.min.replace(tzinfo=timezone.utc),
                               reverse=True):
            covered = set().union(*(r.revoked for _d, r in kept))
            if not set(rev.revoked) <= covered:
                kept.append((doc, rev))
        body = {"server": server, "documents": [doc for doc, _rev in kept]}
        atomic_write(self.revocations_path, json.dumps(body, indent=2) + "\n")
        return True

    def _revocation_documents(self, keys: TrustedKeys) -> list[tuple[dict[str, Any], Revocations | None]]:
        path = self.revocations_path
        if not path.exists() and not path.is_symlink():  # a dangling or looping link is a problem, not "none"
            return []
        try:
            wrapper = load_json(path, what="a revocation list")
        except ClearanceError as exc:
            self.problems.append(f"unreadable revocation list refused ({exc}); {REFRESH_HINT}")
            return []
        if isinstance(wrapper, dict) and isinstance(wrapper.get("documents"), list):
            documents = wrapper["documents"]
        elif isinstance(wrapper, dict) and "document" in wrapper:  # written by Clearance 0.1
            documents = [wrapper["document"]]
        else:
            documents = [wrapper]
        out: list[tuple[dict[str, Any], Revocations | None]] = []
        for index, document in enumerate(documents):
            where = str(path) if len(documents) == 1 else f"{path} (list {index + 1})"
            try:
                out.append((document, Revocations.from_document(document, keys=keys, source=where)))
            except ClearanceError as exc:
                self.problems.append(str(exc))
                out.append((document, None))
        return out

    def revocations(self, keys: TrustedKeys) -> Revocations | None:
        """The union of the held lists that a trusted key signed, or None when there is none.

        A list that is unsigned, badly signed or signed by an untrusted key is refused with a problem
        naming the file: it counts as no list at all (approvals are then unverified), never as a pass.
        """
        merged: Revocations | None = None
        for _document, revocations in self._revocation_documents(keys):
            if revocations is not None:
                merged = revocations if merged is None else merged.union(revocations)
        return merged

    # ------------------------------------------------------- the service's view

    def _facts_path(self, record_id: UUID | str) -> Path:
        return self.root / FACTS_DIR / f"{_safe_name(str(record_id), 'record id')}.json"

    def store_facts(self, record_id: UUID | str, facts: dict[str, Any]) -> None:
        """What the service said of a record (status, versions, requests, denials): unsigned, so it may only
        explain or tighten a standing (waiting since, denied by), never let anything out."""
        atomic_write(self._facts_path(record_id), json.dumps(facts, indent=2, default=str) + "\n")
        self._facts_held = True

    def facts(self, record_id: UUID | str) -> dict[str, Any] | None:
        if self._facts_held is None:  # one look at the folder, not one per record, when nothing was pulled
            self._facts_held = (self.root / FACTS_DIR).is_dir()
        if not self._facts_held:
            return None
        path = self._facts_path(record_id)
        if not path.exists() and not path.is_symlink():
            return None
        try:
            data = load_json(path, what="a record status")
        except ClearanceError as exc:
            self.problems.append(f"damaged record status skipped ({exc}); run `clearance approvals pull`")
            return None
        return data if isinstance(data, dict) else None


def revocations_in(folder: str | Path, keys: TrustedKeys) -> Revocations | None:
    """A revocations.json shipped in an ``--approvals`` folder: it must be signed by a trusted key.

    Refused with one line naming the file otherwise (a list anyone could drop there must not hide a
    revocation or make a stale cache look fresh).
    """
    path = Path(folder) / REVOCATIONS_FILE
    if not path.exists() and not path.is_symlink():
        return None
    cache = ApprovalCache(Path(folder))
    documents = cache._revocation_documents(keys)
    if cache.problems:
        raise ClearanceError(cache.problems[0])
    merged: Revocations | None = None
    for _document, revocations in documents:
        if revocations is not None:
            merged = revocations if merged is None else merged.union(revocations)
    return merged
