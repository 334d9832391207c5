"""A fake of Foundry's ``nuke`` module that behaves like Nuke where Nuke is inconvenient.

Written from Foundry's Nuke Python API reference and Python Developer's Guide
(https://learn.foundry.com/nuke/developers/150/pythondevguide/), the ``nuke.callbacks`` source published
there (``_addCallback`` / ``_doCallbacks``), the node reference guide, and what ayon-nuke does in a real
Nuke. Each behaviour below cites where it comes from. The ones that matter most for Clearance:

- **A new Python wrapper per call.** ``nuke.toNode``, ``allNodes``, ``input``, ``dependencies``,
  ``Group.nodes``, ``thisNode`` each hand out a fresh ``Node`` object for the same node, so ``id(node)``
  and ``is`` do not identify a node; ``fullName()`` does. (Nuke's own ``_doCallbacks`` compares
  ``f[3] is node`` against ``nuke.thisNode()``, which is why per-node callbacks are rarely used; the fake
  takes the least kind reading and compares wrappers by identity only.)
- **knobChanged fires for Python ``setValue`` while the node's panel is open**, including from inside a
  knobChanged callback (Python Dev Guide, "Callbacks": knobChanged runs "when a knob is changed" on an open
  panel; opening and closing the panel fire it with the knobs ``showPanel`` / ``hidePanel``).
- **registerWidgetAsPanel evaluates the widget string** in Nuke's ``__main__`` namespace (see
  ``nukescripts/panels.py``).
- **Every writing class renders through beforeRender**: ``nuke.execute`` runs the beforeRender callbacks
  registered for the node's own class, then ``'*'`` (``_doCallbacks``); "If they throw an exception, the
  render aborts" (Nuke reference guide, Write / DeepWrite / WriteGeo, Python tab). Writes inside groups and
  gizmos render as themselves (class ``Write``, full name ``Group1.Write1``).
- **Gizmos** are groups with their own class name (``nuke.nodes.WriteTank()``), made from a definition the
  test registers with ``fake_define_gizmo`` (Nuke user guide, "Creating and Accessing Gizmos").
- **``nuke.GUI`` is False** on render nodes and in ``nuke -t`` (``nuke.GUI``, ``nuke.env['gui']``).
- **onCreate runs for every node however it is made** (``nuke.nodes``, ``createNode``, script load), while
  onUserCreate runs only for nodes the artist creates (Python Dev Guide, "Callbacks").

What an artist does in the UI is driven by ``fake_*`` functions: ``fake_set_knob`` (an edit in an open
Properties panel), ``fake_save_script``, ``fake_load_script``, ``fake_render_script`` (``nuke -x``),
``fake_define_gizmo``, ``fake_reset``. ``execute`` renders a tiny real OpenEXR whose header carries the
``exr/*`` metadata that reaches the Write, as Nuke's exr writer does (Nuke guide, "Rendering Metadata";
ModifyMetaData reference).
"""

from __future__ import annotations

import builtins
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
NO_UNDO = 0x200

WRITE_METADATA_MODES = [
    "no metadata",
    "default metadata",
    "default metadata and exr/*",
    "all metadata except input/*",
    "all metadata",
]

KNOB_CHANGED_DEPTH = 40
"""Python's own recursion limit stops a knobChanged loop in Nuke; the fake stops it earlier, loudly."""

# ---------------------------------------------------------------------------- knobs


class Knob:
    def __init__(self, name: str, label: str | None = None, value: Any = None) -> None:
        self._name = name
        self._label = label if label is not None else name
        self._value: Any = self._default() if value is None else value
        self._flags = 0
        self._owner: _NodeData | None = None

    def _default(self) -> Any:
        return ""

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def value(self) -> Any:
        return self._value

    def _convert(self, value: Any) -> Any:
        return value

    def setValue(self, value: Any) -> bool:
        self._value = self._convert(value)
        # Python Dev Guide, "Callbacks": with the node's Properties panel open, a knob set from Python fires
        # knobChanged just as an edit by hand does
        owner = self._owner
        if owner is not None and owner.panel_open:
            _knob_changed(owner, self)
        return True

    def setFlag(self, flag: int) -> None:
        self._flags |= flag

    def clearFlag(self, flag: int) -> None:
        self._flags &= ~flag

    def getFlag(self, flag: int) -> bool:
        return bool(self._flags & flag)

    def visible(self) -> bool:
        return not self.getFlag(INVISIBLE)

    def node(self) -> Node | None:
        return _wrap(self._owner) if self._owner is not None else None

    def toScript(self) -> str:
        return str(self._value)

    def fromScript(self, text: str) -> bool:
        return self.setValue(text)


