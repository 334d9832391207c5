"""The local approval cache: approvals, keys and the revocation list pulled from the server.

Validators and hosts read it offline. Layout under ``clearance.paths.cache_dir()``::

    approvals/<record_id>/<approval_id>.json   one signed approval each, verbatim
    keys.json                                  the GET /api/v1/keys document (+ fetched_at)
    revocations.json                           {"fetched_at", "server", "document": GET /api/v1/revocations}

Every write goes to a temporary file first and is moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from clearance.approvals import Revocations, SignedApproval, TrustedKeys, now_utc, parse_approval
from clearance.documents import load_json
from clearance.errors import ClearanceError
from clearance.paths import cache_dir

KEYS_FILE = "keys.json"
REVOCATIONS_FILE = "revocations.json"
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


def _safe_name(value: str, what: str) -> str:
    # Ids become file names: refuse anything that could climb out of the cache folder.
    if not value or value in {".", ".."} or any(c in value for c in "/\\\0:") or len(value) > 200:
        raise ClearanceError(f"{what} {value!r} cannot be used as a file name in the approval cache")
    return value


class ApprovalCache:
    """Approvals by record, trusted keys and revocations, on disk; plus folders given with ``--approvals``."""

    def __init__(self, dir: str | Path | None = None) -> None:  # noqa: A002 - the brief's name
        self.root = Path(dir) if dir is not None else cache_dir()
        self.problems: list[str] = []
        self._extra: dict[str, dict[str, SignedApproval]] = {}
        self._parsed: dict[Path, tuple[int, SignedApproval]] = {}

    # ---------------------------------------------------------------- approvals

    def _record_dir(self, record_id: UUID | str) -> Path:
        return self.root / APPROVALS_DIR / _safe_name(str(record_id), "record id")

    def add_approval(self, approval: SignedApproval) -> Path:
        """Store one approval (replacing an earlier copy of the same approval id)."""
        folder = self._record_dir(approval.statement.record_id)
        path = folder / f"{_safe_name(approval.approval_id, 'approval id')}.json"
        atomic_write(path, approval.to_json())
        return path

    def _read_approval(self, path: Path) -> SignedApproval | None:
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._parsed.get(path)
        if cached and cached[0] == mtime:
            return cached[1]  # the same parsed object keeps its checked-signature memo
        try:
            approval = parse_approval(load_json(path, what="a signed approval"), str(path))
        except ClearanceError as exc:
            self.problems.append(f"{path}: damaged approval file skipped ({exc}); run `clearance approvals pull`")
            return None
        self._parsed[path] = (mtime, approval)
        return approval

    def approvals_for(self, record_id: UUID | str) -> list[SignedApproval]:
        """Every approval held for the record, from the cache and from loaded folders."""
        found: dict[str, SignedApproval] = {}
        folder = self._record_dir(record_id)
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                approval = self._read_approval(path)
                if approval is not None and str(approval.statement.record_id) == str(record_id):
                    found[approval.approval_id] = approval
        found.update(self._extra.get(str(record_id), {}))
        return list(found.values())

    def record_ids(self) -> list[str]:
        base = self.root / APPROVALS_DIR
        ids = {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()
        return sorted(ids | set(self._extra))

    def all_approvals(self) -> list[SignedApproval]:
        return [a for rid in self.record_ids() for a in self.approvals_for(rid)]

    def load_folder(self, path: str | Path) -> list[SignedApproval]:
        """Add a folder of approval JSON files (``--approvals DIR``), searched recursively.

        ``keys.json`` and ``revocations.json`` in it are not approvals and are left to
        :meth:`keys_in` / :meth:`revocations_in`. A file that is not a signed approval is bad input.
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

    def store_keys(self, document: dict[str, Any], fetched_at: datetime | None = None) -> Path:
        TrustedKeys.from_document(document, "server keys document")  # refuse to cache a malformed one
        body = {**document, "fetched_at": (fetched_at or now_utc()).isoformat()}
        atomic_write(self.keys_path, json.dumps(body, indent=2) + "\n")
        return self.keys_path

    def keys(self) -> TrustedKeys:
        """The keys pulled from the server (empty when never pulled). Trust them only if the policy says so."""
        if not self.keys_path.exists():
            return TrustedKeys()
        return TrustedKeys.from_file(self.keys_path)

    # ------------------------------------------------------------ revocations

    @property
    def revocations_path(self) -> Path:
        return self.root / REVOCATIONS_FILE

    def store_revocations(
        self, document: dict[str, Any], fetched_at: datetime | None = None, server: str | None = None
    ) -> Path:
        Revocations.from_document(document, source="server revocation list")
        body = {"fetched_at": (fetched_at or now_utc()).isoformat(), "server": server, "document": document}
        atomic_write(self.revocations_path, json.dumps(body, indent=2) + "\n")
        return self.revocations_path

    def revocations(self, keys: TrustedKeys | None = None) -> Revocations | None:
        """The cached list, or None when none was pulled (verification then refuses).

        With ``keys``, a signed list must carry a valid signature: a damaged or edited cache counts as
        no list at all (and a problem is noted).
        """
        return _read_revocations(self.revocations_path, keys, self.problems)

    def fetched_at(self) -> datetime | None:
        rev = self.revocations()
        return rev.fetched_at if rev else None


