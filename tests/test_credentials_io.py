"""How signing moves bytes: the kernel copy after a rewritten header, the C2PA library reading files through
the C library (no Python per read), and sidecars signed over a hash Clearance computes. Each fast path must
write what the portable path writes: the same manifest content, read back valid by c2pa-python's Reader."""

from __future__ import annotations

import io
import json
import platform
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import c2pa
import credentials_media as media
import pytest
from publish_fixtures import write_policy
from test_credentials import COMPOSITE, SIGNER, TRAINED, actions, disclosure, identity, notify_record, read, run

from clearance.credentials import detached, embedding, fileio, signing
from clearance.errors import ClearanceError
from clearance.provenance import scan_file

__all__ = ["identity", "notify_record"]  # the fixtures, imported from test_credentials for this module's tests

PATHS = {
    "fast": {},
    "portable": {"CLEARANCE_C2PA_PYTHON_STREAMS": "1", "CLEARANCE_C2PA_LIBRARY_HASH": "1"},
    "direct-files-library-hash": {"CLEARANCE_C2PA_LIBRARY_HASH": "1"},  # a sidecar's sink is then /dev/null
    "library-embed": {"CLEARANCE_C2PA_LIBRARY_EMBED": "1"},  # JPEG and PNG signed by the library itself
}
SWITCHES = ("CLEARANCE_C2PA_PYTHON_STREAMS", "CLEARANCE_C2PA_LIBRARY_HASH", "CLEARANCE_C2PA_LIBRARY_EMBED")


MAKERS: dict[str, Callable[[Path], Path]] = {
    "jpg": media.still, "png": media.still, "mp4": media.movie, "wav": media.sound, "exr": media.exr, "dpx": media.dpx,
}


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
        for key in SWITCHES:
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
        assert len({contents[(name, kind)] for name in PATHS}) == 1, kind
        assert json.loads(contents[("fast", kind)][0])[0]["digitalSourceType"] == TRAINED


def test_a_sidecar_that_does_not_match_the_file_is_refused(identity: Path, tmp_path: Path,
                                                           notify_record: Path) -> None:
    source = media.dpx(tmp_path / "sh010.1001.dpx")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    manifest = (tmp_path / "sh010.1001.c2pa").read_bytes()
    octets = "application/octet-stream"
    detached.check_claims(source, octets, b"", manifest, detached.sha256_of(source), [])  # the file it was signed for
    data = bytearray(source.read_bytes())
    data[-1] ^= 0x01
    changed = tmp_path / "changed.dpx"
    changed.write_bytes(bytes(data))
    with pytest.raises(ClearanceError, match="does not read back as signed"):
        detached.check_claims(changed, octets, b"", manifest, detached.sha256_of(changed), [])
    with open(changed, "rb") as fh:  # and a reader that hashes the file says the same
        assert c2pa.Reader(octets, fh, manifest).get_validation_state() == "Invalid"


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


def test_write_pieces_writes_literal_bytes_and_kernel_copied_ranges(tmp_path: Path) -> None:
    import os

    data = bytes(range(256)) * 20_000
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    pieces: list[fileio.Piece] = [b"HEADER", (1000, 400_000), fileio.Slot(b"S" * 9), (0, 0), b"MID",
                                  (400_000, len(data)), b"TAIL"]
    with fileio.descriptor(source, os.O_RDONLY) as src, \
            fileio.descriptor(tmp_path / "out.bin", os.O_WRONLY | os.O_CREAT) as dst:
        fileio.write_pieces(pieces, src, dst)
    assert (tmp_path / "out.bin").read_bytes() == (b"HEADER" + data[1000:400_000] + b"S" * 9 + b"MID" +
                                                   data[400_000:] + b"TAIL")
    source.write_bytes(data[:100])  # the source shrank after it was measured: refused, not padded
    with fileio.descriptor(source, os.O_RDONLY) as src, \
            fileio.descriptor(tmp_path / "short.bin", os.O_WRONLY | os.O_CREAT) as dst, \
            pytest.raises(OSError, match="cut short"):
        fileio.write_pieces([(0, 5000)], src, dst)


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


