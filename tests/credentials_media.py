"""Small real media made in the tests: stills through Pillow, video through PyAV (FFmpeg), EXR and DPX by hand.

Encoders no one here wrote make the stills and video, so signing is tried on files as real tools write them.
EXR and DPX headers are written from their specifications (OpenEXR file layout; SMPTE 268M), the pixels
being irrelevant to signing.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path


def still(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    from PIL import Image

    image = Image.new("RGB", size)
    pixels = image.load()
    assert pixels is not None
    for x in range(size[0]):
        for y in range(size[1]):
            pixels[x, y] = (x * 4 % 256, y * 5 % 256, (x + y) % 256)
    image.save(path)
    return path


def movie(path: Path, frames: int = 6, size: tuple[int, int] = (64, 48), movflags: str | None = None) -> Path:
    """An MPEG-4 movie; ``movflags`` as FFmpeg's MP4 muxer takes them (``faststart``: the movie box first;
    ``frag_keyframe+empty_moov``: a fragmented movie)."""
    import av
    import numpy as np

    with av.open(str(path), "w", options={"movflags": movflags} if movflags else {}) as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for n in range(frames):
            array = np.full((size[1], size[0], 3), (n * 40) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sound(path: Path, seconds: float = 0.1) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * int(8000 * seconds))
    return path


def _attr(name: str, kind: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value


def exr(path: Path, width: int = 4, height: int = 3, extra: dict[str, str] | None = None) -> Path:
    """A single-part scanline EXR, one HALF channel R, no compression (one scanline per chunk)."""
    channels = b"R\0" + struct.pack("<iBBBBii", 1, 0, 0, 0, 0, 1, 1) + b"\0"
    window = struct.pack("<iiii", 0, 0, width - 1, height - 1)
    header = b"\x76\x2f\x31\x01" + struct.pack("<I", 2)
    header += _attr("channels", "chlist", channels)
    header += _attr("compression", "compression", b"\0")
    header += _attr("dataWindow", "box2i", window)
    header += _attr("displayWindow", "box2i", window)
    header += _attr("lineOrder", "lineOrder", b"\0")
    header += _attr("pixelAspectRatio", "float", struct.pack("<f", 1.0))
    header += _attr("screenWindowCenter", "v2f", struct.pack("<ff", 0, 0))
    header += _attr("screenWindowWidth", "float", struct.pack("<f", 1.0))
    for name, value in (extra or {}).items():
        header += _attr(name, "string", value.encode())
    header += b"\0"
    start = len(header) + 8 * height
    row = width * 2
    chunk = 8 + row
    table = b"".join(struct.pack("<Q", start + y * chunk) for y in range(height))
    data = b"".join(struct.pack("<ii", y, row) + bytes([y % 256]) * row for y in range(height))
    path.write_bytes(header + table + data)
    return path


def exr_chunks(path: Path, height: int = 3) -> list[bytes]:
    """The pixel chunks of a file written by ``exr`` (or rewritten with more attributes), via its offset table."""
    data = path.read_bytes()
    pos = 8
    while data[pos] != 0:  # walk attributes to the header's end
        name_end = data.index(b"\0", pos)
        kind_end = data.index(b"\0", name_end + 1)
        size = struct.unpack("<i", data[kind_end + 1:kind_end + 5])[0]
        pos = kind_end + 5 + size
    pos += 1
    offsets = struct.unpack(f"<{height}Q", data[pos:pos + 8 * height])
    out = []
    for offset in offsets:
        _y, size = struct.unpack("<ii", data[offset:offset + 8])
        out.append(data[offset + 8:offset + 8 + size])
    return out


def dpx(path: Path) -> Path:
    """A DPX file: big-endian magic, image offset 2048, file size, a plain header and 16 bytes of pixels."""
    header = bytearray(2048)
    header[0:4] = b"SDPX"
    struct.pack_into(">I", header, 4, 2048)
    header[8:16] = b"V2.0\0\0\0\0"
    struct.pack_into(">I", header, 16, 2048 + 16)
    path.write_bytes(bytes(header) + bytes(range(16)))
    return path


def tiff(path: Path, big_endian: bool = False, bigtiff: bool = False, size: tuple[int, int] = (8, 6)) -> Path:
    """A baseline grayscale TIFF written from TIFF 6.0 (or BigTIFF): one uncompressed strip, IFD0 right after
    the header, the pixels after it. Pillow writes only little-endian classic TIFF; this covers the rest."""
    order = ">" if big_endian else "<"
    width, height = size
    pixels = bytes((x * 30 + y * 7) % 256 for y in range(height) for x in range(width))
    tags = [(256, 3, width), (257, 3, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
            (277, 3, 1), (278, 3, height), (279, 4, len(pixels))]
    if bigtiff:
        header_size, entry, count_fmt, offset_fmt = 16, "HHQ8s", "Q", "Q"
        header = (b"MM" if big_endian else b"II") + struct.pack(order + "HHHQ", 43, 8, 0, header_size)
    else:
        header_size, entry, count_fmt, offset_fmt = 8, "HHI4s", "H", "I"
        header = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, header_size)
    value_size = 8 if bigtiff else 4
    ifd_size = struct.calcsize(order + count_fmt) + len(tags) * struct.calcsize(order + entry) + value_size
    data_at = header_size + ifd_size
    ifd = struct.pack(order + count_fmt, len(tags))
    for tag, kind, value in tags:
        number = data_at if tag == 273 else value
        packed = struct.pack(order + ("H" if kind == 3 else "I"), number).ljust(value_size, b"\x00")
        ifd += struct.pack(order + entry, tag, kind, 1, packed)
    ifd += struct.pack(order + offset_fmt, 0)
    path.write_bytes(header + ifd + pixels)
    return path