def _read_revocations(path: Path, keys: TrustedKeys | None, problems: list[str]) -> Revocations | None:
    if not path.exists() and not path.is_symlink():  # a dangling or looping link is a problem, not "none"
        return None
    try:
        wrapper = load_json(path, what="a revocation list")
        if isinstance(wrapper, dict) and "document" in wrapper:
            document, fetched = wrapper["document"], wrapper.get("fetched_at")
        else:  # a bare GET /api/v1/revocations body, e.g. saved by hand next to --approvals files
            document, fetched = wrapper, None
        if isinstance(fetched, str):
            fetched_at = datetime.fromisoformat(fetched.replace("Z", "+00:00"))
        elif isinstance(document, dict) and document.get("generated_at"):
            fetched_at = None  # from_document falls back to the list's own generated_at
        else:  # no time stamp at all: the file's age is the best evidence, never "now"
            fetched_at = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        return Revocations.from_document(document, fetched_at=fetched_at, keys=keys, source=str(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, ClearanceError) as exc:
        problems.append(f"{path}: unusable revocation list ({exc}); run `clearance approvals pull`")
        return None


def revocations_in(folder: str | Path, keys: TrustedKeys | None = None) -> Revocations | None:
    """A revocations.json shipped in an ``--approvals`` folder, if there is one."""
    problems: list[str] = []
    found = _read_revocations(Path(folder) / REVOCATIONS_FILE, keys, problems)
    if problems:
        raise ClearanceError(problems[0])
    return found


def keys_in(folder: str | Path) -> TrustedKeys:
    """A keys.json shipped in an ``--approvals`` folder (empty when there is none)."""
    path = Path(folder) / KEYS_FILE
    return TrustedKeys.from_file(path) if path.exists() else TrustedKeys()


class KeyTrust:
    """The approver keys a check may trust, and a warning when they were not pinned by the policy."""

    def __init__(self, keys: TrustedKeys, warning: str | None = None) -> None:
        self.keys = keys
        self.warning = warning


def trusted_keys(policy: Any, cache: ApprovalCache | None = None) -> KeyTrust:
    """Which approver keys count, the same for publish, hosts, `clearance check` and `approvals verify`.

    Keys the policy pins (``approvals.trusted_keys``, ``approvals.keys_file``) are the studio's trust
    anchor: when there are any, nothing else is trusted. A policy that pins none falls back to the keys
    `clearance approvals pull` fetched from the service (``approvals.trust_pulled_keys``, on by default), so
    a fresh machine can check approvals offline; every check then says so. A keys file found in an
    approvals folder is never trusted: anyone could have put it there.
    """
    settings = policy.approvals
    pinned = TrustedKeys.from_policy(policy)
    if len(pinned) or settings.keys_file or not settings.trust_pulled_keys:
        return KeyTrust(pinned)
    cache = cache or ApprovalCache()
    pulled = cache.keys()
    if not len(pulled):
        return KeyTrust(pinned)
    return KeyTrust(
        pulled,
        f"approver keys are trusted from the local cache ({cache.keys_path}), as pulled from the service; "
        "pin them in the studio policy (approvals.trusted_keys) so nobody can swap them",
    )
