"""Software RAID on the node's disks with mdadm: create, delete, find and assemble arrays.

``create_configuration`` first clears every chosen member disk (arrays on it stopped, md superblocks zeroed on
every partition, signatures and tables erased: erase.erase_metadata), writes the layout of raid.plan_layout
with sgdisk, clears the new member partitions once more (a partition may now start where an old member did:
without this an old superblock makes ``mdadm`` kick the "non-fresh" member or udev assemble a stale array),
then runs ``mdadm --create /dev/md/<volume_name> --run --metadata=1.2 --homehost=any --name=<volume_name>
--data-offset=8M``. ``--homehost=any`` records the name without a host prefix that counts as "local" on every
host, so the array assembles as ``/dev/md/<volume_name>`` in this ramdisk, the next one and the deployed OS.

``delete_configuration`` stops every array with a member on an allowed disk (refusing arrays that also use a
disk outside the allow-list), zeroes the superblocks of all member partitions and removes the partition tables
of the disks that held members; it finds nothing to do the second time.

``MdGuard`` extends the safety guard to md arrays (and their partitions) whose members all pass the guard: the
image and the config drive are written onto the RAID-1 root through it. ``find_root_volume`` locates the root
array of a previous ``create_configuration`` by its member partitions' GPT name (``ironworks-root``) and
assembles it when udev did not.

Config drive on the RAID: ``write_configdrive`` (without ``device``) targets the RAID-1 root array like the image
does, so the ``config-2`` partition is appended to the image's own partition table *inside* the array (as
Ironic's agent does). It is mirrored on every member, survives a lost disk, and cloud-init finds it by label once
the OS has assembled the array (``/dev/mdNpM``); nothing outside the array is needed.
"""

from __future__ import annotations

import logging
import os
import struct
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks_agent.errors import DeviceNotFound, DeviceRefused, ToolFailed
from ironworks_agent.hardware import erase, raid
from ironworks_agent.hardware.disks import device_size
from ironworks_agent.process import run
from ironworks_agent.safety import DeviceGuard

LOG = logging.getLogger(__name__)
ESP_TYPE = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
BIOS_BOOT_TYPE = "21686148-6449-6e6f-744e-656564454649"


@dataclass(frozen=True)
class GptEntry:
    number: int
    type_guid: str
    name: str
    first: int
    last: int


