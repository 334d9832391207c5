"""A single-page TIFF's manifest placed by Clearance (``clearance.credentials.tiff``: tag 52545 in the IFD0
copy the XMP writer appends), against the C2PA library's own path on the same file: both valid, the same
manifest but for the data hash (each binds its own layout), the same pixels (Pillow), the XMP (exiftool).
Multi-page TIFFs and TIFFs with credentials go to the library's path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import c2pa
import credentials_media as media
import pytest
from test_credentials import TRAINED, actions, exiftool_tags, identity, notify_record, read, run
from test_credentials_io import _noise_still, _spy_on_placement
from test_credentials_xmp import _decoded, _dng, _pages

from clearance.credentials import embedding, signing, tiff
from clearance.provenance import scan_file

__all__ = ["identity", "notify_record"]  # the fixtures, imported from test_credentials for this module's tests


def _without_binding(manifest: dict[str, Any]) -> dict[str, Any]:
    varying = {"instance_id", "label", "signature_info", "title"}
    out = {k: v for k, v in manifest.items() if k not in varying}
    out["assertions"] = [a for a in manifest["assertions"] if a["label"] != "c2pa.hash.data"]
    return out


def _data_hash(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        detailed = json.loads(c2pa.Reader(path.suffix.lstrip("."), fh).detailed_json())
    binding: dict[str, Any] = detailed["manifests"][detailed["active_manifest"]]["assertion_store"]["c2pa.hash.data"]
    return binding


MAKERS = {
    "noise.tif": _noise_still,
    "motorola.tif": lambda p: media.tiff(p, big_endian=True, size=(300, 200)),
    "raw.dng": _dng,
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_single_page_tiff_is_placed_by_clearance_and_reads_back_as_the_library_writes_it(
        name: str, identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    placed = _spy_on_placement(monkeypatch)
    source = MAKERS[name](tmp_path / name)
    suffix = source.suffix
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / f"fast{suffix}") == 0
    assert placed == [signing.format_of(source)[0]]
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / f"slow{suffix}") == 0
    assert len(placed) == 1, "the switch sends TIFF to the library's own path"
    fast_path = tmp_path / f"fast{suffix}"
    fast, library = read(fast_path), read(tmp_path / f"slow{suffix}")
    assert fast[0] == library[0] == "Valid"
    assert _without_binding(fast[1]) == _without_binding(library[1])
    assert [a["digitalSourceType"] for a in actions(fast[1]) if "digitalSourceType" in a] == [TRAINED]
    # the data hash leaves out exactly the manifest store tag 52545 of IFD0 points at, as the library's does
    with open(fast_path, "rb") as fh:
        where = tiff.ifd0_manifest(fh)
    binding = _data_hash(fast_path)
    assert where is not None and [(e["start"], e["length"]) for e in binding["exclusions"]] == [where]
    # the library also leaves out the tag's 4-byte count (12 bytes before its manifest, the tag being IFD0's
    # last entry): Clearance binds the count too, since it knows the manifest's size before it hashes
    with open(tmp_path / f"slow{suffix}", "rb") as fh:
        theirs = tiff.ifd0_manifest(fh)
    assert theirs is not None and [(e["start"], e["length"]) for e in _data_hash(tmp_path / f"slow{suffix}")[
        "exclusions"]] == [(theirs[0] - 12, 4), theirs]
    original, signed = source.read_bytes(), fast_path.read_bytes()
    assert signed[8:len(original)] == original[8:]  # every byte of the source stays where it was
    assert _decoded(fast_path) == _decoded(source)
    assert exiftool_tags(fast_path)["XMP-iptcExt:AISystemUsed"] == "Firefly"
    assert scan_file(fast_path).verdict == "ai_generated"
    changed = bytearray(signed)
    changed[len(original) // 2] ^= 0x01  # one pixel byte
    tampered = tmp_path / f"tampered{suffix}"
    tampered.write_bytes(bytes(changed))
    with open(tampered, "rb") as fh:
        reader = c2pa.Reader(suffix.lstrip("."), fh)
        codes = [f["code"] for f in reader.get_validation_results()["activeManifest"]["failure"]]
        assert reader.get_validation_state() == "Invalid" and "assertion.dataHash.mismatch" in codes


@pytest.mark.parametrize("kind", ["pages", "signed"])
def test_a_tiff_not_modelled_is_signed_by_the_library(kind: str, identity: Path, tmp_path: Path,
                                                      notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "pages":
        source = _pages(tmp_path / "clip.tif")
    else:
        first = _noise_still(tmp_path / "first.tif")
        assert run("credentials", "sign", first, "--record", notify_record, "-o", tmp_path / "clip.tif") == 0
        source = tmp_path / "clip.tif"
    placed = _spy_on_placement(monkeypatch)
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert placed == []
    state, manifest, _ = read(tmp_path / "clip.signed.tif")
    assert state == "Valid"
    if kind == "signed":
        assert [a["action"] for a in actions(manifest)][:2] == ["c2pa.opened", "c2pa.edited"]


def test_only_a_staged_single_page_tiff_without_a_manifest_tag_is_placed(tmp_path: Path) -> None:
    from clearance.credentials import xmp

    fields = xmp.AiFields(source_type=TRAINED, systems="Firefly", versions="", prompt=None)
    one = _noise_still(tmp_path / "one.tif")
    with open(one, "rb") as fh:
        rewrite = xmp.tiff_rewrite(fh, fields, str(one), one.stat().st_size)
    placement = tiff.at_tiff_end("image/tiff", rewrite)
    assert placement is not None
    pieces = placement.pieces(b"M" * 100)
    assert isinstance(pieces[-1], embedding.fileio.Slot) and len(pieces[-1].data) == 100
    assert tiff.at_tiff_end("image/jpeg", rewrite) is None
    pages = _pages(tmp_path / "pages.tif")
    with open(pages, "rb") as fh:
        assert tiff.at_tiff_end("image/tiff", xmp.tiff_rewrite(fh, fields, str(pages), pages.stat().st_size)) is None
