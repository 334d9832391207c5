"""C2PA stores read in place: only box headers, descriptions, claims and actions, whatever the store's size.

A store read from the file's ranges (JPEG APP11 packets, PNG caBX, RIFF C2PA, BMFF uuid) must say exactly
what the same bytes say when parsed from memory, wherever the packets split it, while reading a small part
of a store made mostly of thumbnails.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any

import pytest

from clearance.provenance import samples as s
from clearance.provenance import scan_file
from clearance.provenance.jumbf import READ_WHOLE, StoreBytes, manifest_hits, parse_store
from clearance.provenance.source import ScanProblem, Source

CBOR_UUID = b"cbor" + bytes.fromhex("00110010800000aa00389b71")
THUMB = 400_000


def _big_store() -> bytes:
    """Two manifests; the ingredient's assertion store holds a 400 KB thumbnail before its actions."""
    store = s.c2pa_store([
        {"label": "urn:c2pa:ingredient", "actions": [s.created("trainedAlgorithmicMedia", "Adobe Firefly")]},
        {"label": "urn:c2pa:edit", "actions": [s.created("compositeWithTrainedAlgorithmicMedia")],
         "claim_generator": "Adobe Photoshop"},
    ])
    thumbnail = s.superbox(b"bidb" + bytes(12), "c2pa.thumbnail.ingredient.jpeg",
                           [s.box(b"bidb", random.Random(7).randbytes(THUMB))])
    # Put the thumbnail first in the first manifest's assertion store, then fix every enclosing length.
    marker = s.superbox(b"c2as" + bytes.fromhex("00110010800000aa00389b71"), "c2pa.assertions", [])
    at = store.index(marker[8:])  # the assertion store's description box
    out = bytearray(store[: at + len(marker) - 8] + thumbnail + store[at + len(marker) - 8 :])
    for start in (0, store.index(b"jumb", 8) - 4, at - 8):  # store, first manifest, assertion store
        size = struct.unpack(">I", out[start : start + 4])[0]
        out[start : start + 4] = struct.pack(">I", size + len(thumbnail))
    return bytes(out)


STORE = _big_store()


def _evidence(hits: list[Any]) -> list[tuple[object, ...]]:
    return [(h.verdict, h.field, h.value, h.generator, h.manifest, h.active) for h in hits]


def test_the_big_store_is_what_it_claims() -> None:
    manifests = parse_store(STORE)
    assert [m["label"] for m in manifests] == ["urn:c2pa:ingredient", "urn:c2pa:edit"]
    assert len(STORE) > READ_WHOLE + THUMB // 2
    verdicts = {h.verdict for h in manifest_hits(manifests, "jpeg", "APP11")}
    assert verdicts == {"ai_generated", "ai_composite"}


