"""Image streaming onto real loop devices over a real HTTP server on 127.0.0.1: raw, gzip, xz, zstd, qcow2;
correct and wrong checksums; GPT fix-up; O_DIRECT; refusals with clear errors."""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import ChecksumMismatch, ImageError, InvalidCommand
from ironworks_agent.hardware import image, stream
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import FileServer, MiB, sh


def _payload(size: int) -> bytes:
    """Half random, half zero-runs: realistic enough for compressors, unique per call."""
    chunks = []
    for i in range(size // MiB):
        chunks.append(os.urandom(MiB) if i % 2 == 0 else bytes(MiB))
    return b"".join(chunks) + os.urandom(size % MiB)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _read(dev: str, length: int, offset: int = 0) -> bytes:
    with open(dev, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def _fill(dev: str, byte: bytes, length: int) -> None:
    with open(dev, "r+b") as fh:
        fh.write(byte * length)


@pytest.mark.parametrize(("compression", "direct", "size"), [
    ("none", True, 6 * MiB + 4321), ("none", False, 6 * MiB + 4321), ("gzip", True, 6 * MiB + 4321),
    ("gzip", False, 3 * MiB + 1), ("xz", True, 6 * MiB + 4321), ("zstd", True, 6 * MiB + 4321),
    ("zstd", True, 21 * MiB + 777),  # decompressed data fills the aligned staging buffer several times
])
def test_raw_images_are_streamed_and_verified(compression: str, direct: bool, size: int, loop: str,
                                              guard: DeviceGuard, files: FileServer, tmp_path: Path) -> None:
    raw = _payload(size)
    served = {"none": lambda b: b, "gzip": gzip.compress, "xz": lzma.compress,
              "zstd": lambda b: subprocess.run(["zstd", "-q", "-c"], input=b, capture_output=True,
                                               check=True).stdout}[compression](raw)
    url = files.add(f"image.{compression}", served)
    reports: list[dict[str, Any]] = []
    result = image.write_image(guard, loop, url, checksum=_sha256(served), progress=reports.append,
                               direct=direct)
    assert result["bytes_written"] == len(raw)
    assert result["bytes_downloaded"] == len(served)
    assert result["gpt_fixed"] is False
    assert _read(loop, len(raw)) == raw
    assert reports[-1]["bytes_done"] == len(raw)


def test_qcow2_image_is_converted(loop: str, guard: DeviceGuard, files: FileServer, tmp_path: Path) -> None:
    raw = _payload(5 * MiB)
    (tmp_path / "src.raw").write_bytes(raw)
    sh("qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(tmp_path / "src.raw"), str(tmp_path / "src.qcow2"))
    served = (tmp_path / "src.qcow2").read_bytes()
    url = files.add("image.qcow2", served)
    _fill(loop, b"\xaa", 8 * MiB)
    result = image.write_image(guard, loop, url, checksum="sha512:" + hashlib.sha512(served).hexdigest(),
                               disk_format="qcow2", tmpdir=str(tmp_path))
    assert result["bytes_written"] == len(raw) and result["disk_format"] == "qcow2"
    assert _read(loop, len(raw)) == raw
    assert _read(loop, MiB, 5 * MiB) == b"\xaa" * MiB  # past the image: untouched
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("ironworks-image-")]  # staging removed


def test_wrong_checksum_fails_and_makes_the_disk_unbootable(loop: str, guard: DeviceGuard,
                                                           files: FileServer) -> None:
    raw = _payload(4 * MiB)
    url = files.add("image.raw", raw)
    wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ChecksumMismatch, match="expected sha256 .* got " + hashlib.sha256(raw).hexdigest()):
        image.write_image(guard, loop, url, checksum=wrong)
    assert _read(loop, MiB) == bytes(MiB)
    assert _read(loop, MiB, 256 * MiB - MiB) == bytes(MiB)


def test_wrong_checksum_of_qcow2_writes_nothing(loop: str, guard: DeviceGuard, files: FileServer,
                                                tmp_path: Path) -> None:
    (tmp_path / "src.raw").write_bytes(_payload(2 * MiB))
    sh("qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(tmp_path / "src.raw"), str(tmp_path / "x.qcow2"))
    url = files.add("x.qcow2", (tmp_path / "x.qcow2").read_bytes())
    _fill(loop, b"\x55", 2 * MiB)
    with pytest.raises(ChecksumMismatch, match="nothing was written"):
        image.write_image(guard, loop, url, checksum="sha256:" + "ab" * 32, disk_format="qcow2")
    assert _read(loop, 2 * MiB) == b"\x55" * 2 * MiB


def test_gpt_backup_header_is_moved_to_the_end(loop: str, guard: DeviceGuard, files: FileServer,
                                               tmp_path: Path) -> None:
    src = tmp_path / "gpt.raw"
    with open(src, "wb") as fh:
        fh.truncate(32 * MiB)
    sh("sgdisk", "-n", "1:2048:+16M", "-t", "1:8300", "-c", "1:root", str(src))
    sh("mkfs.ext4", "-q", "-E", f"offset={2048 * 512}", str(src), "16M")
    served = src.read_bytes()
    result = image.write_image(guard, loop, files.add("gpt.raw", served), checksum=_sha256(served))
    assert result["gpt_fixed"] is True
    assert _read(loop, 8, 256 * MiB - 512) == b"EFI PART"  # backup header in the device's last sector
    verify = sh("sgdisk", "-v", loop).stdout
    assert "No problems found" in verify
    info = sh("sgdisk", "-i", "1", loop).stdout
    assert "First sector: 2048" in info and "'root'" in info
    assert "last usable sector is 524254" in sh("sgdisk", "-p", loop).stdout
    assert "ext4" in sh("blkid", "-p", "-O", str(2048 * 512), loop).stdout


def test_direct_io_path_with_an_unaligned_tail(loop: str, guard: DeviceGuard, files: FileServer) -> None:
    raw = _payload(9 * MiB + 1234)
    result = image.write_image(guard, loop, files.add("odd.raw", raw), checksum=_sha256(raw), direct=True)
    assert result["bytes_written"] == len(raw)
    assert _read(loop, len(raw)) == raw


def test_clear_errors(loop: str, guard: DeviceGuard, files: FileServer, tmp_path: Path,
                      make_loop: Callable[[int], str]) -> None:
    raw = _payload(MiB)
    url = files.add("ok.raw", raw)
    with pytest.raises(ImageError, match="HTTP 404"):
        image.write_image(guard, loop, files.url("missing.raw"), checksum=_sha256(raw))
    with pytest.raises(InvalidCommand, match="md5"):
        image.write_image(guard, loop, url, checksum=hashlib.md5(raw).hexdigest())
    assert image.write_image(guard, loop, url, checksum=hashlib.md5(raw).hexdigest(), allow_md5=True)
    with pytest.raises(InvalidCommand, match="checksum is required"):
        image.write_image(guard, loop, url, checksum=None)
    with pytest.raises(InvalidCommand, match="hexadecimal"):
        image.write_image(guard, loop, url, checksum="sha256:not-hex")
    truncated = gzip.compress(raw)[:-100]
    _fill(loop, b"\x77", MiB)
    with pytest.raises(ImageError, match="truncated|decompression"):
        image.write_image(guard, loop, files.add("t.gz", truncated), checksum=_sha256(truncated))
    assert _read(loop, MiB) == bytes(MiB)  # the partial image was made unbootable
    (tmp_path / "q.raw").write_bytes(raw)
    sh("qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(tmp_path / "q.raw"), str(tmp_path / "q.qcow2"))
    q = (tmp_path / "q.qcow2").read_bytes()
    with pytest.raises(ImageError, match="qcow2 but was declared raw"):
        image.write_image(guard, loop, files.add("q.qcow2", q), checksum=_sha256(q))
    big = _payload(9 * MiB)
    small = make_loop(8 * MiB)
    small_guard = DeviceGuard([small])
    for name, data in (("big.raw", big), ("big.raw.gz", gzip.compress(big, 1))):
        with pytest.raises(ImageError, match="larger than"):
            image.write_image(small_guard, small, files.add(name, data), checksum=_sha256(data))


def test_write_image_command_picks_the_device_by_hints(loop: str, guard: DeviceGuard, files: FileServer) -> None:
    raw = _payload(2 * MiB)
    ctx = CommandContext(guard=guard, include_loop=True)
    params = {"url": files.add("c.raw", raw), "checksum": _sha256(raw), "root_device": {"size": "<= 1"}}
    status, result, error = dispatch.run(ctx, "write_image", params)
    assert status == "SUCCEEDED", error
    assert result is not None and result["device"] == loop
    assert _read(loop, len(raw)) == raw
    status, _, error = dispatch.run(ctx, "write_image", {**params, "root_device": {"size": ">= 100"}})
    assert status == "FAILED" and error is not None and error["type"] == "DeviceNotFound"
    status, _, error = dispatch.run(ctx, "write_image", {**params, "colour": "red"})
    assert status == "FAILED" and error is not None and "colour" in error["message"]


def test_pipeline_threads_stop_when_the_consumer_stops_early() -> None:
    import io

    data = _payload(40 * MiB)
    pipe = stream.Pipeline(io.BufferedReader(io.BytesIO(data)), hashlib.sha256(), buf_size=MiB, pool=3)
    chunks = pipe.chunks()
    first = next(chunks)
    assert bytes(first[:16]) == data[:16]
    chunks.close()  # the consumer gives up (e.g. a write failed)
    assert not any(t.is_alive() for t in pipe._threads)
