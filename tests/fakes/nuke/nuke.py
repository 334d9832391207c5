"""A faithful fake of Foundry's ``nuke`` module: exactly the calls the Clearance plugin makes.

Written from Foundry's Nuke Python API reference (learn.foundry.com/nuke/developers/<ver>/pythondevguide):
``nuke.Node`` (``knob``, ``knobs``, ``__getitem__``, ``addKnob``, ``removeKnob``, ``name``, ``fullName``,
``Class``, ``setSelected``, ``isSelected``, ``input``, ``setInput``, ``dependencies(what)``, ``xpos``,
``ypos``, ``setXYpos``, ``screenWidth``, ``screenHeight``, ``metadata(key)``; Group ``nodes``,
``begin``/``end``), the knob classes ``Tab_Knob``, ``String_Knob``, ``Boolean_Knob``, ``Enumeration_Knob``
(``values``), ``PyScript_Knob``, ``Text_Knob``, ``Multiline_Eval_String_Knob``, ``File_Knob``, ``Int_Knob``
(``tile_color``) and ModifyMetaData's ``metadata`` knob (``value``, ``setValue``, ``setFlag``,
``toScript``, ``fromScript``), ``nuke.nodes.<Class>(**knobs)``, ``nuke.createNode``, ``nuke.toNode``,
``nuke.allNodes(filter, group, recurseGroups)``, ``nuke.selectedNodes(filter)``, ``nuke.zoom(scale, center)``,
``nuke.root()``, ``nuke.message``, ``nuke.ask``, ``nuke.tprint``, ``nuke.GUI``, ``nuke.env``,
``nuke.thisNode``, ``nuke.thisKnob``, ``nuke.menu(name).addMenu/addCommand/findItem``, ``nuke.getPaneFor``,
``nuke.pluginAddPath``, the constants ``INPUTS``, ``HIDDEN_INPUTS``, ``INVISIBLE``, ``STARTLINE``, and the
callbacks module (``addKnobChanged``/``removeKnobChanged``, ``addOnScriptSave``/``removeOnScriptSave``,
``addBeforeRender``/``removeBeforeRender``, ``addOnScriptLoad``, ``addOnUserCreate``, each ``(call, args=(), kwargs={},
nodeClass=...)``, run as ``nuke.callbacks._doCallbacks`` does: the node's class list, then ``'*'``).

What a user does in the UI is driven by functions whose names start with ``fake_``: ``fake_set_knob``
(an edit in the Properties panel, which fires knobChanged), ``fake_save_script`` (File > Save: onScriptSave
runs), ``fake_load_script`` (onScriptLoad runs), ``fake_reset``; and ``execute`` (as ``nuke.execute``:
beforeRender callbacks run first, and an exception raised there aborts the render as ``RuntimeError``).
``execute`` renders a tiny real OpenEXR file whose header carries the metadata that reaches the Write,
as Nuke's exr writer does: with the Write's ``metadata`` knob at "default metadata and exr/*" or more, a
key ``exr/<name>`` is written as the header attribute ``<name>`` (Nuke guide, "Rendering Metadata";
ModifyMetaData reference).
"""

from __future__ import annotations

import shlex
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

GUI = False
env: dict[str, Any] = {"gui": False, "NukeVersionString": "15.1v3 (fake)", "NukeVersionMajor": 15}

EXPRESSIONS = 1
INPUTS = 2
HIDDEN_INPUTS = 4
LINKINPUTS = 8
INVISIBLE = 0x400
STARTLINE = 0x1000
NO_ANIMATION = 0x100

WRITE_METADATA_MODES = [
    "no metadata",
    "default metadata",
    "default metadata and exr/*",
    "all metadata except input/*",
    "all metadata",
]

# ---------------------------------------------------------------------------- knobs


class Knob:
    def __init__(self, name: str, label: str | None = None, value: Any = None) -> None:
        self._name = name
        self._label = label if label is not None else name
        self._value: Any = self._default() if value is None else value
        self._flags = 0
        self._node: Node | None = None

    def _default(self) -> Any:
        return ""

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def value(self) -> Any:
        return self._value

    def setValue(self, value: Any) -> bool:  # noqa: N802
        self._value = value
        return True

    def setFlag(self, flag: int) -> None:  # noqa: N802
        self._flags |= flag

    def getFlag(self, flag: int) -> bool:  # noqa: N802
        return bool(self._flags & flag)

    def visible(self) -> bool:
        return not self.getFlag(INVISIBLE)

    def toScript(self) -> str:  # noqa: N802
        return str(self._value)

    def fromScript(self, text: str) -> bool:  # noqa: N802
        self._value = text
        return True


