"""Fuzzing every reader: random bytes and mutated real/generated samples never raise anything but ScanProblem,
and every file is done in bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.provenance import cbor
from clearance.provenance import samples as s
from clearance.provenance.jumbf import parse_store
from clearance.provenance.model import Hit
from clearance.provenance.sniff import detect, reader
from clearance.provenance.source import ScanProblem, Source

MAGIC = {
    "jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n", "riff": b"RIFF", "tiff": b"II*\0", "exr": b"\x76\x2f\x31\x01",
    "dpx": b"SDPX", "bmff": b"\0\0\0\x18ftyp", "xmp": b"<x:xmpmeta", "mp3": b"ID3\x04\x00",
}
STORE = s.c2pa_store([
    {"label": "urn:c2pa:a", "actions": [s.created("trainedAlgorithmicMedia", "Firefly")]},
    {"label": "urn:c2pa:b", "actions": [s.created("compositeWithTrainedAlgorithmicMedia")]},
])
GENERATED = {
    "png": s.png(text={"parameters": "Steps: 1, Sampler: x"}, itxt={"prompt": '{"1": {"class_type": "A"}}'},
                 ztxt={"Software": "ComfyUI"}, cabx=STORE),
    "jpeg": s.jpeg(xmp=s.xmp_packet("trainedAlgorithmicMedia"), exif_data=s.exif("DALL-E", "Steps: 2, Seed: 1"),
                   c2pa=STORE, app11_chunk=300),
    "tiff": s.tiff({700: (1, s.xmp_packet("digitalCapture")), 52545: (7, STORE)}),
    "exr": s.exr({"clearance/record_ids": "a, b", "comments": "Midjourney"}),
    "dpx": s.dpx(creator="Sora", user_data="Runway"),
    "riff": s.wav(c2pa=STORE, data_size=64, software="Suno"),
    "webp": s.webp(xmp=s.xmp_packet("algorithmicMedia"), c2pa=STORE),
    "bmff": s.mp4(c2pa=STORE, xmp=s.xmp_packet("trainedAlgorithmicMedia"), mdat_size=64),
    "xmp": s.xmp_packet("trainedAlgorithmicMedia", prompt="p"),
    "mp3": s.mp3(c2pa=STORE, encoder="Suno", comment="c", txxx={"parameters": "Steps: 3, Seed: 2"}, audio=500),
    "webp_exif": s.webp_exif(s.exif("x", "Steps: 1, Seed: 1")),
    "heif": s.heif(xmp=s.xmp_packet("trainedAlgorithmicMedia"), exif_data=s.exif("Sora"), mdat_size=64),
}
REAL = ["ocsp.jpg", "C.jpg", "video1.mp4", "sample1_signed.wav", "comfy_sdxl_simple_example.png", "libpng-test.png"]


def run_reader(data: bytes) -> None:
    fmt = detect(data[:16])
    if fmt is None:
        return
    started = time.monotonic()
    hits: list[Hit] = []
    try:
        reader(fmt)(Source(data=data), hits)
    except ScanProblem as exc:
        assert str(exc) and "\n" not in str(exc)  # noqa: PT017 - any error may come; each must be one line
    assert time.monotonic() - started < 2.5


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("fmt", sorted(MAGIC))
@FUZZ
@given(tail=st.binary(max_size=2048))
def test_random_bytes_after_magic(fmt: str, tail: bytes) -> None:
    run_reader(MAGIC[fmt] + tail)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for position, value in edits:
        buf[position % len(buf)] = value
    if cut is not None:
        del buf[cut % len(buf) :]
    return bytes(buf)


EDITS = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=12)


@pytest.mark.parametrize("name", sorted(GENERATED))
@FUZZ
@given(edits=EDITS, cut=st.one_of(st.none(), st.integers(min_value=0)))
def test_mutated_generated_samples(name: str, edits: list[tuple[int, int]], cut: int | None) -> None:
    data = GENERATED[name]
    # keep the magic so the right reader runs; mutate everything after it
    edits = [(8 + p % max(1, len(data) - 8), v) for p, v in edits]
    run_reader(_mutate(data, edits, cut if cut is None else 8 + cut % max(1, len(data) - 8)))


@pytest.mark.parametrize("name", REAL)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(edits=EDITS, cut=st.one_of(st.none(), st.integers(min_value=0)), data=st.data())
def test_mutated_real_samples(shared_data: Path, name: str, edits: list[tuple[int, int]], cut: int | None,
                              data: st.DataObject) -> None:
    raw = (shared_data / "provenance" / name).read_bytes()
    head = raw[:200_000]  # where all their metadata lives; mutations land in the structure, not in pixels
    marker = {"jpg": b"\xff\xeb", "mp4": bytes.fromhex("d8fec3d6"), "wav": b"C2PA", "png": b"tEXt"}
    at = raw.find(marker[name.rsplit(".", 1)[1]])
    window = data.draw(st.sampled_from(["start", "metadata"]))
    base = 8 if window == "start" or at < 0 else at
    edits = [(base + p % 4096, v) for p, v in edits]
    run_reader(_mutate(head if at < 190_000 else raw, edits, None if cut is None else base + cut % 8192))


def _parse_or_problem(parse, blob: bytes) -> None:
    try:
        value = parse(blob)
    except ScanProblem as exc:
        assert str(exc) and "\n" not in str(exc)  # noqa: PT017 - any error may come; each must be one line
        return
    if parse is parse_store:
        assert isinstance(value, list) and all(isinstance(m["claim"], dict) for m in value)


@FUZZ
@given(blob=st.binary(max_size=1024))
def test_cbor_and_jumbf_random(blob: bytes) -> None:
    for parse in (cbor.loads, parse_store):
        _parse_or_problem(parse, blob)


@FUZZ
@given(edits=EDITS)
def test_mutated_c2pa_store(edits: list[tuple[int, int]]) -> None:
    _parse_or_problem(parse_store, _mutate(STORE, edits, None))


CBOR_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=30,
)


@FUZZ
@given(value=CBOR_VALUES)
def test_cbor_round_trip_and_skip(value: object) -> None:
    """Decoding what the sample builder encodes gives the value back; skipping steps over exactly one item."""
    data = s.cbor(value) + b"\x07"
    assert cbor.loads(data) == value
    decoder = cbor._Decoder(data)
    decoder.skip()
    assert data[decoder.pos :] == b"\x07"
