"""Config drives: build the ISO9660 image (``config-2``) and write it where cloud-init finds it.

``build_iso`` lays out ``openstack/latest/{meta_data.json,user_data,network_data.json,vendor_data.json}``
and packs it with genisoimage (or xorriso's genisoimage mode), volume label ``config-2``.
``write_configdrive`` either writes the ISO onto a given device (e.g. a RAID volume), or appends a partition
named ``config-2`` at the end of the disk's GPT (sgdisk) or MBR (a primary entry written here) and writes the
ISO at its offset through the whole-disk device (no partition node needed). The partition is at least 64 MiB,
as Ironic's.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import tempfile
from typing import Any

from ironworks_agent.errors import ImageError, InvalidCommand
from ironworks_agent.hardware.disks import device_size
from ironworks_agent.hardware.partitions import mbr_append_entry, read_table
from ironworks_agent.process import have, run
from ironworks_agent.safety import DeviceGuard

MiB = 1024 * 1024
MIN_PARTITION = 64 * MiB
LABEL = "config-2"


def decode(value: str) -> bytes:
    """Ironic's wire form of a config drive: base64 of a (usually gzipped) ISO image."""
    try:
        raw = base64.b64decode(value, validate=False)
    except ValueError as exc:
        raise InvalidCommand("the config drive is not valid base64") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise InvalidCommand(f"the config drive is not valid gzip: {exc}") from exc
    return raw


def from_download(raw: bytes) -> bytes:
    """A config drive fetched from a URL: an ISO as is, gzipped, or Ironic's base64 of gzip."""
    if raw[0x8001:0x8006] == b"CD001":
        return raw
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except OSError as exc:
            raise InvalidCommand(f"the config drive is not valid gzip: {exc}") from exc
    return decode(raw.decode("ascii", errors="replace"))


def build_iso(content: dict[str, Any]) -> bytes:
    """An ISO9660 config drive from ``{"meta_data": {...}, "user_data": str, "network_data": {...}, ...}``."""
    tool = "genisoimage" if have("genisoimage") else "xorriso" if have("xorriso") else None
    if tool is None:
        raise ImageError("neither genisoimage nor xorriso is installed; cannot build a config drive")
    with tempfile.TemporaryDirectory(prefix="ironworks-cd-") as tmp:
        latest = os.path.join(tmp, "root", "openstack", "latest")
        os.makedirs(latest)
        files = {"meta_data.json": content.get("meta_data") or {},
                 "network_data.json": content.get("network_data"),
                 "vendor_data.json": content.get("vendor_data")}
        for name, data in files.items():
            if data is not None:
                with open(os.path.join(latest, name), "w") as fh:
                    json.dump(data, fh)
        user_data = content.get("user_data")
        if user_data is not None:
            with open(os.path.join(latest, "user_data"), "wb") as fh:
                fh.write(user_data.encode() if isinstance(user_data, str) else bytes(user_data))
        out = os.path.join(tmp, "configdrive.iso")
        args = ["-o", out, "-ldots", "-allow-lowercase", "-allow-multidot", "-l", "-publisher", "ironworks",
                "-quiet", "-J", "-r", "-V", LABEL, os.path.join(tmp, "root")]
        run(["genisoimage", *args] if tool == "genisoimage" else ["xorriso", "-as", "genisoimage", *args])
        with open(out, "rb") as fh:
            return fh.read()


def _gpt_partition(dev: str, size: int) -> tuple[int, int, int]:
    """Append a ``config-2`` GPT partition of ``size`` bytes at the disk's end: (number, offset, size)."""
    run(["sgdisk", "-e", dev])  # backup header at the real end first, so the free space is there
    info = run(["sgdisk", "-p", dev]).stdout
    sector = int(re.search(r"[Ss]ector size \(logical[^)]*\): (\d+)", info).group(1))  # type: ignore[union-attr]
    last_usable = int(re.search(r"last usable sector is (\d+)", info).group(1))  # type: ignore[union-attr]
    ends = [int(m.group(2)) for m in re.finditer(r"^\s*(\d+)\s+\d+\s+(\d+)\s", info, re.M)]
    numbers = [int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s+\d+\s+\d+\s", info, re.M)]
    align = MiB // sector
    start = ((last_usable + 1 - size // sector) // align) * align
    if ends and start <= max(ends):
        raise ImageError(f"no room for a {size // MiB} MiB config drive at the end of {dev}")
    number = max(numbers, default=0) + 1
    run(["sgdisk", "-n", f"{number}:{start}:{last_usable}", "-c", f"{number}:{LABEL}", "-t", f"{number}:0700",
         dev])
    return number, start * sector, (last_usable - start + 1) * sector


def _mbr_partition(guard: DeviceGuard, dev: str, size: int) -> tuple[int, int, int]:
    """Append a primary MBR partition (type 0x83) of ``size`` bytes at the disk's end: (number, offset, size)."""
    table = read_table(dev)
    sector = table.sector
    if len(table.partitions) >= 4 or any(p.number > 4 for p in table.partitions):
        raise ImageError(f"{dev} has no free primary MBR slot for a config drive")
    total = min(device_size(dev) // sector, 2**32 - 1)
    align = MiB // sector
    start = ((total - size // sector) // align) * align
    if table.partitions and start < max(p.start + p.size for p in table.partitions):
        raise ImageError(f"no room for a {size // MiB} MiB config drive at the end of {dev}")
    fd, _ = guard.open_for_write(dev, readable=True)
    try:
        number = mbr_append_entry(fd, start, total - start)
        os.fsync(fd)
    finally:
        os.close(fd)
    return number, start * sector, (total - start) * sector


def write_configdrive(guard: DeviceGuard, device: str, iso: bytes, *, partition: bool = True) -> dict[str, Any]:
    """Write ``iso`` to a new ``config-2`` partition at ``device``'s end, or onto ``device`` itself."""
    if len(iso) < 32 * 2048 or iso[0x8001:0x8006] != b"CD001":
        raise InvalidCommand("the config drive is not an ISO9660 image")
    dev = guard.check(device)
    number = None
    offset, room = 0, device_size(dev)
    if partition:
        size = max(MIN_PARTITION, -(-len(iso) // MiB) * MiB)
        kind = read_table(dev).label
        if kind == "gpt":
            number, offset, room = _gpt_partition(dev, size)
        elif kind == "dos":
            number, offset, room = _mbr_partition(guard, dev, size)
        else:
            raise ImageError(f"{dev} has no partition table to add a config drive partition to")
    if len(iso) > room:
        raise ImageError(f"the config drive ({len(iso)} bytes) does not fit in {room} bytes on {dev}")
    fd, _ = guard.open_for_write(dev)
    try:
        view = memoryview(iso)
        done = 0
        while done < len(view):
            done += os.pwrite(fd, view[done:], offset + done)
        os.fsync(fd)
    finally:
        os.close(fd)
    if partition:
        run(["blockdev", "--rereadpt", dev], check=False)
    return {"device": dev, "partition_number": number, "offset": offset, "size": room, "label": LABEL,
            "bytes_written": len(iso)}
