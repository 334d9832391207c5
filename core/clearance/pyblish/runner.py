"""A standalone publish of a publish manifest through real Pyblish (what `clearance publish` runs).

Plugins are discovered the normal way: PYBLISHPLUGINPATH plus the Clearance folder ``register`` adds,
so a studio's own plugins on the path take part too.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyblish.api
import pyblish.util

from clearance.errors import ClearanceError
from clearance.pyblish import catalog, discovery, register, settings
from clearance.pyblish.checks import ItemFailure
from clearance.pyblish.manifest import LoadedManifest, load_manifest
from clearance.pyblish.plugin import WARNINGS_KEY, ClearanceValidationError
from clearance.pyblish.publishing import WRITTEN_KEY


@dataclass
class Failure:
    validator_id: str
    title: str
    how_to_fix: str
    items: list[ItemFailure] = field(default_factory=list)
    detail: str = ""


@dataclass
class PublishReport:
    manifest: LoadedManifest
    failures: list[Failure] = field(default_factory=list)
    warnings: list[tuple[str, ItemFailure]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    disclosure_path: Path | None = None
    queued: int = 0
    item_count: int = 0
    record_ids: list[str] = field(default_factory=list)
    context: Any = None
    checked_only: bool = False
    standings: list[tuple[str, Any]] = field(default_factory=list)  # (item name, clearance.standing.Standing)

    def approvals_used(self) -> list[tuple[Any, list[str]]]:
        """Each approval the publish relied on, once, with the items it covered (conditions travel with it)."""
        grouped: dict[str, tuple[Any, list[str]]] = {}
        for name, standing in self.standings:
            if standing.verdict == "approved" and standing.approval_id:
                grouped.setdefault(standing.approval_id, (standing, []))[1].append(name)
        return list(grouped.values())

    @property
    def passed(self) -> bool:
        return not self.failures and not self.errors

    @property
    def published(self) -> bool:
        return self.passed and self.disclosure_path is not None


@contextlib.contextmanager
def _quiet_pyblish() -> Any:
    """Pyblish prints each error and logs tracebacks; the report says it once, in the user's words."""
    logger = logging.getLogger("pyblish")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.removeHandler(handler)


def publish_manifest(
    manifest_path: str | Path,
    *,
    approvals_dir: str | Path | None = None,
    policy_paths: list[str] | None = None,
    host: str = "standalone",
    check_only: bool = False,
    offline: bool = False,
) -> PublishReport:
    """Publish a manifest. Raises ClearanceError for bad input (manifest, records, policy, approvals folder).

    ``check_only`` runs collection and validation only: nothing is queued, copied or written.
    """
    from clearance.policy import load_policy

    policy = load_policy(list(policy_paths) if policy_paths else None)
    settings.check_policy(policy)
    manifest = load_manifest(manifest_path)
    if approvals_dir is not None and not Path(approvals_dir).is_dir():
        raise ClearanceError(f"{approvals_dir}: --approvals expects a folder of signed approval JSON files")
    if approvals_dir is not None:
        from clearance.trust import load_trust

        load_trust(policy, approvals_dir=Path(approvals_dir))  # bad input (an unsigned list, a broken file): exit 2
    settings.use_policy(policy)
    register(host)
    report = PublishReport(manifest=manifest)
    problems = discovery.check()
    if problems:
        report.failures.append(Failure(catalog.SETUP.id, catalog.SETUP.title, catalog.SETUP.how_to_fix,
                                       detail="\n".join(f"  - {p}" for p in problems)))
        return report
    context = pyblish.api.Context()
    context.data["clearance_manifest"] = manifest
    context.data["clearance_policy"] = policy
    if approvals_dir is not None:
        context.data["clearance_approvals_dir"] = str(approvals_dir)
    context.data["clearance_offline"] = offline
    plugins = None
    if check_only:
        plugins = [p for p in pyblish.api.discover() if p.order < pyblish.api.ExtractorOrder - 0.5]
    with _quiet_pyblish():
        pyblish.util.publish(context, plugins=plugins)
    report.checked_only = check_only
    return _report(report, context)


def _report(report: PublishReport, context: Any) -> PublishReport:
    report.context = context
    setup_failed = False
    for result in context.data.get("results", []):
        error = result.get("error")
        if error is None:
            continue
        if isinstance(error, ClearanceValidationError):
            setup_failed = setup_failed or error.validator_id == catalog.SETUP.id
            report.failures.append(Failure(error.validator_id, error.title, error.how_to_fix, error.failures,
                                           error.detail))
        else:
            plugin = result.get("plugin")
            name = getattr(plugin, "label", None) or getattr(plugin, "__name__", "a plugin")
            order = getattr(plugin, "order", 0)
            report.errors.append(f"{name}: {error}" if order >= pyblish.api.ValidatorOrder - 0.5 else
                                 f"{name} (collecting): {error}")
    if setup_failed:  # the set-up failure already names collection errors; do not say them twice
        report.errors = [e for e in report.errors if "(collecting)" not in e]
    for vid, found in (context.data.get(WARNINGS_KEY) or {}).items():
        title = catalog.VALIDATORS[vid].title if vid in catalog.VALIDATORS else vid
        report.warnings += [(title, w) for w in found]
    if context.data.get("clearance_key_trust_warning"):
        report.notes.append(context.data["clearance_key_trust_warning"])
    report.written = [Path(p) for p in context.data.get(WRITTEN_KEY, [])]
    path = context.data.get("clearance_manifest_path")
    report.disclosure_path = Path(path) if path else None
    report.queued = int(context.data.get("clearance_queued") or 0)
    report.item_count = len(context.data.get("clearance_checks") or [])
    report.standings = [(c.name, c.standing) for c in context.data.get("clearance_checks") or []
                        if getattr(c, "standing", None) is not None]
    report.record_ids = list(context.data.get("clearance_record_ids") or [])
    return report
