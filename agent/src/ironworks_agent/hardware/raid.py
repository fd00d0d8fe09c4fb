"""Software RAID planning: Ironic's ``target_raid_config`` checked and turned into one partition layout. Pure.

``parse_target`` validates the logical disks (raid_level 0/1/5/6/1+0 (or 10), size_gb a positive number or
"MAX" (at most one), controller "software", optional physical_disks (device names or hint objects, the same set
for every logical disk), volume_name, is_root_volume (at most one; default: the first logical disk));
``select_disks`` picks the member disks among the allowed ones; ``plan_layout`` computes the GPT layout that
every member disk gets, identically::

    1 MiB  BIOS boot (EF02, "bios-boot")   grub's core.img for BIOS boot from any member
    ESP    EFI system (EF00, "esp")         512 MiB by default; grub's EFI binary for UEFI boot from any member
    then one Linux RAID partition (FD00) per logical disk, in the given order, the "MAX" one last;
    the root volume's partitions are named "ironworks-root", the others "ironworks-raid".

Each member partition holds the logical disk's share (RAID-1: the whole size; RAID-0: size/n; RAID-5:
size/(n-1); RAID-6: size/(n-2); RAID-10 (near 2): 2*size/n) rounded up to MiB, plus ``MD_DATA_OFFSET_MIB`` for
the md superblock, write-intent bitmap and bad-block log (the arrays are created with that data offset), so an
array is never smaller than asked. Sizes are in GiB (2**30 bytes), as Ironic's.
The mdadm side (create, delete, find, assemble) is in ``md.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks_agent.errors import InvalidCommand
from ironworks_agent.hardware import root_device

MiB = 1024**2
GiB = 1024**3
MD_DATA_OFFSET_MIB = 8
DEFAULT_ESP_MIB = 512
MIN_ESP_MIB = 64  # mkfs.fat -F 32 needs about this much with 512-byte sectors
MIN_MAX_MIB = 16  # a "MAX" volume must get at least this much per member
GPT_TAIL_BYTES = 34 * 512  # backup GPT header and entries at the disk's end
ROOT_PART_NAME = "ironworks-root"
RAID_PART_NAME = "ironworks-raid"

#: Ironic's level → (mdadm level, minimum member count)
LEVELS: dict[str, tuple[str, int]] = {"0": ("0", 2), "1": ("1", 2), "5": ("5", 3), "6": ("6", 4), "1+0": ("10", 4)}
_ALIASES = {"10": "1+0", "raid0": "0", "raid1": "1", "raid5": "5", "raid6": "6", "raid10": "1+0"}
_KNOWN_KEYS = frozenset({"raid_level", "size_gb", "volume_name", "is_root_volume", "controller", "physical_disks",
                         "number_of_physical_disks", "share_physical_disks", "disk_type", "interface_type"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,27}$")


@dataclass(frozen=True)
class LogicalDisk:
    index: int
    raid_level: str  # Ironic's spelling: "0", "1", "5", "6", "1+0"
    size_gb: float | None  # None: "MAX"
    volume_name: str
    is_root: bool
    physical_disks: tuple[Any, ...] | None
    count: int | None  # number_of_physical_disks

    @property
    def md_level(self) -> str:
        return LEVELS[self.raid_level][0]

    @property
    def min_disks(self) -> int:
        return LEVELS[self.raid_level][1]


@dataclass(frozen=True)
class PartitionPlan:
    number: int
    start_mib: int
    size_mib: int
    type_code: str  # sgdisk type code
    name: str
    volume: int | None  # index of the logical disk, None for the boot partitions


def _bad(index: int, message: str) -> InvalidCommand:
    return InvalidCommand(f"target_raid_config logical_disks[{index}]: {message}")


def _level(index: int, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(index, "raid_level is required: one of 0, 1, 5, 6, 1+0")
    text = str(value).strip().lower()
    text = _ALIASES.get(text, text)
    if text not in LEVELS:
        raise _bad(index, f"raid_level {value!r} is not supported by software RAID (0, 1, 5, 6, 1+0)")
    return text


def _size(index: int, value: Any) -> float | None:
    if isinstance(value, str) and value.strip().upper() == "MAX":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise _bad(index, f"size_gb must be a positive number of GiB or \"MAX\", not {value!r}")
    return float(value)


def parse_target(config: Any) -> list[LogicalDisk]:
    """Validate Ironic's ``target_raid_config`` for software RAID; InvalidCommand with the reason otherwise."""
    if not isinstance(config, Mapping):
        raise InvalidCommand("target_raid_config must be an object with a logical_disks list")
    disks = config.get("logical_disks")
    if not isinstance(disks, list) or not disks:
        raise InvalidCommand("target_raid_config.logical_disks must be a non-empty list")
    out: list[LogicalDisk] = []
    for i, raw in enumerate(disks):
        if not isinstance(raw, Mapping):
            raise _bad(i, "must be an object")
        unknown = set(raw) - _KNOWN_KEYS
        if unknown:
            raise _bad(i, f"unknown properties {', '.join(sorted(unknown))}")
        controller = raw.get("controller", "software")
        if controller != "software":
            raise _bad(i, f"controller must be \"software\" for this agent, not {controller!r}")
        name = raw.get("volume_name", f"md{i}")
        if not isinstance(name, str) or not _NAME.match(name):
            raise _bad(i, "volume_name must be 1-28 characters of letters, digits, '_', '.', '-'")
        root = raw.get("is_root_volume", False)
        if not isinstance(root, bool):
            raise _bad(i, "is_root_volume must be true or false")
        phys = raw.get("physical_disks")
        if phys is not None and (not isinstance(phys, list) or not phys
                                 or not all(isinstance(p, (str, Mapping)) for p in phys)):
            raise _bad(i, "physical_disks must be a non-empty list of device names or hint objects")
        count = raw.get("number_of_physical_disks")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise _bad(i, "number_of_physical_disks must be a positive integer")
        level = _level(i, raw.get("raid_level"))
        disk = LogicalDisk(i, level, _size(i, raw.get("size_gb")), name, root,
                           tuple(phys) if phys is not None else None, count)
        for n in (len(phys) if phys else None, count):
            if n is not None and n < disk.min_disks:
                raise _bad(i, f"RAID {level} needs at least {disk.min_disks} disks, {n} given")
        out.append(disk)
    names = [d.volume_name for d in out]
    if len(set(names)) != len(names):
        raise InvalidCommand("target_raid_config: volume_name values must be unique")
    if sum(d.size_gb is None for d in out) > 1:
        raise InvalidCommand("target_raid_config: only one logical disk may have size_gb \"MAX\"")
    roots = [d for d in out if d.is_root]
    if len(roots) > 1:
        raise InvalidCommand("target_raid_config: only one logical disk may be the root volume")
    if not roots:  # Ironic's software RAID convention: the first logical disk holds the OS
        out[0] = dataclasses.replace(out[0], is_root=True)
    if len({json.dumps(d.physical_disks, sort_keys=True) for d in out}) > 1 or len({d.count for d in out}) > 1:
        raise InvalidCommand("target_raid_config: software RAID partitions every member disk identically, so "
                             "physical_disks and number_of_physical_disks must be the same on every logical disk")
    return out


