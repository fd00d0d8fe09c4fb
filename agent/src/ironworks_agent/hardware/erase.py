"""Disk erase: ``erase_devices_metadata`` (quick, makes old data invisible) and ``erase_devices`` (every block).

Metadata erase, per device, so that nothing old can be found or reassembled:
  1. read the partition table (partitions.read_table: GPT or MBR, no partition nodes or tools needed),
  2. stop md arrays holding the disk or its partitions, ``mdadm --zero-superblock`` every member partition
     node that exists (in the ramdisk) and the disk itself, when mdadm is installed,
  3. ``wipefs --all`` on partition nodes, then zero the first and last MiB of every partition *region* read in
     step 1 (filesystem, md 0.90/1.x, LVM and swap signatures live there; this works on the host too, where
     the kernel has no partition nodes),
  4. ``wipefs --all`` on the disk and zero its first and last MiB (MBR, primary and backup GPT).
Full erase: NVMe format with user-data erase, else ATA security erase (hdparm) when the drive supports it and
is not frozen, else ``blkdiscard --secure``, else zeroing (``BLKZEROOUT``, falling back to writes), reporting
progress. Every device goes through the safety guard first.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
from collections.abc import Iterable
from typing import Any

from ironworks_agent.errors import ToolFailed
from ironworks_agent.hardware.disks import device_size, holders
from ironworks_agent.hardware.partitions import read_table
from ironworks_agent.process import have, run
from ironworks_agent.progress import Progress, ProgressCallback
from ironworks_agent.safety import DeviceGuard

LOG = logging.getLogger(__name__)
MiB = 1024 * 1024
BLKZEROOUT = 0x127F
_ZERO_CHUNK = 256 * MiB


def partition_regions(device: str) -> list[tuple[int, int]]:
    """(offset, size) in bytes of every partition in ``device``'s table (GPT or MBR); [] if none."""
    return read_table(device).regions()


def partition_nodes(device: str, sysfs: str = "/sys") -> list[str]:
    """/dev nodes of ``device``'s partitions the kernel knows (none on a host without partition parsing)."""
    name = os.path.basename(device)
    base = os.path.join(sysfs, "class", "block", name)
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return []
    return [f"/dev/{e}" for e in entries
            if e.startswith(name) and os.path.exists(os.path.join(base, e, "partition"))]


def _zero_range(fd: int, offset: int, length: int) -> None:
    if length <= 0:
        return
    try:
        fcntl.ioctl(fd, BLKZEROOUT, struct.pack("QQ", offset, length))
        return
    except OSError:
        pass
    buf = bytes(min(length, 4 * MiB))
    done = 0
    while done < length:
        n = os.pwrite(fd, buf[: min(len(buf), length - done)], offset + done)
        done += n


def _zero_ends(fd: int, offset: int, size: int, span: int = MiB) -> None:
    """Zero ``span`` bytes at the start and at the end of the region [offset, offset+size)."""
    span = min(span, size)
    _zero_range(fd, offset, span)
    _zero_range(fd, offset + size - span, span)


def _stop_arrays(names: Iterable[str]) -> None:
    for name in names:
        for holder in holders(os.path.basename(name)):
            if holder.startswith("md"):
                run(["mdadm", "--stop", f"/dev/{holder}"], check=False)