def _noise_still(path: Path, size: tuple[int, int] = (480, 360), exif: bool = False) -> Path:
    """A still whose image data is noise (as large as its pixels), made by Pillow; with Exif when asked.
    A ``.wav`` path gets noise sound by Python's wave module instead."""
    import numpy as np
    from PIL import Image

    if path.suffix == ".wav":
        import wave

        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(3)
            out.setframerate(48000)
            out.writeframes(np.random.default_rng(3).integers(0, 256, 48000 * 6 // 5 * 3, dtype=np.uint8).tobytes())
        return path

    image = Image.fromarray(np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "Clearance test camera"  # Make
        image.save(path, exif=tags)
    else:
        image.save(path)
    return path


def _spy_on_placement(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each file Clearance places a manifest in; every file counts as large (no thumbnail), as the
    files over 10 MB that take this path are, so small test files take it too."""
    monkeypatch.setattr(signing, "THUMBNAIL_MAX_BYTES", 0)
    placed: list[str] = []
    real = embedding.sign

    def spy(*args: Any, **kwargs: Any) -> None:
        placed.append(args[3].mime)
        real(*args, **kwargs)

    monkeypatch.setattr(embedding, "sign", spy)
    return placed


def _spy_on_reader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each file whose existing credentials are asked of the library's Reader (the answer is the
    Reader's own)."""
    asked: list[str] = []
    real = signing._existing_credentials

    def reader(path: Path, mime: str, context: Any) -> bool:
        asked.append(path.name)
        return real(path, mime, context)

    monkeypatch.setattr(signing, "_existing_credentials", reader)
    return asked


@pytest.mark.parametrize(("kind", "exif"), [("jpg", False), ("jpg", True), ("png", False), ("wav", False)])
def test_jpeg_and_png_are_placed_and_hashed_by_clearance_and_read_back_as_the_library_writes_them(
        kind: str, exif: bool, identity: Path, tmp_path: Path, notify_record: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio, "_CHUNK", 16 << 10)  # many chunks: the hash follows the copy chunk by chunk
    placed = _spy_on_placement(monkeypatch)
    source = _noise_still(tmp_path / f"noise.{kind}", exif=exif)
    assert source.stat().st_size > 4 * (16 << 10)
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / f"fast.{kind}") == 0
    assert placed == [{"jpg": "image/jpeg", "png": "image/png", "wav": "audio/wav"}[kind]]
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / f"library.{kind}") == 0
    assert len(placed) == 1, "the switch sends JPEG and PNG to the library's own path"
    fast, library = read(tmp_path / f"fast.{kind}"), read(tmp_path / f"library.{kind}")
    assert fast[0] == library[0] == "Valid"
    assert _content(fast[1])[:2] == _content(library[1])[:2]
    assert _same_manifest(fast[1], library[1])
    assert [a["digitalSourceType"] for a in actions(fast[1])] == [TRAINED]
    assert scan_file(tmp_path / f"fast.{kind}").verdict == "ai_generated"
    # the same picture or sound: all but what Clearance and the library each wrote is the source's own
    original, signed = source.read_bytes(), (tmp_path / f"fast.{kind}").read_bytes()
    if kind == "wav":
        assert signed[8:len(original)] == original[8:]
        pmx = signed[len(original):]  # the XMP chunk, then the manifest's, as the library lays them out
        length = int.from_bytes(pmx[4:8], "little")
        assert pmx[:4] == b"_PMX" and pmx[8 + length + length % 2:][:4] == b"C2PA"
        library_file = (tmp_path / f"library.{kind}").read_bytes()
        assert library_file[len(original):len(original) + 8 + length] == pmx[:8 + length]
    else:
        image_data = original[original.index(b"\xff\xda") if kind == "jpg" else original.index(b"IDAT") - 4:]
        assert signed.endswith(image_data)
    if exif:
        from PIL import Image

        with Image.open(tmp_path / f"fast.{kind}") as signed:
            assert signed.getexif()[0x010F] == "Clearance test camera"


@pytest.mark.parametrize("kind", ["jpg", "png", "wav"])
def test_one_flipped_byte_in_the_image_data_of_a_placed_manifest_is_a_hash_mismatch(
        kind: str, identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    placed = _spy_on_placement(monkeypatch)
    source = _noise_still(tmp_path / f"noise.{kind}")
    assert run("credentials", "sign", source, "--record", notify_record, "--in-place") == 0
    assert placed and read(source)[0] == "Valid"
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0x10  # well inside the image or sound data
    source.write_bytes(bytes(data))
    with open(source, "rb") as fh:
        reader = c2pa.Reader(kind, fh)
        results = reader.get_validation_results() or {}
        state = reader.get_validation_state()
    failures = [f["code"] for f in (results.get("activeManifest") or {}).get("failure") or []]
    assert state == "Invalid" and "assertion.dataHash.mismatch" in failures


def test_a_file_that_already_has_credentials_is_left_to_the_library_and_keeps_them(
        identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    placed = _spy_on_placement(monkeypatch)
    plate = shutil.copy(shared_data / "provenance" / "C.jpg", tmp_path / "plate.jpg")
    assert run("credentials", "sign", plate, "--record", notify_record, "--composite") == 0
    assert placed == []  # its store must be replaced, which only the library does
    state, manifest, store = read(tmp_path / "plate.signed.jpg")
    assert state == "Valid" and manifest["ingredients"][0]["relationship"] == "parentOf"
    assert manifest["ingredients"][0]["active_manifest"] in store["manifests"]


def test_an_external_signer_signs_a_placed_manifest(identity: Path, tmp_path: Path, notify_record: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    placed = _spy_on_placement(monkeypatch)
    script = tmp_path / "signer.py"
    script.write_text(SIGNER, encoding="utf-8")
    policy = write_policy(tmp_path / "policy.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"),
        "signer_command": [sys.executable, str(script), str(identity / "signer-key.pem")],
    })
    source = _noise_still(tmp_path / "hsm.jpg")
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", policy) == 0
    assert placed == ["image/jpeg"] and read(tmp_path / "hsm.signed.jpg")[0] == "Valid"


@pytest.mark.parametrize("kind", ["jpg", "exr"])
def test_a_failure_while_the_signed_file_is_written_leaves_nothing(
        kind: str, identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def full_disk(*_args: Any) -> tuple[bytes, list[tuple[int, int]]]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio, "write_hashed", full_disk)
    monkeypatch.setattr(signing, "THUMBNAIL_MAX_BYTES", 0)  # the JPEG takes the placing path
    source = _noise_still(tmp_path / "still.jpg") if kind == "jpg" else media.exr(tmp_path / "still.exr")
    assert run("credentials", "sign", source, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["notify.yaml", source.name])


def test_a_manifest_is_read_back_against_the_digest_clearance_computed(identity: Path, tmp_path: Path,
                                                                       notify_record: Path) -> None:
    source = media.dpx(tmp_path / "sh010.1001.dpx")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    manifest = (tmp_path / "sh010.1001.c2pa").read_bytes()
    digest = detached.sha256_of(source)
    detached.check_claims(source, "application/octet-stream", b"", manifest, digest, [])
    with pytest.raises(ClearanceError, match="does not read back as signed"):
        detached.check_claims(source, "application/octet-stream", b"", manifest, bytes(32), [])
    with pytest.raises(ClearanceError, match="does not read back as signed"):
        detached.check_claims(source, "application/octet-stream", b"", manifest, digest, [(0, 10)])
    damaged = bytearray(manifest)
    at = damaged.index(b"org.clearance.disclosure") + 200  # inside the disclosure assertion's content
    damaged[at] ^= 0x01
    with pytest.raises(ClearanceError, match="does not read back as signed"):
        detached.check_claims(source, "application/octet-stream", b"", bytes(damaged), digest, [])


@pytest.mark.parametrize("preadv", [True, False])
def test_write_hashed_writes_the_pieces_and_hashes_all_but_the_slots(preadv: bool, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import os

    monkeypatch.setattr(fileio, "_CHUNK", 1000)  # many more chunks than buffers: each buffer is reused
    if not preadv:
        monkeypatch.delattr(os, "preadv")  # as where positioned reads into a buffer are missing
    data = bytes(range(256)) * 300
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    pieces: list[fileio.Piece] = [b"HEAD", fileio.Slot(b"S" * 17), b"MID", (10, 17010), (0, 0), b"END",
                                  (5, 1005), b"", (20000, 76800)]
    with fileio.descriptor(source, os.O_RDONLY) as src, fileio.descriptor(tmp_path / "out.bin",
                                                                         os.O_RDWR | os.O_CREAT) as out:
        digest, slots = fileio.write_hashed(pieces, src, out)
    kept = b"HEAD" + b"MID" + data[10:17010] + b"END" + data[5:1005] + data[20000:76800]
    written = (tmp_path / "out.bin").read_bytes()
    assert written == b"HEAD" + b"S" * 17 + kept[4:]
    assert slots == [(4, 17)]
    assert digest == hashlib.sha256(kept).digest()
    source.write_bytes(data[:100])  # the source shrank after it was measured: refused, not padded
    with fileio.descriptor(source, os.O_RDONLY) as src, \
            fileio.descriptor(tmp_path / "short.bin", os.O_RDWR | os.O_CREAT) as out, \
            pytest.raises(OSError, match="cut short"):
        fileio.write_hashed([(0, 5000)], src, out)


def test_write_hashed_stops_its_hashing_thread_when_a_write_fails(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    monkeypatch.setattr(fileio, "_CHUNK", 1000)
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(20000))
    writes = []

    def full_disk(fd: int, data: Any, position: int) -> None:
        writes.append(position)
        if len(writes) == 7:  # after the ring of buffers has been reused
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio, "write_at", full_disk)
    with fileio.descriptor(source, os.O_RDONLY) as src, \
            fileio.descriptor(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT) as out, \
            pytest.raises(OSError, match="No space left"):
        fileio.write_hashed([b"H", (0, 20000)], src, out)
    assert not [t for t in threading.enumerate() if t.name == "clearance-hash"]  # none left waiting for buffers


def test_a_hashing_failure_is_reported_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(fileio, "_CHUNK", 1000)
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(20000))

    class Broken:
        def update(self, data: Any) -> None:
            raise MemoryError("hash state lost")

        def digest(self) -> bytes:
            return bytes(32)

    monkeypatch.setattr(fileio.hashlib, "sha256", Broken)
    with fileio.descriptor(source, os.O_RDONLY) as src, \
            fileio.descriptor(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT) as out, \
            pytest.raises(MemoryError, match="hash state lost"):
        fileio.write_hashed([(0, 20000)], src, out)


def _same_manifest(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Equal but for what differs between any two signings (ids, time, signature, the output's name)."""
    varying = {"instance_id", "label", "signature_info", "title"}
    return {k: v for k, v in one.items() if k not in varying} == {k: v for k, v in other.items() if k not in varying}


def test_credentials_found_while_a_manifest_was_placed_restart_the_signing_on_the_library_path(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    placed = _spy_on_placement(monkeypatch)
    source = _noise_still(tmp_path / "noise.png")
    monkeypatch.setattr(embedding, "png_without_credentials", lambda *_: False)  # as if its chunks did not say
    asked: list[str] = []

    def has_credentials(path: Path, mime: str, context: Any) -> bool:
        asked.append(path.name)
        return path == source  # as if the library had found a manifest where Clearance's header parse did not

    monkeypatch.setattr(signing, "_existing_credentials", has_credentials)
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert placed == ["image/png"] and asked == ["noise.png", "noise.png"]
    state, manifest, _ = read(tmp_path / "noise.signed.png")
    assert state == "Valid"
    assert [a["action"] for a in actions(manifest)] == ["c2pa.opened", "c2pa.edited"]  # signed again, as a parent
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []

    def broken(path: Path, mime: str, context: Any) -> bool:
        raise ClearanceError(f"{path}: its Content Credentials are invalid (assertion.dataHash.mismatch)")

    monkeypatch.setattr(signing, "_existing_credentials", broken)
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "refused.png") == 2
    assert "are invalid" in capsys.readouterr().err
    assert not (tmp_path / "refused.png").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_only_a_plain_riff_wave_file_has_its_manifest_placed(tmp_path: Path) -> None:
    sound = _noise_still(tmp_path / "noise.wav")
    data = sound.read_bytes()
    placement = embedding.at_riff_end(sound, len(data))
    assert placement is not None and placement.riff_size == len(data) - 8
    variants = {
        "rf64.wav": b"RF64" + data[4:],
        "trailing.wav": data + b"JUNK",
        "short.wav": data[:-3],
        "signed.wav": data[:4] + (len(data) - 8 + 16).to_bytes(4, "little") + data[8:] + b"C2PA" + bytes(4) + bytes(8),
    }
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
        assert embedding.at_riff_end(tmp_path / name, len(content)) is None, name
    odd = placement.framed(b"x" * 11)  # an odd manifest gets the pad byte RIFF asks for, outside the slot
    pieces = placement.pieces(odd)
    assert pieces[-1] == b"\x00" and pieces[0][4:] == (len(data) - 8 + len(odd) + 1).to_bytes(4, "little")


@pytest.mark.skipif(not fileio.reads_natively(), reason="the direct file path is used on 64-bit Linux only")
@pytest.mark.parametrize("name", ["C.jpg", "C_with_CAWG_data.jpg", "ocsp.jpg", "no_manifest.jpg", "libpng-test.png",
                                  "comfy_sdxl_simple_example.png", "sample1_signed.wav", "video1.mp4"])
def test_reading_a_store_directly_reports_what_c2pa_pythons_reader_reports(name: str, shared_data: Path,
                                                                           tmp_path: Path) -> None:
    path = shared_data / "provenance" / name
    mime = signing.format_of(path)[0]
    context = signing._context(False)
    direct = fileio.read_store(path, mime, context)
    with open(path, "rb") as fh:
        reader = c2pa.Reader.try_create(mime, fh, None, context)
        through_python = None if reader is None else json.loads(reader.json())
    assert (direct is None) == (through_python is None)
    if direct is not None and through_python is not None:
        assert direct["active_manifest"] == through_python["active_manifest"]
        assert direct.get("validation_state") == through_python.get("validation_state")
        assert direct.get("validation_results") == through_python.get("validation_results")
    damaged = tmp_path / f"damaged{path.suffix}"
    damaged.write_bytes(path.read_bytes()[:200])

    def through_python_reader() -> None:
        with open(damaged, "rb") as fh:
            c2pa.Reader.try_create(mime, fh, None, context)

    errors = []
    for attempt in (lambda: fileio.read_store(damaged, mime, context), through_python_reader):
        try:
            attempt()
            errors.append("")
        except c2pa.C2paError as exc:
            errors.append(type(exc).__name__)
    assert errors[0] == errors[1]


def test_a_sidecar_is_signed_where_files_cannot_be_mapped(identity: Path, tmp_path: Path, notify_record: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio, "overlapped", lambda: False)  # as on a platform without positioned I/O and maps
    source = media.exr(tmp_path / "plate.exr")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert read(tmp_path / "plate.signed.exr", tmp_path / "plate.signed.c2pa")[0] == "Valid"
    placed = _spy_on_placement(monkeypatch)
    still = _noise_still(tmp_path / "still.jpg")
    assert run("credentials", "sign", still, "--record", notify_record) == 0
    assert placed == [] and read(tmp_path / "still.signed.jpg")[0] == "Valid"  # the library placed it


def test_a_placed_composite_keeps_its_inputs_credentials_as_ingredients(
        identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    placed = _spy_on_placement(monkeypatch)
    element = shutil.copy(shared_data / "provenance" / "ocsp.jpg", tmp_path / "firefly.jpg")
    plate = tmp_path / "plate.jpg"
    with Image.open(_noise_still(tmp_path / "noise.png")) as image:
        image.save(plate, progressive=True, quality=90)  # several scans: markers after the first SOS
    assert run("credentials", "sign", plate, "--record", notify_record, "--composite", "--input", element) == 0
    assert placed == ["image/jpeg"]
    state, manifest, store = read(tmp_path / "plate.signed.jpg")
    assert state == "Valid"
    assert [a["digitalSourceType"] for a in actions(manifest)] == [COMPOSITE, COMPOSITE]
    ingredient = next(i for i in manifest["ingredients"] if i["title"] == "firefly.jpg")
    assert ingredient["relationship"] == "componentOf" and ingredient["active_manifest"] in store["manifests"]
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", plate, "--record", notify_record, "--composite", "--input", element, "-o",
               tmp_path / "library.jpg") == 0
    assert scan_file(tmp_path / "plate.signed.jpg").verdict == scan_file(tmp_path / "library.jpg").verdict
    with Image.open(tmp_path / "plate.signed.jpg") as signed:
        signed.load()  # still a JPEG any decoder reads


def test_a_wav_that_its_manifest_would_push_past_4_gb_is_refused_in_one_line() -> None:
    nearly_full = embedding.AtRiffEnd("audio/wav", 0xFFFFFFFF - 100, 0xFFFFFFFF - 92)
    with pytest.raises(ClearanceError, match="more than a RIFF file holds"):
        nearly_full.pieces(nearly_full.framed(b"x" * 200))


def test_a_plain_jpeg_is_known_to_carry_no_credentials_from_its_header(
        identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _noise_still(tmp_path / "plain.jpg", exif=True)
    data = plain.read_bytes()
    assert embedding.jpeg_without_credentials(plain, len(data))
    sos = data.index(b"\xff\xda")
    jumbf = b"\xff\xeb" + (30).to_bytes(2, "big") + b"JP" + bytes(26)  # an APP11 after the tables, before SOS
    remote = b"\xff\xe1" + (60).to_bytes(2, "big") + b"<x dcterms:provenance='https://example.com/m.c2pa'/>" + bytes(6)
    variants = {
        "app11.jpg": data[:sos] + jumbf + data[sos:],
        "remote.jpg": data[:2] + remote + data[2:],
        "cut.jpg": data[:sos - 3],
        "junk.jpg": data[:sos] + b"\x00" + data[sos:],
    }
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
        assert not embedding.jpeg_without_credentials(tmp_path / name, len(content)), name
    # the vendored fixtures carry credentials, or (no_manifest.jpg) an XMP dcterms:provenance left behind
    for fixture in ("C.jpg", "C_with_CAWG_data.jpg", "ocsp.jpg", "no_manifest.jpg"):
        path = shared_data / "provenance" / fixture
        assert not embedding.jpeg_without_credentials(path, path.stat().st_size), fixture
    # signing a plain JPEG asks no reader; one with an APP11 before its image data is read and signed again
    placed = _spy_on_placement(monkeypatch)
    asked = _spy_on_reader(monkeypatch)
    assert run("credentials", "sign", plain, "--record", notify_record) == 0
    assert asked == [] and placed == ["image/jpeg"] and read(tmp_path / "plain.signed.jpg")[0] == "Valid"
    assert run("credentials", "sign", tmp_path / "app11.jpg", "--record", notify_record) == 0
    assert asked and read(tmp_path / "app11.signed.jpg")[0] == "Valid"


def test_a_signer_is_kept_for_the_next_file_of_the_same_identity_in_the_same_thread_only(
        identity: Path, tmp_path: Path, notify_record: Path) -> None:
    import dataclasses
    import threading

    from clearance.credentials.identity import init_test_identity, resolve_identity, signer_for

    first = resolve_identity(None)
    signer = signer_for(first)
    assert signer_for(first) is signer and signer_for(resolve_identity(None)) is signer
    elsewhere: list[Any] = []
    thread = threading.Thread(target=lambda: elsewhere.append(signer_for(first)))
    thread.start()
    thread.join()
    assert elsewhere[0] is not signer  # never shared between threads
    other = tmp_path / "other-identity"
    init_test_identity(other)
    second = dataclasses.replace(first, chain_pem=(other / "signer-chain.pem").read_bytes(),
                                 key_pem=(other / "signer-key.pem").read_bytes())
    assert signer_for(second) is not signer and signer_for(first) is not signer  # only the last one is kept
    by_command = dataclasses.replace(first, key_pem=None, command=(sys.executable, "-c", "pass"))
    assert signer_for(by_command) is not signer_for(by_command)  # carries its own command's failures
    # files signed one after the other with the kept signer each read back valid, each with its own signature
    still = _noise_still(tmp_path / "still.jpg")
    for n in range(2):
        assert run("credentials", "sign", still, "--record", notify_record, "-o", tmp_path / f"s{n}.jpg") == 0
        assert read(tmp_path / f"s{n}.jpg")[0] == "Valid"
    assert (tmp_path / "s0.jpg").read_bytes() != (tmp_path / "s1.jpg").read_bytes()


def test_bytes_hashed_ahead_are_the_bytes_written_in_the_same_order(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import os
    import threading

    monkeypatch.setattr(fileio, "_CHUNK", 1000)
    data = bytes(range(251)) * 100
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    later: list[fileio.Piece] = [b"HEAD", fileio.Slot(b"S" * 9), b"TAIL", (3, 24003)]
    ahead = fileio.HashAhead(source, [b"HEAD", fileio.Slot(b""), b"TAIL", (3, 24003)])  # slot not sized yet
    try:
        with fileio.descriptor(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT) as out:
            digest, slots = fileio.write_hashed(later, ahead.fd, out, ahead)
    finally:
        ahead.close()
    assert slots == [(4, 9)]
    assert (tmp_path / "out.bin").read_bytes() == b"HEAD" + b"S" * 9 + b"TAIL" + data[3:24003]
    assert digest == hashlib.sha256(b"HEADTAIL" + data[3:24003]).digest()
    # the same thread writes another file with the kept buffers: nothing of the first one leaks into it
    other = bytes(reversed(data))
    source.write_bytes(other)
    with fileio.descriptor(source, os.O_RDONLY) as src, \
            fileio.descriptor(tmp_path / "other.bin", os.O_RDWR | os.O_CREAT) as out:
        digest, _ = fileio.write_hashed([(0, 2500)], src, out)
    assert (tmp_path / "other.bin").read_bytes() == other[:2500]
    assert digest == hashlib.sha256(other[:2500]).digest()
    for written in ([b"HEAD", fileio.Slot(b"S"), b"TAIL", (4, 24003)], [b"HEAD", fileio.Slot(b"S"), (3, 24003)]):
        ahead = fileio.HashAhead(source, [b"HEAD", fileio.Slot(b""), b"TAIL", (3, 24003)])
        try:
            with fileio.descriptor(tmp_path / "bad.bin", os.O_RDWR | os.O_CREAT) as out, \
                    pytest.raises(RuntimeError, match="hashed ahead"):
                fileio.write_hashed(written, ahead.fd, out, ahead)
        finally:
            ahead.close()
    ahead = fileio.HashAhead(source, [(0, 24000)])  # started, then the signing failed before it was written
    ahead.close()
    assert not [t for t in threading.enumerate() if t.name == "clearance-hash"]  # every hashing thread ended


def test_jpeg_png_and_wav_are_hashed_while_their_manifest_is_made(identity: Path, tmp_path: Path,
                                                                  notify_record: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing, "THUMBNAIL_MAX_BYTES", 0)
    started: list[bool] = []
    real = embedding.hash_ahead

    def spy(source: Path, placement: embedding.Placement) -> fileio.HashAhead | None:
        ahead = real(source, placement)
        started.append(ahead is not None)
        return ahead

    monkeypatch.setattr(embedding, "hash_ahead", spy)
    for kind in ("jpg", "png", "wav"):
        source = _noise_still(tmp_path / f"noise.{kind}")
        assert run("credentials", "sign", source, "--record", notify_record) == 0
        assert read(tmp_path / f"noise.signed.{kind}")[0] == "Valid"
    assert started == [True, True, True]  # a WAV's RIFF size, hashed first, counts the room reserved for it


def test_a_plain_wav_is_known_to_carry_no_credentials_from_its_chunk_headers(
        identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import struct

    plain = _noise_still(tmp_path / "plain.wav")
    data = plain.read_bytes()
    assert embedding.wav_without_credentials(plain, len(data))
    assert fileio.read_store(plain, "audio/wav", signing._context(True)) is None  # the library's Reader agrees

    def with_chunk(kind: bytes, body: bytes) -> bytes:
        chunk = kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) % 2)
        return b"RIFF" + struct.pack("<I", len(data) - 8 + len(chunk)) + data[8:] + chunk

    variants = {
        "c2pa.wav": with_chunk(b"C2PA", bytes(40)),
        "remote.wav": with_chunk(b"_PMX", b"<x dcterms:provenance='https://example.com/m.c2pa'/>"),
        "remote-xmp.wav": with_chunk(b"XMP ", b"<x dcterms:provenance='https://example.com/m.c2pa'/>"),  # c2pa-rs
        "sizes.wav": data[:-2],  # its RIFF size no longer matches the file
        "rf64.wav": b"RF64" + data[4:],
    }
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
        assert not embedding.wav_without_credentials(tmp_path / name, len(content)), name
    (tmp_path / "xmp.wav").write_bytes(with_chunk(b"_PMX", b"<x:xmpmeta>no remote manifest</x:xmpmeta>"))
    assert embedding.wav_without_credentials(tmp_path / "xmp.wav", (tmp_path / "xmp.wav").stat().st_size)
    signed = shared_data / "provenance" / "sample1_signed.wav"
    assert not embedding.wav_without_credentials(signed, signed.stat().st_size)
    # signing a plain WAV asks no reader
    placed = _spy_on_placement(monkeypatch)
    asked = _spy_on_reader(monkeypatch)
    assert run("credentials", "sign", plain, "--record", notify_record) == 0
    assert asked == [] and placed == ["audio/wav"] and read(tmp_path / "plain.signed.wav")[0] == "Valid"


def test_a_plain_png_is_known_to_carry_no_credentials_from_its_chunk_headers(
        identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import struct
    import zlib

    plain = _noise_still(tmp_path / "plain.png")
    data = plain.read_bytes()
    assert embedding.png_without_credentials(plain, len(data))
    context = signing._context(True)
    assert fileio.read_store(plain, "image/png", context) is None  # the library's Reader agrees

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr_end = 8 + 12 + struct.unpack(">I", data[8:12])[0]
    iend = len(data) - 12

    def after_ihdr(extra: bytes) -> bytes:
        return data[:ihdr_end] + extra + data[ihdr_end:]

    remote = b"<x:xmpmeta><rdf:Description dcterms:provenance='https://example.com/m.c2pa'/></x:xmpmeta>"
    variants = {
        "cabx.png": after_ihdr(chunk(b"caBX", bytes(40))),
        "cabx-late.png": data[:iend] + chunk(b"caBX", bytes(40)) + data[iend:],  # the library finds it anywhere
        "remote.png": after_ihdr(chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + remote)),
        "remote-text.png": after_ihdr(chunk(b"tEXt", b"Comment\x00" + remote)),
        "compressed.png": after_ihdr(chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(remote))),
        "ztxt.png": after_ihdr(chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"x"))),
        "trailing.png": data + b"JUNK",
        "cut.png": data[:-3],
        "no-ihdr.png": data[:8] + chunk(b"tEXt", b"Comment\x00x") + data[8:],
        "not.png": b"\x89PNX" + data[4:],
    }
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
        assert not embedding.png_without_credentials(tmp_path / name, len(content)), name
    # text that names no remote manifest is plain, and the library's Reader agrees
    plain_xmp = after_ihdr(chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>"))
    (tmp_path / "xmp.png").write_bytes(plain_xmp)
    assert embedding.png_without_credentials(tmp_path / "xmp.png", len(plain_xmp))
    assert fileio.read_store(tmp_path / "xmp.png", "image/png", context) is None
    for fixture in ("libpng-test.png", "comfy_sdxl_simple_example.png"):
        path = shared_data / "provenance" / fixture
        if embedding.png_without_credentials(path, path.stat().st_size):
            assert fileio.read_store(path, "image/png", context) is None, fixture
    # signing a plain PNG asks no reader; a signed PNG (its caBX) is read, and kept as the parent
    placed = _spy_on_placement(monkeypatch)
    asked = _spy_on_reader(monkeypatch)
    assert run("credentials", "sign", plain, "--record", notify_record) == 0
    assert asked == [] and placed == ["image/png"] and read(tmp_path / "plain.signed.png")[0] == "Valid"
    signed = tmp_path / "plain.signed.png"
    assert not embedding.png_without_credentials(signed, signed.stat().st_size)
    assert run("credentials", "sign", signed, "--record", notify_record, "-o", tmp_path / "again.png") == 0
    state, manifest, _ = read(tmp_path / "again.png")
    # its caBX in the header sends it to the library's path before any hash starts: read there, once
    assert asked == ["plain.signed.png"] and state == "Valid"
    assert [a["action"] for a in actions(manifest)][:2] == ["c2pa.opened", "c2pa.edited"]
    run("credentials", "sign", tmp_path / "remote.png", "--record", notify_record)  # whatever the library says
    assert asked[1] == "remote.png"  # a remote manifest named in the XMP: the library's Reader is asked


def test_hashing_threads_are_kept_for_the_next_file_and_serve_files_written_at_once(tmp_path: Path) -> None:
    import hashlib
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    data = bytes(range(256)) * 9000
    source = tmp_path / "in.bin"
    source.write_bytes(data)

    def write(n: int) -> bytes:
        with fileio.descriptor(source, os.O_RDONLY) as src, \
                fileio.descriptor(tmp_path / f"out{n}.bin", os.O_RDWR | os.O_CREAT) as out:
            digest, _ = fileio.write_hashed([b"H%d" % n, (n, len(data))], src, out)
        return digest

    write(0)
    before = {t.ident for t in threading.enumerate() if t.name.startswith("clearance-hash")}
    assert write(1) == hashlib.sha256(b"H1" + data[1:]).digest()
    after = {t.ident for t in threading.enumerate() if t.name.startswith("clearance-hash")}
    assert after == before  # the second file was hashed by a kept thread, not a new one
    with ThreadPoolExecutor(max_workers=4) as pool:  # more files at once than idle threads: each gets one
        digests = list(pool.map(write, range(2, 10)))
    assert digests == [hashlib.sha256(b"H%d" % n + data[n:]).digest() for n in range(2, 10)]
    assert not [t for t in threading.enumerate() if t.name == "clearance-hash"]  # all idle again
    assert len([t for t in threading.enumerate() if t.name == "clearance-hash-idle"]) <= (os.cpu_count() or 1)


CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


@pytest.mark.parametrize("kind", ["jpg", "png", "wav"])
def test_a_capture_whose_source_type_was_guessed_while_it_was_hashed_is_signed_again_as_a_composite(
        kind: str, identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    from clearance.credentials import xmp

    # the input says it is a camera capture (IPTC DigitalSourceType in its XMP): the scanner's verdict is "camera"
    plain = _noise_still(tmp_path / f"plain.{kind}")
    mime = signing.format_of(plain)[0]
    with open(plain, "rb") as src:
        rewrite = xmp.WRITERS[mime](src, xmp.AiFields(CAPTURE, "", ""), str(plain), plain.stat().st_size)
    capture = tmp_path / f"capture.{kind}"
    with fileio.descriptor(plain, os.O_RDONLY) as src_fd, \
            fileio.descriptor(capture, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as out_fd:
        fileio.write_pieces(rewrite.pieces(), src_fd, out_fd)
    assert scan_file(capture).verdict == "camera"
    monkeypatch.setattr(fileio, "_CHUNK", 16 << 10)  # many chunks: the scan runs once every buffer is queued
    placed = _spy_on_placement(monkeypatch)
    scanned: list[str] = []
    real = signing._input_verdict

    def scan(path: Path) -> str:
        hashing = any(t.name == "clearance-hash" for t in threading.enumerate())
        scanned.append(f"{len(placed)} placed" + (", while hashed" if hashing else ""))
        return real(path)

    monkeypatch.setattr(signing, "_input_verdict", scan)
    assert run("credentials", "sign", capture, "--record", notify_record, "-o", tmp_path / f"fast.{kind}") == 0
    # scanned once, while the first attempt was written and hashed, then signed again with the scanner's answer
    assert scanned == ["1 placed, while hashed"] and placed == [mime, mime]
    state, manifest, _ = read(tmp_path / f"fast.{kind}")
    assert state == "Valid"
    assert [a["digitalSourceType"] for a in actions(manifest)] == [COMPOSITE]
    assert disclosure(manifest)["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert b"compositeWithTrainedAlgorithmicMedia" in (tmp_path / f"fast.{kind}").read_bytes()  # the XMP too
    # the same as the library's own path, which scans before it signs
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", capture, "--record", notify_record, "-o", tmp_path / f"library.{kind}") == 0
    library = read(tmp_path / f"library.{kind}")
    assert library[0] == "Valid" and _content(manifest)[:2] == _content(library[1])[:2]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]  # the first attempt left nothing


def test_a_hash_given_up_hands_back_its_buffers_unhashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(fileio, "_CHUNK", 1000)
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(range(256)) * 100)
    hashed: list[int] = []
    giving_up = threading.Event()

    class Slow:
        def update(self, data: Any) -> None:
            giving_up.wait(5)  # the first buffer is still being hashed when the hash is given up
            hashed.append(len(data))

        def digest(self) -> bytes:
            return bytes(32)

    real_end = fileio._Hasher._end

    def end(self: Any) -> None:
        giving_up.set()
        real_end(self)

    monkeypatch.setattr(fileio.hashlib, "sha256", Slow)
    monkeypatch.setattr(fileio._Hasher, "_end", end)
    ahead = fileio.HashAhead(source, [(0, 25600)])  # a ring's worth of buffers read and queued to be hashed
    ahead.close()  # given up (the assumption it was started on was wrong): the queued ones are not hashed
    assert hashed in ([], [1000])  # at most the one the hashing thread had started on, of the four queued
    assert not [t for t in threading.enumerate() if t.name == "clearance-hash"]


def test_the_direct_read_back_reports_what_c2pa_pythons_reader_reports(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fileio.reads_back_natively():
        pytest.skip("the direct read-back is used on 64-bit Linux only")
    monkeypatch.setattr(signing, "THUMBNAIL_MAX_BYTES", 0)
    asked: list[tuple[Any, ...]] = []
    real = detached.check_claims

    def spy(*args: Any, **kwargs: Any) -> None:
        asked.append(args)
        real(*args, **kwargs)

    monkeypatch.setattr(detached, "check_claims", spy)
    for kind in ("jpg", "png", "wav"):
        assert run("credentials", "sign", _noise_still(tmp_path / f"noise.{kind}"), "--record", notify_record) == 0
    assert run("credentials", "sign", media.dpx(tmp_path / "sh010.1001.dpx"), "--record", notify_record) == 0
    assert [a[1] for a in asked] == ["image/jpeg", "image/png", "application/c2pa", "application/octet-stream"]
    for _, mime, stream, manifest, _, _ in asked:  # a header with its manifest, or a manifest store alone
        reader = c2pa.Reader(mime, io.BytesIO(stream), manifest)
        try:
            expected = json.loads(reader.detailed_json())
        finally:
            reader.close()
        report = fileio.read_back(stream, mime, manifest)
        assert report["validation_results"] == expected["validation_results"]
        assert report["validation_state"] == expected["validation_state"]
        active = report["manifests"][report["active_manifest"]]["assertion_store"]["c2pa.hash.data"]
        assert active == expected["manifests"][expected["active_manifest"]]["assertion_store"]["c2pa.hash.data"]
    with pytest.raises(c2pa.C2paError):  # what is not a manifest fails as c2pa-python's Reader fails
        fileio.read_back(b"", "application/c2pa", b"not a manifest store")
    with pytest.raises(c2pa.C2paError):
        c2pa.Reader("application/c2pa", io.BytesIO(b""), b"not a manifest store")


def test_where_in_memory_files_are_refused_the_read_back_is_c2pa_pythons(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    def refused(name: str, flags: int = 0) -> int:
        raise OSError(errno.EPERM, "Operation not permitted")  # as a sandbox's seccomp filter answers

    monkeypatch.setattr(signing, "THUMBNAIL_MAX_BYTES", 0)
    monkeypatch.setattr(os, "memfd_create", refused)
    fileio._in_memory_files.cache_clear()
    try:
        assert not fileio.reads_back_natively()
        source = _noise_still(tmp_path / "noise.png")
        assert run("credentials", "sign", source, "--record", notify_record) == 0
        assert read(tmp_path / "noise.signed.png")[0] == "Valid"
    finally:
        monkeypatch.undo()
        fileio._in_memory_files.cache_clear()
