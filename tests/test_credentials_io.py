"""How signing moves bytes: the kernel copy after a rewritten header, the C2PA library reading files through
the C library (no Python per read), and sidecars signed over a hash Clearance computes. Each fast path must
write what the portable path writes: the same manifest content, read back valid by c2pa-python's Reader."""

from __future__ import annotations

import io
import json
import platform
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import credentials_media as media
import pytest
from publish_fixtures import record_data, write_policy, write_record
from test_credentials import COMPOSITE, SIGNER, TRAINED, actions, disclosure, read, run

from clearance.credentials import detached, fileio
from clearance.errors import ClearanceError

PATHS = {
    "fast": {},
    "portable": {"CLEARANCE_C2PA_PYTHON_STREAMS": "1", "CLEARANCE_C2PA_LIBRARY_HASH": "1"},
    "direct-files-library-hash": {"CLEARANCE_C2PA_LIBRARY_HASH": "1"},  # a sidecar's sink is then /dev/null
}


MAKERS: dict[str, Callable[[Path], Path]] = {
    "jpg": media.still, "png": media.still, "mp4": media.movie, "wav": media.sound, "exr": media.exr, "dpx": media.dpx,
}


@pytest.fixture
def identity(clearance_home: Path) -> Path:
    assert run("credentials", "init") == 0
    return clearance_home / "credentials"


@pytest.fixture
def notify_record(tmp_path: Path) -> Path:
    data = record_data("notify")
    data["tool"]["version"] = "Image 3"
    write_record(tmp_path / "notify.yaml", data)
    return tmp_path / "notify.yaml"


@pytest.fixture
def io_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in PATHS[request.param].items():
        monkeypatch.setenv(name, value)
    fileio._native_api.cache_clear()
    detached._calls.cache_clear()
    yield str(request.param)
    monkeypatch.undo()
    fileio._native_api.cache_clear()
    detached._calls.cache_clear()


def _content(manifest: dict[str, Any]) -> tuple[Any, ...]:
    acts = [{k: v for k, v in a.items() if k != "parameters" or "ingredientIds" not in v} for a in actions(manifest)]
    uses = disclosure(manifest)
    return json.dumps(acts, sort_keys=True), json.dumps(uses, sort_keys=True), manifest.get("title")


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")),
                    reason="the direct file path is used on 64-bit Linux only")
def test_the_fast_paths_are_the_ones_in_use_here() -> None:
    fileio._native_api.cache_clear()
    detached._calls.cache_clear()
    assert fileio.native_streams(), "64-bit Linux with this c2pa-python must hand files to the library directly"
    assert detached.available(), "this c2pa-python must offer the data-hashed calls"


