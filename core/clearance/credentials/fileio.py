"""Moving a deliverable's bytes without passing them through Python: the kernel copies, the C2PA library reads.

Signing a large file is mostly moving bytes: the XMP and EXR rewrites copy everything they leave unchanged,
and the file must be hashed whole (SHA-256) and written to a new file. What is avoidable:

- the copy of what a rewrite leaves unchanged goes through the kernel (``copy_file_range``, else
  ``sendfile``) instead of a Python read/write loop (``write_pieces``);
- where Clearance places the manifest itself (``embedding``, ``detached``), ``write_hashed`` reads each chunk
  once and hashes it on a second core while it writes it, rather than reading the file again afterwards;
- c2pa-python hands the library a stream whose every read and write (8 KB each: about 3,800 of each for a
  30 MB movie) is a call back into Python. The library's stream is four C functions (a context, a buffer, a
  length) -> a count or -1, with the error in ``errno`` (c2pa-rs ``c2pa_c_ffi/src/c2pa_stream.rs``: a negative
  result becomes ``std::io::Error::last_os_error()``). POSIX ``read``, ``write`` and ``lseek`` have that shape
  when the context is a file descriptor, and C2PA's seek modes are ``SEEK_SET``/``SEEK_CUR``/``SEEK_END``. On
  64-bit Linux, where an ``int`` and a pointer argument travel in the same register and ``ssize_t``/``off_t``
  are 64 bits, the library is given the descriptor and the C library's own functions: no Python between it
  and the file. The same goes for the library's Reader asked whether a file already carries credentials
  (``read_store``), and for the read-back of a manifest just signed (``read_back``: the bytes are put in an
  anonymous in-memory file). Elsewhere, or when this c2pa-python lacks a piece used here (checked, not assumed),
  signing uses c2pa-python's own streams over buffered files: the same bytes, more slowly.
"""

from __future__ import annotations

import collections
import ctypes
import errno
import functools
import hashlib
import inspect
import io
import json
import os
import platform
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

BUFFER = 1 << 20
_KERNEL_COPY_ERRORS = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.ETXTBSY,
                       errno.ENOTSOCK}  # macOS's sendfile writes only to sockets


def _kernel_copy(in_fd: int, out_fd: int, start: int, out_start: int, count: int) -> int:
    done = 0
    while done < count:
        try:
            if hasattr(os, "copy_file_range"):
                n = os.copy_file_range(in_fd, out_fd, count - done, start + done, out_start + done)
            else:
                os.lseek(out_fd, out_start + done, os.SEEK_SET)
                n = os.sendfile(out_fd, in_fd, start + done, count - done)
        except OSError as exc:
            if exc.errno in _KERNEL_COPY_ERRORS and done == 0:
                return 0
            if exc.errno in _KERNEL_COPY_ERRORS:
                return done
            raise
        if n == 0:
            break
        done += n
    return done


class _NativeStream:
    """A C2PA library stream whose read/write/seek are the C library's, on a file descriptor we own."""

    def __init__(self, api: Any, fd: int) -> None:
        self._api = api
        context = ctypes.cast(ctypes.c_void_p(fd), ctypes.POINTER(api.module.StreamContext))
        self._stream = api.module._lib.c2pa_create_stream(context, api.read, api.seek, api.write, api.flush)
        if not self._stream:
            raise OSError("the C2PA library could not make a stream")

    def close(self) -> None:
        if self._stream:
            self._api.module._lib.c2pa_release_stream(self._stream)
            self._stream = None


class _Api:
    def __init__(self, module: Any, libc: Any) -> None:
        self.module = module
        self.read = module.ReadCallback(ctypes.cast(libc.read, ctypes.c_void_p).value)
        self.seek = module.SeekCallback(ctypes.cast(libc.lseek, ctypes.c_void_p).value)
        self.write = module.WriteCallback(ctypes.cast(libc.write, ctypes.c_void_p).value)
        # Flushing a descriptor is the kernel's business; the library calls this once or twice per file.
        self.flush = module.FlushCallback(lambda _context: 0)