class Tab_Knob(Knob):  # noqa: N801
    pass


class String_Knob(Knob):  # noqa: N801
    def setValue(self, value: Any) -> bool:  # noqa: N802
        if not isinstance(value, str):
            raise TypeError("String_Knob.setValue expects a string")
        return super().setValue(value)


class Multiline_Eval_String_Knob(String_Knob):  # noqa: N801
    pass


class File_Knob(String_Knob):  # noqa: N801
    pass


class Text_Knob(Knob):  # noqa: N801
    """A label; ``value()`` is the message text (``Text_Knob(name, label, text)``)."""


class PyScript_Knob(Knob):  # noqa: N801
    """A button. ``execute()`` runs the command, as a click does."""

    def __init__(self, name: str, label: str | None = None, command: str = "") -> None:
        super().__init__(name, label, command)

    def execute(self) -> None:
        global _this_node, _this_knob
        saved = (_this_node, _this_knob)
        _this_node, _this_knob = self._node, self
        try:
            exec(compile(str(self._value), f"<PyScript_Knob {self._name}>", "exec"), {"nuke": sys.modules[__name__]})
        finally:
            _this_node, _this_knob = saved


class Boolean_Knob(Knob):  # noqa: N801
    def _default(self) -> Any:
        return False

    def setValue(self, value: Any) -> bool:  # noqa: N802
        return super().setValue(bool(value))


class Int_Knob(Knob):  # noqa: N801
    def _default(self) -> Any:
        return 0

    def setValue(self, value: Any) -> bool:  # noqa: N802
        return super().setValue(int(value))


class Enumeration_Knob(Knob):  # noqa: N801
    """``value()`` is the selected item's text; ``setValue`` takes the text or an index."""

    def __init__(self, name: str, label: str | None = None, items: list[str] | None = None) -> None:
        self._items = list(items or [])
        super().__init__(name, label, self._items[0] if self._items else "")

    def values(self) -> list[str]:
        return list(self._items)

    def setValues(self, items: list[str]) -> None:  # noqa: N802
        self._items = list(items)
        if self._value not in self._items:
            self._value = self._items[0] if self._items else ""

    def setValue(self, value: Any) -> bool:  # noqa: N802
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < len(self._items):
                raise ValueError(f"{self._name}: index {value} out of range")
            value = self._items[value]
        if value not in self._items:
            raise ValueError(f"{self._name}: {value!r} is not one of the menu items")
        return super().setValue(value)


class MetaData_Knob(Knob):
    """ModifyMetaData's ``metadata`` knob; set with ``fromScript('{set key value}\\n...')``."""

    def _entries(self) -> list[tuple[str, str, str]]:
        entries = []
        for line in str(self._value).replace("}", "}\n").splitlines():
            line = line.strip().strip("{}").strip()
            if not line:
                continue
            parts = shlex.split(line)
            action, key = parts[0], parts[1]
            entries.append((action, key, parts[2] if len(parts) > 2 else ""))
        return entries


# ---------------------------------------------------------------------------- nodes


