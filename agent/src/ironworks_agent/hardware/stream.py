"""The streaming pipeline behind image writes: HTTP → checksum → decompress → block device, in one pass.

Three threads overlap the work (hashlib, zlib/lzma, sockets and os.write release the GIL on large buffers):

    reader   fills page-aligned 8 MiB buffers from the HTTP response (``readinto``, no copies)
    hasher   feeds each buffer to the checksum (over the bytes *as downloaded*, as Ironic defines it)
    caller   decodes (identity, gzip, xz, or a ``zstd -dc`` child process) and ``pwrite``s to the device

Buffers come back to a pool once written, so memory stays bounded (pool × 8 MiB). Any stage's exception
stops the others and is re-raised in the caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import queue
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from ironworks_agent.errors import ImageError

BUF_SIZE = 8 * 1024 * 1024
POOL = 6
_END = None
MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


def sniff_compression(head: bytes) -> str:
    return next((name for magic, name in MAGIC.items() if head.startswith(magic)), "none")


class _Stop(Exception):
    pass


class Pipeline:
    """Reads ``response`` into pooled buffers on one thread and hashes them on another."""

    def __init__(self, response: Any, hasher: Any, buf_size: int = BUF_SIZE, pool: int = POOL) -> None:
        self._resp = response
        self.hasher = hasher
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(pool):
            self._free.put(mmap.mmap(-1, buf_size))
        self._read_q: queue.Queue[tuple[mmap.mmap, int] | None] = queue.Queue()
        self._out_q: queue.Queue[tuple[mmap.mmap, int] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        self.downloaded = 0
        self._threads = [threading.Thread(target=self._guard, args=(self._read,), daemon=True),
                         threading.Thread(target=self._guard, args=(self._hash,), daemon=True)]

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except _Stop:
            pass
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
            self._stopped.set()
            self._out_q.put(_END)
            self._read_q.put(_END)

    def _take(self) -> mmap.mmap:
        while True:
            if self._stopped.is_set():
                raise _Stop
            try:
                return self._free.get(timeout=0.2)
            except queue.Empty:
                continue

    def _read(self) -> None:
        while True:
            buf = self._take()
            mv = memoryview(buf)
            filled = 0
            try:
                while filled < len(buf):
                    n = self._resp.readinto(mv[filled:])
                    if not n:
                        break
                    filled += n
            finally:
                mv.release()
            if filled:
                self.downloaded += filled
                self._read_q.put((buf, filled))
            if filled < len(buf):
                self._read_q.put(_END)
                return

    def _hash(self) -> None:
        while True:
            item = self._read_q.get()
            if item is _END or self._stopped.is_set():
                self._out_q.put(_END)
                return
            buf, n = item
            with memoryview(buf) as mv:
                self.hasher.update(mv[:n])
            self._out_q.put(item)

    def chunks(self) -> Iterator[memoryview]:
        """Yield hashed chunks in order; each view is valid until the next one is requested."""
        for t in self._threads:
            t.start()
        try:
            while True:
                item = self._out_q.get()
                if item is _END:
                    break
                buf, n = item
                mv = memoryview(buf)
                try:
                    yield mv[:n]
                finally:
                    mv.release()
                    self._free.put(buf)
        finally:
            self._stopped.set()
            self._read_q.put(_END)  # wakes the hasher if the consumer stopped early
            for t in self._threads:
                t.join(timeout=5)
        if self._error is not None:
            raise ImageError(f"download failed: {self._error}") from self._error


def open_url(url: str, *, timeout: float = 60.0, insecure: bool = False, ca_file: str | None = None) -> Any:
    """Open an HTTP(S) URL; ImageError (with the status) when it cannot be fetched."""
    if not url.lower().startswith(("http://", "https://")):
        raise ImageError(f"unsupported image URL scheme: {url!r} (http or https only)")
    context = None
    if url.lower().startswith("https://"):
        import ssl

        context = ssl.create_default_context(cafile=ca_file)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    try:
        return urllib.request.urlopen(url, timeout=timeout, context=context)  # noqa: S310 (scheme checked)
    except urllib.error.HTTPError as exc:
        raise ImageError(f"image download from {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ImageError(f"image download from {url} failed: {exc}") from exc


class Writer:
    """Positional writes to an open device.

    With a ``direct_fd`` (O_DIRECT), page-aligned pooled buffers are written from where they are (no copy);
    anything else (decompressed data, a short read) is gathered in an aligned staging buffer first and
    written directly once full. ``finish()`` writes what is left; the unaligned tail goes through ``fd``.
    """

    def __init__(self, fd: int, direct_fd: int | None = None, align: int = 4096, stage: int = BUF_SIZE) -> None:
        self.fd = fd
        self.direct_fd = direct_fd
        self.align = align
        self.offset = 0  # bytes accepted so far
        self._written = 0  # bytes on the device
        self._stage = mmap.mmap(-1, stage) if direct_fd is not None else None
        self._staged = 0

    def write(self, data: memoryview | bytes) -> None:
        view = memoryview(data)
        self.offset += len(view)
        if self._stage is None:
            self._write_all(self.fd, view)
            return
        if self._staged == 0 and isinstance(data, memoryview) and len(view) >= self.align:
            aligned = len(view) - len(view) % self.align
            self._write_all(self.direct_fd, view[:aligned])  # type: ignore[arg-type]
            view = view[aligned:]
        while len(view):
            n = min(len(view), len(self._stage) - self._staged)
            self._stage[self._staged:self._staged + n] = view[:n]
            self._staged += n
            view = view[n:]
            if self._staged == len(self._stage):
                self._flush_stage()

    def _flush_stage(self) -> None:
        assert self._stage is not None
        with memoryview(self._stage) as mv:
            aligned = self._staged - self._staged % self.align
            if aligned:
                self._write_all(self.direct_fd, mv[:aligned])  # type: ignore[arg-type]
            if self._staged > aligned:
                self._write_all(self.fd, mv[aligned:self._staged])
        self._staged = 0

    def finish(self) -> None:
        if self._stage is not None:
            if self._staged:
                self._flush_stage()
            self._stage.close()
            self._stage = None

    def _write_all(self, fd: int, view: memoryview) -> None:
        while len(view):
            n = os.pwrite(fd, view, self._written)
            self._written += n
            view = view[n:]


class ZstdDecoder:
    """``zstd -dc`` as a child process: feed() writes compressed bytes, a thread writes the output."""

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        self._proc = subprocess.Popen(["zstd", "-dc", "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        self._sink = sink
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self._proc.stdout is not None
        try:
            fd = self._proc.stdout.fileno()
            while chunk := os.read(fd, BUF_SIZE):
                self._sink(chunk)
        except BaseException as exc:
            self._error = exc
            self._proc.kill()

    def feed(self, data: memoryview) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(data)
        except BrokenPipeError as exc:
            self._error = self._error or exc

    def finish(self) -> None:
        assert self._proc.stdin is not None and self._proc.stderr is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        self._thread.join()
        err = self._proc.stderr.read().decode(errors="replace").strip()
        code = self._proc.wait()
        if self._error is not None:
            raise ImageError(f"zstd decompression failed: {self._error}") from self._error
        if code != 0:
            raise ImageError(f"zstd decompression failed: {err or f'exit {code}'}")

    def abort(self) -> None:
        self._proc.kill()
        self._proc.wait()


def new_hasher(algo: str) -> Any:
    return hashlib.new(algo)
