"""The `--corpus real` of bench/scan.py: the vendored C2PA and generator samples plus generated variants,
laid out and sized like a delivery folder.

Large media are sparse files (their picture and sound payloads are holes), so a corpus of tens of
gigabytes costs no disk, and any reader that reads a payload pays for it in time as with a real file.

- editorial/ (1.5%): MP4 and MOV, 150 MB to 1.2 GB; moov before or after mdat; some with a C2PA uuid box;
- plates/ (3%): TIFF and DNG, 40 to 120 MB; some with XMP DigitalSourceType (AI plate extensions);
- samples/ (25%): the vendored C2PA fixtures, ComfyUI PNG, signed WAV and MP4, as hard links;
- stills/ (55%): JPEG (camera EXIF with 2-6 MB of scan data; XMP DigitalSourceType; C2PA), PNG (A1111
  parameters; plain with 1-3 MB of IDAT), WebP;
- audio/ (15.5%): WAV (C2PA; 20-200 MB of samples; ISFT software), MP3 (ID3 TSSE/COMM naming Suno or
  ElevenLabs; plain LAME).

``build_stills_corpus`` (``--corpus stills``) is a corpus unlike it: stills with large XMP packets, named by
random ids.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
from pathlib import Path

from clearance.provenance import samples as s

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "provenance"
MB = 1024 * 1024


def _sparse(path: Path, head: bytes, size: int, tail: bytes = b"") -> None:
    """``head``, then a hole up to ``size - len(tail)``, then ``tail``."""
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(max(size - len(tail), len(head)))
        fh.seek(0, os.SEEK_END)
        fh.write(tail)


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _store(agent: str) -> bytes:
    return s.c2pa_store([{"label": "urn:c2pa:gen", "actions": [s.created("trainedAlgorithmicMedia", agent)]}])


def _movie(path: Path, size: int, c2pa: bytes | None, moov_last: bool, quicktime: bool) -> None:
    ftyp = s.box(b"ftyp", (b"qt  \0\0\x02\0qt  " if quicktime else b"isom\0\0\x02\0isomiso2mp41"))
    moov = s.box(b"moov", s.box(b"mvhd", bytes(100)) + s.box(b"trak", s.box(b"tkhd", bytes(84))))
    extra = b""
    if c2pa is not None:
        extra = s.box(b"uuid", bytes.fromhex("d8fec3d61b0e483c92975828877ec481") + b"\0\0\0\0manifest\0"
                      + bytes(8) + c2pa)
    before = ftyp + (b"" if moov_last else moov + extra)
    after = (moov + extra) if moov_last else b""
    payload = size - len(before) - len(after) - 16
    mdat_header = struct.pack(">I4sQ", 1, b"mdat", payload + 16)  # 64-bit size, as for files over 4 GB
    _sparse(path, before + mdat_header, size, after)


def _tiff(path: Path, size: int, xmp: bytes | None, dng: bool, software: str) -> None:
    entries: dict[int, tuple[int, bytes]] = {256: (4, struct.pack("<I", 8192)), 257: (4, struct.pack("<I", 4320)),
                                             305: s.ascii_value(software)}
    if dng:
        entries[50706] = (1, bytes([1, 4, 0, 0]))  # DNGVersion
        entries[271] = s.ascii_value("ARRI")
    if xmp is not None:
        entries[700] = (1, xmp)
    head = s.tiff(entries)
    _sparse(path, head, size)


def _jpeg(path: Path, data: bytes, scan_bytes: int) -> None:
    _sparse(path, data[:-2], len(data) - 2 + scan_bytes + 2, b"\xff\xd9")


def build_real_corpus(root: Path, total: int) -> dict[str, int]:
    """Write the corpus under ``root``; returns files per folder."""
    real = sorted(p for p in SAMPLES.iterdir() if not p.name.startswith("LICENSE"))
    share = {"editorial": 0.015, "plates": 0.03, "samples": 0.25, "stills": 0.55, "audio": 0.155}
    counts = {k: max(2, round(total * v)) for k, v in share.items()}
    counts["stills"] += total - sum(counts.values())
    for folder in counts:
        (root / folder).mkdir(parents=True, exist_ok=True)

    for i in range(counts["samples"]):
        src = real[i % len(real)]
        _link(src, root / "samples" / f"{i:05d}-{src.name}")

    for i in range(counts["editorial"]):
        size = (150 + (i * 97) % 1050) * MB
        c2pa = _store("Runway Gen-3") if i % 3 == 0 else None
        quicktime = i % 2 == 1
        _movie(root / "editorial" / f"reel{i // 4 + 1}_v{i:03d}.{'mov' if quicktime else 'mp4'}", size, c2pa,
               moov_last=i % 4 in (1, 2), quicktime=quicktime)

    for i in range(counts["plates"]):
        size = (40 + (i * 13) % 80) * MB
        kind = i % 4
        xmp = None
        software = "Nuke 15.1v3"
        if kind == 0:
            xmp = s.xmp_packet("compositeWithTrainedAlgorithmicMedia", creator_tool="Adobe Photoshop 26.0")
            software = "Adobe Photoshop 26.0"
        elif kind == 1:
            xmp = s.xmp_packet("digitalCapture", creator_tool="ARRIRAW Converter")
        dng = kind == 3
        _tiff(root / "plates" / f"plate_{i:04d}.{'dng' if dng else 'tif'}", size, xmp, dng, software)

    stills = root / "stills"
    a1111 = ("portrait of an astronaut, studio light\nNegative prompt: blurry\n"
             "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: {seed}, Size: 768x768, Model: sdxl_base")
    c2pa_still = _store("Adobe Firefly")
    for i in range(counts["stills"]):
        kind = i % 10
        if kind in (0, 1, 2):  # camera stills and scans: most of a delivery
            data = s.jpeg(exif_data=s.exif(software="Canon EOS R5 Firmware 1.8", description="ref still"))
            _jpeg(stills / f"ref_{i:05d}.jpg", data, (2 + i % 5) * MB)
        elif kind == 3:
            term = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")[i % 2]
            _jpeg(stills / f"concept_{i:05d}.jpg", s.jpeg(xmp=s.xmp_packet(term, creator_tool="Adobe Photoshop 26.0")),
                  MB)
        elif kind == 4:
            _jpeg(stills / f"keyart_{i:05d}.jpg", s.jpeg(c2pa=c2pa_still), 800_000)
        elif kind == 5:
            (stills / f"txt2img_{i:05d}.png").write_bytes(s.png(text={"parameters": a1111.format(seed=i)}, size=64))
        elif kind in (6, 7):
            head = s.png(text={"Software": "Substance Designer"}, size=64)
            payload = (1 + i % 3) * MB  # one large IDAT chunk whose data is a hole
            idat = struct.pack(">I", payload) + b"IDAT"
            _sparse(stills / f"texture_{i:05d}.png", head[:-12] + idat, len(head) + len(idat) + payload + 4,
                    bytes(4) + head[-12:])
        elif kind == 8:
            (stills / f"gen_{i:05d}.webp").write_bytes(s.webp(xmp=s.xmp_packet("trainedAlgorithmicMedia")))
        else:
            (stills / f"thumb_{i:05d}.webp").write_bytes(s.webp())

    audio = root / "audio"
    for i in range(counts["audio"]):
        kind = i % 6
        if kind == 0:
            (audio / f"vo_ai_{i:05d}.wav").write_bytes(s.wav(c2pa=_store("ElevenLabs"), data_size=96_000))
        elif kind == 1:
            head = s.wav(data_size=0, software="Pro Tools")
            size = (20 + (i * 7) % 180) * MB
            body = head[:-8] if head.endswith(b"data\0\0\0\0") else head
            _sparse(audio / f"stem_{i:05d}.wav", body[:4] + struct.pack("<I", size - 8) + body[8:]
                    + b"data" + struct.pack("<I", size - len(body) - 8), size)
        elif kind == 2:
            (audio / f"music_ai_{i:05d}.mp3").write_bytes(s.mp3(encoder="Suno v4", audio=400_000))
        elif kind == 3:
            (audio / f"temp_vo_{i:05d}.mp3").write_bytes(s.mp3(comment="made with ElevenLabs", audio=200_000))
        elif kind == 4:
            (audio / f"sfx_{i:05d}.mp3").write_bytes(s.mp3(encoder="LAME 3.100", audio=600_000))
        else:
            (audio / f"room_tone_{i:05d}.wav").write_bytes(s.wav(data_size=500_000, software="Sound Devices 833"))
    return counts


def _lightroom_xmp(rng: random.Random, i: int) -> bytes:
    """An XMP packet shaped like a Lightroom export's: ~180 develop settings, a history, no AI marker."""
    values = ["Adobe Standard", "As Shot", "+0.35", "True", "Custom", "Medium Contrast", "Linear", "0", "-12", "5500"]
    settings = " ".join(f'crs:Param{j}="{rng.choice(values)}"' for j in range(180))
    history = "".join(
        f'<rdf:li stEvt:action="{action}" stEvt:instanceID="xmp.iid:{rng.getrandbits(64):x}" '
        f'stEvt:when="2024-05-0{k + 1}T10:11:12+02:00" '
        f'stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 13.{k} (Windows)" stEvt:changed="/metadata"/>'
        for k, action in enumerate(["derived", "saved", "saved", "saved"]))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" '
        'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
        'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
        'xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmp:CreatorTool="Adobe Photoshop Lightroom Classic 13.{i % 4} (Windows)" '
        f'aux:Lens="RF24-105mm F4 L IS USM" aux:SerialNumber="{rng.getrandbits(40)}" {settings}>'
        f"<xmpMM:History><rdf:Seq>{history}</rdf:Seq></xmpMM:History>"
        "<dc:creator><rdf:Seq><rdf:li>Unit Stills Photographer</rdf:li></rdf:Seq></dc:creator>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def build_stills_corpus(root: Path, total: int) -> dict[str, int]:
    """A corpus unlike ``real``: many small stills with large XMP packets, named by random ids (as exports
    and asset libraries name them), some with AI provenance, and videos with video XMP.

    - lr/ (64%): JPEG with a ~6 KB Lightroom-style XMP packet and EXIF, 200-260 KB of scan data; every
      tenth says trainedAlgorithmicMedia in XMP (a generative fill exported from Lightroom);
    - png/ (32%): PNG with the same kind of packet in iTXt; every tenth has A1111 parameters;
    - video/ (4%): MP4 whose XMP is a video editor's (the vendored video1.mp4's packet)."""
    rng = random.Random(11)
    counts = {"lr": round(total * 0.64), "png": round(total * 0.32)}
    counts["video"] = total - sum(counts.values())
    for folder in counts:
        (root / folder).mkdir(parents=True, exist_ok=True)
    scan = rng.randbytes(260_000)
    for i in range(counts["lr"]):
        xmp = _lightroom_xmp(rng, i)
        if i % 10 == 0:
            xmp = xmp.replace(b"</rdf:Description>", b"<Iptc4xmpExt:DigitalSourceType xmlns:Iptc4xmpExt="
                              b'"http://iptc.org/std/Iptc4xmpExt/2008-02-29/">http://cv.iptc.org/newscodes/'
                              b"digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>"
                              b"</rdf:Description>")
        data = s.jpeg(xmp=xmp, exif_data=s.exif(software="Adobe Photoshop Lightroom Classic 13.0 (Windows)",
                                                description=f"Unit still {i}"))
        (root / "lr" / f"unit_still_{rng.getrandbits(32):08x}.jpg").write_bytes(
            data[:-2] + scan[: 200_000 + (i * 97) % 60_000] + b"\xff\xd9")
    a1111 = "a lighthouse at dusk\nSteps: 30, Sampler: Euler a, CFG scale: 7, Seed: {seed}, Model: sdxl_base"
    for i in range(counts["png"]):
        text = {"parameters": a1111.format(seed=i)} if i % 10 == 0 else None
        data = s.png(text=text, itxt={"XML:com.adobe.xmp": _lightroom_xmp(rng, i).decode()}, size=64)
        (root / "png" / f"graphic_{rng.getrandbits(32):08x}.png").write_bytes(data)
    video = (SAMPLES / "video1.mp4").read_bytes()
    packet = video[video.find(b"<x:xmpmeta") : video.find(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")]
    for _ in range(counts["video"]):
        (root / "video" / f"clip_{rng.getrandbits(32):08x}.mp4").write_bytes(s.mp4(xmp=packet, mdat_size=1000))
    return counts