@pytest.mark.parametrize("chunk", [65000, 4096, 1000, 200])
def test_jpeg_store_over_packets_read_in_place(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "comp.jpg"
    path.write_bytes(s.jpeg(c2pa=STORE, app11_chunk=chunk))
    result = scan_file(path)
    assert result.error is None, result.error
    assert result.verdict == "ai_generated"
    expected = _evidence(manifest_hits(parse_store(STORE), "jpeg", "APP11 JUMBF"))
    got = [(e.verdict, e.field, e.value, e.generator, e.manifest, e.active_manifest) for e in result.evidence]
    assert sorted(got, key=str) == sorted(expected, key=str)
    # The thumbnail is stepped over, not read. (Tiny packets cost one small block read per segment header
    # walked, whatever the store holds; real writers use packets of about 64 KB.)
    if chunk >= 4096:
        assert result.bytes_read < len(STORE) / 4


@pytest.mark.parametrize("kind", ["png", "wav", "mp4"])
def test_other_containers_read_the_store_in_place(tmp_path: Path, kind: str) -> None:
    data = {"png": lambda: s.png(cabx=STORE), "wav": lambda: s.wav(c2pa=STORE, data_size=1000),
            "mp4": lambda: s.mp4(c2pa=STORE, mdat_size=1000)}[kind]()
    path = tmp_path / f"comp.{kind}"
    path.write_bytes(data)
    result = scan_file(path)
    assert result.error is None, result.error
    assert result.verdict == "ai_generated"
    assert len({e.manifest for e in result.evidence}) == 2
    assert result.bytes_read < len(STORE) / 4


def test_any_split_of_the_store_reads_the_same(tmp_path: Path) -> None:
    """Packet boundaries anywhere (inside box headers and description boxes too) change nothing."""
    rng = random.Random(17)
    stores = [STORE, s.c2pa_store([{"label": "a", "actions": [s.created("digitalCapture")]}])]
    for store in stores:
        expected = _evidence(manifest_hits(parse_store(store), "x", "y"))
        for _ in range(40):
            cuts = sorted(rng.sample(range(1, len(store)), 12))
            pieces, at, layout = [], 0, bytearray()
            for cut in [*cuts, len(store)]:
                layout += b"\xee" * rng.randrange(0, 9)  # other bytes between the pieces
                pieces.append((len(layout), cut - at))
                layout += store[at:cut]
                at = cut
            path = tmp_path / "pieces.bin"
            path.write_bytes(bytes(layout))
            src = Source(str(path))
            try:
                got = _evidence(manifest_hits(parse_store(StoreBytes.in_file(src, pieces)), "x", "y"))
            finally:
                src.close()
            assert got == expected


def test_a_lying_length_inside_a_store_read_in_place_is_reported(tmp_path: Path) -> None:
    bad = bytearray(STORE)
    at = STORE.index(b"c2pa.thumbnail") - 4 - 25  # the thumbnail superbox's header
    at = STORE.rindex(b"jumb", 0, at + 30) - 4
    bad[at : at + 4] = struct.pack(">I", len(STORE) * 2)
    with pytest.raises(ScanProblem, match="lying length"):
        parse_store(bytes(bad))
    path = tmp_path / "bad.jpg"
    path.write_bytes(s.jpeg(c2pa=bytes(bad)))
    result = scan_file(path)
    assert result.error is not None and "lying length" in result.error


def test_copies_of_a_store_are_parsed_once_and_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery's copies of one signed file share a store: parsed once per process, same evidence each."""
    from clearance.provenance import jumbf, scan_paths

    calls: list[int] = []
    real_parse = jumbf.parse_store

    def counting(data: Any) -> list[Any]:
        calls.append(1)
        return real_parse(data)

    monkeypatch.setattr(jumbf, "parse_store", counting)
    monkeypatch.setattr(jumbf, "_PARSED", {})
    store = s.c2pa_store([{"label": "urn:c2pa:copy", "actions": [s.created("trainedAlgorithmicMedia", "Sora")]}])
    other = store.replace(b"urn:c2pa:copy", b"urn:c2pa:cop2")  # one byte apart: a different store
    for name in ("a_v1.jpg", "b_v2.jpg", "c_final.jpg"):
        (tmp_path / name).write_bytes(s.jpeg(c2pa=store))
    (tmp_path / "d_other.jpg").write_bytes(s.jpeg(c2pa=other))
    broken = store[:-3]  # a truncated store fails every time it is met, never remembered as good
    (tmp_path / "e_cut.jpg").write_bytes(s.jpeg(c2pa=broken))
    (tmp_path / "f_cut.jpg").write_bytes(s.jpeg(c2pa=broken))
    results = {Path(r.path).name: r for r in scan_paths([tmp_path])}
    assert len(calls) == 1 + 1 + 2  # the three copies once, the other store once, each broken copy again
    copies = [results[n] for n in ("a_v1.jpg", "b_v2.jpg", "c_final.jpg")]
    assert {r.verdict for r in copies} == {"ai_generated"}
    assert all(r.evidence == copies[0].evidence for r in copies)
    assert results["d_other.jpg"].evidence[0].manifest == "urn:c2pa:cop2"
    assert results["e_cut.jpg"].error and results["e_cut.jpg"].error == results["f_cut.jpg"].error