def gpt_entries(path: str, base: int = 0) -> list[GptEntry]:
    """Entries of the primary GPT of ``path`` (512-byte sectors; the disk starting at byte ``base`` of it),
    with type GUID and name; [] without a GPT."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        header = os.pread(fd, 92, base + 512)
        if header[:8] != b"EFI PART":
            return []
        lba, count, size = struct.unpack_from("<QII", header, 72)
        raw = os.pread(fd, min(count, 256) * size, base + lba * 512)
    finally:
        os.close(fd)
    out = []
    for i in range(len(raw) // size):
        entry = raw[i * size:(i + 1) * size]
        if entry[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", entry, 32)
        name = entry[56:128].decode("utf-16-le", errors="replace").split("\0", 1)[0]
        out.append(GptEntry(i + 1, str(uuid.UUID(bytes_le=entry[:16])), name, first, last))
    return out


def partition_node(disk: str, number: int) -> str:
    base = os.path.basename(disk)
    sep = "p" if base[-1].isdigit() else ""
    return f"/dev/{base}{sep}{number}"


def slaves(md: str, sysfs: str = "/sys") -> list[str]:
    name = os.path.basename(os.path.realpath(md))
    try:
        return [f"/dev/{s}" for s in sorted(os.listdir(os.path.join(sysfs, "block", name, "slaves")))]
    except OSError:
        return []


def running_arrays(sysfs: str = "/sys") -> list[str]:
    try:
        names = sorted(n for n in os.listdir(os.path.join(sysfs, "block")) if n.startswith("md"))
    except OSError:
        return []
    return [f"/dev/{n}" for n in names if os.path.isdir(os.path.join(sysfs, "block", n, "md"))]


def md_details(md: str) -> dict[str, str]:
    out = run(["mdadm", "--detail", "--export", md], check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def volume_name(details: Mapping[str, str]) -> str:
    return details.get("MD_NAME", "").rsplit(":", 1)[-1] or details.get("MD_DEVNAME", "")


class MdGuard(DeviceGuard):
    """The base guard, plus md arrays whose every member passes it (and the arrays' partitions)."""

    def __init__(self, base: DeviceGuard) -> None:
        super().__init__(base.allowed)
        self._base = base

    def check(self, device: str) -> str:
        real = os.path.realpath(device)
        name = os.path.basename(real)
        if not name.startswith("md"):
            return self._base.check(device)
        members = slaves(f"/dev/{name.split('p', 1)[0]}")
        if not members or not os.path.exists(real):
            raise DeviceRefused(f"refusing {device} ({real}): not a running md array")
        outside = [m for m in members if not self._base.allows(m)]
        if outside:
            LOG.error("safety guard refused %s: its members %s are not allowed", real, ", ".join(outside))
            raise DeviceRefused(f"refusing {device} ({real}): members {', '.join(outside)} are not in the "
                                "allow-list of this agent")
        return real


def _settle() -> None:
    run(["udevadm", "settle", "--timeout=30"], check=False)


def _wait_nodes(paths: Iterable[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    missing = [p for p in paths if not os.path.exists(p)]
    while missing and time.monotonic() < deadline:
        time.sleep(0.2)
        missing = [p for p in missing if not os.path.exists(p)]
    if missing:
        raise ToolFailed(f"partition nodes did not appear: {', '.join(missing)}")


def _ready(guard: DeviceGuard, part: str) -> str:
    """``part`` checked by the guard once udev is done with it: every write to a disk makes udev re-read its
    partition table when the writer closes it, and the partition nodes vanish for a moment meanwhile."""
    _settle()
    _wait_nodes([part], timeout=10)
    return guard.check(part)


def _has_superblock(dev: str) -> bool:
    return run(["mdadm", "--examine", dev], check=False).returncode == 0


def _stop(md: str) -> None:
    run(["wipefs", "--all", "--force", md], check=False)  # the old filesystem must not show up in a new array
    proc = run(["mdadm", "--stop", md], check=False)
    if proc.returncode != 0 and os.path.exists(md):
        raise ToolFailed(f"mdadm --stop {md} failed: {proc.stderr.strip()}")


def _clear_partition(guard: DeviceGuard, part: str) -> None:
    """No md superblock (0.90/1.0 at the end, 1.1/1.2 at the start) and no signature left on ``part``."""
    _ready(guard, part)
    if _has_superblock(part):
        run(["mdadm", "--zero-superblock", "--force", _ready(guard, part)])
    run(["wipefs", "--all", "--force", _ready(guard, part)])
    fd, _ = guard.open_for_write(_ready(guard, part))
    try:
        erase._zero_ends(fd, 0, device_size(part))  # noqa: SLF001 - same package, shared helper
        os.fsync(fd)
    finally:
        os.close(fd)


def arrays_on(guard: DeviceGuard, disks: Sequence[str]) -> list[str]:
    """Running arrays with a member on one of ``disks``; DeviceRefused if such an array also uses another disk."""
    wanted = {os.path.realpath(d) for d in disks}
    found = []
    for md in running_arrays():
        members = slaves(md)
        parents = {parent_disk(m) for m in members}
        if parents & wanted:
            outside = [m for m in members if not guard.allows(m)]
            if outside:
                raise DeviceRefused(f"{md} also uses {', '.join(outside)}, outside this agent's allow-list")
            found.append(md)
    return found


def parent_disk(dev: str) -> str:
    name = os.path.basename(dev)
    link = os.path.realpath(f"/sys/class/block/{name}")
    if os.path.exists(os.path.join(link, "partition")):
        return f"/dev/{os.path.basename(os.path.dirname(link))}"
    return f"/dev/{name}"


def delete_configuration(guard: DeviceGuard, disks: Sequence[str]) -> dict[str, Any]:
    """Stop and remove every array on ``disks``; zero their members' superblocks; drop their tables."""
    disks = [guard.check(d) for d in disks]
    deleted, zeroed, cleared = [], [], set()
    for array in arrays_on(guard, disks):
        details = md_details(array)
        members = slaves(array)
        _stop(array)
        deleted.append({"device": array, "volume_name": volume_name(details),
                        "raid_level": details.get("MD_LEVEL"), "members": members})
    _settle()  # stopping an array makes udev re-probe its members: partition nodes come and go meanwhile
    for disk in disks:
        parts = erase.partition_nodes(disk)
        had_member = False
        for part in [*parts, disk]:
            if _has_superblock(_ready(guard, part)):
                run(["mdadm", "--zero-superblock", "--force", _ready(guard, part)])
                zeroed.append(part)
                had_member = True
        if had_member or any(e.name in (raid.ROOT_PART_NAME, raid.RAID_PART_NAME) for e in gpt_entries(disk)):
            for part in parts:
                run(["wipefs", "--all", "--force", _ready(guard, part)], check=False)
            run(["sgdisk", "--zap-all", disk], check=False)
            run(["wipefs", "--all", "--force", disk])
            run(["blockdev", "--rereadpt", disk], check=False)
            cleared.add(disk)
    _settle()
    return {"deleted": deleted, "zeroed": zeroed, "disks_cleared": sorted(cleared)}


def _partition(disk: str, layout: Sequence[raid.PartitionPlan]) -> None:
    argv = ["sgdisk", "--clear"]
    for p in layout:
        first = p.start_mib * raid.MiB // 512
        last = (p.start_mib + p.size_mib) * raid.MiB // 512 - 1
        argv += ["-n", f"{p.number}:{first}:{last}", "-t", f"{p.number}:{p.type_code}", "-c", f"{p.number}:{p.name}"]
    run([*argv, disk])
    run(["blockdev", "--rereadpt", disk], check=False)


def create_configuration(guard: DeviceGuard, target: Any, allowed: Sequence[Mapping[str, Any]], *,
                         esp_mib: int = raid.DEFAULT_ESP_MIB) -> dict[str, Any]:
    """Partition the member disks and create the arrays of ``target``; Ironic's ``raid_config`` back."""
    logical = raid.parse_target(target)
    disks = [guard.check(d) for d in raid.select_disks(logical, allowed)]
    layout = raid.plan_layout(logical, len(disks), min(device_size(d) for d in disks), esp_mib=esp_mib)
    for array in arrays_on(guard, disks):  # leftovers of an earlier configuration or tenant
        _stop(array)
    _settle()
    for disk in disks:
        erase.erase_metadata(guard, disk)
    for disk in disks:
        _partition(disk, layout)
    _settle()
    _wait_nodes(partition_node(d, p.number) for d in disks for p in layout)
    members = [partition_node(d, p.number) for d in disks for p in layout if p.volume is not None]
    for array in arrays_on(guard, disks):  # udev may have assembled something stale from the new partitions
        _stop(array)
    _settle()
    for part in members:
        _clear_partition(guard, part)
    result: list[dict[str, Any]] = []
    by_volume = {p.volume: p for p in layout if p.volume is not None}
    for volume in logical:
        plan = by_volume[volume.index]
        parts = [partition_node(d, plan.number) for d in disks]
        device = f"/dev/md/{volume.volume_name}"
        run(["mdadm", "--create", device, "--run", "--metadata=1.2", "--homehost=any",
             f"--name={volume.volume_name}", f"--level={volume.md_level}", f"--raid-devices={len(parts)}",
             f"--data-offset={raid.MD_DATA_OFFSET_MIB}M", *parts])
        _settle()
        _wait_nodes([device])
        size = device_size(device)
        entry: dict[str, Any] = {
            "raid_level": volume.raid_level, "size_gb": "MAX" if volume.size_gb is None else volume.size_gb,
            "controller": "software", "volume_name": volume.volume_name, "is_root_volume": volume.is_root,
            "physical_disks": list(disks), "device": device, "md_device": os.path.realpath(device),
            "members": parts, "size_bytes": size}
        if volume.is_root:
            entry["root_device_hint"] = {"name": device}
        result.append(entry)
        LOG.info("created RAID %s %s (%d bytes) on %s", volume.raid_level, device, size, ", ".join(parts))
    return {"raid_config": {"logical_disks": result}, "partitions": [p.__dict__ for p in layout]}


def _examine(part: str) -> dict[str, str]:
    out = run(["mdadm", "--examine", "--export", part], check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def assemble(guard: DeviceGuard, part: str, disks: Sequence[str]) -> str:
    """The running array holding member ``part``; assembled from the allowed disks' partitions if needed."""
    holders = [h for h in os.listdir(f"/sys/class/block/{os.path.basename(part)}/holders") if h.startswith("md")]
    if holders:
        return f"/dev/{holders[0]}"
    wanted = _examine(part).get("MD_UUID")
    if not wanted:
        raise DeviceNotFound(f"{part} carries no md superblock")
    peers = [p for d in disks for p in erase.partition_nodes(d) if _examine(p).get("MD_UUID") == wanted]
    name = _examine(part).get("MD_NAME", "").rsplit(":", 1)[-1] or "root"
    device = f"/dev/md/{name}"
    run(["mdadm", "--assemble", device, "--run", *[guard.check(p) for p in peers]])
    _settle()
    _wait_nodes([device])
    return os.path.realpath(device)


def find_root_volume(guard: DeviceGuard) -> str | None:
    """The RAID root array (``/dev/mdN``) made by ``create_configuration`` on the allowed disks, or None."""
    disks = guard.allowed
    for disk in disks:
        try:
            entries = gpt_entries(disk)
        except OSError:
            continue
        for entry in entries:
            if entry.name == raid.ROOT_PART_NAME:
                part = partition_node(disk, entry.number)
                if os.path.exists(part) and _has_superblock(part):
                    return assemble(guard, part, disks)
    return None


def resolve_named(guard: DeviceGuard, device: str) -> str:
    """``/dev/md/<name>`` or ``/dev/mdN``: the running array, assembled by name from the allowed disks if needed."""
    if os.path.exists(device):
        return MdGuard(guard).check(device)
    name = os.path.basename(device)
    for disk in guard.allowed:
        for part in erase.partition_nodes(disk):
            if _examine(part).get("MD_NAME", "").rsplit(":", 1)[-1] == name:
                return MdGuard(guard).check(assemble(guard, part, guard.allowed))
    raise DeviceNotFound(f"no software RAID volume {device} on this node's disks")