class Node:
    def __init__(self, node_class: str, name: str, parent: Group | None) -> None:
        self._class = node_class
        self._knobs: dict[str, Knob] = {}
        self._inputs: list[Node | None] = []
        self._selected = False
        self._parent = parent
        self._xpos = 0
        self._ypos = 0
        self._meta: dict[str, Any] = {}
        self._add_builtin(String_Knob("name", "name", name))
        self._add_builtin(Int_Knob("tile_color", "tile color", 0))
        self._add_builtin(Multiline_Eval_String_Knob("label", "label", ""))
        for knob in _CLASS_KNOBS.get(node_class, lambda: [])():
            self._add_builtin(knob)

    def _add_builtin(self, knob: Knob) -> None:
        knob._node = self
        self._knobs[knob.name()] = knob

    def __repr__(self) -> str:
        return f"<{self._class} {self.fullName()}>"

    def __getitem__(self, name: str) -> Knob:
        return self._knobs[name]

    def Class(self) -> str:  # noqa: N802
        return self._class

    def name(self) -> str:
        return str(self._knobs["name"].value())

    def fullName(self) -> str:  # noqa: N802
        if self._parent is None or self._parent is _root:
            return self.name()
        return f"{self._parent.fullName()}.{self.name()}"

    def knob(self, name: str) -> Knob | None:
        return self._knobs.get(name)

    def knobs(self) -> dict[str, Knob]:
        return dict(self._knobs)

    def addKnob(self, knob: Knob) -> None:  # noqa: N802
        if knob.name() in self._knobs:
            raise RuntimeError(f"{self.name()}: a knob named {knob.name()} already exists")
        knob._node = self
        self._knobs[knob.name()] = knob

    def removeKnob(self, knob: Knob) -> None:  # noqa: N802
        self._knobs.pop(knob.name(), None)

    def setSelected(self, selected: bool) -> None:  # noqa: N802
        self._selected = bool(selected)

    def isSelected(self) -> bool:  # noqa: N802
        return self._selected

    def setInput(self, index: int, node: Node | None) -> bool:  # noqa: N802
        while len(self._inputs) <= index:
            self._inputs.append(None)
        self._inputs[index] = node
        return True

    def input(self, index: int) -> Node | None:
        return self._inputs[index] if index < len(self._inputs) else None

    def dependencies(self, what: int = INPUTS | HIDDEN_INPUTS | EXPRESSIONS) -> list[Node]:
        if not what & (INPUTS | HIDDEN_INPUTS):
            return []
        return [n for n in self._inputs if n is not None]

    def xpos(self) -> int:
        return self._xpos

    def ypos(self) -> int:
        return self._ypos

    def setXYpos(self, x: int, y: int) -> None:  # noqa: N802
        self._xpos, self._ypos = int(x), int(y)

    def screenWidth(self) -> int:  # noqa: N802
        return 80

    def screenHeight(self) -> int:  # noqa: N802
        return 18

    def metadata(self, key: str | None = None) -> Any:
        """Metadata flowing out of this node: a Read's file header, changed by ModifyMetaData nodes."""
        data: dict[str, Any] = {}
        upstream = self.input(0)
        if upstream is not None:
            data.update(upstream.metadata())
        data.update(self._meta)
        if self._class == "ModifyMetaData":
            for action, meta_key, value in self._knobs["metadata"]._entries():  # type: ignore[attr-defined]
                if action == "set":
                    data[meta_key] = value
                elif action == "remove":
                    data.pop(meta_key, None)
        return data if key is None else data.get(key)


class Group(Node):
    def __init__(self, node_class: str, name: str, parent: Group | None) -> None:
        super().__init__(node_class, name, parent)
        self._children: list[Node] = []

    def nodes(self) -> list[Node]:
        return list(self._children)

    def begin(self) -> Group:
        global _current_group
        self._previous = _current_group
        _current_group = self
        return self

    def end(self) -> None:
        global _current_group
        _current_group = getattr(self, "_previous", _root)

    def __enter__(self) -> Group:
        return self.begin()

    def __exit__(self, *exc: object) -> None:
        self.end()


class Root(Group):
    def name(self) -> str:
        return str(self._knobs["name"].value()) or "Root"

    def fullName(self) -> str:  # noqa: N802
        return "root"


def _read_knobs() -> list[Knob]:
    return [File_Knob("file", "file", ""), Int_Knob("first", "frame range", 1), Int_Knob("last", "", 1)]


def _write_knobs() -> list[Knob]:
    return [
        File_Knob("file", "file", ""),
        Enumeration_Knob("file_type", "file type", ["exr", "dpx", "jpeg", "png", "tiff", "mov"]),
        Enumeration_Knob("metadata", "metadata", WRITE_METADATA_MODES),
        Multiline_Eval_String_Knob("beforeRender", "before render", ""),
    ]


_CLASS_KNOBS: dict[str, Callable[[], list[Knob]]] = {
    "Read": _read_knobs,
    "Write": _write_knobs,
    "ModifyMetaData": lambda: [MetaData_Knob("metadata", "metadata", "")],
    "Root": lambda: [Int_Knob("first_frame", "frame range", 1), Int_Knob("last_frame", "", 100)],
}
_GROUP_CLASSES = {"Group", "Gizmo", "LiveGroup"}

_root = Root("Root", "", None)
_current_group: Group = _root
_counters: dict[str, int] = {}
_this_node: Node | None = None
_this_knob: Knob | None = None
messages: list[str] = []
"""Every text shown with nuke.message, for tests to read."""
ask_answers: list[bool] = []
"""What the artist answers to the next nuke.ask questions (default: no)."""
questions: list[str] = []
zoom_calls: list[tuple[float, tuple[float, float] | None]] = []
terminal: list[str] = []