def select_disks(logical: Sequence[LogicalDisk], allowed: Sequence[Mapping[str, Any]]) -> list[str]:
    """Member disk names: the ``physical_disks`` (names or hints, each matching one allowed disk) or every
    allowed disk (first ``number_of_physical_disks`` of them by name); checks each level's minimum."""
    spec, count = logical[0].physical_disks, logical[0].count
    if spec is None:
        names = sorted(str(d["name"]) for d in allowed)
    else:
        names = []
        for item in spec:
            hints = {"name": item} if isinstance(item, str) else dict(item)
            found = root_device.find_devices(allowed, hints)
            if len(found) != 1:
                raise InvalidCommand(f"physical_disks entry {item!r} matches {len(found)} of the disks this agent "
                                     "may use; it must match exactly one")
            names.append(str(found[0]["name"]))
        if len(set(names)) != len(names):
            raise InvalidCommand("physical_disks name the same disk twice")
    if count is not None:
        if count > len(names):
            raise InvalidCommand(f"number_of_physical_disks is {count} but only {len(names)} disks are usable")
        names = names[:count]
    for disk in logical:
        if len(names) < disk.min_disks:
            raise InvalidCommand(f"RAID {disk.raid_level} ({disk.volume_name}) needs at least {disk.min_disks} "
                                 f"disks; {len(names)} usable: {', '.join(names) or 'none'}")
    return names


def member_bytes(raid_level: str, size_bytes: int, members: int) -> int:
    """Data bytes each member contributes so the array holds ``size_bytes``."""
    if raid_level == "1":
        return size_bytes
    if raid_level == "0":
        return -(-size_bytes // members)
    if raid_level == "5":
        return -(-size_bytes // (members - 1))
    if raid_level == "6":
        return -(-size_bytes // (members - 2))
    if raid_level == "1+0":
        return -(-size_bytes * 2 // members)
    raise ValueError(raid_level)


def array_bytes(raid_level: str, member_data_bytes: int, members: int) -> int:
    """Usable array size from each member's data size (inverse of ``member_bytes``)."""
    factor = {"1": 1.0, "0": members, "5": members - 1, "6": members - 2, "1+0": members / 2}[raid_level]
    return int(member_data_bytes * factor)


def plan_layout(logical: Sequence[LogicalDisk], members: int, smallest_disk: int, *,
                esp_mib: int = DEFAULT_ESP_MIB) -> list[PartitionPlan]:
    """The partitions every member disk gets (identical on all, sized for the smallest disk)."""
    if esp_mib < MIN_ESP_MIB:
        raise InvalidCommand(f"the ESP must be at least {MIN_ESP_MIB} MiB")
    end_mib = (smallest_disk - GPT_TAIL_BYTES) // MiB
    parts = [PartitionPlan(1, 1, 1, "EF02", "bios-boot", None), PartitionPlan(2, 2, esp_mib, "EF00", "esp", None)]
    cursor = 2 + esp_mib
    ordered = [d for d in logical if d.size_gb is not None] + [d for d in logical if d.size_gb is None]
    for number, disk in enumerate(ordered, start=3):
        name = ROOT_PART_NAME if disk.is_root else RAID_PART_NAME
        if disk.size_gb is None:
            size = end_mib - cursor
            if size < MIN_MAX_MIB + MD_DATA_OFFSET_MIB:
                raise InvalidCommand(f"no room left for the \"MAX\" volume {disk.volume_name} on a "
                                     f"{smallest_disk // MiB} MiB disk")
        else:
            share = member_bytes(disk.raid_level, math.ceil(disk.size_gb * GiB), members)
            size = -(-share // MiB) + MD_DATA_OFFSET_MIB
        parts.append(PartitionPlan(number, cursor, size, "FD00", name, disk.index))
        cursor += size
    if cursor > end_mib:
        raise InvalidCommand(f"the logical disks need {cursor} MiB on each member disk but the smallest member "
                             f"has {end_mib} MiB usable")
    return parts
