"""`clearance install nuke|blender|resolve`: real installs into a temporary home, per-OS plans, and the
installed integrations starting in a bare Python (no site-packages) that finds the core on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from nuke_fixtures import FAKE_NUKE, ROOT

from clearance.cli.main import main
from clearance.hosts import install

FAKE_RESOLVE = ROOT / "tests" / "fakes" / "DaVinciResolveScript"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return home


def _cli(*args: str) -> int:
    return main(["install", *args])


def test_nuke_install_copies_the_plugin_and_adds_one_init_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init = home / ".nuke" / "init.py"
    init.parent.mkdir()
    init.write_text("nuke.pluginAddPath('./gizmos')", encoding="utf-8")  # the artist's own, no final newline
    assert _cli("nuke") == 0
    out = capsys.readouterr().out
    dest = home / ".nuke" / "clearance"
    assert f"copied {ROOT / 'plugins' / 'nuke'} -> {dest}" in out and f"added a line to {init}" in out
    assert (dest / "init.py").is_file() and (dest / "menu.py").is_file() and (dest / "clearance_nuke").is_dir()
    assert not list(dest.rglob("__pycache__"))
    assert (dest / "core_path.txt").read_text(encoding="utf-8").splitlines() == install.core_paths()
    lines = init.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "nuke.pluginAddPath('./gizmos')"
    assert lines[1:] == ["import nuke", install.nuke_init_line(dest)]
    assert _cli("nuke") == 0
    assert "already loads Clearance: left unchanged" in capsys.readouterr().out
    assert init.read_text(encoding="utf-8").splitlines() == lines, "a second install adds nothing"


def test_dry_run_changes_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for host in ("nuke", "blender", "resolve"):
        assert _cli(host, "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.count("(dry run: nothing changed)") == 3 and "would copy" in out and "would add a line" in out
    assert list(home.rglob("*")) == []


def test_install_refuses_to_replace_someone_elses_folder(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = home / "tools" / "clearance"
    dest.mkdir(parents=True)
    (dest / "precious.txt").write_text("keep", encoding="utf-8")
    assert _cli("nuke", "--dest", str(dest)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"clearance: error: {dest} exists and was not installed by Clearance: move it away or choose another --dest"
    ]
    assert (dest / "precious.txt").read_text(encoding="utf-8") == "keep"


def test_link_install_points_at_the_checkout_and_writes_nothing_into_it(home: Path) -> None:
    before = sorted(p.name for p in (ROOT / "plugins" / "nuke").iterdir())
    assert _cli("nuke", "--link") == 0
    dest = home / ".nuke" / "clearance"
    assert dest.is_symlink() and dest.resolve() == (ROOT / "plugins" / "nuke").resolve()
    assert sorted(p.name for p in (ROOT / "plugins" / "nuke").iterdir()) == before
    pointer = home / ".nuke" / "clearance_core_path.txt"
    assert pointer.read_text(encoding="utf-8").splitlines() == install.core_paths()
    code = (
        "import runpy, nuke\n"
        f"exec(open({str(home / '.nuke' / 'init.py')!r}).read())\n"
        "runpy.run_path(nuke.pluginPath()[0] + '/init.py')\n"
        "import clearance_nuke.boot as boot\n"
        "print('loaded', boot._initialised)\n"
    )
    done = _bare_python(code, [FAKE_NUKE], home)
    assert done.returncode == 0 and "loaded True" in done.stdout, done.stdout + done.stderr


def test_other_os_only_as_a_dry_run(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli("resolve", "--platform", "win32") == 2
    assert "only a --dry-run" in capsys.readouterr().err


def _bare_python(code: str, pythonpath: list[Path], home: Path) -> subprocess.CompletedProcess[str]:
    """A Python without site-packages (-S), like a host's own interpreter: only what the install set up."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(map(str, pythonpath)),
        "HOME": str(home),
        "CLEARANCE_HOME": str(home / "clearance-home"),
    }
    return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_installed_nuke_plugin_starts_and_finds_the_core_on_its_own(home: Path) -> None:
    assert _cli("nuke") == 0
    code = (
        "import nuke\n"
        "nuke.fake_startup()  # a render node: ~/.nuke/init.py, whose pluginAddPath runs the plugin's init.py\n"
        "import clearance, clearance_nuke\n"
        "print('core', clearance.__file__)\n"
        "print('plugin', clearance_nuke.__file__)\n"
        "print('callbacks', len(nuke.beforeRenders.get('*', [])))\n"
    )
    done = _bare_python(code, [FAKE_NUKE], home)
    assert done.returncode == 0, done.stderr
    assert "Clearance: not loaded" not in done.stdout, done.stdout
    assert f"plugin {home / '.nuke' / 'clearance' / 'clearance_nuke' / '__init__.py'}" in done.stdout
    assert "callbacks 1" in done.stdout