class Tab_Knob(Knob):
    pass


class String_Knob(Knob):
    def _convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise TypeError("String_Knob.setValue expects a string")
        return value


class Multiline_Eval_String_Knob(String_Knob):
    pass


class File_Knob(String_Knob):
    pass


class Text_Knob(Knob):
    """A label; ``value()`` is the message text (``Text_Knob(name, label, text)``)."""


class PyScript_Knob(Knob):
    """A button. ``execute()`` runs the command, as a click does."""

    def __init__(self, name: str, label: str | None = None, command: str = "") -> None:
        super().__init__(name, label, command)

    def execute(self) -> None:
        global _this_node, _this_knob
        saved = (_this_node, _this_knob)
        _this_node, _this_knob = self._owner, self
        try:
            exec(compile(str(self._value), f"<PyScript_Knob {self._name}>", "exec"), {"nuke": sys.modules[__name__]})
        finally:
            _this_node, _this_knob = saved


class Boolean_Knob(Knob):
    def _default(self) -> Any:
        return False

    def _convert(self, value: Any) -> Any:
        return bool(value)


class Int_Knob(Knob):
    def _default(self) -> Any:
        return 0

    def _convert(self, value: Any) -> Any:
        return int(value)


class Enumeration_Knob(Knob):
    """``value()`` is the selected item's text; ``setValue`` takes the text or an index."""

    def __init__(self, name: str, label: str | None = None, items: list[str] | None = None) -> None:
        self._items = list(items or [])
        super().__init__(name, label, self._items[0] if self._items else "")

    def values(self) -> list[str]:
        return list(self._items)

    def setValues(self, items: list[str]) -> None:
        self._items = list(items)
        if self._value not in self._items:
            self._value = self._items[0] if self._items else ""

    def _convert(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < len(self._items):
                raise ValueError(f"{self._name}: index {value} out of range")
            value = self._items[value]
        if value not in self._items:
            raise ValueError(f"{self._name}: {value!r} is not one of the menu items")
        return value


class MetaData_Knob(Knob):
    """ModifyMetaData's ``metadata`` knob; set with ``fromScript('{set key value}\\n...')``."""

    def _entries(self) -> list[tuple[str, str, str]]:
        entries = []
        for raw in str(self._value).replace("}", "}\n").splitlines():
            line = raw.strip().strip("{}").strip()
            if not line:
                continue
            parts = shlex.split(line)
            action, key = parts[0], parts[1]
            entries.append((action, key, parts[2] if len(parts) > 2 else ""))
        return entries


# ---------------------------------------------------------------------------- nodes


class _NodeData:
    """The node itself, as Nuke holds it; Python only ever sees wrappers (``Node``) around it."""

    def __init__(self, node_class: str, name: str, parent: _NodeData | None, group: bool) -> None:
        self.node_class = node_class
        self.knobs: dict[str, Knob] = {}
        self.inputs: list[_NodeData | None] = []
        self.selected = False
        self.parent = parent
        self.xpos = 0
        self.ypos = 0
        self.meta: dict[str, Any] = {}
        self.panel_open = False
        self.children: list[_NodeData] | None = [] if group else None
        self.add(String_Knob("name", "name", name))
        self.add(Int_Knob("tile_color", "tile color", 0))
        self.add(Multiline_Eval_String_Knob("label", "label", ""))
        self.add(Boolean_Knob("disable", "disable", False))
        for knob in _CLASS_KNOBS.get(node_class, lambda: [])():
            self.add(knob)

    def add(self, knob: Knob) -> None:
        knob._owner = self
        self.knobs[knob.name()] = knob

    def name(self) -> str:
        return str(self.knobs["name"].value())

    def full_name(self) -> str:
        if self.parent is None:
            return "root"
        if self.parent.parent is None:
            return self.name()
        return f"{self.parent.full_name()}.{self.name()}"


def _wrap(data: _NodeData | None) -> Any:
    """A new wrapper object each time, as Nuke hands out (see the module docstring)."""
    if data is None:
        return None
    if data.parent is None:
        return Root(data)
    if data.children is not None:
        return Gizmo(data) if data.node_class in _gizmos else Group(data)
    return Node(data)


class Node:
    def __init__(self, data: _NodeData) -> None:
        self._d = data

    def __repr__(self) -> str:
        return f"<{self._d.node_class} {self.fullName()}>"

    def __getitem__(self, name: str) -> Knob:
        return self._d.knobs[name]

    def Class(self) -> str:
        return self._d.node_class

    def name(self) -> str:
        return self._d.name()

    def fullName(self) -> str:
        return self._d.full_name()

    def knob(self, name: str) -> Knob | None:
        return self._d.knobs.get(name)

    def knobs(self) -> dict[str, Knob]:
        return dict(self._d.knobs)

    def addKnob(self, knob: Knob) -> None:
        if knob.name() in self._d.knobs:
            raise RuntimeError(f"{self.name()}: a knob named {knob.name()} already exists")
        self._d.add(knob)

    def removeKnob(self, knob: Knob) -> None:
        self._d.knobs.pop(knob.name(), None)

    def setSelected(self, selected: bool) -> None:
        self._d.selected = bool(selected)

    def isSelected(self) -> bool:
        return self._d.selected

    def setInput(self, index: int, node: Node | None) -> bool:
        while len(self._d.inputs) <= index:
            self._d.inputs.append(None)
        self._d.inputs[index] = node._d if node is not None else None
        _knob_changed(self._d, Knob("inputChange"))  # Python Dev Guide: knobChanged sees "inputChange"
        return True

    def input(self, index: int) -> Node | None:
        inputs = self._d.inputs
        return _wrap(inputs[index]) if index < len(inputs) else None

    def inputs(self) -> int:
        return len(self._d.inputs)

    def dependencies(self, what: int = INPUTS | HIDDEN_INPUTS | EXPRESSIONS) -> list[Node]:
        if not what & (INPUTS | HIDDEN_INPUTS):
            return []
        return [_wrap(n) for n in self._d.inputs if n is not None]

    def showControlPanel(self, forceFloat: bool = False) -> None:
        """Opening the Properties panel fires knobChanged with the knob ``showPanel`` (Dev Guide, Callbacks)."""
        self._d.panel_open = True
        _knob_changed(self._d, Knob("showPanel"))

    def hideControlPanel(self) -> None:
        if self._d.panel_open:
            _knob_changed(self._d, Knob("hidePanel"))
        self._d.panel_open = False

    def shown(self) -> bool:
        return self._d.panel_open

    def xpos(self) -> int:
        return self._d.xpos

    def ypos(self) -> int:
        return self._d.ypos

    def setXYpos(self, x: int, y: int) -> None:
        self._d.xpos, self._d.ypos = int(x), int(y)

    def screenWidth(self) -> int:
        return 80

    def screenHeight(self) -> int:
        return 18

    def metadata(self, key: str | None = None) -> Any:
        """Metadata flowing out of this node: a Read's file header, changed by ModifyMetaData nodes."""
        data: dict[str, Any] = {}
        upstream = self.input(0)
        if upstream is not None:
            data.update(upstream.metadata())
        if self._d.node_class == "Read":
            data.update(_file_metadata(str(self["file"].value())))
        data.update(self._d.meta)
        if self._d.node_class == "ModifyMetaData":
            for action, meta_key, value in self._d.knobs["metadata"]._entries():  # type: ignore[attr-defined]
                if action == "set":
                    data[meta_key] = value
                elif action == "remove":
                    data.pop(meta_key, None)
        return data if key is None else data.get(key)


class Group(Node):
    def nodes(self) -> list[Node]:
        return [_wrap(c) for c in self._d.children or []]

    def node(self, name: str) -> Node | None:
        """A child by name (Group.node in the API reference)."""
        return _wrap(next((c for c in self._d.children or [] if c.name() == name), None))

    def begin(self) -> Group:
        global _current
        _stack.append(_current)
        _current = self._d
        return self

    def end(self) -> None:
        global _current
        _current = _stack.pop() if _stack else _root_data

    def __enter__(self) -> Group:
        return self.begin()

    def __exit__(self, *exc: object) -> None:
        self.end()


class Gizmo(Group):
    """A gizmo: a group whose class is the gizmo's name (Nuke user guide, "Creating and Accessing Gizmos")."""


class Root(Group):
    def name(self) -> str:
        return self._d.name() or "Root"

    def fullName(self) -> str:
        return "root"


# Knobs of the node classes the fake models (Nuke reference guide, Read / Write / DeepWrite / WriteGeo /
# ModifyMetaData / Input). A knob name outside these is kept as a plain value (see _make).
def _read_knobs() -> list[Knob]:
    return [File_Knob("file", "file", ""), Int_Knob("first", "frame range", 1), Int_Knob("last", "", 1)]


def _render_knobs() -> list[Knob]:
    # the Python tab of every writing class: before render, after render (reference guide, Write node)
    return [
        Multiline_Eval_String_Knob("beforeRender", "before render", ""),
        Multiline_Eval_String_Knob("afterRender", "after render", ""),
    ]


def _write_knobs() -> list[Knob]:
    return [
        File_Knob("file", "file", ""),
        Enumeration_Knob("file_type", "file type", ["exr", "dpx", "jpeg", "png", "tiff", "mov"]),
        Enumeration_Knob("metadata", "metadata", WRITE_METADATA_MODES),
        *_render_knobs(),
    ]


def _deep_write_knobs() -> list[Knob]:
    return [File_Knob("file", "file", ""), Enumeration_Knob("file_type", "file type", ["exr"]), *_render_knobs()]


def _write_geo_knobs() -> list[Knob]:
    kinds = ["abc", "fbx", "obj"]
    return [File_Knob("file", "file", ""), Enumeration_Knob("file_type", "file type", kinds), *_render_knobs()]


_CLASS_KNOBS: dict[str, Callable[[], list[Knob]]] = {
    "Read": _read_knobs,
    "DeepRead": _read_knobs,
    "ReadGeo2": _read_knobs,
    "Write": _write_knobs,
    "DeepWrite": _deep_write_knobs,
    "WriteGeo": _write_geo_knobs,
    "ModifyMetaData": lambda: [MetaData_Knob("metadata", "metadata", "")],
    "Input": lambda: [Int_Knob("number", "number", 0)],
    "Root": lambda: [Int_Knob("first_frame", "frame range", 1), Int_Knob("last_frame", "", 100)],
}
WRITING_CLASSES = frozenset({"Write", "DeepWrite", "WriteGeo"})
"""Classes nuke.execute renders to files (reference guide: Write, DeepWrite, WriteGeo)."""
_GROUP_CLASSES = {"Group", "LiveGroup"}
_gizmos: dict[str, Callable[[Group], None]] = {}

_root_data = _NodeData("Root", "", None, group=True)
_current: _NodeData = _root_data
_stack: list[_NodeData] = []
_counters: dict[str, int] = {}
_this_node: _NodeData | None = None
_this_knob: Knob | None = None
_knob_changed_depth = 0
messages: list[str] = []
"""Every text shown with nuke.message, for tests to read."""
ask_answers: list[bool] = []
"""What the artist answers to the next nuke.ask questions (default: no)."""
questions: list[str] = []
zoom_calls: list[tuple[float, tuple[float, float] | None]] = []
terminal: list[str] = []
rendered: list[str] = []
"""Every file execute wrote, in order."""


def _new_name(node_class: str, parent: _NodeData) -> str:
    while True:
        _counters[node_class] = _counters.get(node_class, 0) + 1
        name = f"{node_class}{_counters[node_class]}"
        if not any(c.name() == name for c in parent.children or []):
            return name


def _make(node_class: str, knobs: dict[str, Any], user: bool) -> Node:
    parent = _current
    is_group = node_class in _GROUP_CLASSES or node_class in _gizmos
    data = _NodeData(node_class, knobs.pop("name", None) or _new_name(node_class, parent), parent, is_group)
    assert parent.children is not None
    parent.children.append(data)
    inputs = knobs.pop("inputs", None) or []
    if node_class == "Input":
        data.knobs["number"]._value = sum(1 for c in parent.children if c.node_class == "Input") - 1
    node = _wrap(data)
    for index, upstream in enumerate(inputs):
        node.setInput(index, upstream)
    for key, value in knobs.items():
        knob = data.knobs.get(key)
        if knob is None:  # a knob of the class the fake does not model: kept as a plain value
            knob = Knob(key, key, value)
            data.add(knob)
        knob.setValue(value)
    if node_class in _gizmos:
        with node:
            _gizmos[node_class](node)
    _run(_on_creates, data)
    if user:
        _run(_on_user_creates, data)
    return node


class _Nodes:
    """``nuke.nodes.Read(file=...)``: makes a node without selecting it or running onUserCreate."""

    def __getattr__(self, node_class: str) -> Callable[..., Node]:
        def make(**knobs: Any) -> Node:
            return _make(node_class, dict(knobs), user=False)

        return make


nodes = _Nodes()


def createNode(node: str, args: str = "", inpanel: bool = True) -> Node:
    """As the artist creates a node from the toolbar: onUserCreate runs; the panel opens (inpanel)."""
    knobs: dict[str, Any] = {}
    if args:
        parts = shlex.split(args)
        knobs = dict(zip(parts[::2], parts[1::2], strict=False))
    made = _make(node, knobs, user=True)
    for other in allNodes(recurseGroups=True):
        other.setSelected(other.fullName() == made.fullName())
    if inpanel and GUI:
        made.showControlPanel()
    return made


def toNode(name: str) -> Node | None:
    parts = name.split(".")
    if parts[0] == "root":
        parts = parts[1:]
    data = _root_data
    for part in parts:
        found = next((n for n in data.children or [] if n.name() == part), None)
        if found is None:
            return None
        data = found
    return _wrap(data)


def allNodes(filter: str | None = None, group: Group | None = None, recurseGroups: bool = False) -> list[Node]:
    start = group._d if group is not None else _current
    out: list[Node] = []

    def walk(g: _NodeData) -> None:
        for child in g.children or []:
            if filter is None or child.node_class == filter:
                out.append(_wrap(child))
            if recurseGroups and child.children is not None:
                walk(child)

    walk(start)
    return out


def delete(node: Node) -> None:
    """nuke.delete(node): the node leaves its group; nodes it fed lose that input."""
    data = node._d
    if data.parent is not None and data.parent.children is not None:
        data.parent.children = [c for c in data.parent.children if c is not data]

    def unhook(group: _NodeData) -> None:
        for child in group.children or []:
            child.inputs = [None if i is data else i for i in child.inputs]
            unhook(child)

    unhook(_root_data)


def selectedNodes(filter: str | None = None) -> list[Node]:
    return [n for n in allNodes(filter) if n.isSelected()]


def root() -> Root:
    return _wrap(_root_data)  # type: ignore[no-any-return]


def thisNode() -> Node | None:
    return _wrap(_this_node)


def thisKnob() -> Knob | None:
    return _this_knob


def thisClass() -> str | None:
    return _this_node.node_class if _this_node is not None else None


def message(prompt: str) -> None:
    # without a GUI Nuke prints the message instead of showing a box (nuke.message reference)
    messages.append(prompt)
    if not GUI:
        terminal.append(prompt)


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
_started: list[str] = []
_starting = False


def pluginAddPath(args: str | list[str], addToSysPath: bool = True) -> None:
    """Foundry's reference: adds the paths to the front of the plugin path; "If this command is executed
    inside an init.py then the init.py in the path will be executed"."""
    paths = [args] if isinstance(args, str) else list(args)
    for path in reversed(paths):
        if path in _plugin_paths:
            _plugin_paths.remove(path)
        _plugin_paths.insert(0, path)
        if addToSysPath and path not in sys.path:
            sys.path.insert(0, path)
    if _starting:
        for path in paths:
            _run_startup_file(path, "init.py")


def pluginPath() -> list[str]:
    return list(_plugin_paths)


def _run_startup_file(folder: str, name: str) -> None:
    script = Path(folder) / name
    key = str(script)
    if key in _started or not script.is_file():
        return
    _started.append(key)
    namespace = main_namespace()
    exec(compile(script.read_text(encoding="utf-8"), key, "exec"), namespace)


def _home_nuke() -> str:
    # Nuke user guide, "Loading Gizmos, NDK Plug-ins, and Python and TCL Scripts": ~/.nuke, under %HOME% on
    # Windows when set, else %USERPROFILE%
    import os

    home = os.environ.get("HOME") or os.environ.get("USERPROFILE") or str(Path.home())
    return str(Path(home) / ".nuke")


def fake_startup(gui: bool = False) -> None:
    """Nuke starting: ``nuke.GUI`` set (False for ``nuke -x``/``-t``/``-F`` and farms), then the init.py of
    every plugin path (~/.nuke, then each NUKE_PATH folder; pluginAddPath calls in them run the added folder's
    init.py), then, in the GUI only, their menu.py files (Nuke user guide, "Start-up scripts")."""
    global GUI, _starting
    import os

    GUI = gui
    env["gui"] = gui
    folders = [_home_nuke(), *[p for p in os.environ.get("NUKE_PATH", "").split(os.pathsep) if p]]
    _starting = True
    try:
        for folder in folders:
            if folder not in _plugin_paths:
                _plugin_paths.append(folder)
            _run_startup_file(folder, "init.py")
    finally:
        _starting = False
    if gui:
        for folder in _plugin_paths:
            _run_startup_file(folder, "menu.py")


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
            exec(compile(str(self._command), f"<menu {self._name}>", "exec"), main_namespace())


class Menu(MenuItem):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._items: list[MenuItem] = []

    def items(self) -> list[MenuItem]:
        return list(self._items)

    def addMenu(self, name: str, icon: str = "", tooltip: str = "", index: int = -1) -> Menu:
        existing = self.findItem(name)
        if isinstance(existing, Menu):
            return existing
        menu = Menu(name)
        self._items.append(menu)
        return menu

    def addCommand(
        self, name: str, command: Any = None, shortcut: str = "", icon: str = "", tooltip: str = "", index: int = -1
    ) -> MenuItem:
        if "/" in name:
            head, tail = name.split("/", 1)
            return self.addMenu(head).addCommand(tail, command, shortcut, icon, tooltip, index)
        self._items = [i for i in self._items if i.name() != name]
        item = MenuItem(name, command, shortcut, tooltip)
        self._items.append(item)
        return item

    def addSeparator(self) -> None:
        self._items.append(MenuItem("-"))

    def findItem(self, name: str) -> MenuItem | None:
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


def getPaneFor(panelName: str) -> Pane:
    return _panes.setdefault(panelName, Pane(panelName))


_main: dict[str, Any] = {}


def main_namespace() -> dict[str, Any]:
    """Nuke's ``__main__``: where menu commands, PyScript knobs and panel widget strings are evaluated.

    It holds ``nuke`` and ``nukescripts`` (imported by Nuke at start-up) and whatever init.py/menu.py
    imported at top level, and nothing a plugin merely imported inside its own modules.
    """
    if not _main:
        import nukescripts

        _main.update({"__builtins__": builtins, "__name__": "__main__", "nuke": sys.modules[__name__]})
        _main["nukescripts"] = nukescripts
    return _main


# ---------------------------------------------------------------------------- callbacks

Callback = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]
knobChangeds: dict[str, list[Callback]] = {}
onScriptSaves: dict[str, list[Callback]] = {}
onScriptLoads: dict[str, list[Callback]] = {}
beforeRenders: dict[str, list[Callback]] = {}
_on_user_creates: dict[str, list[Callback]] = {}
_on_creates: dict[str, list[Callback]] = {}
onUserCreates = _on_user_creates
onCreates = _on_creates


