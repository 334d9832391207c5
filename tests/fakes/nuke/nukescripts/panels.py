"""Fake ``nukescripts.panels``: ``registerWidgetAsPanel(widget, name, id, create=False)``.

Foundry: "widget - should be a string of the class for the widget; name - the name as it will appear
on the Pane menu; id - the unique ID for this widget panel; create - if True a new panel wrapping the
widget is returned". The fake records the registration and adds the Pane menu entry, as Nuke does.
"""

from __future__ import annotations

from typing import Any

import nuke

registered: dict[str, tuple[str, str]] = {}


def registerWidgetAsPanel(widget: str, name: str, id: str, create: bool = False) -> Any:  # noqa: N802, A002
    if not isinstance(widget, str):
        raise TypeError("registerWidgetAsPanel: widget must be the class name as a string")
    registered[id] = (widget, name)
    nuke.menu("Pane").addCommand(name, f"nukescripts.panels.restorePanel({id!r})")
    return PythonPanel(widget, name, id) if create else None


class PythonPanel:
    """What ``create=True`` returns: ``addToPane(pane)`` docks the widget (built then, as in Nuke)."""

    def __init__(self, widget: str, name: str, id: str) -> None:  # noqa: A002
        self.widget_name, self.name, self.id = widget, name, id
        self.widget: Any = None

    def addToPane(self, pane: Any = None) -> None:  # noqa: N802
        self.widget = restorePanel(self.id)
        if pane is not None:
            pane.panels.append(self)


def restorePanel(id: str) -> Any:  # noqa: N802, A002
    widget, _ = registered[id]
    module_name, _, class_name = widget.rpartition(".")
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)()