def test_installed_resolve_scripts_run_in_resolves_python(home: Path, tmp_path: Path) -> None:
    assert _cli("resolve") == 0
    edit = home / ".local" / "share" / "DaVinciResolve" / "Fusion" / "Scripts" / "Edit"
    script = edit / "Clearance Check.py"
    assert script.is_file() and (edit / "Clearance Tag.py").is_file()
    assert "CLEARANCE_PATHS = []" not in script.read_text(encoding="utf-8")
    code = (
        "import DaVinciResolveScript as dvr\n"
        "app = dvr.fake_reset()\n"
        "timeline = dvr.Timeline('Reel 9')\n"
        "app.GetProjectManager().GetCurrentProject().timeline = timeline\n"
        "timeline.fake_add_clip('sh010', 24, path='/media/sh010.mov')\n"
        f"scope = {{'resolve': app, 'bmd': dvr}}\n"
        f"exec(compile(open({str(script)!r}).read(), 'Clearance Check.py', 'exec'), scope)\n"
        "print('exit', scope['_clearance_exit'])\n"
    )
    done = _bare_python(code, [FAKE_RESOLVE], home)
    assert done.returncode == 0, done.stderr
    assert "Clearance check of 'Reel 9': DELIVERABLE" in done.stdout, done.stdout
    assert "exit 0" in done.stdout


def test_blender_install_picks_the_newest_supported_version(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for version in ("4.1", "4.2", "5.0", "scripts"):
        (home / ".config" / "blender" / version).mkdir(parents=True)
    assert _cli("blender") == 0
    base = home / ".config" / "blender" / "5.0"
    ext = base / "extensions" / "user_default" / "clearance"
    assert (ext / "blender_manifest.toml").is_file() and (ext / "__init__.py").is_file()
    startup = base / "scripts" / "startup" / "clearance_core_path.py"
    text = startup.read_text(encoding="utf-8")
    assert repr(install.core_paths()) in text
    compile(text, str(startup), "exec")
    out = capsys.readouterr().out
    assert "blender --command extension install-file -r user_default" in out
    assert _cli("blender", "--blender-version", "five") == 2


@pytest.mark.parametrize(
    ("platform", "env", "nuke", "blender", "resolve"),
    [
        (
            "linux",
            {},
            "/home/ed/.nuke/clearance",
            "/home/ed/.config/blender/5.0/extensions/user_default/clearance",
            "/home/ed/.local/share/DaVinciResolve/Fusion/Scripts/Edit",
        ),
        (
            "darwin",
            {},
            "/Users/ed/.nuke/clearance",
            "/Users/ed/Library/Application Support/Blender/5.0/extensions/user_default/clearance",
            "/Users/ed/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts/Edit",
        ),
        (
            "win32",
            {"APPDATA": r"C:\Users\ed\AppData\Roaming", "USERPROFILE": r"C:\Users\ed"},
            r"C:\Users\ed\.nuke\clearance",
            r"C:\Users\ed\AppData\Roaming\Blender Foundation\Blender\5.0\extensions\user_default\clearance",
            r"C:\Users\ed\AppData\Roaming\Blackmagic Design\DaVinci Resolve\Support\Fusion\Scripts\Edit",
        ),
    ],
)
def test_where_each_host_looks_on_each_os(
    platform: str, env: dict[str, str], nuke: str, blender: str, resolve: str
) -> None:
    home = {"linux": "/home/ed", "darwin": "/Users/ed", "win32": r"C:\Users\ed"}[platform]
    envr = install.Environment(platform=platform, home=home, env=env)  # type: ignore[arg-type]
    plugins = ROOT / "plugins"
    nuke_plan = install.plan_nuke(envr, plugins / "nuke")
    assert nuke_plan.destination == nuke
    assert nuke_plan.steps[-1].target == str(envr.path(nuke).parent / "init.py")
    assert install.plan_blender(envr, plugins / "blender", version="5.0").destination == blender
    resolve_plan = install.plan_resolve(envr, plugins / "resolve")
    assert resolve_plan.destination == resolve
    assert [s.target for s in resolve_plan.steps[1:]] == [
        str(envr.path(resolve, "Clearance Tag.py")),
        str(envr.path(resolve, "Clearance Check.py")),
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["blender", "--build", "--build-platform", "amiga-68k"], "expected one of linux-x64"),
        (["nuke", "--build"], "only the Blender extension is built"),
        (["blender", "--build", "--from-env", "--build-platform", "windows-x64"], "only for this machine"),
    ],
)
def test_build_refuses_what_it_cannot_build_in_one_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    assert _cli(*args, "--dest", str(tmp_path / "dist")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
    assert not (tmp_path / "dist").exists()