def _add(
    table: dict[str, list[Callback]], call: Callable[..., Any], args: Any, kwargs: Any, node_class: str, node: Any
) -> None:
    # nuke.callbacks._addCallback: callable check, args made a tuple, one entry per (call, args, kwargs, node)
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
) -> None:
    _add(knobChangeds, call, args, kwargs or {}, nodeClass, node)


def removeKnobChanged(
    call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*", node: Any = None
) -> None:
    _remove(knobChangeds, call, args, kwargs or {}, nodeClass)


def addOnScriptSave(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Root") -> None:
    _add(onScriptSaves, call, args, kwargs or {}, nodeClass, None)


def addOnScriptLoad(
    call: Callable[..., Any],
    args: Any = (),
    kwargs: Any = None,
    nodeClass: str = "Root",
) -> None:
    _add(onScriptLoads, call, args, kwargs or {}, nodeClass, None)


def addBeforeRender(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Write") -> None:
    _add(beforeRenders, call, args, kwargs or {}, nodeClass, None)


def removeOnScriptSave(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Root") -> None:
    _remove(onScriptSaves, call, args, kwargs or {}, nodeClass)


def removeBeforeRender(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "Write") -> None:
    _remove(beforeRenders, call, args, kwargs or {}, nodeClass)


def addOnUserCreate(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*") -> None:
    _add(_on_user_creates, call, args, kwargs or {}, nodeClass, None)


def addOnCreate(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*") -> None:
    _add(_on_creates, call, args, kwargs or {}, nodeClass, None)


def removeOnCreate(call: Callable[..., Any], args: Any = (), kwargs: Any = None, nodeClass: str = "*") -> None:
    _remove(_on_creates, call, args, kwargs or {}, nodeClass)


def _run(table: dict[str, list[Callback]], node: _NodeData, knob: Knob | None = None) -> None:
    """As nuke.callbacks._doCallbacks: the node's class list, then '*', with thisNode/thisKnob set."""
    global _this_node, _this_knob
    saved = (_this_node, _this_knob)
    _this_node, _this_knob = node, knob
    try:
        this = thisNode()  # _doCallbacks takes nuke.thisNode(): a fresh wrapper, so `is` matches no entry's node
        for key in (node.node_class, "*"):
            for call, args, kwargs, only in list(table.get(key, [])):
                if only is None or only is this:
                    call(*args, **kwargs)
    finally:
        _this_node, _this_knob = saved


def _knob_changed(node: _NodeData, knob: Knob) -> None:
    global _knob_changed_depth
    if not node.panel_open:
        return
    if _knob_changed_depth >= KNOB_CHANGED_DEPTH:
        raise RecursionError(f"knobChanged re-entered {KNOB_CHANGED_DEPTH} times on {node.full_name()}")
    _knob_changed_depth += 1
    try:
        _run(knobChangeds, node, knob)
    finally:
        _knob_changed_depth -= 1


# ---------------------------------------------------------------------------- what the artist does


def fake_set_knob(node: Node, knob_name: str, value: Any) -> None:
    """An edit in the Properties panel: the panel is open, the value changes, knobChanged runs."""
    if not node.shown():
        node.showControlPanel()
    node[knob_name].setValue(value)


def fake_user_create(node_class: str, **knobs: Any) -> Node:
    return _make(node_class, dict(knobs), user=True)


def fake_define_gizmo(name: str, build: Callable[[Group], None]) -> None:
    """A gizmo on the plugin path: ``nuke.nodes.<name>()`` makes a group of that class, built by ``build``."""
    _gizmos[name] = build


def fake_save_script(path: str | Path) -> None:
    """File > Save As: the root's name becomes the path; onScriptSave runs (before the file is written)."""
    _root_data.knobs["name"]._value = str(path)
    _run(onScriptSaves, _root_data)
    Path(path).write_text(f"# fake Nuke script\nRoot {{\n name {path}\n}}\n", encoding="utf-8")


def fake_load_script() -> None:
    """File > Open finished: onScriptLoad runs."""
    _run(onScriptLoads, _root_data)


def fake_render_script(start: int = 1, end: int | None = None) -> list[str]:
    """``nuke -x script.nk``: every enabled writing node of the script is executed (Nuke command-line
    reference, -x: "execute the script"); returns what each render raised, one line each."""
    errors = []
    for node in allNodes(recurseGroups=True, group=root()):
        if node.Class() in WRITING_CLASSES and not node["disable"].value():
            try:
                execute(node, start, end)
            except RuntimeError as exc:
                errors.append(f"{node.fullName()}: {exc}")
    return errors


def fake_reset() -> None:
    """A fresh session: empty script, no callbacks, no menus (between tests)."""
    global _root_data, _current, GUI
    _root_data = _NodeData("Root", "", None, group=True)
    _current = _root_data
    _stack.clear()
    _counters.clear()
    for table in (knobChangeds, onScriptSaves, onScriptLoads, beforeRenders, _on_user_creates, _on_creates):
        table.clear()
    _menus.clear()
    _main.clear()
    _gizmos.clear()
    _plugin_paths.clear()
    _started.clear()
    for log in (messages, ask_answers, questions, zoom_calls, terminal, rendered):
        log.clear()
    GUI = False
    env["gui"] = False


def execute(
    name_or_node: str | Node,
    start: int = 1,
    end: int | None = None,
    incr: int = 1,
    views: Any = None,
    continueOnError: bool = False,
) -> None:
    """nuke.execute: beforeRender first (an exception there aborts the render), then one file per frame.

    A group or gizmo given here renders the writing nodes inside it, each as itself."""
    node = toNode(name_or_node) if isinstance(name_or_node, str) else name_or_node
    if node is None:
        raise ValueError(f"{name_or_node}: no such node")
    if isinstance(node, Group) and node.Class() not in WRITING_CLASSES:
        inside = [n for n in allNodes(group=node, recurseGroups=True) if n.Class() in WRITING_CLASSES]
        if not inside:
            raise ValueError(f"{node.fullName()}: not executable (no Write inside)")
        for writer in inside:
            execute(writer, start, end, incr, views, continueOnError)
        return
    if node.Class() not in WRITING_CLASSES:
        raise ValueError(f"{node.fullName()}: {node.Class()} is not executable")
    try:
        _run(beforeRenders, node._d)
    except Exception as exc:  # reference guide: "If they throw an exception, the render aborts"
        raise RuntimeError(str(exc)) from exc
    end = start if end is None else end
    for frame in range(start, end + 1, incr):
        target = str(node["file"].value()).replace("####", f"{frame:04d}")
        if "%04d" in target:
            target = target % frame
        if not target:
            raise RuntimeError(f"{node.fullName()}: no file name")
        if node.Class() == "WriteGeo":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text("# fake geometry\n", encoding="utf-8")
        else:
            _write_exr(Path(target), _header_of(node))
        rendered.append(target)


def executeMultiple(nodes: Any, ranges: Any = ((1, 1, 1),), views: Any = None, continueOnError: bool = False) -> None:
    """nuke.executeMultiple(nodes, ranges): every node's beforeRender runs before any frame is written."""
    first, last, step = ranges[0]
    for node in nodes:
        execute(node, first, last, step, views, continueOnError)


def _header_of(node: Node) -> dict[str, str]:
    mode_knob = node.knob("metadata")
    mode = WRITE_METADATA_MODES.index(mode_knob.value()) if mode_knob is not None else 1
    header: dict[str, str] = {}
    for key, value in node.metadata().items():
        if key.startswith("exr/") and mode >= 2:
            header[key[4:]] = str(value)
        elif mode == 4 or (mode == 3 and not key.startswith("input/")):
            header[key] = str(value)
    return header


def _file_metadata(pattern: str) -> dict[str, str]:
    """A Read's metadata from its file: an OpenEXR header's string attributes as ``exr/<name>`` (Nuke guide,
    "Viewing File Metadata": header fields appear with the file format as prefix). First frame only."""
    import glob
    import re

    if not pattern:
        return {}
    found = sorted(glob.glob(re.sub(r"#+|%0?\d*d", "*", pattern))) if re.search(r"#+|%0?\d*d", pattern) else [pattern]
    if not found or not found[0].lower().endswith(".exr"):
        return {}
    try:
        data = Path(found[0]).read_bytes()[:65536]
    except OSError:
        return {}
    if data[:4] != b"\x76\x2f\x31\x01":
        return {}
    out: dict[str, str] = {}
    pos = 8
    while pos < len(data) and data[pos] != 0:
        name_end = data.index(b"\0", pos)
        kind_end = data.index(b"\0", name_end + 1)
        name, kind = data[pos:name_end].decode(), data[name_end + 1 : kind_end].decode()
        (size,) = struct.unpack("<i", data[kind_end + 1 : kind_end + 5])
        payload = data[kind_end + 5 : kind_end + 5 + size]
        if kind == "string":
            out[f"exr/{name}"] = payload.decode("utf-8", errors="replace")
        pos = kind_end + 5 + size
    return out


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
