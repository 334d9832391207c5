"""The small pictures the client sends with a record, so approvers see what they decide on.

For each target that names a file (``path``, or a ``file`` target's ref): a still a browser shows (JPEG,
PNG, WebP) goes as it is when it is small enough; a larger or other still (TIFF, EXR, ...) is scaled down
when Pillow is installed; an image sequence (``####``, ``%04d``, ``@@@@``) sends its middle frame; a movie its
middle frame when PyAV is installed. Anything else gets no preview (the pages show a placeholder): a
preview is a courtesy, never a reason to fail a submission.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

MAX_BYTES = 512 * 1024
"""The limit of one preview, which the service enforces: 512 KiB holds a 1280 px JPEG with room to spare."""
LONG_EDGE = 960
MOVIES = {".mov", ".mp4", ".m4v", ".mkv", ".avi", ".mxf", ".webm"}
_FRAME = re.compile(r"(#+|@+|%0?(\d*)d)")


def sniff(data: bytes) -> str | None:
    """JPEG, PNG or WebP by their bytes, or None: what the client sends and the service accepts as a preview."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def target_file(target: dict[str, Any], base: Path) -> Path | None:
    """The file a target names, with a sequence resolved to its middle frame; None when there is none."""
    raw = target.get("path") or (target.get("ref") if target.get("kind") == "file" else None)
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = base / path
    match = _FRAME.search(path.name)
    if match is None:
        return path if path.is_file() else None
    pattern = re.compile(re.escape(path.name[:match.start()]) + r"(\d+)" + re.escape(path.name[match.end():]) + "$")
    try:
        frames = sorted((int(m.group(1)), entry) for entry in path.parent.iterdir()
                        if (m := pattern.match(entry.name)) and entry.is_file())
    except OSError:
        return None
    return frames[len(frames) // 2][1] if frames else None


def _scaled(image: Any) -> tuple[bytes, str]:
    image.thumbnail((LONG_EDGE, LONG_EDGE))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue(), "image/jpeg"


def _still(path: Path) -> tuple[bytes, str] | None:
    with path.open("rb") as handle:
        head = handle.read(MAX_BYTES + 1)
    kind = sniff(head)
    if kind is not None and len(head) <= MAX_BYTES:
        return head, kind
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(path) as image:
            return _scaled(image)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _movie(path: Path) -> tuple[bytes, str] | None:
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if container.duration:
                container.seek(container.duration // 2)  # in av.time_base units: the middle
            for frame in container.decode(stream):
                return _scaled(frame.to_image())
    except (OSError, ValueError, IndexError, av.FFmpegError):
        return None
    return None


def preview(target: dict[str, Any], base: Path | None = None) -> tuple[bytes, str] | None:
    """(bytes, media type) of a small picture of the target, or None when none can be made cheaply."""
    path = target_file(target, base or Path.cwd())
    if path is None:
        return None
    try:
        if path.suffix.lower() in MOVIES:
            return _movie(path)
        return _still(path)
    except OSError:
        return None
