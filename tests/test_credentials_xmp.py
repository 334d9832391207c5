"""The IPTC AI fields in XMP beyond JPEG and PNG: TIFF/DNG (tag 700), MP4/MOV (the XMP ``uuid`` box), WAV
(the ``_PMX`` chunk) and WebP (the ``XMP `` chunk, with VP8X), written before signing. Each signed file is
read back by tools no one here wrote: c2pa-python's Reader (valid, source type, the XMP covered by the
signature), exiftool (the XMP fields, an existing packet's other properties) and the format's own decoder
(Pillow, FFmpeg through PyAV, ``wave``)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import credentials_media as media
import pytest
from publish_fixtures import record_data, write_record
from test_credentials import COMPOSITE, TRAINED, actions, exiftool_tags, identity, notify_record, read, run
from test_credentials_io import _same_manifest, _spy_on_placement

from clearance.credentials import embedding, xmp
from clearance.provenance import scan_file

__all__ = ["identity", "notify_record"]  # the fixtures, imported from test_credentials for this module's tests

KEEP = "kept from the vendor's packet"


def _pillow_tiff(path: Path) -> Path:
    return media.still(path)


def _pages(path: Path) -> Path:
    """A two-page TIFF (Pillow): IFD0 points on to a second IFD, which must stay reachable."""
    from PIL import Image

    first = Image.open(media.still(path.with_name("page1.png")))
    second = Image.open(media.still(path.with_name("page2.png"), size=(32, 24)))
    first.save(path, save_all=True, append_images=[second])
    return path


def _dng(path: Path) -> Path:
    """A TIFF carrying DNGVersion (tag 50706), as DNG files are: the same IFD0 rules apply."""
    from PIL import Image

    with Image.open(media.still(path.with_name("dng.png"))) as image:
        image.save(path, format="TIFF", tiffinfo={50706: b"\x01\x04\x00\x00"})
    return path


def _webp(path: Path, **options: Any) -> Path:
    """A WebP by Pillow (libwebp): lossy (a simple VP8 file), lossless with transparency (a simple VP8L file),
    or animated (VP8X with ANIM/ANMF)."""
    from PIL import Image

    with Image.open(media.still(path.with_name(path.stem + ".png"))) as still:
        image = still.convert("RGBA")
    pixels = image.load()
    assert pixels is not None
    for x in range(12):
        pixels[x, 0] = (1, 2, 3, 0)  # transparent: the lossless file's alpha is used
    if options.pop("animated", False):
        image.save(path, save_all=True, append_images=[image.rotate(180)], duration=40, lossless=True)
    elif options.pop("lossless", False):
        image.save(path, lossless=True)
    else:
        image.convert("RGB").save(path, quality=90)
    return path


SIMPLE_WEBP = {"lossy.webp": b"VP8 ", "transparent.webp": b"VP8L"}  # no packet: exiftool would add VP8X

MAKERS: dict[str, Callable[[Path], Path]] = {
    "still.tif": _pillow_tiff,
    "motorola.tif": lambda p: media.tiff(p, big_endian=True),
    "pages.tiff": _pages,
    "raw.dng": _dng,
    "clip.mp4": media.movie,
    "clip.mov": media.movie,
    "clip.m4v": media.movie,
    "sound.wav": media.sound,
    "lossy.webp": _webp,
    "transparent.webp": lambda p: _webp(p, lossless=True),
    "animated.webp": lambda p: _webp(p, animated=True),
}


def _wav_packet(path: Path, title: str) -> None:
    """Add a ``_PMX`` chunk with a dc:title (exiftool does not write WAV), growing the RIFF size."""
    data = path.read_bytes()
    packet = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
              '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
              f'{title}</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
              ).encode()
    chunk = b"_PMX" + struct.pack("<I", len(packet)) + packet + b"\x00" * (len(packet) % 2)
    body = data[8:] + chunk
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def _add_packet(path: Path) -> None:
    """An existing XMP packet with a property Clearance does not write: exiftool puts it where its format
    keeps XMP (TIFF tag 700, an MP4's uuid box, a MOV's moov/udta/XMP_)."""
    if path.suffix == ".wav":
        _wav_packet(path, KEEP)
        return
    exiftool = shutil.which("exiftool")
    assert exiftool is not None
    subprocess.run([exiftool, "-q", "-overwrite_original", f"-XMP-dc:Title={KEEP}", str(path)], check=True)
    assert exiftool_tags(path)["XMP-dc:Title"] == KEEP


def _decoded(path: Path, pages: int = 2) -> Any:
    """What a decoder makes of the file: the pixels of its first ``pages`` pages, video frames, or sound.

    Not every page: on a multi-page TIFF the C2PA library chains one more IFD after the last page, holding
    only its manifest (tag 52545), with or without XMP; Pillow counts it as a page without dimensions."""
    if path.suffix in (".tif", ".tiff", ".dng", ".webp"):
        from PIL import Image

        out = []
        with Image.open(path) as image:
            for n in range(pages):
                try:
                    image.seek(n)
                except EOFError:
                    break
                out.append(image.convert("RGBA").tobytes())
        return out
    if path.suffix == ".wav":
        with wave.open(str(path), "rb") as sound:
            return sound.getparams()[:4], sound.readframes(sound.getnframes())
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24").tobytes() for frame in container.decode(video=0)]


def _flip_in_xmp(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.rindex(b"<Iptc4xmpExt:AISystemUsed>Firefly") + len("<Iptc4xmpExt:AISystemUsed>")
    data[at] ^= 0x20  # "firefly": the XMP changed after signing
    path.write_bytes(bytes(data))


def _state(path: Path) -> str:
    with open(path, "rb") as fh:
        return str(c2pa.Reader(path.suffix.lstrip("."), fh).get_validation_state())


@pytest.mark.parametrize("composite", [False, True], ids=["generated", "composite"])
@pytest.mark.parametrize("name", list(MAKERS))
def test_the_ai_fields_are_written_into_the_format_and_read_back(
        name: str, composite: bool, identity: Path, tmp_path: Path, notify_record: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    source = MAKERS[name](tmp_path / name)
    if name in SIMPLE_WEBP:
        assert source.read_bytes()[12:16] == SIMPLE_WEBP[name]  # Clearance adds the VP8X chunk XMP needs
    else:
        _add_packet(source)
    before = source.read_bytes()
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record,
               "--composite" if composite else "--generated") == 0
    assert "XMP: IPTC AI fields written (DigitalSourceType, AISystemUsed, AISystemVersionUsed)" in \
        capsys.readouterr().out
    assert source.read_bytes() == before, "the original is never touched"
    signed = source.with_name(f"{source.stem}.signed{source.suffix}")
    kind = COMPOSITE if composite else TRAINED
    state, manifest, _ = read(signed)
    assert state == "Valid" and {a["digitalSourceType"] for a in actions(manifest)} == {kind}
    tags = exiftool_tags(signed)
    assert tags["XMP-iptcExt:DigitalSourceType"] == kind
    assert tags["XMP-iptcExt:AISystemUsed"] == "Firefly" and tags["XMP-iptcExt:AISystemVersionUsed"] == "Image 3"
    assert "XMP-iptcExt:AIPromptInformation" not in tags  # the record does not allow sharing its prompt
    assert tags.get("XMP-dc:Title") == (None if name in SIMPLE_WEBP else KEEP), "the old packet's other properties"
    assert _packets(signed) == 1, "one XMP packet, not the old one beside the new"
    assert _decoded(signed) == _decoded(source)
    assert scan_file(signed).verdict == ("ai_composite" if composite else "ai_generated")
    _flip_in_xmp(signed)
    assert _state(signed) == "Invalid", "the signature covers the XMP"


@pytest.mark.parametrize("name", ["still.tif", "clip.mov", "sound.wav"])
def test_a_shareable_prompt_is_written_as_ai_prompt_information(
        name: str, identity: Path, tmp_path: Path) -> None:
    data = record_data("notify", schema_version=2, prompt={"text": "a lighthouse at dusk, 35mm", "shareable": "yes"})
    data["tool"].update(trains_on_outputs="no")
    write_record(tmp_path / "shared.yaml", data)
    source = MAKERS[name](tmp_path / name)
    assert run("credentials", "sign", source, "--record", tmp_path / "shared.yaml") == 0
    signed = source.with_name(f"{source.stem}.signed{source.suffix}")
    assert read(signed)[0] == "Valid"
    assert exiftool_tags(signed)["XMP-iptcExt:AIPromptInformation"] == "a lighthouse at dusk, 35mm"


def test_a_wav_with_its_manifest_placed_by_clearance_carries_the_xmp_first(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    placed = _spy_on_placement(monkeypatch)
    source = media.sound(tmp_path / "mix.wav", seconds=2)
    _wav_packet(source, KEEP)
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "fast.wav") == 0
    assert placed == ["audio/wav"]
    monkeypatch.setenv("CLEARANCE_C2PA_LIBRARY_EMBED", "1")
    assert run("credentials", "sign", source, "--record", notify_record, "-o", tmp_path / "library.wav") == 0
    assert len(placed) == 1
    fast, library = read(tmp_path / "fast.wav"), read(tmp_path / "library.wav")
    assert fast[0] == library[0] == "Valid" and _same_manifest(fast[1], library[1])
    for signed in (tmp_path / "fast.wav", tmp_path / "library.wav"):
        with open(signed, "rb") as fh:
            chunks = [kind for kind, _, _ in xmp.riff_chunks(fh, signed.stat().st_size) or []]
        # the old packet's chunk renamed in place, the new packet, then the manifest; Clearance's file ends with
        # the JUNK chunk filling the room it reserved for the manifest, the library's with the manifest
        tail = [b"JUNK"] if signed.name == "fast.wav" else []
        assert chunks == [b"fmt ", b"data", b"JUNK", b"_PMX", b"C2PA", *tail], signed.name
        tags = exiftool_tags(signed)
        assert tags["XMP-dc:Title"] == KEEP and tags["XMP-iptcExt:AISystemUsed"] == "Firefly"
        assert _decoded(signed) == _decoded(source)
    _flip_in_xmp(tmp_path / "fast.wav")
    assert _state(tmp_path / "fast.wav") == "Invalid"


@pytest.mark.parametrize("name", ["video1.mp4", "sample1_signed.wav"])
def test_a_file_with_credentials_keeps_them_as_its_parent_and_gets_the_xmp(
        name: str, identity: Path, tmp_path: Path, notify_record: Path, shared_data: Path) -> None:
    source = Path(shutil.copy(shared_data / "provenance" / name, tmp_path / name))
    assert run("credentials", "sign", source, "--record", notify_record, "--composite") == 0
    signed = source.with_name(f"{source.stem}.signed{source.suffix}")
    state, manifest, store = read(signed)
    assert state == "Valid"
    assert manifest["ingredients"][0]["relationship"] == "parentOf"
    assert manifest["ingredients"][0]["active_manifest"] in store["manifests"]
    assert exiftool_tags(signed)["XMP-iptcExt:DigitalSourceType"] == COMPOSITE


def test_a_movie_whose_last_box_runs_to_the_end_gets_its_size(identity: Path, tmp_path: Path,
                                                              notify_record: Path) -> None:
    source = media.movie(tmp_path / "open.mp4")
    data = bytearray(source.read_bytes())
    with open(source, "rb") as fh:
        boxes = xmp.bmff_boxes(fh, 0, len(data))
    _, last, _, _ = boxes[-1]
    data[last:last + 4] = bytes(4)  # "size 0: to the end of the file", as a recorder still writing leaves it
    source.write_bytes(bytes(data))
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    signed = tmp_path / "open.signed.mp4"
    assert read(signed)[0] == "Valid"
    assert exiftool_tags(signed)["XMP-iptcExt:AISystemUsed"] == "Firefly"
    assert _decoded(signed) == _decoded(source)


def _fragmented(path: Path) -> Path:
    return media.movie(path, movflags="frag_keyframe+empty_moov")


@pytest.mark.parametrize(("name", "make", "reason"), [
    ("big.tif", lambda p: media.tiff(p, bigtiff=True), "BigTIFF"),
])
def test_a_file_laid_out_otherwise_is_signed_without_xmp_and_says_why(
        name: str, make: Callable[[Path], Path], reason: str, identity: Path, tmp_path: Path,
        notify_record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = make(tmp_path / name)
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    out = capsys.readouterr().out
    assert f"XMP: not written ({reason}" in out and "the C2PA manifest carries the same facts" in out
    signed = source.with_name(f"{source.stem}.signed{source.suffix}")
    assert read(signed)[0] == "Valid"
    assert "XMP-iptcExt:AISystemUsed" not in exiftool_tags(signed)
    assert _decoded(signed) == _decoded(source)


@pytest.mark.parametrize("name", ["cut.tif", "rf64.wav", "short.wav", "overrun.mov"])
def test_a_damaged_file_fails_in_one_line_and_writes_nothing(
        name: str, identity: Path, tmp_path: Path, notify_record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    if name == "cut.tif":
        data = bytearray(media.tiff(path).read_bytes())
        data[4:8] = struct.pack("<I", 1 << 20)  # IFD0 past the end of the file
    elif name.endswith(".wav"):
        data = bytearray(media.sound(path).read_bytes())
        if name == "rf64.wav":
            data[:4] = b"RF64"
        else:
            data = data[:-7]  # cut short: the RIFF size says more than there is
    else:
        data = bytearray(media.movie(path).read_bytes())
        data[:4] = struct.pack(">I", len(data) + 100)  # the first box claims more than the file
    path.write_bytes(bytes(data))
    capsys.readouterr()
    assert run("credentials", "sign", path, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert name in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["notify.yaml", name])


FIELDS = xmp.AiFields(TRAINED, "Firefly", "Image 3")


def _staged(source: Path, rewrite: xmp.Rewrite) -> bytes:
    """The staged file ``rewrite`` describes, written as signing writes it."""
    import os

    from clearance.credentials import fileio

    out = source.with_name("staged" + source.suffix)
    with fileio.descriptor(source, os.O_RDONLY) as src, fileio.descriptor(out, os.O_RDWR | os.O_CREAT) as dst:
        fileio.write_pieces(rewrite.pieces(), src, dst)
    return out.read_bytes()


@pytest.mark.parametrize("big_endian", [False, True])
def test_a_tiffs_ifd0_copy_is_sorted_word_aligned_and_leaves_every_value_where_it_was(
        big_endian: bool, tmp_path: Path) -> None:
    source = media.tiff(tmp_path / "plate.tif", big_endian=big_endian)
    with open(source, "rb") as fh:
        fh.seek(0, io.SEEK_END)
        end = fh.tell()
        fh.seek(0)
        rewrite = xmp.tiff_rewrite(fh, FIELDS, str(source), end)
    original = source.read_bytes()
    staged = _staged(source, rewrite)
    order = ">" if big_endian else "<"
    assert staged[8:end] == original[8:end], "nothing before the end moves"
    (ifd,) = struct.unpack(order + "I", staged[4:8])
    assert ifd > end and ifd % 2 == 0
    (count,) = struct.unpack(order + "H", staged[ifd:ifd + 2])
    entries = [struct.unpack(order + "HHII", staged[ifd + 2 + 12 * n:ifd + 14 + 12 * n]) for n in range(count)]
    tags = [e[0] for e in entries]
    assert tags == sorted(tags) and 700 in tags and count == 10
    (old_ifd,) = struct.unpack(order + "I", original[4:8])
    old = original[old_ifd + 2:old_ifd + 2 + 12 * 9]
    assert all(old[12 * n:12 * n + 12] in staged[ifd + 2:ifd + 2 + 12 * count] for n in range(9))
    _, kind, length, at = next(e for e in entries if e[0] == 700)
    assert kind == 7 and at % 2 == 0 and b"Iptc4xmpExt:AISystemUsed>Firefly<" in staged[at:at + length]
    assert staged[ifd + 2 + 12 * count:ifd + 6 + 12 * count] == bytes(4), "the next-IFD offset is kept"
    # once more over the staged file: its packet is replaced, not doubled
    (tmp_path / "again.tif").write_bytes(staged)
    with open(tmp_path / "again.tif", "rb") as fh:
        again = _staged(tmp_path / "again.tif", xmp.tiff_rewrite(fh, FIELDS, "again.tif", len(staged)))
    assert again.count(b"<Iptc4xmpExt:AISystemUsed>") == 2  # the old packet, unreferenced, and the new one


def test_at_riff_end_counts_the_xmp_chunk_in_the_riff_size(tmp_path: Path) -> None:
    sound = media.sound(tmp_path / "a.wav")
    size = sound.stat().st_size
    with open(sound, "rb") as fh:
        rewrite = xmp.wav_rewrite(fh, FIELDS, "a.wav", size)
    placement = embedding.AtRiffEnd("audio/wav", size - 8, size, rewrite)
    framed = placement.framed(b"x" * 11)
    pieces = placement.pieces(framed)
    total = sum(len(p) if isinstance(p, bytes) else p[1] - p[0] if isinstance(p, tuple) else len(p.data)
                for p in pieces)
    assert struct.unpack("<I", pieces[0][4:8])[0] == total - 8  # type: ignore[index]
    assert pieces[-1] == b"\x00" and total % 2 == 0


@pytest.mark.parametrize("name", ["still.tif", "clip.mp4", "sound.wav", "lossy.webp"])
def test_signing_a_signed_file_again_keeps_it_as_the_parent_with_one_packet(
        name: str, identity: Path, tmp_path: Path, notify_record: Path) -> None:
    source = MAKERS[name](tmp_path / name)
    first = tmp_path / f"first{source.suffix}"
    assert run("credentials", "sign", source, "--record", notify_record, "-o", first) == 0
    assert run("credentials", "sign", first, "--record", notify_record, "--composite", "-o",
               tmp_path / f"second{source.suffix}") == 0
    state, manifest, store = read(tmp_path / f"second{source.suffix}")
    assert state == "Valid" and [a["action"] for a in actions(manifest)] == ["c2pa.opened", "c2pa.edited"]
    assert manifest["ingredients"][0]["active_manifest"] in store["manifests"]
    assert exiftool_tags(tmp_path / f"second{source.suffix}")["XMP-iptcExt:DigitalSourceType"] == COMPOSITE
    assert _packets(tmp_path / f"second{source.suffix}") == 1
    assert _decoded(tmp_path / f"second{source.suffix}") == _decoded(source)


def _packets(path: Path) -> int:
    """How many XMP packets exiftool finds (each carries AISystemUsed once)."""
    exiftool = shutil.which("exiftool")
    assert exiftool is not None
    out = subprocess.run([exiftool, "-a", "-s", "-s", "-s", "-XMP-iptcExt:AISystemUsed", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


@pytest.mark.parametrize(("name", "flags"), [("lossy.webp", 0x04), ("transparent.webp", 0x14),
                                             ("animated.webp", None)])
def test_a_webp_gets_the_vp8x_chunk_xmp_needs_with_its_canvas_and_flags(name: str, flags: int | None,
                                                                      tmp_path: Path) -> None:
    source = MAKERS[name](tmp_path / name)
    original = source.read_bytes()
    with open(source, "rb") as fh:
        rewrite = xmp.webp_rewrite(fh, FIELDS, name, len(original))
    staged = _staged(source, rewrite)
    assert staged[:4] == b"RIFF" and int.from_bytes(staged[4:8], "little") == len(staged) - 8
    assert staged[12:16] == b"VP8X"
    if flags is None:  # already extended: only the XMP flag is added, in place
        assert staged[20] == original[20] | 0x04 and staged[21:len(original)] == original[21:]
    else:
        assert staged[20] == flags and staged[30:].startswith(original[12:])
        assert int.from_bytes(staged[24:27], "little") + 1 == 64 and int.from_bytes(staged[27:30], "little") + 1 == 48
    assert staged.endswith(rewrite.tail) and rewrite.tail.startswith(b"XMP ")
    (tmp_path / f"staged.{name}").write_bytes(staged)
    assert _decoded(tmp_path / f"staged.{name}") == _decoded(source)
    with open(source, "rb") as fh, pytest.raises(xmp.NotWritable, match="does not match the file"):
        xmp.webp_rewrite(fh, FIELDS, name, len(original) + 2)  # as if bytes followed the RIFF chunk


def test_an_existing_packet_too_large_to_be_one_is_not_loaded(identity: Path, tmp_path: Path, notify_record: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(xmp, "MAX_CARRIED", 100)  # as a chunk claiming gigabytes would be
    source = media.sound(tmp_path / "mix.wav")
    _wav_packet(source, KEEP)
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert "XMP: not written (its XMP packet at offset" in capsys.readouterr().out
    assert read(tmp_path / "mix.signed.wav")[0] == "Valid"


@pytest.mark.parametrize("name", ["still.tif", "motorola.tif", "clip.mp4", "clip.mov", "sound.wav", "lossy.webp",
                                  "animated.webp"])
def test_a_damaged_header_is_refused_by_the_writer_or_described_within_the_file(name: str, tmp_path: Path) -> None:
    import random

    source = MAKERS[name](tmp_path / name)
    if name.endswith(".wav"):
        _wav_packet(source, KEEP)
    data = source.read_bytes()
    rng = random.Random(name)
    writer = xmp.WRITERS[{"tif": "image/tiff", "mp4": "video/mp4", "mov": "video/quicktime", "wav": "audio/wav",
                          "webp": "image/webp"}[name.rsplit(".", 1)[1]]]
    written = 0
    for _ in range(400):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(min(len(damaged), 256))] = rng.randrange(256)
        if rng.random() < 0.2:
            damaged = damaged[:rng.randrange(len(damaged))]
        try:
            rewrite = writer(io.BytesIO(bytes(damaged)), FIELDS, name, len(damaged))
        except xmp.NotWritable:
            continue
        written += 1
        ranges = [p for p in rewrite.pieces() if isinstance(p, tuple)]
        assert all(0 <= start <= end <= len(damaged) for start, end in ranges)
        assert [r[0] for r in ranges] == sorted(r[0] for r in ranges)  # patches neither overlap nor reorder
    assert written, "some damage leaves a file Clearance can still write into"


def test_a_file_the_library_refuses_with_the_xmp_is_signed_as_it_came_and_says_so(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def unforeseen(src: Any, fields: xmp.AiFields, where: str, end: int) -> xmp.Rewrite:
        return xmp.Rewrite(b"II*\x00" + (end + 1000).to_bytes(4, "little"), 8, end)  # IFD0 past the end

    monkeypatch.setitem(xmp.WRITERS, "image/tiff", unforeseen)
    source = media.still(tmp_path / "plate.tif")
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert "XMP: not written (the C2PA library refused the file with it" in capsys.readouterr().out
    signed = tmp_path / "plate.signed.tif"
    assert read(signed)[0] == "Valid" and _decoded(signed) == _decoded(source)
    assert "XMP-iptcExt:AISystemUsed" not in exiftool_tags(signed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notify.yaml", "plate.signed.tif", "plate.tif"]


def test_a_full_disk_while_the_xmp_is_staged_fails_in_one_line_and_leaves_nothing(
        identity: Path, tmp_path: Path, notify_record: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from clearance.credentials import fileio

    def full_disk(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio, "write_pieces", full_disk)
    source = media.still(tmp_path / "plate.tif")  # a movie is no longer staged: see test_credentials_bmff
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert "plate.tif" in err and "No space left on device" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notify.yaml", "plate.tif"]


def _movie(path: Path, faststart: bool) -> Path:
    return media.movie(path, movflags="faststart" if faststart else None)


def _xmp_places(path: Path) -> list[str]:
    """Where the signed movie carries XMP: ``uuid`` (top level) and/or ``moov/udta/XMP_``."""
    size = path.stat().st_size
    places = []
    with open(path, "rb") as fh:
        for kind, offset, header, box_size in xmp.bmff_boxes(fh, 0, size):
            fh.seek(offset + header)
            if kind == b"uuid" and fh.read(16) == xmp.BMFF_XMP_UUID:
                places.append("uuid")
            if kind == b"moov":
                for child, c_offset, c_header, c_size in xmp.bmff_boxes(fh, offset + header, offset + box_size):
                    if child == b"udta" and any(item == b"XMP_" for item, _, _, _ in xmp.bmff_boxes(
                            fh, c_offset + c_header, c_offset + c_size, user_data=True)):
                        places.append("moov/udta/XMP_")
    return places


@pytest.mark.parametrize("faststart", [False, True], ids=["movie-box-last", "movie-box-first"])
@pytest.mark.parametrize(("name", "place"), [("clip.mov", "moov/udta/XMP_"), ("clip.mp4", "uuid")])
def test_a_movie_carries_its_xmp_where_its_kind_of_reader_looks(
        name: str, place: str, faststart: bool, identity: Path, tmp_path: Path, notify_record: Path) -> None:
    # The XMP Toolkit reads a QuickTime movie's XMP from moov/udta/XMP_ only, an ISO movie's from the uuid box
    # first: one place each, the other renamed free.
    source = _movie(tmp_path / name, faststart)
    _add_packet(source)
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    signed = source.with_name(f"{source.stem}.signed{source.suffix}")
    assert _xmp_places(signed) == [place]
    assert read(signed)[0] == "Valid"
    tags = exiftool_tags(signed)
    assert tags["XMP-dc:Title"] == KEEP and tags["XMP-iptcExt:AISystemUsed"] == "Firefly"
    assert _decoded(signed) == _decoded(source) and len(_decoded(source)) == 6


def test_a_fragmented_movie_gets_its_xmp_before_its_fragment_index(identity: Path, tmp_path: Path,
                                                                    notify_record: Path) -> None:
    source = _fragmented(tmp_path / "fragments.mp4")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    signed = tmp_path / "fragments.signed.mp4"
    assert read(signed)[0] == "Valid"
    assert exiftool_tags(signed)["XMP-iptcExt:AISystemUsed"] == "Firefly"
    assert _decoded(signed) == _decoded(source) and len(_decoded(source)) == 6
    data = signed.read_bytes()
    with open(signed, "rb") as fh:
        boxes = xmp.bmff_boxes(fh, 0, len(data))
    kind, offset, _, size = boxes[-1]
    assert kind == b"mfra" and boxes[-2][0] == b"uuid"
    # readers find the index from the end: the mfro box that closes it gives its size (ISO/IEC 14496-12, 8.8.11)
    assert data[-12:-8] == b"mfro" and int.from_bytes(data[-4:], "big") == size and offset + size == len(data)


def test_a_rewrite_inserts_its_tail_where_asked_and_refuses_overlapping_changes() -> None:
    rewrite = xmp.Rewrite(b"H", 1, 20, patches=((4, b"ab"), (12, b"cd")), tail=b"T", insert_at=12)
    assert rewrite.pieces() == [b"H", (1, 4), b"ab", (6, 12), b"T", (12, 12), b"cd", (14, 20)]
    at_end = xmp.Rewrite(b"H", 1, 20, patches=((4, b"ab"),), tail=b"T")
    assert at_end.pieces() == [b"H", (1, 4), b"ab", (6, 20), b"T", (20, 20)]
    with pytest.raises(ValueError, match="overlapping"):
        xmp.Rewrite(b"", 0, 20, patches=((4, b"abcd"), (6, b"x"))).pieces()
    with pytest.raises(ValueError, match="inside a change"):
        xmp.Rewrite(b"", 0, 20, patches=((4, b"abcd"),), tail=b"T", insert_at=6).pieces()
