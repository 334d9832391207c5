"""Build the Blender extension zips that install with nothing else: the extension plus its wheels.

Blender's own way (Blender manual, "Extensions > Getting started" and "Python Wheels"): the extension's
``blender_manifest.toml`` lists wheel files under ``wheels = [...]`` and the platforms it supports under
``platforms = [...]``; Blender installs those wheels into its extensions' ``.local`` site-packages when
the zip is installed (``Install from Disk``, ``blender --command extension install-file`` or
``bpy.ops.extensions.package_install_files``). One zip per platform, as ``extension build
--split-platforms`` makes them, so each carries only its own compiled wheels.

The wheels come from one of two places:
- ``pip download`` (the default): the Clearance wheel built here plus its dependencies from PyPI, for each
  platform, as binary wheels for Blender's Python (3.11 in Blender 4.2-5.0);
- ``--from-env``: the Python running this command, repacked into wheels (the Clearance package and the
  installed dependencies, exactly as installed). Only for the platform and Python version running it; no
  network at all (the test suite builds its zip this way).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from clearance.errors import ClearanceError

PLATFORMS: dict[str, tuple[str, ...]] = {
    # Blender platform name -> pip platform tags for `pip download --platform`
    "linux-x64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_11_0_arm64", "macosx_12_0_arm64", "macosx_14_0_arm64"),
    "macos-x64": ("macosx_10_12_x86_64", "macosx_10_13_x86_64", "macosx_10_9_x86_64"),
}
DEFAULT_PYTHON = "3.11"
EXCLUDED = ("__pycache__", ".pyc", "/wheels/")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _record_line(path: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [path, f"sha256={digest}", str(len(data))]


def _write_wheel(out: Path, name: str, version: str, tag: str, files: Iterable[tuple[str, bytes]],
                 info: dict[str, bytes]) -> Path:
    dist_info = f"{_normal(name)}-{version}.dist-info"
    target = out / f"{_normal(name)}-{version}-{tag}.whl"
    record: list[list[str]] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as whl:
        for arc, data in files:
            whl.writestr(arc, data)
            record.append(_record_line(arc, data))
        for leaf, data in info.items():
            whl.writestr(f"{dist_info}/{leaf}", data)
            record.append(_record_line(f"{dist_info}/{leaf}", data))
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([*record, [f"{dist_info}/RECORD", "", ""]])
        whl.writestr(f"{dist_info}/RECORD", text.getvalue())
    return target


def _checkout() -> Path:
    import clearance

    return Path(clearance.__file__).resolve().parents[2]


def core_requirements() -> list[str]:
    """The core's own dependencies (no extras): from the checkout's pyproject.toml, else installed metadata."""
    pyproject = _checkout() / "pyproject.toml"
    if pyproject.is_file() and sys.version_info >= (3, 11):
        import tomllib

        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    return [r for r in metadata.requires("clearance") or [] if "extra ==" not in r]


def clearance_wheel(out: Path) -> Path:
    """The Clearance package as a pure-Python wheel, with the Pyblish plugins inside the package (Blender
    installs only a wheel's purelib/platlib, never its data files)."""
    import clearance

    package = Path(clearance.__file__).resolve().parent
    files: list[tuple[str, bytes]] = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package.parent).as_posix()
        if path.is_file() and not any(x in "/" + rel for x in EXCLUDED):
            files.append((rel, path.read_bytes()))
    plugins = _checkout() / "pyblish_plugins"
    for path in sorted(plugins.glob("*.py")):
        files.append((f"clearance/pyblish_plugins/{path.name}", path.read_bytes()))
    version = metadata.version("clearance")
    requires = "".join(f"Requires-Dist: {r}\n" for r in core_requirements())
    info = {
        "METADATA": f"Metadata-Version: 2.1\nName: clearance\nVersion: {version}\nRequires-Python: >=3.10\n{requires}"
        .encode(),
        "WHEEL": b"Wheel-Version: 1.0\nGenerator: clearance install blender --build\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    return _write_wheel(out, "clearance", version, "py3-none-any", files, info)


def _closure(requirements: list[str]) -> list[metadata.Distribution]:
    """Installed distributions the requirements need here (markers evaluated for this Python)."""
    from packaging.requirements import Requirement

    seen: dict[str, metadata.Distribution] = {}
    todo = list(requirements)
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = _normal(req.name)
        if key in seen:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise ClearanceError(
                f"--from-env: {req.name} (needed by the Clearance core) is not installed in {sys.prefix}; "
                "install clearance there first, or build without --from-env"
            ) from None
        seen[key] = dist
        todo.extend(dist.requires or [])
    return list(seen.values())


def repack(dist: metadata.Distribution, out: Path) -> Path:
    """An installed distribution back into a wheel, from its RECORD and WHEEL tag."""
    name, version = dist.metadata["Name"], dist.version
    wheel_text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_text.splitlines() if line.startswith("Tag:")]
    files: list[tuple[str, bytes]] = []
    info: dict[str, bytes] = {}
    for entry in dist.files or []:
        rel = entry.as_posix()
        if rel.startswith("..") or any(x in "/" + rel for x in EXCLUDED):
            continue  # console scripts and byte code are not part of what a wheel installs into site-packages
        path = Path(str(dist.locate_file(entry)))
        if not path.is_file():
            continue
        if rel.split("/", 1)[0].endswith(".dist-info"):
            leaf = rel.split("/", 1)[1]
            if leaf not in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
                info[leaf] = path.read_bytes()
            continue
        files.append((rel, path.read_bytes()))
    if not tags:
        compiled = any(arc.endswith((".so", ".pyd", ".dylib")) for arc, _ in files)
        if compiled:
            raise ClearanceError(f"--from-env: {name} {version} has no WHEEL tag and holds compiled code; reinstall it")
        tags = ["py3-none-any"]
    info.setdefault("WHEEL", wheel_text.encode())
    # a py2.py3 wheel lists both tags: name it by the Python 3 one (Blender skips wheels tagged py2 only)
    tag = next((t for t in tags if re.match(r"(py3|cp3)", t)), tags[0])
    return _write_wheel(out, name, version, tag, files, info)


