"""MP4/MOV manifests placed and hashed by Clearance (``clearance.credentials.bmff``), against the C2PA library's
own path on the same movie: the same layout byte for byte outside the manifest's box, the same BMFF hash, the
same manifest as c2pa-python's Reader reports it; frames as FFmpeg (PyAV) decodes them, the XMP as exiftool
reads it. Movies the module does not model (fragmented, with credentials already) go to the library's path."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import c2pa
import pytest
from test_credentials import TRAINED, actions, exiftool_tags, identity, notify_record, read, run
from test_credentials_io import _same_manifest
from test_credentials_xmp import _decoded, _fragmented

from clearance.credentials import bmff, fileio, signing, xmp
from clearance.provenance import scan_file

__all__ = ["identity", "notify_record"]  # the fixtures, imported from test_credentials for this module's tests


def _movie(path: Path, *, faststart: bool = False, audio: bool = False, frames: int = 12) -> Path:
    """A noise movie by FFmpeg (PyAV): MPEG-4 video, AAC sound when asked, its movie box last or first."""
    import av
    import numpy as np

    rng = np.random.default_rng(5)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream("mpeg4", rate=24)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        video.bit_rate = 8_000_000
        sound = container.add_stream("aac", rate=48000) if audio else None
        for n in range(frames):
            array = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
            if sound is not None:
                samples = (rng.standard_normal((1, 2000)) * 3000).astype(np.int16)
                chunk = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
                chunk.sample_rate, chunk.pts = 48000, n * 2000
                for packet in sound.encode(chunk):
                    container.mux(packet)
        for stream in (video, sound):
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
    return path


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int, int]]:
    import io

    return xmp.bmff_boxes(io.BytesIO(data), start, len(data) if end is None else end)


def _with_co64(path: Path) -> Path:
    """The movie with its 32-bit chunk offsets (stco) turned into 64-bit ones (co64), as a muxer writes them
    for a file over 4 GB; its movie box is last, so no sample moves."""
    data = path.read_bytes()

    def rebuilt(start: int, end: int) -> bytes:
        out = b""
        for kind, offset, header, size in _boxes(data, start, end):
            body, written = data[offset + header:offset + size], kind
            if kind in (b"trak", b"mdia", b"minf", b"stbl"):
                body = rebuilt(offset + header, offset + size)
            elif kind == b"stco":
                count = struct.unpack(">I", body[4:8])[0]
                entries = struct.unpack(f">{count}I", body[8:8 + 4 * count])
                written, body = b"co64", body[:8] + struct.pack(f">{count}Q", *entries)
            out += struct.pack(">I", 8 + len(body)) + written + body
        return out

    boxes = _boxes(data)
    assert [b[0] for b in boxes][-1] == b"moov"
    _, offset, header, size = boxes[-1]
    moov = rebuilt(offset + header, offset + size)
    path.write_bytes(data[:offset] + struct.pack(">I", 8 + len(moov)) + b"moov" + moov)
    assert b"co64" in path.read_bytes() and b"stco" not in path.read_bytes()[offset:]
    return path


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    placed: list[str] = []
    real = bmff.sign

    def spy(movie: bmff.Plan, *args: Any) -> None:
        placed.append(movie.source.name)
        real(movie, *args)

    monkeypatch.setattr(bmff, "sign", spy)
    return placed


def _binding(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        reader = c2pa.Reader(path.suffix.lstrip("."), fh)
        detailed = json.loads(reader.detailed_json())
    binding: dict[str, Any] = detailed["manifests"][detailed["active_manifest"]]["assertion_store"][bmff.HASH_LABEL]
    return binding


def _manifest_box(data: bytes) -> tuple[int, int]:
    [(offset, size)] = [(o, s) for k, o, h, s in _boxes(data) if k == b"uuid" and data[o + 8:o + 24] == bmff.C2PA_UUID]
    return offset, size


LAYOUTS = {
    "movie-box-last.mp4": _movie,
    "movie-box-first.mp4": lambda p: _movie(p, faststart=True),
    "two-tracks.mp4": lambda p: _movie(p, audio=True),
    "co64.mp4": lambda p: _with_co64(_movie(p)),
    "quicktime.mov": _movie,
    "quicktime-first.mov": lambda p: _movie(p, faststart=True, audio=True),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_a_movie_is_placed_and_hashed_by_clearance_as_the_library_places_and_hashes_it(
        name: str, identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio, "_CHUNK", 16 << 10)  # many chunks: the hash follows the copy chunk by chunk
    placed = _spy(monkeypatch)
    source = LAYOUTS[name](tmp_path / name)
    assert source.stat().st_size > 8 * (16 << 10)
    suffix = source.suffix
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / f"fast{suffix}") == 0
    assert placed == [name]
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    # the same title length (the output's name), so the same manifest size and the same layout
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / f"slow{suffix}") == 0
    assert placed == [name], "the switch sends movies to the library's own path"
    fast_path, library_path = tmp_path / f"fast{suffix}", tmp_path / f"slow{suffix}"
    fast, library = read(fast_path), read(library_path)
    assert fast[0] == library[0] == "Valid"
    assert _same_manifest(fast[1], library[1])
    assert [a["digitalSourceType"] for a in actions(fast[1]) if "digitalSourceType" in a] == [TRAINED]
    assert _binding(fast_path) == _binding(library_path)  # the same exclusions, the same hash of the same bytes
    # the same file but for the manifest: its box right after ftyp, every chunk offset moved by its size
    ours, theirs = fast_path.read_bytes(), library_path.read_bytes()
    assert len(ours) == len(theirs) and _manifest_box(ours) == _manifest_box(theirs)
    offset, size = _manifest_box(ours)
    assert _boxes(ours)[0][0] == b"ftyp" and offset == _boxes(ours)[0][3]
    assert ours[:offset + 45] == theirs[:offset + 45] and ours[offset + size:] == theirs[offset + size:]
    assert _decoded(fast_path) == _decoded(source) and len(_decoded(source)) == 12
    assert exiftool_tags(fast_path)["XMP-iptcExt:AISystemUsed"] == "Firefly"
    assert scan_file(fast_path).verdict == "ai_generated"


def test_one_byte_changed_anywhere_the_hash_covers_is_caught(identity: Path, tmp_path: Path,
                                                            notify_record: Path) -> None:
    source = _movie(tmp_path / "clip.mp4")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    signed = tmp_path / "clip.signed.mp4"
    data = signed.read_bytes()
    boxes = {kind: (offset, size) for kind, offset, _, size in _boxes(data)}
    for kind, at in ((b"mdat", 4000), (b"moov", 40)):
        changed = bytearray(data)
        changed[boxes[kind][0] + at] ^= 0x01
        tampered = tmp_path / f"tampered-{kind.decode()}.mp4"
        tampered.write_bytes(bytes(changed))
        with open(tampered, "rb") as fh:
            reader = c2pa.Reader("mp4", fh)
            codes = [f["code"] for f in reader.get_validation_results()["activeManifest"]["failure"]]
            assert reader.get_validation_state() == "Invalid" and "assertion.bmffHash.mismatch" in codes
    moved = bytearray(data)  # a box moved: version 2+ hashes bind where each box sits
    offset, size = boxes[b"free"]
    assert size == 8
    free = bytes(moved[offset:offset + 8])
    del moved[offset:offset + 8]
    moved[boxes[b"mdat"][0] + boxes[b"mdat"][1] - 8:boxes[b"mdat"][0] + boxes[b"mdat"][1] - 8] = free
    (tmp_path / "moved.mp4").write_bytes(bytes(moved))
    assert read(tmp_path / "moved.mp4")[0] == "Invalid"


def test_the_hash_leaves_out_what_the_library_leaves_out_and_binds_each_box_where_it_sits() -> None:
    layout = bmff.Layout(after_ftyp=24, moov=(100, 150),
                         boxes=[(b"ftyp", 0, 24), (b"free", 24, 8), (b"mdat", 32, 68), (b"moov", 100, 50),
                                (b"uuid", 150, 40), (b"skip", 190, 10), (b"wide", 200, 8)],
                         chunk_offsets=[], moov_bytes=b"")
    assert layout.hashed(1000) == [(1032, 1032), (1032, 1100), (1100, 1100), (1100, 1150), (1150, 1150),
                                   (1150, 1190), (1200, 1200), (1200, 1208)]


def test_a_chunk_offset_moves_by_the_box_size_and_one_that_would_pass_4_gb_in_stco_is_caught() -> None:
    moov = bytearray(struct.pack(">II", 2, 0) + struct.pack(">II", 0xFFFFF000, 100))
    layout = bmff.Layout(after_ftyp=24, moov=(0, len(moov)), boxes=[], chunk_offsets=[(8, 2, 4)],
                         moov_bytes=bytes(moov))
    assert struct.unpack(">II", layout.moved_moov(0x0FFF)[8:]) == (0xFFFFFFFF, 0x1063)
    with pytest.raises(bmff.OffsetsTooFar, match="4 GB"):
        layout.moved_moov(0x1000)
    wide = bmff.Layout(after_ftyp=24, moov=(0, 24), boxes=[], chunk_offsets=[(8, 2, 8)],
                       moov_bytes=struct.pack(">IIQQ", 2, 0, 0xFFFFF000, 100)[:8] + struct.pack(">QQ", 0xFFFFF000, 7))
    assert struct.unpack(">QQ", wide.moved_moov(0x1000)[8:]) == (0x100000000, 0x1007)


@pytest.mark.parametrize("kind", ["fragmented", "signed"])
def test_a_movie_not_modelled_is_signed_by_the_library(kind: str, identity: Path, tmp_path: Path,
                                                       notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "fragmented":
        source = _fragmented(tmp_path / "clip.mp4")
        with pytest.raises(bmff.NotModelled, match="moof"):
            bmff.plan(source, [(0, source.stat().st_size)])
    else:
        first = _movie(tmp_path / "first.mp4")
        assert run("credentials", "sign", first, "--record", notify_record, "-o", tmp_path / "clip.mp4") == 0
        source = tmp_path / "clip.mp4"
        with pytest.raises(bmff.NotModelled, match="C2PA box already"):
            bmff.plan(source, [(0, source.stat().st_size)])
    placed = _spy(monkeypatch)
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert placed == []
    state, manifest, _ = read(tmp_path / "clip.signed.mp4")
    assert state == "Valid"
    if kind == "signed":
        assert [a["action"] for a in actions(manifest)][:2] == ["c2pa.opened", "c2pa.edited"]


def test_a_full_disk_while_the_movie_is_written_fails_in_one_line_and_leaves_nothing(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    placed = _spy(monkeypatch)
    real = fileio.write_at

    def full_disk(fd: int, data: bytes | memoryview, position: int) -> None:
        if position > 64 << 10:  # the disk fills up once the media data is under way
            raise OSError(28, "No space left on device")
        real(fd, data, position)

    monkeypatch.setattr(fileio, "write_at", full_disk)
    source = _movie(tmp_path / "clip.mov")
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert "clip.mov" in err and "No space left on device" in err and len(err.splitlines()) == 1
    assert placed == ["clip.mov"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mov", "notify.yaml"]


def test_a_manifest_that_does_not_read_back_as_signed_writes_nothing(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    checked: list[bytes] = []
    check = bmff.check_claims

    def compare_with_other(where: Path, mime: str, head: bytes, digest: bytes) -> None:
        checked.append(digest)
        check(where, mime, head, bytes(32))  # as if what was signed were not the hash of the bytes written

    monkeypatch.setattr(bmff, "check_claims", compare_with_other)
    source = _movie(tmp_path / "clip.mp4")
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert "does not read back as signed" in err and len(err.splitlines()) == 1
    assert len(checked) == 1 and len(checked[0]) == 32 and checked[0] != bytes(32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "notify.yaml"]


def test_signing_picks_the_movie_path_only_when_it_is_on(identity: Path, tmp_path: Path, notify_record: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert bmff.active()
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert not bmff.active()
    assert signing.format_of(tmp_path / "a.m4v")[0] in bmff.FORMATS


def test_damaged_movie_headers_are_modelled_or_left_to_the_library_never_half_read(
        identity: Path, tmp_path: Path, notify_record: Path) -> None:
    import random

    source = _movie(tmp_path / "clip.mp4", frames=2)
    data = source.read_bytes()
    moov = next(offset for kind, offset, _, _ in _boxes(data) if kind == b"moov")
    rng = random.Random(11)
    outcomes = {"planned": 0, "left": 0}
    for n in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(0, 64) if n % 2 else moov + rng.randrange(0, len(data) - moov)
            damaged[at] = rng.randrange(256)
        path = tmp_path / f"damaged{n}.mp4"
        path.write_bytes(bytes(damaged))
        try:
            movie = bmff.plan(path, [(0, len(damaged))])
        except bmff.NotModelled:
            outcomes["left"] += 1
            path.unlink()
            continue
        outcomes["planned"] += 1
        start, end = movie.layout.moov
        assert movie.layout.boxes[0][:2] == (b"ftyp", 0) and 0 < start < end <= len(damaged)
        assert all(at + count * width <= end - start for at, count, width in movie.layout.chunk_offsets)
        try:
            pieces = movie.layout.pieces(movie.staged, b"\x00" * 100)
        except bmff.NotModelled:
            continue
        assert sum(len(p) if isinstance(p, bytes) else len(p.data) if isinstance(p, fileio.Slot) else p[1] - p[0]
                   for p in pieces) == len(damaged) + 100
        if outcomes["planned"] % 10 == 1:  # signed whole: a valid manifest over whatever the file holds, or
            out = tmp_path / f"signed{n}.mp4"  # refused in one line when the library cannot parse the source
            code = run("credentials", "sign", path, "--record", notify_record, "-o", out)
            assert (code == 2 and not out.exists()) or (code == 0 and read(out)[0] == "Valid")
        path.unlink()
    assert outcomes["planned"] and outcomes["left"]


def test_a_movie_whose_32_bit_chunk_offsets_would_pass_4_gb_is_refused_in_one_line(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # The library would wrap the offset and break the movie under a valid manifest: refused, not left to it.
    # A real one is a movie of about 4 GB: here the offsets are made to look that far from a small movie's.
    placed = _spy(monkeypatch)
    real = bmff._layout

    def far(staged: Any) -> bmff.Layout:
        layout = real(staged)
        moov = bytearray(layout.moov_bytes)
        for at, count, width in layout.chunk_offsets:
            assert width == 4
            struct.pack_into(f">{count}I", moov, at, *([0xFFFFFF00] * count))
        return bmff.Layout(layout.after_ftyp, layout.moov, layout.boxes, layout.chunk_offsets, bytes(moov))

    monkeypatch.setattr(bmff, "_layout", far)
    source = _movie(tmp_path / "clip.mp4")
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "clip.mp4" in err and "stco" in err and "co64" in err
    assert placed == ["clip.mp4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "notify.yaml"]


def test_a_movie_with_an_input_keeps_its_credentials_as_an_ingredient_as_the_library_does(
        identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    placed = _spy(monkeypatch)
    element = shutil.copy(shared_data / "provenance" / "ocsp.jpg", tmp_path / "firefly.jpg")
    source = _movie(tmp_path / "comp.mp4")
    args = ("--record", notify_record, "--composite", "--input", element)
    assert run("credentials", "sign", source, *args, "-o", tmp_path / "fast.mp4") == 0
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", source, *args, "-o", tmp_path / "slow.mp4") == 0
    assert placed == ["comp.mp4"]
    fast, library = read(tmp_path / "fast.mp4"), read(tmp_path / "slow.mp4")
    assert fast[0] == library[0] == "Valid"


    def without_ids(manifest: dict[str, Any]) -> dict[str, Any]:
        """The manifest but the ids two signings of the same thing choose afresh: an ingredient's instance id
        (and the hashes of what holds it), the manifest's label in a thumbnail's address."""
        text = json.dumps(manifest).replace(manifest["label"], "LABEL")
        out: dict[str, Any] = json.loads(text)
        for ingredient in out["ingredients"]:
            ingredient.pop("instance_id", None)
        for assertion in out["assertions"]:
            for action in assertion["data"].get("actions", []) if assertion["label"].startswith("c2pa.actions") else []:
                for reference in action.get("parameters", {}).get("ingredients", []):
                    reference.pop("hash")  # of the ingredient assertion, which holds its instance id
        return {k: v for k, v in out.items() if k not in ("instance_id", "label", "signature_info", "title")}

    assert without_ids(fast[1]) == without_ids(library[1])
    ingredient = next(i for i in fast[1]["ingredients"] if i["title"] == "firefly.jpg")
    assert ingredient["relationship"] == "componentOf" and ingredient["active_manifest"] in fast[2]["manifests"]
    assert len(fast[2]["manifests"]) == len(library[2]["manifests"]) >= 3
    ours, theirs = (tmp_path / "fast.mp4").read_bytes(), (tmp_path / "slow.mp4").read_bytes()
    offset, size = _manifest_box(ours)
    assert _manifest_box(theirs) == (offset, size) and ours[offset + size:] == theirs[offset + size:]


def test_an_external_signer_command_signs_a_placed_movie_and_its_failure_is_reported(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from publish_fixtures import write_policy
    from test_credentials import SIGNER

    placed = _spy(monkeypatch)
    script = tmp_path / "signer.py"
    script.write_text(SIGNER, encoding="utf-8")
    policy = write_policy(tmp_path / "policy.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"),
        "signer_command": [sys.executable, str(script), str(identity / "signer-key.pem")],
    })
    source = _movie(tmp_path / "hsm.mov")
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", policy) == 0
    assert placed == ["hsm.mov"] and read(tmp_path / "hsm.signed.mov")[0] == "Valid"
    broken = write_policy(tmp_path / "broken.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"),
        "signer_command": [sys.executable, "-c", "import sys; sys.exit('HSM offline')"]})
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", broken, "-o",
               tmp_path / "x.mov") == 2
    err = capsys.readouterr().err.strip()
    assert "HSM offline" in err and len(err.splitlines()) == 1 and placed == ["hsm.mov", "hsm.mov"]
    assert not (tmp_path / "x.mov").exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