@functools.cache
def _native_api() -> _Api | None:
    if os.environ.get("CLEARANCE_C2PA_PYTHON_STREAMS"):  # forces the portable path (tests, troubleshooting)
        return None
    if not sys.platform.startswith("linux") or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"):
        return None
    try:
        import c2pa
        from c2pa import c2pa as module

        needed = ("ReadCallback", "SeekCallback", "WriteCallback", "FlushCallback", "StreamContext", "_lib")
        if not all(hasattr(module, name) for name in needed) or not hasattr(c2pa.Builder, "_sign_internal"):
            return None
        shape = list(inspect.signature(c2pa.Builder._sign_internal).parameters)
        if shape != ["self", "format", "source_stream", "dest_stream", "signer"]:
            return None
        lib = module._lib
        if not (hasattr(lib, "c2pa_create_stream") and hasattr(lib, "c2pa_release_stream")):
            return None
        return _Api(module, ctypes.CDLL(None, use_errno=True))
    except (ImportError, OSError, AttributeError, TypeError):
        return None


def native_streams() -> bool:
    """Does this process hand files to the C2PA library directly?"""
    return _native_api() is not None


@contextmanager
def descriptor(path: Path, flags: int) -> Iterator[int]:
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o644)
    try:
        yield fd
    finally:
        os.close(fd)


def sign_with_library(builder: Any, signer: Any, mime: str, source: Path, dest: Path | None) -> bytes:
    """``builder.sign`` from ``source`` to ``dest`` (None: the signed copy is not wanted, as for a sidecar);
    returns the manifest bytes. Raises what ``c2pa.Builder.sign`` raises."""
    api = _native_api()
    if api is None:
        return _sign_through_python(builder, signer, mime, source, dest)
    target = Path(os.devnull) if dest is None else dest
    flags = os.O_RDWR if dest is None else os.O_RDWR | os.O_CREAT | os.O_TRUNC
    with descriptor(source, os.O_RDONLY) as src_fd, descriptor(target, flags) as dst_fd:
        src, dst = _NativeStream(api, src_fd), _NativeStream(api, dst_fd)
        try:
            result: bytes = builder._sign_internal(mime, src, dst, signer=signer)
            return result
        finally:
            src.close()
            dst.close()


_READER_CALLS = ("c2pa_reader_from_context", "c2pa_reader_with_stream", "c2pa_reader_json", "c2pa_free")


def reads_natively() -> bool:
    """Can ``read_store`` hand a file to the library's Reader directly?"""
    api = _native_api()
    return api is not None and all(hasattr(api.module._lib, name) for name in _READER_CALLS) and all(
        hasattr(api.module, name) for name in ("_read_native_error", "_raise_typed_c2pa_error"))


def read_store(path: Path, mime: str, context: Any) -> dict[str, Any] | None:
    """The manifest store of ``path`` as c2pa-python's ``Reader(...).json()`` reports it, validation included,
    or None when the file carries none; raises ``c2pa.C2paError`` as that Reader does (only when
    ``reads_natively()``). The library reads the file through the C library: asked whether a large JPEG or
    PNG carries credentials, it reads or seeks through all of it, which through Python streams costs a
    callback into Python per read or seek (for a PNG, five per chunk)."""
    api = _native_api()
    if api is None:
        raise RuntimeError("read_store is used where reads_natively() is False")
    module, lib = api.module, api.module._lib
    with descriptor(path, os.O_RDONLY) as fd:
        stream = _NativeStream(api, fd)
        try:
            handle = lib.c2pa_reader_from_context(context.execution_context)
            if not handle:
                module._raise_typed_c2pa_error(module._read_native_error() or "Other: no reader")
            reader = lib.c2pa_reader_with_stream(handle, mime.encode("ascii"), stream._stream)  # takes ``handle``
            if not reader:
                error = module._read_native_error() or "Other: the file could not be read"
                if error.startswith("ManifestNotFound"):
                    return None
                module._raise_typed_c2pa_error(error)
            return _report(module, reader, lib.c2pa_reader_json)
        finally:
            stream.close()


