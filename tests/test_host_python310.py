"""The code Nuke and Resolve import must run on Python 3.10 (Nuke 15 ships 3.10; Resolve uses the
system's Python 3.6+, and we support 3.10+), while the project itself is developed on 3.11.

A static check, run by ``./dev test``: every module the Nuke plugin, the Resolve scripts and the core
modules they reach (transitively, including imports inside functions) is parsed with Python 3.10's
grammar (``ast.parse(..., feature_version=(3, 10))``) and searched for standard-library names that
appeared in 3.11 (``tomllib``, ``datetime.UTC``, ``typing.Self`` ...) outside a ``sys.version_info`` guard.
When a ``python3.10`` interpreter is on the machine, each file is also compiled by it.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"
ENTRY_FOLDERS = (ROOT / "plugins" / "nuke", ROOT / "plugins" / "resolve")
NEW_IN_311 = {
    "tomllib": None,
    "wsgiref.types": None,
    "datetime": {"UTC"},
    "typing": {"Self", "LiteralString", "Never", "assert_never", "assert_type", "reveal_type", "Required",
               "NotRequired", "dataclass_transform", "TypeVarTuple", "Unpack"},
    "enum": {"StrEnum", "ReprEnum", "verify", "EnumCheck", "FlagBoundary", "member", "nonmember", "property"},
    "asyncio": {"TaskGroup", "Runner", "timeout"},
    "hashlib": {"file_digest"},
    "operator": {"call"},
}


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside ``if sys.version_info >= (3, 11):`` (or a try: ... except ImportError)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "version_info" in ast.unparse(node.test):
            return True
        if isinstance(node, ast.Try):
            caught = [ast.unparse(h.type) for h in node.handlers if h.type is not None]
            if any("ImportError" in c for c in caught):
                return True
    return False


def problems_in(source: str, name: str) -> list[str]:
    """Why ``source`` would not run on Python 3.10 (empty when it would)."""
    try:
        tree = ast.parse(source, name, feature_version=(3, 10))
    except SyntaxError as exc:
        return [f"{name}:{exc.lineno}: not Python 3.10 syntax: {exc.msg}"]
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in NEW_IN_311 and NEW_IN_311[alias.name] is None and not _guarded(node, parents):
                    found.append(f"{name}:{node.lineno}: module {alias.name} is new in Python 3.11")
        elif isinstance(node, ast.ImportFrom) and node.module in NEW_IN_311:
            names = NEW_IN_311[node.module]
            bad = [a.name for a in node.names if names is None or a.name in names]
            if bad and not _guarded(node, parents):
                found.append(f"{name}:{node.lineno}: {node.module}.{', '.join(bad)} is new in Python 3.11")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = NEW_IN_311.get(node.value.id)
            if names and node.attr in names and not _guarded(node, parents):
                found.append(f"{name}:{node.lineno}: {node.value.id}.{node.attr} is new in Python 3.11")
    return found


def _core_module_file(module: str) -> Path | None:
    path = CORE.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def host_files() -> list[Path]:
    """The plugin files of Nuke and Resolve, and every core module they reach."""
    todo = [p for folder in ENTRY_FOLDERS for p in folder.rglob("*.py")]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for module in modules:
                if module.split(".")[0] != "clearance":
                    continue
                parts = module.split(".")
                for end in range(1, len(parts) + 1):  # the packages' __init__ run too
                    found = _core_module_file(".".join(parts[:end]))
                    if found is not None and found not in seen:
                        todo.append(found)
    return sorted(seen)


def test_the_check_catches_311_only_code() -> None:
    assert problems_in("try:\n    pass\nexcept* ValueError:\n    pass\n", "x.py")
    assert problems_in("import tomllib\n", "x.py")
    assert problems_in("from datetime import UTC\n", "x.py")
    assert problems_in("import datetime\nnow = datetime.UTC\n", "x.py")
    assert problems_in("from typing import Self\n", "x.py")
    assert not problems_in("import sys\nif sys.version_info >= (3, 11):\n    import tomllib\n", "x.py")


def test_what_nuke_and_resolve_import_is_python_310() -> None:
    files = host_files()
    assert any(p.name == "callbacks.py" for p in files) and any(p.name == "record.py" for p in files)
    problems = [line for path in files for line in problems_in(path.read_text(encoding="utf-8"), str(path))]
    assert problems == []


def _python310() -> str | None:
    """A Python 3.10 interpreter on this machine, if any (on PATH, or a pyenv install)."""
    for candidate in [shutil.which("python3.10"), *sorted(Path.home().glob(".pyenv/versions/3.10*/bin/python"))]:
        if candidate is None:
            continue
        done = subprocess.run([str(candidate), "-c", "import sys; print(sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30)
        if done.returncode == 0 and done.stdout.strip() == "(3, 10)":
            return str(candidate)
    return None


@pytest.mark.skipif(_python310() is None, reason="no Python 3.10 on this machine")
def test_python310_itself_compiles_them() -> None:
    files = [str(p) for p in host_files()]
    code = (
        "import sys\n"
        "bad = []\n"
        "for f in sys.argv[1:]:\n"
        "    try:\n"
        "        compile(open(f, encoding='utf-8').read(), f, 'exec')\n"
        "    except SyntaxError as e:\n"
        "        bad.append(f'{f}:{e.lineno}: {e.msg}')\n"
        "print('\\n'.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    python = _python310()
    assert python is not None
    done = subprocess.run([python, "-c", code, *files], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