def _new_name(node_class: str) -> str:
    while True:
        _counters[node_class] = _counters.get(node_class, 0) + 1
        name = f"{node_class}{_counters[node_class]}"
        if toNode(name) is None:
            return name


def _make(node_class: str, knobs: dict[str, Any], user: bool) -> Node:
    cls = Group if node_class in _GROUP_CLASSES else Node
    node = cls(node_class, knobs.pop("name", None) or _new_name(node_class), _current_group)
    _current_group._children.append(node)
    for key, value in knobs.items():
        knob = node.knob(key)
        if knob is None:
            raise ValueError(f"{node_class} has no knob named {key}")
        knob.setValue(value)
    _run(_on_creates, node)
    if user:
        _run(_on_user_creates, node)
    return node


class _Nodes:
    """``nuke.nodes.Read(file=...)``: makes a node without selecting it or running onUserCreate."""

    def __getattr__(self, node_class: str) -> Callable[..., Node]:
        def make(**knobs: Any) -> Node:
            return _make(node_class, dict(knobs), user=False)

        return make


nodes = _Nodes()


def createNode(node: str, args: str = "", inpanel: bool = True) -> Node:  # noqa: N802
    """As the artist creates a node from the toolbar: onUserCreate runs."""
    knobs: dict[str, Any] = {}
    if args:
        parts = shlex.split(args)
        knobs = dict(zip(parts[::2], parts[1::2], strict=False))
    made = _make(node, knobs, user=True)
    for other in allNodes(recurseGroups=True):
        other.setSelected(other is made)
    return made


def toNode(name: str) -> Node | None:  # noqa: N802
    group: Group = _root
    parts = name.split(".")
    for i, part in enumerate(parts):
        found = next((n for n in group._children if n.name() == part), None)
        if found is None:
            return None
        if i == len(parts) - 1:
            return found
        if not isinstance(found, Group):
            return None
        group = found
    return None


def allNodes(filter: str | None = None, group: Group | None = None, recurseGroups: bool = False) -> list[Node]:  # noqa: N802, A002
    start = group if group is not None else _current_group
    out: list[Node] = []

    def walk(g: Group) -> None:
        for child in g._children:
            if filter is None or child.Class() == filter:
                out.append(child)
            if recurseGroups and isinstance(child, Group):
                walk(child)

    walk(start)
    return out


def selectedNodes(filter: str | None = None) -> list[Node]:  # noqa: N802, A002
    return [n for n in allNodes(filter) if n.isSelected()]


def root() -> Root:
    return _root


def thisNode() -> Node | None:  # noqa: N802
    return _this_node


def thisKnob() -> Knob | None:  # noqa: N802
    return _this_knob


def message(prompt: str) -> None:
    messages.append(prompt)


def ask(prompt: str) -> bool:
    questions.append(prompt)
    return ask_answers.pop(0) if ask_answers else False


def tprint(*args: Any, **kwargs: Any) -> None:
    terminal.append(" ".join(str(a) for a in args))


def zoom(scale: float, center: tuple[float, float] | list[float] | None = None, group: Any = None) -> float | None:
    if not GUI:
        return None
    zoom_calls.append((scale, tuple(center) if center is not None else None))  # type: ignore[arg-type]
    return scale


_plugin_paths: list[str] = []


def pluginAddPath(args: str | list[str], addToSysPath: bool = True) -> None:  # noqa: N802, N803
    paths = [args] if isinstance(args, str) else list(args)
    for path in reversed(paths):
        _plugin_paths.insert(0, path)
        if addToSysPath and path not in sys.path:
            sys.path.insert(0, path)


def pluginPath() -> list[str]:  # noqa: N802
    return list(_plugin_paths)


# ---------------------------------------------------------------------------- menus


class MenuItem:
    def __init__(self, name: str, command: Any = None, shortcut: str = "", tooltip: str = "") -> None:
        self._name, self._command, self._shortcut, self._tooltip = name, command, shortcut, tooltip

    def name(self) -> str:
        return self._name

    def invoke(self) -> None:
        if callable(self._command):
            self._command()
        elif self._command:
            exec(compile(str(self._command), f"<menu {self._name}>", "exec"), {"nuke": sys.modules[__name__]})