def erase_metadata(guard: DeviceGuard, device: str) -> dict[str, Any]:
    """Erase partition tables at both ends and every signature of one device; returns what was done."""
    dev = guard.check(device)
    regions = partition_regions(dev)
    parts = [guard.check(p) for p in partition_nodes(dev)]
    done: dict[str, Any] = {"device": dev, "partitions_found": len(regions), "md_zeroed": []}
    if have("mdadm"):
        _stop_arrays([dev, *parts])
        for member in [*parts, dev]:
            if run(["mdadm", "--examine", member], check=False).returncode == 0:
                run(["mdadm", "--zero-superblock", "--force", member])
                done["md_zeroed"].append(member)
    for part in parts:
        run(["wipefs", "--all", "--force", part])
    size = device_size(dev)
    fd, _ = guard.open_for_write(dev)
    try:
        for offset, length in regions:
            if offset + length <= size:
                _zero_ends(fd, offset, length)
        os.fsync(fd)
    finally:
        os.close(fd)
    run(["wipefs", "--all", "--force", dev])
    fd, _ = guard.open_for_write(dev)
    try:
        _zero_ends(fd, 0, size)
        os.fsync(fd)
    finally:
        os.close(fd)
    run(["blockdev", "--rereadpt", dev], check=False)
    LOG.info("erased metadata of %s (%d partitions)", dev, len(regions))
    return done


def erase_devices_metadata(guard: DeviceGuard, devices: Iterable[str]) -> list[dict[str, Any]]:
    checked = [guard.check(d) for d in devices]  # refuse before touching anything
    return [erase_metadata(guard, d) for d in checked]


def _nvme_erase(dev: str) -> bool:
    if not os.path.basename(dev).startswith("nvme") or not have("nvme"):
        return False
    return run(["nvme", "format", dev, "--ses=1", "--force"], check=False, timeout=None).returncode == 0


def _ata_secure_erase(dev: str) -> bool:
    if not have("hdparm"):
        return False
    info = run(["hdparm", "-I", dev], check=False).stdout
    security = info.split("Security:", 1)[1] if "Security:" in info else ""
    lines = [line.strip() for line in security.splitlines()[:12]]
    if "supported" not in lines or "not\tfrozen" not in security or "not\tlocked" not in security:
        return False
    run(["hdparm", "--user-master", "u", "--security-set-pass", "NULL", dev])
    enhanced = "supported: enhanced erase" in security
    flag = "--security-erase-enhanced" if enhanced else "--security-erase"
    return run(["hdparm", "--user-master", "u", flag, "NULL", dev], check=False, timeout=None).returncode == 0


def _secure_discard(dev: str) -> bool:
    return have("blkdiscard") and run(["blkdiscard", "--secure", dev], check=False).returncode == 0


def zero_device(guard: DeviceGuard, device: str, progress: ProgressCallback | None = None) -> dict[str, Any]:
    fd, dev = guard.open_for_write(device)
    size = device_size(dev)
    prog = Progress(progress, "erase_devices", dev, size)
    try:
        offset = 0
        while offset < size:
            n = min(_ZERO_CHUNK, size - offset)
            _zero_range(fd, offset, n)
            offset += n
            prog.add(n)
        os.fsync(fd)
    finally:
        os.close(fd)
    return prog.finish()


def erase_device(guard: DeviceGuard, device: str, *, method: str = "auto",
                 progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Erase every block of one device. ``method``: auto (secure erase if supported, else zero), secure, zero."""
    dev = guard.check(device)
    if method not in ("auto", "secure", "zero"):
        raise ValueError(f"unknown erase method {method!r}")
    if method in ("auto", "secure"):
        for name, attempt in (("nvme_format", _nvme_erase), ("ata_secure_erase", _ata_secure_erase),
                              ("blkdiscard_secure", _secure_discard)):
            if attempt(dev):
                LOG.info("erased %s with %s", dev, name)
                return {"device": dev, "method": name}
        if method == "secure":
            raise ToolFailed(f"{dev} supports no secure erase method (nvme, ATA, secure discard)")
    snap = zero_device(guard, dev, progress)
    return {"device": dev, "method": "zero", "bytes": snap["bytes_done"], "rate_bps": snap["rate_bps"]}


def erase_devices(guard: DeviceGuard, devices: Iterable[str], *, method: str = "auto",
                  progress: ProgressCallback | None = None) -> list[dict[str, Any]]:
    checked = [guard.check(d) for d in devices]
    return [erase_device(guard, d, method=method, progress=progress) for d in checked]
