"""The Clearance panel's data: one row per tagged node, and what its buttons do. No Qt here, so the
panel's behaviour is testable (and usable from the Script Editor) without a UI."""

from __future__ import annotations

from clearance.hosts import nuke as host
from clearance.hosts.nuke import Row
from clearance.hosts.status import Judge
from clearance_nuke import actions, knobs

COLUMNS = ("Node", "Class", "Status", "Why", "Record", "Deliverable")


class PanelModel:
    def __init__(self) -> None:
        self._rows: list[Row] = []

    def reload(self, judge: Judge | None = None) -> list[Row]:
        """Re-read the script: every tagged node (groups included) with its current status."""
        judge = judge or Judge()
        rows = []
        patterns = host.exempt_patterns()
        for node in host.tagged_nodes():
            tag, result = knobs.judged(node, judge)
            if result is None:
                continue
            knobs.show_status(node, result)
            record_id = str(tag.record_id) if tag is not None else ""
            description = tag.record.description if tag is not None and tag.record is not None else ""
            rows.append(
                Row(
                    handle=node.fullName(),
                    node_class=node.Class(),
                    status=result.status,
                    label=result.label,
                    reason=result.reason,
                    record_id=record_id,
                    deliverable=host.is_deliverable(node, patterns),
                    description=description,
                )
            )
        order = {"invalid": 0, "prohibited": 1, "denied": 2, "approval_required": 3, "approved": 4, "notify": 5}
        rows.sort(key=lambda r: (order.get(r.status, 9), r.handle))
        self._rows = rows
        return rows

    def untagged_ai(self) -> list[str]:
        """Generative nodes nobody tagged (policy hosts.ai_node_classes), by full name."""
        from clearance.hosts.status import current_policy

        return [n.fullName() for n in host.untagged_ai_nodes(current_policy().hosts.ai_node_classes)]

    def tag_untagged_ai(self) -> int:
        """The panel's "Tag untagged AI nodes": give each one a tag to fill in on its GenAI tab."""
        count = actions.tag_untagged_ai_nodes()
        self.reload()
        return count

    def rows(self) -> list[Row]:
        return list(self._rows)

    def cells(self, row: Row) -> tuple[str, ...]:
        short = row.record_id[:8] if row.record_id else ""
        return (row.handle, row.node_class, row.label, row.reason, short, "yes" if row.deliverable else "")

    def blocking(self) -> list[Row]:
        return [r for r in self._rows if r.status in ("invalid", "prohibited", "denied", "approval_required")]

    def select(self, handles: list[str]) -> None:
        """Select the nodes in the node graph and zoom to the first."""
        host.select(handles)

    def submit(self, handles: list[str] | None = None) -> int:
        nodes = None if handles is None else [n for n in (host.to_node(h) for h in handles) if n is not None]
        count = actions.submit_nodes(nodes)
        self.reload()
        return count

    def refresh_approvals(self) -> int:
        count = actions.refresh_approvals()
        self.reload()
        return count
