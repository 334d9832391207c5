"""A publish with many warnings logs every one of them: the first ones a record each, the rest in one record.

(A log record costs tens of microseconds in Pyblish; 10,000 of them were a tenth of a large publish.)
"""

from __future__ import annotations

import logging
from typing import Any

import pyblish.api
import pytest

from clearance.policy import load_policy
from clearance.pyblish import checks, plugin
from clearance.pyblish.checks import CheckOutcome, ItemFailure
from clearance.pyblish.collect import CHECKS_KEY


class _Warns(plugin.ClearanceValidator):
    validator_id = "clearance.tool_registered"


@pytest.mark.parametrize("count", [3, plugin.LOGGED_ONE_BY_ONE, plugin.LOGGED_ONE_BY_ONE + 250])
def test_every_warning_is_logged(count: int, monkeypatch: pytest.MonkeyPatch,
                                 caplog: pytest.LogCaptureFixture) -> None:
    warnings = [ItemFailure(f"item{i:04d}", "standalone", f"item{i:04d}", f"tool T{i} is not registered")
                for i in range(count)]

    def check(context: Any, items: Any, setting: Any) -> CheckOutcome:
        return CheckOutcome(warnings=list(warnings))

    monkeypatch.setitem(checks.CHECKS, "clearance.tool_registered", check)
    context = pyblish.api.Context()
    context.data["clearance_policy"] = load_policy([])
    context.data[CHECKS_KEY] = []
    validator = _Warns()
    with caplog.at_level(logging.WARNING):
        validator.process(context)
    records = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(records) == min(count, plugin.LOGGED_ONE_BY_ONE) + (count > plugin.LOGGED_ONE_BY_ONE)
    text = "\n".join(r.getMessage() for r in records)
    for warning in warnings:
        assert f"{warning.name}: {warning.message}" in text
    assert context.data[plugin.WARNINGS_KEY]["clearance.tool_registered"] == warnings
