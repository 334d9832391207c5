"""Base classes for the Clearance pyblish plugins, and the error a failed check raises.

Plugin files must import this module, not its classes (``from clearance.pyblish import plugin``):
pyblish registers every Plugin subclass it finds in a plugin file's namespace, base classes included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyblish.api

from clearance.gc_pause import paused_collector
from clearance.pyblish import catalog, checks, settings
from clearance.pyblish.catalog import ValidatorInfo
from clearance.pyblish.checks import ItemFailure
from clearance.pyblish.collect import checks_of

FAILURES_KEY = "clearance_failures"
WARNINGS_KEY = "clearance_warnings"
LOGGED_ONE_BY_ONE = 100
"""Warnings logged as a record each; the rest of a large publish's warnings go into one record."""


class ClearanceValidationError(Exception):
    """A failed Clearance check: title, plain description, how to fix, and every offending item.

    Shaped like AYON's PublishValidationError (message, title, description) so publish UIs that know
    that shape show it well; ``str()`` is the full text for plain Pyblish and logs.
    """

    def __init__(self, info: ValidatorInfo, failures: list[ItemFailure] | None = None, detail: str = "") -> None:
        self.info = info
        self.validator_id = info.id
        self.title = info.title
        self.description = info.description
        self.how_to_fix = info.how_to_fix
        self.failures = list(failures or [])
        self.detail = detail
        lines = [f"{info.title}: {len(self.failures)} item(s)" if self.failures else info.title]
        lines += [f"  - {f.name}: {f.message}" for f in self.failures]
        if detail:
            lines.append(detail)
        lines.append(f"How to fix: {info.how_to_fix}")
        super().__init__("\n".join(lines))


def record_failures(context: Any, validator_id: str, failures: list[ItemFailure]) -> None:
    """Remember which items failed which check: the Select action selects exactly these."""
    context.data.setdefault(FAILURES_KEY, {})[validator_id] = failures
    by_name = {f.name: f for f in failures}
    for check in context.data.get("clearance_checks", []):
        failure = by_name.get(check.name)
        if failure is not None:
            check.failures.append(f"{validator_id}: {failure.message}")
            check.instance.data.setdefault(FAILURES_KEY, []).append(
                {"validator": validator_id, "message": failure.message})


class ClearanceValidator(pyblish.api.ContextPlugin):
    """A host-neutral Clearance check over every collected GenAI item.

    Subclasses set ``validator_id`` (a key of ``catalog.VALIDATORS``); label, description and the TD
    switches (enabled / optional / active from ``policy.publish.validators``) are filled in when the
    class is created, which is when Pyblish discovers the plugin file.
    """

    order = pyblish.api.ValidatorOrder
    hosts = ["*"]
    validator_id: str = ""
    enabled = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        info = catalog.VALIDATORS.get(cls.validator_id)
        if info is None:
            return
        cls.label = info.title if cls.label is None else cls.label
        cls.__doc__ = f"{info.description}\n\nHow to fix: {info.how_to_fix}"
        settings.apply_to_class(cls)

    @property
    def info(self) -> ValidatorInfo:
        return catalog.VALIDATORS[self.validator_id]

    def process(self, context: Any) -> None:
        policy = settings.context_policy(context)
        setting = settings.setting_for(policy, self.validator_id)
        if not setting.enabled:
            self.log.info("switched off by the policy (publish.validators.%s.enabled)", self.validator_id)
            return
        items = checks_of(context)
        if "*" not in setting.families:
            items = [c for c in items if settings.families_match(setting, c.families)]
        with paused_collector():
            outcome = checks.CHECKS[self.validator_id](context, items, setting)
        for note in outcome.notes:
            self.log.info(note)
        if outcome.warnings:
            context.data.setdefault(WARNINGS_KEY, {})[self.validator_id] = outcome.warnings
            for warning in outcome.warnings[:LOGGED_ONE_BY_ONE]:
                self.log.warning("%s: %s", warning.name, warning.message)
            rest = outcome.warnings[LOGGED_ONE_BY_ONE:]
            if rest:  # every warning is logged; past the first ones, in one record (a record costs ~30 us)
                self.log.warning("%d more warning(s):\n%s", len(rest),
                                 "\n".join(f"  - {w.name}: {w.message}" for w in rest))
        if outcome.failures:
            record_failures(context, self.validator_id, outcome.failures)
            for failure in outcome.failures:
                self.log.error("%s: %s", failure.name, failure.message)
            raise ClearanceValidationError(self.info, outcome.failures)
        self.log.info("%d item(s) checked", len(items))


def _from_clearance_folder(plugin: Any) -> bool:
    from clearance.pyblish import discovery

    module = getattr(plugin, "__module__", "")
    if not isinstance(module, str) or not module.endswith(".py"):
        return False
    folders = {discovery._real(p) for p in discovery.clearance_paths()}
    return discovery._real(Path(module).parent) in folders


def setup_problems(context: Any) -> list[str]:
    """Why this publish cannot be checked completely: plugin files, policy settings, collection."""
    from clearance.errors import ClearanceError
    from clearance.pyblish import discovery

    problems = list(settings.discovery_time_problems())
    try:
        problems += settings.policy_problems(settings.context_policy(context))
    except ClearanceError as exc:
        problems.append(f"policy: {exc}")
    problems += [str(p) for p in discovery.check()]
    for result in context.data.get("results", []):
        plugin = result.get("plugin")
        collecting = plugin is not None and plugin.order < pyblish.api.ValidatorOrder - 0.5
        if result.get("error") is not None and collecting and _from_clearance_folder(plugin):
            problems.append(f"collecting failed in {plugin.label or plugin.__name__}: {result['error']}")
    if "clearance_checks" not in context.data and not any("collecting failed" in p for p in problems):
        problems.append("the GenAI items were not collected: collect_clearance_items.py did not run "
                        "(check PYBLISHPLUGINPATH or call clearance.pyblish.register(host))")
    return problems


class ClearanceSetupValidator(pyblish.api.ContextPlugin):
    """Stops the publish when Clearance cannot check it completely (see catalog.SETUP)."""

    order = pyblish.api.ValidatorOrder - 0.5
    hosts = ["*"]
    validator_id = catalog.SETUP.id
    label = "Clearance publish set-up"

    def process(self, context: Any) -> None:
        problems = setup_problems(context)
        if problems:
            for problem in problems:
                self.log.error(problem)
            raise ClearanceValidationError(catalog.SETUP, detail="\n".join(f"  - {p}" for p in problems))
        context.data["clearance_setup_ok"] = True
