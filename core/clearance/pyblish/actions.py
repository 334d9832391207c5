"""Actions on failed Clearance checks: select the offending items, request approval, open the record page,
queue the disclosure. Each acts on exactly the items the check named (``context.data["clearance_failures"]``).
"""

from __future__ import annotations

from typing import Any

import pyblish.api

from clearance.items import select_in_host
from clearance.pyblish.collect import ItemCheck
from clearance.pyblish.plugin import FAILURES_KEY
from clearance.record import UseRecord

MAX_PAGES = 10
"""Open at most this many browser tabs at once."""


def failed_checks(context: Any, plugin: Any) -> list[ItemCheck]:
    """The collected items the plugin's last run named as failed, in order."""
    failures = context.data.get(FAILURES_KEY, {}).get(getattr(plugin, "validator_id", ""), [])
    names = {f.name for f in failures}
    return [c for c in context.data.get("clearance_checks", []) if c.name in names]


def failed_records(context: Any, plugin: Any) -> list[UseRecord]:
    records: dict[str, UseRecord] = {}
    for check in failed_checks(context, plugin):
        if check.record is not None:
            records.setdefault(str(check.record.id), check.record)
    return list(records.values())


class SelectItems(pyblish.api.Action):
    """Select the offending nodes, objects or clips in the host."""

    label = "Select items"
    on = "failed"
    icon = "search"

    def process(self, context: Any, plugin: Any) -> None:
        by_host: dict[str, list[str]] = {}
        for check in failed_checks(context, plugin):
            by_host.setdefault(check.item.host, []).append(check.item.handle)
        context.data["clearance_selected"] = by_host
        for host, handles in by_host.items():
            if select_in_host(host, handles):
                self.log.info("selected %d item(s) in %s", len(handles), host)
            else:
                self.log.info("%s cannot select items here; the items are: %s", host, ", ".join(handles))


class RequestApproval(pyblish.api.Action):
    """Submit the records and ask the studio's approver to decide; prints where to follow each one."""

    label = "Request approval"
    on = "failed"
    icon = "envelope"

    def process(self, context: Any, plugin: Any) -> None:
        from clearance.client import DisclosureClient

        with DisclosureClient() as client:
            for record in failed_records(context, plugin):
                client.request_approval(record)
                url = client.record_url(record.id)
                context.data.setdefault("clearance_requested", []).append(url)
                self.log.info("approval requested for record %s: follow it at %s", record.id, url)
                print(f"approval requested for record {record.id}: {url}")


class OpenRecordPage(pyblish.api.Action):
    """Open the records' pages on the disclosure service in the web browser."""

    label = "Open record page"
    on = "failed"
    icon = "external-link"

    def process(self, context: Any, plugin: Any) -> None:
        import webbrowser  # here, not at import: Pyblish discovers this module on every validate

        from clearance.client import DisclosureClient

        with DisclosureClient() as client:
            records = failed_records(context, plugin)
            for record in records[:MAX_PAGES]:
                url = client.record_url(record.id)
                self.log.info("opening %s", url)
                webbrowser.open(url)
            if len(records) > MAX_PAGES:
                self.log.info("%d more records not opened; see `clearance status`", len(records) - MAX_PAGES)


class QueueDisclosure(pyblish.api.Action):
    """Repair: put the undisclosed records in the outbox now (they are sent by `clearance sync`)."""

    label = "Repair: queue disclosure"
    on = "failed"
    icon = "wrench"

    def process(self, context: Any, plugin: Any) -> None:
        from clearance.outbox import Outbox

        with Outbox() as outbox:
            for record in failed_records(context, plugin):
                _, added = outbox.add(record)
                self.log.info("record %s %s the outbox", record.id, "queued in" if added else "was already in")