def _report(module: Any, reader: Any, call: Any) -> dict[str, Any]:
    """The JSON report ``call`` makes of ``reader`` (the plain or the detailed one); frees both, whatever happens."""
    lib = module._lib
    try:
        text = call(reader)
        if not text:
            module._raise_typed_c2pa_error(module._read_native_error() or "Other: no manifest store")
        try:
            report: dict[str, Any] = json.loads(ctypes.string_at(text).decode("utf-8"))
            return report
        finally:
            lib.c2pa_free(text)
    finally:
        lib.c2pa_free(reader)


_READ_BACK_CALLS = ("c2pa_reader_with_manifest_data_and_stream", "c2pa_reader_detailed_json")


def reads_back_natively() -> bool:
    """Can ``read_back`` hand the bytes to the library's Reader directly?"""
    api = _native_api()
    return reads_natively() and api is not None and all(
        hasattr(api.module._lib, name) for name in _READ_BACK_CALLS) and _in_memory_files()


@functools.cache
def _in_memory_files() -> bool:
    """Does this system make anonymous in-memory files (a sandbox may refuse ``memfd_create``)?"""
    if not hasattr(os, "memfd_create"):
        return False
    try:
        os.close(os.memfd_create("clearance-probe", getattr(os, "MFD_CLOEXEC", 0)))
    except OSError:
        return False
    return True


@functools.cache
def _read_back_context(pid: int) -> Any:
    import c2pa

    return c2pa.Context()  # default settings, as c2pa-python's Reader has without a Context; kept per process


def read_back(data: bytes, mime: str, manifest: bytes | None) -> dict[str, Any]:
    """The detailed report c2pa-python gives as ``json.loads(Reader(mime, BytesIO(data), manifest)
    .detailed_json())``, validation included, with default settings; raises ``c2pa.C2paError`` as that Reader
    does (only when ``reads_back_natively()``). The bytes are put in an anonymous in-memory file that the
    library reads through the C library: through c2pa-python's stream every read and seek the library makes
    of them (about sixty for a PNG's header) is a call back into Python."""
    api = _native_api()
    if api is None:
        raise RuntimeError("read_back is used where reads_back_natively() is False")
    module, lib = api.module, api.module._lib
    fd = os.memfd_create("clearance-read-back", getattr(os, "MFD_CLOEXEC", 0))
    try:
        write_at(fd, data, 0)
        stream = _NativeStream(api, fd)
        try:
            handle = lib.c2pa_reader_from_context(_read_back_context(os.getpid()).execution_context)
            if not handle:
                module._raise_typed_c2pa_error(module._read_native_error() or "Other: no reader")
            fmt = mime.encode("ascii")
            if manifest is None:
                reader = lib.c2pa_reader_with_stream(handle, fmt, stream._stream)  # takes ``handle``
            else:
                store = (ctypes.c_ubyte * len(manifest)).from_buffer_copy(manifest)
                reader = lib.c2pa_reader_with_manifest_data_and_stream(handle, fmt, stream._stream, store,
                                                                       len(manifest))
            if not reader:
                module._raise_typed_c2pa_error(module._read_native_error() or "Other: the manifest could not be read")
            return _report(module, reader, lib.c2pa_reader_detailed_json)
        finally:
            stream.close()
    finally:
        os.close(fd)


class Discard(io.RawIOBase):
    """A writable, seekable sink: sidecar signing copies the asset to the destination, which is not needed."""

    def __init__(self) -> None:
        self._pos = 0
        self._size = 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self._pos += n
        self._size = max(self._size, self._pos)
        return n

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _sign_through_python(builder: Any, signer: Any, mime: str, source: Path, dest: Path | None) -> bytes:
    with open(source, "rb", buffering=BUFFER) as src:
        if dest is None:
            return bytes(builder.sign(signer, mime, src, Discard()))
        with open(dest, "w+b", buffering=BUFFER) as dst:
            return bytes(builder.sign(signer, mime, src, dst))


@dataclass(frozen=True)
class Slot:
    """Bytes written but not hashed: the place a C2PA manifest takes (a data hash excludes it)."""

    data: bytes


Piece = bytes | Slot | tuple[int, int]  # literal bytes, a manifest slot, or a (start, end) range of the source
_CHUNK = 1 << 20  # small, so that hashing starts soon after reading does and ends soon after it
_RING = 4  # buffers of _CHUNK: one being read and written while the others wait to be hashed


