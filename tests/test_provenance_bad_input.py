"""Hostile and damaged files: every problem is bounded and reported in the item, and the scan goes on."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import pytest

from clearance.provenance import cbor, scan_file, scan_paths
from clearance.provenance import samples as s
from clearance.provenance.jumbf import parse_store
from clearance.provenance.source import ScanProblem

# sample -> bytes marking where its provenance metadata sits (cutting there leaves a truncated structure)
SAMPLES = {"ocsp.jpg": b"\xff\xeb", "C.jpg": b"\xff\xeb", "C_with_CAWG_data.jpg": b"\xff\xeb",
           "video1.mp4": bytes.fromhex("d8fec3d61b0e483c92975828877ec481"), "sample1_signed.wav": b"C2PA",
           "comfy_sdxl_simple_example.png": b"tEXt"}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def timed_scan(path: Path):
    start = time.monotonic()
    result = scan_file(path)
    assert time.monotonic() - start < 3.0
    return result


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_truncated_real_samples(shared_data: Path, tmp_path: Path, name: str) -> None:
    data = (shared_data / "provenance" / name).read_bytes()
    at = data.index(SAMPLES[name])
    for cut in (10, 100, at + 2, at + 40, at + 1000):
        result = timed_scan(write(tmp_path, f"cut{cut}_{name}", data[:cut]))
        assert result.error, (name, cut)
        assert "truncated" in result.error or "claims" in result.error or "JUMBF" in result.error, result.error


def test_lying_lengths(tmp_path: Path) -> None:
    png = bytearray(s.png(text={"parameters": "x"}))
    struct.pack_into(">I", png, 33, 0x7FFF0000)  # the tEXt chunk's length
    assert "claims" in timed_scan(write(tmp_path, "lie.png", bytes(png))).error

    jpeg = s.jpeg(xmp=s.xmp_packet("trainedAlgorithmicMedia"))
    i = jpeg.index(b"\xff\xe1")
    lying = jpeg[: i + 2] + b"\xff\xf0" + jpeg[i + 4 : i + 200]
    assert "truncated" in timed_scan(write(tmp_path, "lie.jpg", lying)).error

    mp4 = bytearray(s.mp4(c2pa=s.c2pa_store([{"actions": [s.created("trainedAlgorithmicMedia")]}])))
    struct.pack_into(">I", mp4, 0, 0xFFFFFF00)
    assert "lying length" in timed_scan(write(tmp_path, "lie.mp4", bytes(mp4))).error

    wav = bytearray(s.wav(c2pa=s.c2pa_store([{"actions": []}])))
    c2pa_at = wav.index(b"C2PA")
    struct.pack_into("<I", wav, c2pa_at + 4, 0x7FFFFFF0)
    assert "lying length" in timed_scan(write(tmp_path, "lie.wav", bytes(wav))).error

    store = bytearray(s.c2pa_store([{"actions": [s.created("trainedAlgorithmicMedia")]}]))
    struct.pack_into(">I", store, 0, len(store) + 1000)
    with pytest.raises(ScanProblem, match="lying length"):
        parse_store(bytes(store))

    exr = s.exr(extra=[b"evil\0string\0" + struct.pack("<i", 1 << 30) + b"x"])
    assert "lying length" in timed_scan(write(tmp_path, "lie.exr", exr)).error

    tiff = bytearray(s.tiff({305: s.ascii_value("Stable Diffusion")}))
    struct.pack_into("<H", tiff, 8, 60000)  # IFD entry count
    assert "lying count" in timed_scan(write(tmp_path, "lie.tif", bytes(tiff))).error


def test_nesting_bombs(tmp_path: Path) -> None:
    # JUMBF nested 200 deep inside a store: never descended into (a store has four levels), so it costs nothing
    inner = s.superbox(b"\0" * 16, "leaf", [])
    for _ in range(200):
        inner = s.superbox(b"\0" * 16, "x", [inner])
    store = s.superbox(bytes.fromhex("6332706100110010800000aa00389b71"), "c2pa", [inner])
    result = timed_scan(write(tmp_path, "deep.jpg", s.jpeg(c2pa=store)))
    assert result.error is None and result.verdict == "none" and result.evidence[0].manifest == "x"

    # a CBOR nesting bomb where the reader does look: the actions assertion
    bomb = b"\xa1\x67actions" + b"\x81" * 5000 + b"\x00"
    actions = s.superbox(bytes.fromhex("63626f7200110010800000aa00389b71"), "c2pa.actions.v2", [s.box(b"cbor", bomb)])
    manifest = s.superbox(bytes.fromhex("63326d6100110010800000aa00389b71"), "urn:c2pa:bomb",
                          [s.superbox(bytes.fromhex("6332617300110010800000aa00389b71"), "c2pa.assertions", [actions])])
    store = s.superbox(bytes.fromhex("6332706100110010800000aa00389b71"), "c2pa", [manifest])
    result = timed_scan(write(tmp_path, "bomb.jpg", s.jpeg(c2pa=store)))
    assert "nesting bomb" in result.error

    with pytest.raises(ScanProblem, match="nesting bomb"):
        cbor.loads(b"\x81" * 100_000 + b"\x00")
    with pytest.raises(ScanProblem, match="nesting bomb"):
        cbor.loads(b"\x9f" * 100_000)
    with pytest.raises(ScanProblem, match="lying length"):
        cbor.loads(b"\x5b" + (1 << 62).to_bytes(8, "big"))
    with pytest.raises(ScanProblem, match="claims"):
        cbor.loads(b"\x9b" + (1 << 40).to_bytes(8, "big"))

    # a TIFF whose IFD points at itself, and whose EXIF IFD points at IFD0: read once, no loop
    loop = bytearray(s.tiff({305: s.ascii_value("Midjourney")}))
    count = struct.unpack_from("<H", loop, 8)[0]
    struct.pack_into("<I", loop, 10 + 12 * count, 8)
    result = timed_scan(write(tmp_path, "loop.tif", bytes(loop)))
    assert result.error is None and result.verdict == "ai_generated"


def test_huge_text_chunks(tmp_path: Path) -> None:
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB of zeros in about 64 KiB
    png = s.png()
    body = b"parameters\0\0" + bomb
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    data = png[:33] + chunk + png[33:]
    result = timed_scan(write(tmp_path, "zipbomb.png", data))
    assert "decompression bomb" in result.error and result.bytes_read < 1024 * 1024

    huge = s.png(text={"Comment": "x" * (20 * 1024 * 1024)})
    result = timed_scan(write(tmp_path, "huge.png", huge))
    assert "over the 16 MiB limit" in result.error

    big_xmp = s.jpeg(xmp=s.xmp_packet(padding=60_000))  # fine: under every limit
    assert timed_scan(write(tmp_path, "ok.jpg", big_xmp)).error is None

    entity = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
              b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>')
    assert "DTD" in timed_scan(write(tmp_path, "entity.xmp", entity)).error


def test_read_budget_is_enforced(tmp_path: Path) -> None:
    # Many maximal APP segments: the reader stops at the per-file budget instead of reading it all.
    segments = b"".join(b"\xff\xeb\xff\xff" + b"JP" + struct.pack(">HI", 1, z) + bytes(65525) for z in range(1, 401))
    data = b"\xff\xd8" + segments + b"\xff\xd9"
    result = timed_scan(write(tmp_path, "budget.jpg", data))
    assert result.error and "read budget exceeded" in result.error
    assert result.bytes_read <= 17 * 1024 * 1024


def test_bad_files_do_not_stop_a_scan(tmp_path: Path) -> None:
    write(tmp_path, "a_bad.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path, "b_empty.jpg", b"")
    write(tmp_path, "c_good.png", s.png(text={"parameters": "Steps: 20, Sampler: Euler, Seed: 3"}))
    write(tmp_path, "d_dir.exr", b"")
    (tmp_path / "d_dir.exr").unlink()
    (tmp_path / "d_dir.exr").mkdir()
    results = {Path(r.path).name: r for r in scan_paths([tmp_path, tmp_path / "missing.jpg"])}
    assert results["a_bad.png"].error.startswith("truncated")
    assert "not a JPEG" in results["b_empty.jpg"].error
    assert results["c_good.png"].verdict == "ai_generated" and results["c_good.png"].error is None
    assert results["missing.jpg"].error == "file not found"


def test_fifo_in_a_folder_does_not_hang(tmp_path: Path) -> None:
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe.exr")
    write(tmp_path, "ok.png", s.png(text={"parameters": "Steps: 2, Sampler: Euler, Seed: 1"}))
    started = time.monotonic()
    results = {Path(r.path).name: r for r in scan_paths([tmp_path], recursive=True)}
    assert "not a regular file" in results["pipe.exr"].error
    assert "not a regular file" in scan_file(tmp_path / "pipe.exr").error
    assert [Path(r.path).name for r in scan_paths([tmp_path])] == ["ok.png"]  # a folder's files only
    assert time.monotonic() - started < 5
    assert results["ok.png"].verdict == "ai_generated"


def test_scan_hits_only_lists_only_ai_media(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import contextlib
    import io
    import shutil
    from pathlib import Path

    from clearance.cli.main import main

    data = Path(__file__).resolve().parent / "data" / "provenance"
    shutil.copy(data / "ocsp.jpg", tmp_path / "ai.jpg")
    shutil.copy(data / "no_manifest.jpg", tmp_path / "plain.jpg")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scan", str(tmp_path), "--hits-only"]) == 0
    text = out.getvalue()
    assert "ai.jpg" in text and "plain.jpg" not in text
    assert text.strip().splitlines()[-1].startswith("2 items:")  # the summary still counts everything
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scan", str(tmp_path), "--hits-only", "--json"]) == 0
    assert [line for line in out.getvalue().splitlines() if line] and "plain.jpg" not in out.getvalue()