class Menu(MenuItem):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._items: list[MenuItem] = []

    def items(self) -> list[MenuItem]:
        return list(self._items)

    def addMenu(self, name: str, icon: str = "", tooltip: str = "", index: int = -1) -> Menu:  # noqa: N802
        existing = self.findItem(name)
        if isinstance(existing, Menu):
            return existing
        menu = Menu(name)
        self._items.append(menu)
        return menu

    def addCommand(  # noqa: N802
        self, name: str, command: Any = None, shortcut: str = "", icon: str = "", tooltip: str = "", index: int = -1
    ) -> MenuItem:
        if "/" in name:
            head, tail = name.split("/", 1)
            return self.addMenu(head).addCommand(tail, command, shortcut, icon, tooltip, index)
        self._items = [i for i in self._items if i.name() != name]
        item = MenuItem(name, command, shortcut, tooltip)
        self._items.append(item)
        return item

    def addSeparator(self) -> None:  # noqa: N802
        self._items.append(MenuItem("-"))

    def findItem(self, name: str) -> MenuItem | None:  # noqa: N802
        head, _, tail = name.partition("/")
        item = next((i for i in self._items if i.name() == head), None)
        if tail and isinstance(item, Menu):
            return item.findItem(tail)
        return item if not tail else None


_menus: dict[str, Menu] = {}


def menu(name: str) -> Menu:
    return _menus.setdefault(name, Menu(name))


class Pane:
    def __init__(self, name: str) -> None:
        self.name = name
        self.panels: list[Any] = []


_panes: dict[str, Pane] = {}


def getPaneFor(panelName: str) -> Pane:  # noqa: N802, N803 - returns the pane holding that panel
    return _panes.setdefault(panelName, Pane(panelName))


# ---------------------------------------------------------------------------- callbacks

Callback = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]
knobChangeds: dict[str, list[Callback]] = {}  # noqa: N816 - Nuke's names
onScriptSaves: dict[str, list[Callback]] = {}  # noqa: N816
onScriptLoads: dict[str, list[Callback]] = {}  # noqa: N816
beforeRenders: dict[str, list[Callback]] = {}  # noqa: N816
_on_user_creates: dict[str, list[Callback]] = {}
_on_creates: dict[str, list[Callback]] = {}
onUserCreates = _on_user_creates  # noqa: N816


def _add(
    table: dict[str, list[Callback]], call: Callable[..., Any], args: Any, kwargs: Any, node_class: str, node: Any
) -> None:
    if not callable(call):
        raise ValueError("call must be a callable")
    if not isinstance(args, tuple):
        args = (args,)
    if not isinstance(kwargs, dict):
        raise ValueError("kwargs must be a dictionary")
    entries = table.setdefault(node_class, [])
    entry = (call, args, kwargs, node)
    if entry in entries:
        entries.remove(entry)
    entries.append(entry)


def _remove(
    table: dict[str, list[Callback]], call: Callable[..., Any], args: Any, kwargs: Any, node_class: str
) -> None:
    if not isinstance(args, tuple):
        args = (args,)
    entries = table.get(node_class, [])
    for entry in list(entries):
        if entry[0] == call and entry[1] == args and entry[2] == kwargs:
            entries.remove(entry)


def addKnobChanged(
    call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*", node: Any = None
) -> None:  # noqa: N802, N803
    _add(knobChangeds, call, args, kwargs or {}, nodeClass, node)


def removeKnobChanged(
    call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*", node: Any = None
) -> None:  # noqa: N802, N803
    _remove(knobChangeds, call, args, kwargs or {}, nodeClass)