def overlapped() -> bool:
    """Can writing and hashing overlap here (positioned reads and writes)?"""
    return hasattr(os, "pwrite") and hasattr(os, "pread")


class _Hasher:
    """SHA-256, on a second thread, of what this thread writes: each source range is read once, a chunk at a
    time, into one of a few reused buffers, which the second thread hashes while this one writes it out.
    ``hashlib`` releases the GIL while it hashes, so the two run on two cores. A buffer is read into again
    only once it has been hashed (and written: the writer writes it before it reads the next).

    ``read_ahead`` starts on the bytes to be hashed before where they go is known (the manifest's slot is
    not hashed, so its size does not change the hash): what it read is then taken, in order, by the writer,
    which checks that it writes exactly those pieces."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        # A new buffer costs a page fault per 4 KB the first time it is filled (about as much as hashing it):
        # the ring is kept for the next file this thread writes, and a buffer is made only when first needed.
        kept: list[memoryview | None] | None = getattr(_rings, "ring", None)
        _rings.ring = None  # in use (a thread writes one file at a time; another would make its own)
        self._ring: list[memoryview | None] = kept if kept and len(kept) == _RING and _sized(kept) else [None] * _RING
        self._free = list(range(_RING))
        self._todo: queue.SimpleQueue[tuple[memoryview, int | None] | None] = queue.SimpleQueue()
        self._hashed: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._failed: list[BaseException] = []
        self._ahead: collections.deque[tuple[bytes | tuple[int, int], memoryview]] = collections.deque()
        self._done: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._abandoned = False  # the digest will not be asked for: what is still queued is not hashed
        self._worker = _Worker.take()
        self._worker.jobs.put(self._run)

    def _run(self) -> None:
        try:
            while (item := self._todo.get()) is not None:
                view, buffer = item
                if not self._failed and not self._abandoned:
                    try:
                        self.digest.update(view)
                    except BaseException as exc:  # reported by finish(); the buffers still go back
                        self._failed.append(exc)
                if buffer is not None:
                    self._hashed.put(buffer)
        finally:
            self._done.put(True)

    def read_ahead(self, fd: int, pieces: list[Piece]) -> None:
        """Queue the first of ``pieces``' hashed bytes (slots left out), as far as the free buffers go."""
        for piece in _chunked(pieces):
            if isinstance(piece, Slot):
                continue
            if isinstance(piece, bytes):
                self._ahead.append((piece, self._queue(piece)))
                continue
            if not self._free:
                return
            try:
                self._ahead.append((piece, self._read(fd, *piece)))
            except OSError:
                return  # the writer reads it again and reports it

    def read(self, fd: int, position: int, count: int) -> memoryview:
        """``count`` bytes of ``fd`` at ``position``, read into a free buffer and queued to be hashed."""
        if self._ahead:
            return self._take((position, count))
        if not self._free:
            self._free.append(self._hashed.get())
        return self._read(fd, position, count)

    def _read(self, fd: int, position: int, count: int) -> memoryview:
        buffer = self._free.pop()
        whole = self._ring[buffer]
        if whole is None:
            whole = memoryview(bytearray(_CHUNK))
            self._ring[buffer] = whole
        view = whole[:count]
        done = 0
        while done < count:
            n = _read_into(fd, view[done:], position + done)
            if n <= 0:
                self._free.append(buffer)
                raise OSError(errno.EIO, f"the file was cut short while it was copied ({position + done} of "
                                         f"{position + count} bytes)")
            done += n
        self._todo.put((view, buffer))
        return view

    def ring_full(self) -> bool:
        """Is every buffer read and queued (the hashing thread has work for a while)?"""
        return not self._free

    def add(self, data: bytes) -> None:
        if self._ahead:
            self._take(data)
        else:
            self._queue(data)

    def _queue(self, data: bytes) -> memoryview:
        view = memoryview(data)
        self._todo.put((view, None))
        return view

    def _take(self, piece: bytes | tuple[int, int]) -> memoryview:
        hashed, view = self._ahead.popleft()
        if hashed != piece:  # what was hashed ahead must be what is written, in the same order
            raise RuntimeError(f"the bytes hashed ahead ({_describe(hashed)}) are not those written next "
                               f"({_describe(piece)})")
        return view

    def stop(self) -> None:
        """End the hashing job without its digest (the write failed or was given up): the buffers still queued
        are handed back unhashed, so that giving up costs at most the one buffer being hashed."""
        self._abandoned = True
        self._end()

    def _end(self) -> None:
        self._todo.put(None)
        self._done.get()
        self._worker.give_back()
        _rings.ring = self._ring  # nothing reads it any more: the hashing job has ended

    def finish(self) -> bytes:
        self._end()
        if self._failed:
            raise self._failed[0]
        if self._ahead:
            raise RuntimeError(f"{len(self._ahead)} pieces hashed ahead were never written")
        return self.digest.digest()


