"""Fake ``nukescripts.panels``: ``registerWidgetAsPanel(widget, name, id, create=False)``.

Foundry's reference (nukescripts.panels.registerWidgetAsPanel, Python Dev Guide 13-17): "widget - should
be a string of the class for the widget; name - the name as it will appear on the Pane menu; id - the
unique ID for this widget panel; create - if this is set to true a new NukePanel will be returned that wraps
this widget". Its published source builds a ``PyCustom_Knob`` whose command is the text
``"__import__('nukescripts').panels.WidgetKnob(" + widget + ")"``; Nuke evaluates that text in its
``__main__`` namespace when the panel is shown, and ``WidgetKnob`` instantiates what it evaluated to. So a
widget string naming a module that ``__main__`` never imported fails with NameError when the panel opens;
the fake evaluates it the same way (``nuke.main_namespace``).
"""

from __future__ import annotations

from typing import Any

import nuke

_panels: dict[str, Any] = {}


def registerPanel(id: str, command: Any) -> None:
    _panels[id] = command


def unregisterPanel(id: str, command: Any = None) -> None:
    _panels.pop(id, None)


def restorePanel(id: str) -> Any:
    """As Nuke's: calls the registered command; an unknown id prints and returns None."""
    command = _panels.get(id)
    if command is None:
        print("Can't restore panel '", id, "' because it hasn't been registered.")
        return None
    return command()


class WidgetKnob:
    """What the PyCustom_Knob's command evaluates to: builds the widget (makeUI) from the class it was given."""

    def __init__(self, widget_class: Any) -> None:
        self.widget_class = widget_class

    def makeUI(self) -> Any:
        return self.widget_class()


class PythonPanel:
    """What ``create=True`` returns: ``addToPane(pane)`` docks it; the widget is built then, as in Nuke."""

    def __init__(self, widget: str, name: str, id: str) -> None:
        self.widget_name, self.name, self.id = widget, name, id
        self.command = "__import__('nukescripts').panels.WidgetKnob(" + widget + ")"
        self.widget: Any = None

    def addToPane(self, pane: Any = None) -> PythonPanel:
        knob = eval(self.command, nuke.main_namespace())
        self.widget = knob.makeUI()
        if pane is not None:
            pane.panels.append(self)
        return self


def registerWidgetAsPanel(widget: str, name: str, id: str, create: bool = False) -> Any:
    if not isinstance(widget, str):
        raise TypeError("registerWidgetAsPanel: widget must be the class name as a string")

    def add_panel() -> PythonPanel:
        return PythonPanel(widget, name, id).addToPane(nuke.getPaneFor("Properties.1"))

    nuke.menu("Pane").addCommand(name, add_panel)
    registerPanel(id, add_panel)
    return PythonPanel(widget, name, id) if create else None