def addOnScriptSave(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Root") -> None:  # noqa: N802, N803
    _add(onScriptSaves, call, args, kwargs or {}, nodeClass, None)


def addOnScriptLoad(
    call: Callable[..., Any],
    args: Any = (),
    kwargs: Any = None,
    nodeClass: str = "Root",  # noqa: N803
) -> None:  # noqa: N802
    _add(onScriptLoads, call, args, kwargs or {}, nodeClass, None)


def addBeforeRender(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Write") -> None:  # noqa: N802, N803
    _add(beforeRenders, call, args, kwargs or {}, nodeClass, None)


def removeOnScriptSave(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Root") -> None:  # noqa: N802, N803
    _remove(onScriptSaves, call, args, kwargs or {}, nodeClass)


def removeBeforeRender(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Write") -> None:  # noqa: N802, N803
    _remove(beforeRenders, call, args, kwargs or {}, nodeClass)


def addOnUserCreate(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*") -> None:  # noqa: N802, N803
    _add(_on_user_creates, call, args, kwargs or {}, nodeClass, None)


def _run(table: dict[str, list[Callback]], node: Node, knob: Knob | None = None) -> None:
    """As nuke.callbacks._doCallbacks: the node's class list, then '*', with thisNode/thisKnob set."""
    global _this_node, _this_knob
    saved = (_this_node, _this_knob)
    _this_node, _this_knob = node, knob
    try:
        for key in (node.Class(), "*"):
            for call, args, kwargs, only in list(table.get(key, [])):
                if only is None or only is node:
                    call(*args, **kwargs)
    finally:
        _this_node, _this_knob = saved


# ---------------------------------------------------------------------------- what the artist does


def fake_set_knob(node: Node, knob_name: str, value: Any) -> None:
    """An edit in the Properties panel: the value changes, then knobChanged runs."""
    knob = node[knob_name]
    knob.setValue(value)
    _run(knobChangeds, node, knob)


def fake_user_create(node_class: str, **knobs: Any) -> Node:
    made = _make(node_class, dict(knobs), user=True)
    return made


def fake_save_script(path: str | Path) -> None:
    """File > Save As: the root's name becomes the path; onScriptSave runs (before the file is written)."""
    _root["name"].setValue(str(path))
    _run(onScriptSaves, _root)
    Path(path).write_text(f"# fake Nuke script\nRoot {{\n name {path}\n}}\n", encoding="utf-8")


def fake_load_script() -> None:
    """File > Open finished: onScriptLoad runs."""
    _run(onScriptLoads, _root)


def fake_reset() -> None:
    """A fresh session: empty script, no callbacks, no menus (between tests)."""
    global _root, _current_group, GUI
    _root = Root("Root", "", None)
    _current_group = _root
    _counters.clear()
    for table in (knobChangeds, onScriptSaves, onScriptLoads, beforeRenders, _on_user_creates, _on_creates):
        table.clear()
    _menus.clear()
    for log in (messages, ask_answers, questions, zoom_calls, terminal):
        log.clear()
    GUI = False
    env["gui"] = False


def execute(name_or_node: str | Node, start: int = 1, end: int | None = None, incr: int = 1, views: Any = None) -> None:
    """nuke.execute: beforeRender first (an exception there aborts the render), then one EXR per frame."""
    node = toNode(name_or_node) if isinstance(name_or_node, str) else name_or_node
    if node is None or node.Class() != "Write":
        raise ValueError(f"{name_or_node}: not a Write node")
    try:
        _run(beforeRenders, node)
    except Exception as exc:
        raise RuntimeError(str(exc)) from exc
    end = start if end is None else end
    mode = WRITE_METADATA_MODES.index(node["metadata"].value())
    meta = node.metadata()
    header: dict[str, str] = {}
    for key, value in meta.items():
        if key.startswith("exr/") and mode >= 2:
            header[key[4:]] = str(value)
        elif mode == 4 or (mode == 3 and not key.startswith("input/")):
            header[key] = str(value)
    for frame in range(start, end + 1, incr):
        target = str(node["file"].value()).replace("####", f"{frame:04d}")
        if "%04d" in target:
            target = target % frame
        _write_exr(Path(target), header)


def _attr(name: str, kind: str, payload: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(payload)) + payload


def _write_exr(path: Path, strings: dict[str, str]) -> None:
    """A 1x1 scanline OpenEXR with one half channel ``Y``, uncompressed, plus string attributes."""
    header = b"\x76\x2f\x31\x01" + struct.pack("<i", 2)
    header += _attr("channels", "chlist", b"Y\0" + struct.pack("<iB3xii", 1, 0, 1, 1) + b"\0")
    header += _attr("compression", "compression", b"\0")
    header += _attr("dataWindow", "box2i", struct.pack("<4i", 0, 0, 0, 0))
    header += _attr("displayWindow", "box2i", struct.pack("<4i", 0, 0, 0, 0))
    header += _attr("lineOrder", "lineOrder", b"\0")
    header += _attr("pixelAspectRatio", "float", struct.pack("<f", 1.0))
    header += _attr("screenWindowCenter", "v2f", struct.pack("<2f", 0.0, 0.0))
    header += _attr("screenWindowWidth", "float", struct.pack("<f", 1.0))
    for key, value in sorted(strings.items()):
        header += _attr(key, "string", value.encode("utf-8"))
    header += b"\0"
    offset = len(header) + 8
    scanline = struct.pack("<ii", 0, 2) + b"\x00\x3c"  # y=0, 2 bytes, half 1.0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + struct.pack("<Q", offset) + scanline)