@pytest.mark.parametrize("io_path", list(PATHS), indirect=True)
@pytest.mark.parametrize("kind", ["jpg", "png", "mp4", "wav", "exr", "dpx"])
def test_each_path_writes_a_valid_manifest_with_the_same_content(
        io_path: str, kind: str, identity: Path, tmp_path: Path, notify_record: Path) -> None:
    if io_path == "portable":
        assert not fileio.native_streams() and not detached.available()
    source = MAKERS[kind](tmp_path / f"shot.{kind}")
    before = source.read_bytes()
    assert run("credentials", "sign", source, "--record", notify_record, "--composite") == 0
    assert source.read_bytes() == before, "the original is never touched"
    if kind in ("exr", "dpx"):
        signed = tmp_path / ("shot.signed.exr" if kind == "exr" else "shot.dpx")
        sidecar = signed.with_suffix(".c2pa")
        state, manifest, _ = read(signed, sidecar)
    else:
        signed = tmp_path / f"shot.signed.{kind}"
        state, manifest, _ = read(signed)
    assert state == "Valid", (io_path, kind)
    assert [a["digitalSourceType"] for a in actions(manifest)] == [COMPOSITE]
    assert disclosure(manifest)["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"


def test_both_paths_agree_on_the_manifest(identity: Path, tmp_path: Path, notify_record: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    contents = {}
    for name, env in PATHS.items():
        for key in ("CLEARANCE_C2PA_PYTHON_STREAMS", "CLEARANCE_C2PA_LIBRARY_HASH"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        fileio._native_api.cache_clear()
        detached._calls.cache_clear()
        folder = tmp_path / name
        folder.mkdir()
        for kind, make in MAKERS.items():
            source = make(folder / f"shot.{kind}")
            assert run("credentials", "sign", source, "--record", notify_record) == 0
            signed = folder / (f"shot.signed.{kind}" if kind != "dpx" else "shot.dpx")
            state, manifest, _ = read(signed, signed.with_suffix(".c2pa") if kind in ("exr", "dpx") else None)
            assert state == "Valid"
            contents[(name, kind)] = _content(manifest)
    fileio._native_api.cache_clear()
    detached._calls.cache_clear()
    for kind in MAKERS:
        assert contents[("fast", kind)] == contents[("portable", kind)] == contents[("direct-files-library-hash", kind)]
        assert json.loads(contents[("fast", kind)][0])[0]["digitalSourceType"] == TRAINED


def test_a_sidecar_that_does_not_match_the_file_is_refused(identity: Path, tmp_path: Path,
                                                           notify_record: Path) -> None:
    source = media.dpx(tmp_path / "sh010.1001.dpx")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    manifest = (tmp_path / "sh010.1001.c2pa").read_bytes()
    detached.check(source, manifest)  # the file it was signed for
    data = bytearray(source.read_bytes())
    data[-1] ^= 0x01
    changed = tmp_path / "changed.dpx"
    changed.write_bytes(bytes(data))
    with pytest.raises(ClearanceError, match="does not validate against the file"):
        detached.check(changed, manifest)


@pytest.mark.parametrize("io_path", list(PATHS), indirect=True)
def test_a_damaged_file_fails_in_one_line_on_either_path(io_path: str, identity: Path, tmp_path: Path,
                                                         notify_record: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\xff" * 64)
    assert run("credentials", "sign", broken, "--record", notify_record, "--composite") != 0
    err = capsys.readouterr().err
    assert "broken.mp4" in err and "Traceback" not in err
    assert not (tmp_path / "broken.signed.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_copy_rest_copies_from_both_positions(tmp_path: Path) -> None:
    data = bytes(range(256)) * 20_000
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    with open(source, "rb") as src, open(tmp_path / "out.bin", "w+b") as dst:
        src.read(1000)  # a buffered reader ahead of its descriptor
        dst.write(b"HEADER")
        fileio.copy_rest(src, dst)
        assert src.read() == b"" and dst.tell() == 6 + len(data) - 1000
        dst.write(b"TAIL")
    assert (tmp_path / "out.bin").read_bytes() == b"HEADER" + data[1000:] + b"TAIL"
    memory_in, memory_out = io.BytesIO(data), io.BytesIO()
    memory_in.seek(7)
    fileio.copy_rest(memory_in, memory_out)  # no descriptors: copied through a buffer
    assert memory_out.getvalue() == data[7:]


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * ((1 << 20) * 2 + 17))
    assert detached.sha256_of(path) == hashlib.sha256(path.read_bytes()).digest()


@pytest.mark.parametrize("io_path", list(PATHS), indirect=True)
def test_an_external_signer_signs_a_sidecar_and_its_failure_writes_nothing(
        io_path: str, identity: Path, tmp_path: Path, notify_record: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "signer.py"
    script.write_text(SIGNER, encoding="utf-8")
    policy = write_policy(tmp_path / "policy.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"),
        "signer_command": [sys.executable, str(script), str(identity / "signer-key.pem")],
    })
    source = media.exr(tmp_path / "hsm.exr")
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", policy) == 0
    assert read(tmp_path / "hsm.signed.exr", tmp_path / "hsm.signed.c2pa")[0] == "Valid"
    broken = write_policy(tmp_path / "broken.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"),
        "signer_command": [sys.executable, "-c", "import sys; sys.exit('HSM offline')"]})
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", broken, "-o",
               tmp_path / "x.exr") == 2
    assert "HSM offline" in capsys.readouterr().err
    assert not (tmp_path / "x.exr").exists() and not (tmp_path / "x.c2pa").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
