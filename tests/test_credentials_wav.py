"""A WAV signed with room reserved for its manifest: the RIFF size, hashed first, is set before the manifest is
composed, so the hash starts at once; the ``C2PA`` chunk is followed by a ``JUNK`` chunk filling the room. The
file must read back as the library's own: valid, the same sound, the XMP, the scanner's verdict; and every
byte outside the ``C2PA`` chunk, ``JUNK`` included, must be bound by the signature."""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import Any

import c2pa
import pytest
from test_credentials import TRAINED, actions, exiftool_tags, identity, notify_record, read, run
from test_credentials_io import _noise_still

from clearance.credentials import embedding, fileio, signing
from clearance.credentials.xmp import riff_chunks
from clearance.provenance import scan_file

__all__ = ["identity", "notify_record"]  # the fixtures, imported from test_credentials for this module's tests


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[embedding.Placement, bool]]:
    """Each placement Clearance signs a file with, and whether its hash had started before the manifest; every
    file counts as large (no thumbnail), as the files over 10 MB that take this path are."""
    monkeypatch.setattr(signing, "THUMBNAIL_MAX_BYTES", 0)
    seen: list[tuple[embedding.Placement, bool]] = []
    real = embedding.sign

    def spy(*args: Any, **kwargs: Any) -> None:
        ahead = args[5] if len(args) > 5 else kwargs.get("ahead")
        seen.append((args[3], ahead is not None and ahead.hasher is not None))
        real(*args, **kwargs)

    monkeypatch.setattr(embedding, "sign", spy)
    return seen


def _chunks(path: Path) -> list[tuple[bytes, int, int]]:
    with open(path, "rb") as fh:
        chunks = riff_chunks(fh, path.stat().st_size)
    assert chunks is not None
    return chunks


def _samples(path: Path) -> tuple[tuple[int, int, int, int], bytes]:
    with wave.open(str(path)) as sound:
        return (sound.getnchannels(), sound.getsampwidth(), sound.getframerate(), sound.getnframes()), \
            sound.readframes(sound.getnframes())


def _state(path: Path) -> str:
    """The library's validation state; a file it cannot even parse counts as invalid."""
    try:
        with open(path, "rb") as fh:
            return str(c2pa.Reader("audio/wav", fh).get_validation_state())
    except c2pa.C2paError:
        return "Unreadable"


def test_a_wav_is_hashed_before_its_manifest_is_made_into_reserved_room_and_reads_back_as_the_library_writes_it(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio, "_CHUNK", 16 << 10)  # many chunks: the hash follows the copy chunk by chunk
    seen = _spy(monkeypatch)
    source = _noise_still(tmp_path / "noise.wav")
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "fast.wav") == 0
    [(placement, started)] = seen
    assert isinstance(placement, embedding.AtRiffEnd) and placement.reserved > 0 and started
    signed = tmp_path / "fast.wav"
    data = signed.read_bytes()
    assert struct.unpack("<I", data[4:8])[0] + 8 == len(data)
    kinds = [kind for kind, _, _ in _chunks(signed)]
    assert kinds[-3:] == [b"_PMX", b"C2PA", b"JUNK"]
    c2pa_chunk = next((offset, size) for kind, offset, size in _chunks(signed) if kind == b"C2PA")
    assert len(data) - c2pa_chunk[0] == placement.reserved  # the room: the C2PA chunk, its pad, then JUNK
    state, manifest, _ = read(signed)
    assert state == "Valid"
    assert [a["digitalSourceType"] for a in actions(manifest)] == [TRAINED]
    assert _samples(signed) == _samples(source)  # the same sound
    assert data[8:source.stat().st_size] == source.read_bytes()[8:]
    tags = exiftool_tags(signed)
    assert tags["XMP-iptcExt:AISystemUsed"] == "Firefly" and tags["XMP-iptcExt:DigitalSourceType"] == TRAINED
    assert scan_file(signed).verdict == "ai_generated"
    # the library's own path writes the same manifest content, the C2PA chunk last
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "library.wav") == 0
    assert len(seen) == 1
    library_state, library_manifest, _ = read(tmp_path / "library.wav")
    assert library_state == "Valid" and actions(library_manifest) == actions(manifest)
    assert [kind for kind, _, _ in _chunks(tmp_path / "library.wav")][-2:] == [b"_PMX", b"C2PA"]


