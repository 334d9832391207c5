"""The dockable Clearance panel as a real Qt widget (PySide6, offscreen), over the fake ``nuke``.

Skipped when PySide6 is not installed (it is in the dev extra); the panel's behaviour without Qt is
covered by the PanelModel tests in test_nuke_plugin.py.
"""

from __future__ import annotations

import os
from typing import Any

import nuke_fixtures
import pytest
from nuke_fixtures import final_record, ideation_record

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")

fake_nuke = nuke_fixtures.fake_nuke
gui_nuke = nuke_fixtures.gui_nuke
approver = nuke_fixtures.approver


@pytest.fixture(scope="module")
def qt_app() -> Any:
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def test_panel_widget_lists_selects_and_refreshes(qt_app: Any, gui_nuke: Any, approver: Any) -> None:
    from clearance_nuke import knobs
    from clearance_nuke.panel import ClearancePanel

    from clearance.hosts import nuke as host

    a = gui_nuke.nodes.Read(file="/plates/a.exr")
    b = gui_nuke.nodes.Read(file="/plates/b.exr")
    knobs.tag_node(a, final_record())
    knobs.tag_node(b, ideation_record())
    panel = ClearancePanel()
    assert panel.table.rowCount() == 2
    assert [panel.table.item(r, 0).text() for r in range(2)] == ["Read1", "Read2"]
    assert panel.table.item(0, 2).text() == "Needs approval"
    assert panel.summary.text() == "2 tagged node(s); 1 blocking"
    panel.table.selectRow(1)
    panel.select_nodes()
    assert b.isSelected() and not a.isSelected()
    approver.approve(host.read_tag(a).record)
    panel.reload()
    assert panel.table.item(0, 2).text() == "Approved" or panel.table.item(1, 2).text() == "Approved"
    assert panel.summary.text() == "2 tagged node(s); 0 blocking"


def test_show_panel_menu_docks_the_widget(qt_app: Any, gui_nuke: Any) -> None:
    gui_nuke.menu("Nuke").findItem("Clearance/Show panel").invoke()
    pane = gui_nuke.getPaneFor("Properties.1")
    assert len(pane.panels) == 1 and type(pane.panels[0].widget).__name__ == "ClearancePanel"


def test_panel_offers_tag_on_untagged_generative_nodes(qt_app: Any, gui_nuke: Any) -> None:
    from clearance_nuke.panel import ClearancePanel

    from clearance.hosts import nuke as host

    cat = gui_nuke.nodes.CopyCat()
    panel = ClearancePanel()
    assert "1 untagged generative node(s): CopyCat1" in panel.summary.text()
    panel.tag_untagged_ai()
    assert host.is_tagged(cat) and "untagged generative" not in panel.summary.text()
    assert panel.table.rowCount() == 1