_rings = threading.local()


class _Worker:
    """A thread that hashes for one ``_Hasher`` at a time, kept for the next: starting a thread per file cost
    about a tenth of a millisecond before the first byte could be hashed (bench/RESULTS.md, "Signing 10 MB
    stills"). Idle, it is named ``clearance-hash-idle``; a few are kept, one per core, and more are made when
    more files are hashed at once. Daemon threads: an idle one never holds up the interpreter's exit."""

    _idle: ClassVar[list[_Worker]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _pid: ClassVar[int] = os.getpid()

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="clearance-hash", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while (job := self.jobs.get()) is not None:
            job()  # a _Hasher's _run: it reports its own failures

    @classmethod
    def take(cls) -> _Worker:
        with cls._lock:
            if cls._pid != os.getpid():  # a forked child has none of its parent's threads
                cls._idle, cls._pid = [], os.getpid()
            worker = cls._idle.pop() if cls._idle else None
        if worker is None or not worker.thread.is_alive():
            return cls()
        worker.thread.name = "clearance-hash"
        return worker

    def give_back(self) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < (os.cpu_count() or 1):
                self.thread.name = "clearance-hash-idle"
                self._idle.append(self)
                return
        self.thread.name = "clearance-hash-ended"
        self.jobs.put(None)


def _sized(ring: list[memoryview | None]) -> bool:
    return all(view is None or len(view) == _CHUNK for view in ring)


def _describe(piece: bytes | tuple[int, int]) -> str:
    return f"{len(piece)} literal bytes" if isinstance(piece, bytes) else f"bytes {piece[0]}+{piece[1]} of the source"


def _chunked(pieces: list[Piece]) -> Iterator[bytes | Slot | tuple[int, int]]:
    """The pieces as the hashing writer takes them: literal bytes and slots whole, each source range as
    (start, count) chunks of at most ``_CHUNK``."""
    for piece in pieces:
        if isinstance(piece, tuple):
            start, end = piece
            while start < end:
                yield start, min(_CHUNK, end - start)
                start += _CHUNK
        elif piece:
            yield piece


def _read_into(fd: int, view: memoryview, position: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], position)
    block = _read_at(fd, len(view), position)
    view[:len(block)] = block
    return len(block)