def test_a_flipped_byte_anywhere_outside_the_c2pa_chunk_junk_included_invalidates_the_wav(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy(monkeypatch)
    source = _noise_still(tmp_path / "noise.wav")
    signed = tmp_path / "signed.wav"
    assert run("credentials", "sign", source, "--record", notify_record, "-o", signed) == 0
    assert seen[0][0].reserved > 0 and read(signed)[0] == "Valid"  # type: ignore[union-attr]
    chunks = {kind: (offset, size) for kind, offset, size in _chunks(signed)}
    junk, c2pa_at = chunks[b"JUNK"], chunks[b"C2PA"]
    original = signed.read_bytes()
    places = {"RIFF size": 5, "fmt chunk": chunks[b"fmt "][0] + 9, "sound": len(original) // 2,
              "XMP chunk": chunks[b"_PMX"][0] + 20, "JUNK id": junk[0], "JUNK size": junk[0] + 4,
              "JUNK data": junk[0] + 8 + (junk[1] - 8) // 2, "last byte": len(original) - 1}
    assert all(not c2pa_at[0] <= at < c2pa_at[0] + c2pa_at[1] for at in places.values())
    for name, at in places.items():
        flipped = bytearray(original)
        flipped[at] ^= 0x10
        signed.write_bytes(bytes(flipped))
        assert _state(signed) != "Valid", name
    signed.write_bytes(original)
    assert _state(signed) == "Valid"


def test_a_manifest_larger_than_the_reserved_room_is_placed_exactly_as_without_room(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy(monkeypatch)
    monkeypatch.setattr(embedding, "reserved_room", lambda definition, signer_reserve: 64)
    source = _noise_still(tmp_path / "noise.wav")
    signed = tmp_path / "signed.wav"
    assert run("credentials", "sign", source, "--record", notify_record, "-o", signed) == 0
    [(placement, started)] = seen
    assert isinstance(placement, embedding.AtRiffEnd) and placement.reserved == 64 and started
    data = signed.read_bytes()
    assert [kind for kind, _, _ in _chunks(signed)][-2:] == [b"_PMX", b"C2PA"]  # last, as the library puts it
    assert struct.unpack("<I", data[4:8])[0] + 8 == len(data)
    assert read(signed)[0] == "Valid" and _samples(signed) == _samples(source)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_the_reserved_room_is_even_and_fits_exactly_or_not_at_all() -> None:
    definition = {"title": "x" * 1001}
    room = embedding.reserved_room(definition, 2125)
    assert room % 2 == 0 and room > 2 * 1001 + 2125
    placement = embedding.AtRiffEnd("audio/wav", 1000, 1008, None, reserved=100)
    fits = b"C2PA" + struct.pack("<I", 84) + bytes(84)  # 92 bytes + an 8-byte JUNK header: exactly the room
    assert placement.fits(fits) and not placement.fits(fits + b"\x00\x00")
    pieces = placement.pieces(fits)
    assert pieces[0] == b"RIFF" + struct.pack("<I", 1100) and pieces[-1] == b"JUNK" + bytes(4)
    odd = b"C2PA" + struct.pack("<I", 81) + bytes(81)  # 89 bytes, a pad byte, then JUNK with 2 bytes of data
    assert placement.pieces(odd)[-2:] == [b"\x00", b"JUNK" + struct.pack("<I", 2) + bytes(2)]
    assert placement.exact().pieces(odd)[0] == b"RIFF" + struct.pack("<I", 1000 + 90)
    with pytest.raises(RuntimeError):
        placement.pieces(fits + b"\x00\x00")


def test_no_room_is_reserved_for_a_wav_with_ingredients_or_near_4_gb() -> None:
    plain = embedding.AtRiffEnd("audio/wav", 1000, 1008)
    assert embedding.with_reserved_slot(plain, {"title": "t"}, 2000, ingredients=False).reserved > 0  # type: ignore[union-attr]
    assert embedding.with_reserved_slot(plain, {"title": "t"}, 2000, ingredients=True) is plain
    full = embedding.AtRiffEnd("audio/wav", 0xFFFFFFFF - 5000, 0xFFFFFFFF - 4992)
    assert embedding.with_reserved_slot(full, {"title": "t"}, 2000, ingredients=False) is full


def test_an_output_that_is_the_input_by_any_path_is_refused_and_the_input_kept(
        identity: Path, tmp_path: Path, notify_record: Path) -> None:
    source = _noise_still(tmp_path / "mix.wav")
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.wav").symlink_to(source)
    for same in (source, tmp_path / "sub" / ".." / "mix.wav", tmp_path / "link.wav"):
        assert run("credentials", "sign", source, "--record", notify_record, "-o", same) != 0, same
    assert source.read_bytes() == before
    assert run("credentials", "sign", tmp_path / "link.wav", "--record", notify_record, "-o", source) != 0
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "sub") != 0  # a folder
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "new.wav") == 0
    assert read(tmp_path / "new.wav")[0] == "Valid" and source.read_bytes() == before


@pytest.mark.parametrize("note", ["", "x" * 5000, "\U0001F600" * 2000, "\u6f22" * 3000])
def test_the_reserved_room_holds_the_library_placeholder_with_long_and_non_ascii_text(
        note: str, identity: Path) -> None:
    import ctypes
    import uuid

    from publish_fixtures import record_data

    from clearance.credentials import detached
    from clearance.credentials.identity import resolve_identity, signer_for
    from clearance.credentials.uses import UseFacts
    from clearance.policy.engine import evaluate
    from clearance.record import UseRecord

    record = UseRecord.model_validate({**record_data("notify"), "id": str(uuid.uuid4())})
    facts = [UseFacts(record=record, decision=evaluate(record))]
    definition = signing.manifest_definition("mix.wav", "audio/wav", facts * 3, TRAINED, parent=False, placed=[],
                                             test_identity=True)
    definition["assertions"][1]["data"]["note"] = note
    signer = signer_for(resolve_identity(None))
    builder = c2pa.Builder(definition, context=signing._context(True, True))
    try:
        builder._ensure_valid_state()
        reserved = ctypes.POINTER(ctypes.c_ubyte)()
        calls = detached.library_calls()
        size = calls.placeholder(builder._handle, signer.reserve_size(), embedding.RAW.encode(), ctypes.byref(reserved))
        assert size > 0
        placeholder = calls.take(reserved, size)
    finally:
        builder.close()
    room = embedding.reserved_room(definition, signer.reserve_size())
    placement = embedding.AtRiffEnd("audio/wav", 1000, 1008, None, reserved=room)
    framed = placement.framed(placeholder)
    assert placement.fits(framed) and room >= 2 * len(framed), (len(framed), room)
