"""The repository stands alone: vendored data complete with licences, no test reading outside the repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from vendored import LICENCES, TEST_DATA, VENDORED, missing_files

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# A path that climbs out of the checkout (to the data folder beside it, parents[2], parent.parent.parent)
# or names the workspace's data folder directly.
OUTSIDE = re.compile(r"""\.\./shared|["']shared["']|parents\[[2-9]\]|parent\.parent\.parent""")


def test_every_vendored_file_and_licence_is_present() -> None:
    assert missing_files() == []
    for folder in VENDORED:
        on_disk = {p.name for p in (TEST_DATA / folder).iterdir() if p.is_file()}
        assert on_disk == set(VENDORED[folder]) | set(LICENCES[folder]), folder


def test_the_data_readme_names_every_file_and_licence() -> None:
    readme = (TEST_DATA / "README.md").read_text(encoding="utf-8")
    for folder, names in VENDORED.items():
        for name in (*names, *LICENCES[folder]):
            assert Path(name).stem in readme, f"tests/data/README.md does not mention {folder}/{name}"


def test_no_test_or_bench_reads_outside_the_repository() -> None:
    offenders = []
    for folder in (TESTS, ROOT / "bench"):
        for path in folder.rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_example_studio_policy_is_the_packaged_one() -> None:
    import yaml

    from clearance.examples import studio_policy_path

    shipped = yaml.safe_load((ROOT / "examples" / "studio_policy.yaml").read_text(encoding="utf-8"))
    packaged = yaml.safe_load(Path(studio_policy_path()).read_text(encoding="utf-8"))
    assert shipped == packaged


def test_the_example_plates_are_vendored_files_with_their_licences() -> None:
    plates = ROOT / "examples" / "plates"
    provenance = TEST_DATA / "provenance"
    sources = {"sh010_street_extension.jpg": "ocsp.jpg", "sh020_harbour.jpg": "no_manifest.jpg",
               "sh030_title_card.png": "libpng-test.png"}
    for plate, source in sources.items():
        assert (plates / plate).read_bytes() == (provenance / source).read_bytes(), plate
    for licence in ("LICENSE-c2pa-MIT", "LICENSE-c2pa-APACHE"):
        assert (plates / licence).read_bytes() == (provenance / licence).read_bytes()


def test_licence_file_is_the_apache_licence_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a pointer to it
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_version_is_written_in_one_place() -> None:
    import tomllib

    import clearance

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "clearance.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", clearance.__version__)
    # Blender reads its manifest without running Python, so the version is copied there; keep it equal.
    manifest = tomllib.loads((ROOT / "plugins" / "blender" / "blender_manifest.toml").read_text(encoding="utf-8"))
    assert manifest["version"] == clearance.__version__


def test_the_public_api_is_lazy_and_complete() -> None:
    import subprocess
    import sys

    import clearance

    for name in clearance.__all__:
        assert getattr(clearance, name) is not None, name
    assert clearance.__all__ == sorted(clearance.__all__)
    with pytest.raises(AttributeError):
        _ = clearance.no_such_name  # type: ignore[attr-defined]
    heavy = "('pydantic', 'yaml', 'opentimelineio')"
    probe = f"import sys, clearance; print(sorted(m for m in {heavy} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "core")})
    assert run.stdout.strip() == "[]"  # `import clearance` alone loads none of the heavy dependencies
    documented = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    for name in clearance.__all__:
        assert f"`{name}" in documented, f"docs/python-api.md does not describe {name}"


def test_the_python_api_page_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import io

    monkeypatch.chdir(ROOT)
    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    out = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        for block in re.findall(r"```python\n(.*?)```", page, flags=re.S):
            exec(compile(block, "docs/python-api.md", "exec"), namespace)
    printed = out.getvalue().split()
    for expected in ("approval_required", "missing", "ai_generated", "blocked"):
        assert expected in printed, out.getvalue()


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    names: set[str] = set()
    quoted = re.compile(r"""["'](CLEARANCE_[A-Z0-9_]+)["']""")
    for folder in ("core", "plugins", "pyblish_plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(quoted.findall(path.read_text(encoding="utf-8")))
    names = {n for n in names if not n.startswith(("CLEARANCE_PT_", "CLEARANCE_OT_", "CLEARANCE_MT_"))}
    assert {"CLEARANCE_SERVER", "CLEARANCE_TOKEN", "CLEARANCE_POLICY", "CLEARANCE_HOME"} <= names
    page = (ROOT / "docs" / "environment.md").read_text(encoding="utf-8")
    assert sorted(n for n in names if f"`{n}`" not in page) == []


def test_the_contracts_the_code_cites_are_in_the_repository() -> None:
    for page in ("policy.md", "use-record.md"):
        assert (ROOT / "docs" / "spec" / page).is_file()
    cited = re.compile(r"(?<![\w/])(?:docs/spec/)?(policy|use-record)\.md")
    for path in (ROOT / "core" / "clearance").rglob("*.py"):
        for match in cited.finditer(path.read_text(encoding="utf-8")):
            assert (ROOT / "docs" / "spec" / f"{match.group(1)}.md").is_file(), path