def wheels_from_env(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    wheels = [clearance_wheel(out)]
    for dist in _closure(core_requirements()):
        if _normal(dist.metadata["Name"]) != "clearance":
            wheels.append(repack(dist, out))
    return wheels


def wheels_from_pypi(out: Path, platform: str, python: str = DEFAULT_PYTHON) -> list[Path]:
    """The Clearance wheel plus binary wheels of its dependencies for ``platform``, from PyPI (pip download)."""
    out.mkdir(parents=True, exist_ok=True)
    own = clearance_wheel(out)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--implementation", "cp", "--python-version", python, "-d", str(out)]
    for tag in PLATFORMS[platform]:
        command += ["--platform", tag]
    done = subprocess.run([*command, str(own)], capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ClearanceError(f"pip download for {platform} (Python {python}) failed: {last}")
    return sorted(out.glob("*.whl"))


def manifest_with(manifest: str, wheels: list[str], platform: str) -> str:
    """The extension's manifest with its ``wheels`` and ``platforms`` set (any earlier ones replaced)."""
    kept = [line for line in manifest.splitlines() if not re.match(r"\s*(wheels|platforms)\s*=", line)]
    block = ["", f'platforms = ["{platform}"]', "wheels = ["] + [f'  "./wheels/{w}",' for w in wheels] + ["]"]
    # top-level keys must come before the first [table]
    first_table = next((i for i, line in enumerate(kept) if line.startswith("[")), len(kept))
    return "\n".join(kept[:first_table] + block + [""] + kept[first_table:]) + "\n"


def build_zip(source: Path, wheels: list[Path], platform: str, out: Path) -> Path:
    manifest = (source / "blender_manifest.toml").read_text(encoding="utf-8")
    version = re.search(r'^version\s*=\s*"([^"]+)"', manifest, re.M)
    ext_id = re.search(r'^id\s*=\s*"([^"]+)"', manifest, re.M)
    if version is None or ext_id is None:
        raise ClearanceError(f"{source / 'blender_manifest.toml'}: no id or version; fix the manifest")
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{ext_id.group(1)}-{version.group(1)}-{platform.replace('-', '_')}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source).as_posix()
            if path.is_file() and rel != "blender_manifest.toml" and not any(x in "/" + rel for x in EXCLUDED):
                archive.write(path, rel)
        archive.writestr("blender_manifest.toml", manifest_with(manifest, [w.name for w in wheels], platform))
        for wheel in wheels:
            archive.write(wheel, f"wheels/{wheel.name}")
    return target


def current_platform() -> str:
    import platform as platform_module

    machine = platform_module.machine().lower()
    arch = "arm64" if machine in ("arm64", "aarch64") else "x64"
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")
    return f"{system}-{arch}"


def build(source: Path, out: Path, platforms: list[str] | None = None, from_env: bool = False,
          python: str = DEFAULT_PYTHON) -> list[Path]:
    """Build one zip per platform into ``out``; returns the zips."""
    import tempfile

    if from_env:
        here = current_platform()
        if platforms and platforms != [here]:
            raise ClearanceError(f"--from-env builds only for this machine ({here}), not {', '.join(platforms)}")
        platforms = [here]
    platforms = platforms or list(PLATFORMS)
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise ClearanceError(f"--build-platform {unknown[0]}: expected one of {', '.join(PLATFORMS)}")
    zips = []
    for platform in platforms:
        with tempfile.TemporaryDirectory(prefix="clearance-wheels-") as tmp:
            wheels = wheels_from_env(Path(tmp)) if from_env else wheels_from_pypi(Path(tmp), platform, python)
            zips.append(build_zip(source, sorted(wheels), platform, out))
    return zips
