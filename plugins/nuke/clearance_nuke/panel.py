"""The dockable Clearance panel (Pane > Clearance): every tagged node with its status.

Qt comes from Nuke: PySide6 in Nuke 16+, PySide2 before. The panel is a thin view of PanelModel.
"""

from __future__ import annotations

from typing import Any

try:
    from PySide6 import QtGui, QtWidgets
except ImportError:  # Nuke 13-15 ship PySide2
    from PySide2 import QtGui, QtWidgets  # type: ignore[no-redef]

from clearance.tags import STATUS_RGB
from clearance_nuke.panel_model import COLUMNS, PanelModel


class ClearancePanel(QtWidgets.QWidget):
    """Registered with nukescripts.panels.registerWidgetAsPanel under the id ``clearance.panel``."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = PanelModel()
        layout = QtWidgets.QVBoxLayout(self)
        self.summary = QtWidgets.QLabel("")
        layout.addWidget(self.summary)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemDoubleClicked.connect(lambda _item: self.select_nodes())
        layout.addWidget(self.table)
        buttons = QtWidgets.QHBoxLayout()
        for label, slot in (
            ("Select && zoom", self.select_nodes),
            ("Submit", self.submit),
            ("Refresh approvals", self.refresh_approvals),
            ("Tag untagged AI", self.tag_untagged_ai),
            ("Reload", self.reload),
        ):
            button = QtWidgets.QPushButton(label)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.reload()

    def selected_handles(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.table.item(r, 0).text() for r in rows]

    def reload(self) -> None:
        rows = self.model.reload()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            colour = QtGui.QColor.fromRgbF(*STATUS_RGB.get(row.status, (0.5, 0.5, 0.5)))
            for c, text in enumerate(self.model.cells(row)):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(row.reason if c == 3 else text)
                if c == 2:
                    item.setForeground(QtGui.QBrush(colour))
                self.table.setItem(r, c, item)
        blocking = len(self.model.blocking())
        untagged = self.model.untagged_ai()
        text = f"{len(rows)} tagged node(s); {blocking} blocking" if rows else "No tagged node in this script."
        if untagged:
            text += f" {len(untagged)} untagged generative node(s): {', '.join(untagged[:3])} (Tag untagged AI)"
        self.summary.setText(text)

    def select_nodes(self) -> None:
        self.model.select(self.selected_handles())

    def submit(self) -> None:
        self.model.submit(self.selected_handles() or None)
        self.reload()

    def tag_untagged_ai(self) -> None:
        self.model.tag_untagged_ai()
        self.reload()

    def refresh_approvals(self) -> None:
        self.model.refresh_approvals()
        self.reload()