class HashAhead:
    """A hashing writer started on a source before the pieces it is to write are settled: the first buffers
    of the hashed bytes (slots left out) are read and hashed while the caller prepares the manifest, whose
    size decides where they go but not what is hashed. ``write_hashed(..., ahead=)`` then writes them."""

    def __init__(self, source: Path, pieces: list[Piece]) -> None:
        self.fd = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        try:
            self.hasher: _Hasher | None = _Hasher()
            self.hasher.read_ahead(self.fd, pieces)
        except BaseException:
            self.close()
            raise

    def take(self) -> _Hasher:
        """The hasher, for the one write it serves."""
        if self.hasher is None:
            raise RuntimeError("a hash started ahead serves one write")
        hasher, self.hasher = self.hasher, None
        return hasher

    def close(self) -> None:
        if getattr(self, "hasher", None) is not None:
            self.take().stop()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def write_hashed(pieces: list[Piece], source_fd: int, out_fd: int, ahead: HashAhead | None = None,
                 beside: Callable[[], None] | None = None) -> tuple[bytes, list[tuple[int, int]]]:
    """Write ``pieces`` to ``out_fd`` from its start; returns the SHA-256 of what was written, slots excluded,
    and each slot's (start, length). ``ahead``: the same pieces, slots aside, already being hashed from
    ``source_fd`` (``HashAhead``). ``beside``: called once on this thread as soon as every buffer is queued to be
    hashed (or the pieces are written, for a short file), to do on this core what the answer does not wait
    for while the other hashes (the hashing thread is the longer of the two); what it raises ends the write,
    the hash given up.

    The hash is of the very bytes handed to the kernel for the output: each is read once from the source
    into a buffer that is both hashed and written, so what is delivered is what was hashed even if the
    source changes meanwhile. Reading the output back after the kernel copied it (a map, or reads) was the
    alternative: it proves nothing more (both trust the page cache the kernel keeps for the output) and
    costs a second pass over the bytes and the page faults of the map (about a fifth more CPU, and the hash
    waits for the copy: bench/RESULTS.md, "Signing fixed cost")."""
    total = sum(len(p) if isinstance(p, bytes) else len(p.data) if isinstance(p, Slot) else p[1] - p[0]
                for p in pieces)
    os.ftruncate(out_fd, total)
    hasher = _Hasher() if ahead is None else ahead.take()
    try:
        waiting = [beside] if beside is not None else []
        slots = _write(pieces, source_fd, out_fd, hasher=hasher, beside=waiting)
        if waiting:
            waiting.pop()()
    except BaseException:
        hasher.stop()
        raise
    return hasher.finish(), slots


def write_pieces(pieces: list[Piece], source_fd: int, out_fd: int) -> None:
    """Write ``pieces`` to ``out_fd`` from its start, unhashed (a staged file the C2PA library then reads):
    literal bytes as they are, source ranges copied by the kernel."""
    _write(pieces, source_fd, out_fd)


def _write(pieces: list[Piece], source_fd: int, out_fd: int, hasher: _Hasher | None = None,
           beside: list[Callable[[], None]] | None = None) -> list[tuple[int, int]]:
    """The one writer of ``pieces`` to ``out_fd`` from its start: literal bytes and slots as they are, source
    ranges copied by the kernel, or, with a ``hasher``, read once into its buffers, a ``_CHUNK`` at a time,
    hashed and written (``beside``'s one call taken out and made once every buffer is queued to be hashed);
    returns each slot's (start, length)."""
    slots = []
    position = 0
    for piece in pieces:
        if isinstance(piece, tuple):
            start, end = piece
            while start < end:
                n = min(_CHUNK, end - start) if hasher is not None else end - start
                if hasher is not None:
                    write_at(out_fd, hasher.read(source_fd, start, n), position)
                    if beside and hasher.ring_full():
                        beside.pop()()
                else:
                    copy_range(source_fd, out_fd, start, position, n)
                start += n
                position += n
            continue
        data = piece.data if isinstance(piece, Slot) else piece
        write_at(out_fd, data, position)
        if isinstance(piece, Slot):
            slots.append((position, len(data)))
        elif data and hasher is not None:
            hasher.add(data)
        position += len(data)
    return slots


def copy_range(in_fd: int, out_fd: int, start: int, out_start: int, count: int) -> None:
    """Copy ``count`` bytes at ``start`` of ``in_fd`` to ``out_start`` of ``out_fd``: the kernel when it can."""
    done = _kernel_copy(in_fd, out_fd, start, out_start, count)
    while done < count:
        block = _read_at(in_fd, min(BUFFER, count - done), start + done)
        if not block:
            raise OSError(errno.EIO, f"the file was cut short while it was copied ({start + done} of "
                                     f"{start + count} bytes)")
        write_at(out_fd, block, out_start + done)
        done += len(block)


def _read_at(fd: int, size: int, position: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, position)
    os.lseek(fd, position, os.SEEK_SET)
    return os.read(fd, size)


def write_at(fd: int, data: bytes | memoryview, position: int) -> None:
    """Write all of ``data`` at ``position`` of ``fd``."""
    view = memoryview(data)
    while view:
        if hasattr(os, "pwrite"):
            n = os.pwrite(fd, view, position)
        else:
            os.lseek(fd, position, os.SEEK_SET)
            n = os.write(fd, view)
        view = view[n:]
        position += n
