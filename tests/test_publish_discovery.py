"""Strict discovery: every Clearance plugin file is discovered; a file pyblish would skip fails publish loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyblish.api
import pytest
from publish_fixtures import (
    PLUGINS,
    errors,
    pyblish_env,  # noqa: F401 - fixture
    ran,
    record_data,
    run_publish,
    write_manifest,
    write_policy,
    write_record,
)

from clearance.cli.main import main
from clearance.policy import load_policy
from clearance.pyblish import discovery, register

HOSTS = ("standalone", "nuke", "blender", "resolve", "editorial")


def _plugin_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def _work(tmp_path: Path) -> tuple[Path, Path]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "plate.exr").write_bytes(b"plate")
    write_record(work / "records" / "r.yaml", record_data("notify"))
    manifest = write_manifest(work, [{"name": "plate", "files": ["plate.exr"], "records": ["records/r.yaml"]}])
    return work, manifest


def test_every_plugin_file_is_discovered(pyblish_env: Path) -> None:  # noqa: F811
    for host in HOSTS:
        pyblish.api.register_host(host)
    discovered = pyblish.api.discover()
    files = {Path(p.__module__).name for p in discovered if str(p.__module__).endswith(".py")}
    expected = {p.name for p in _plugin_files(PLUGINS)}
    assert expected and expected <= files, f"not discovered: {expected - files}"
    assert discovery.check(discovered) == []


def _copy_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "plugins"
    shutil.copytree(PLUGINS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / name).write_text(text, encoding="utf-8")
    return folder


BROKEN = "import pyblish.api\nimport studio_module_that_is_not_installed\n"
FUTURE_DATACLASS = '''from __future__ import annotations

from dataclasses import dataclass

import pyblish.api


@dataclass
class Shot:
    code: str


class ValidateStudioShot(pyblish.api.ContextPlugin):
    order = pyblish.api.ValidatorOrder

    def process(self, context):
        pass
'''


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("validate_broken.py", BROKEN, "No module named 'studio_module_that_is_not_installed'"),
    ("validate_future.py", FUTURE_DATACLASS, "from __future__ import annotations"),
    ("helpers.py", "SHOTS = ['sh010']\n", "defines no Pyblish plugin"),
])
def test_a_plugin_file_pyblish_skips_fails_publish_loudly(
    pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    name: str, text: str, expected: str,
) -> None:
    folder = _copy_with(tmp_path, name, text)
    monkeypatch.setenv("PYBLISHPLUGINPATH", str(folder))
    # pyblish itself skips the broken file silently ...
    assert not any(str(p.__module__).endswith(name) for p in pyblish.api.discover())
    _, manifest = _work(tmp_path)
    context = run_publish(manifest)
    failed = errors(context)
    assert "ValidateClearanceSetup" in failed
    message = str(failed["ValidateClearanceSetup"])
    assert str(folder / name) in message and expected in message
    assert "ExtractClearanceDisclosure" not in ran(context)
    assert not (tmp_path / "publish").exists()


def test_cli_names_the_broken_file_and_exits_1(
    pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    folder = _copy_with(tmp_path, "validate_broken.py", BROKEN)
    monkeypatch.setenv("PYBLISHPLUGINPATH", str(folder))
    _, manifest = _work(tmp_path)
    assert main(["publish", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert "Clearance publish set-up is broken" in out and "validate_broken.py" in out
    assert not (tmp_path / "publish").exists()


def test_broken_setup_validator_still_blocks(
    pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Even the set-up check's own file failing: register()'s filter adds a stand-in that fails."""
    folder = _copy_with(tmp_path, "validate_clearance_setup.py", "raise ImportError('studio patch went wrong')\n")
    monkeypatch.setenv("PYBLISHPLUGINPATH", str(folder))
    _, manifest = _work(tmp_path)
    # without register(): the extractor refuses because the checks never ran; nothing is written
    context = run_publish(manifest)
    assert "ExtractClearanceDisclosure" in errors(context)
    assert not (tmp_path / "publish").exists()
    # with register(): the publish fails in validation, naming the file
    assert register("standalone") == folder
    context = run_publish(manifest)
    failed = errors(context)
    assert "ClearanceDiscoveryFailed" in failed
    assert "validate_clearance_setup.py" in str(failed["ClearanceDiscoveryFailed"])
    assert "ExtractClearanceDisclosure" not in ran(context)


def test_register_adds_the_bundled_folder_and_host(pyblish_env: Path, tmp_path: Path,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYBLISHPLUGINPATH")
    pyblish.api.deregister_host("standalone")
    assert not discovery.clearance_paths()
    folder = register("standalone")
    assert folder.resolve() == PLUGINS.resolve()
    assert "standalone" in pyblish.api.registered_hosts()
    assert [p.resolve() for p in discovery.clearance_paths()] == [PLUGINS.resolve()]
    _, manifest = _work(tmp_path)
    policy = load_policy([str(write_policy(tmp_path / "p.yaml"))])
    context = run_publish(manifest, policy)
    assert errors(context) == {}
    assert (tmp_path / "publish" / "clearance-disclosure.json").is_file()


def test_discovering_the_plugins_does_not_load_signing(tmp_path: Path) -> None:
    """A validate discovers every plugin file; signing (c2pa, the file formats), the browser and the spelling
    helper load only when a publish signs, opens a page or names an unknown validator."""
    import os
    import subprocess
    import sys

    probe = (
        "import sys, pyblish.api; pyblish.api.discover(); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('clearance.credentials.', 'webbrowser', "
        "'difflib')))))"
    )
    env = {**os.environ, "PYBLISHPLUGINPATH": str(PLUGINS), "CLEARANCE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    loaded = done.stdout.split()
    assert loaded == ["clearance.credentials.publish"], loaded
