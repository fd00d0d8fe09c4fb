"""The one guard every destructive disk operation goes through.

A ``DeviceGuard`` is built once at start from an allow-list of block devices: in the ramdisk the node's local
disks minus the skip list (``for_local_disks``), in tests the loop devices the test created. ``check()`` resolves
symlinks and by-path/by-id names to the real device node, compares *device numbers* (so an alias of an allowed
device is still the same device) and refuses anything else, including regular files and partitions of disks
that are not allowed. Partitions of an allowed disk are allowed (erasing member partitions needs that).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable

from ironworks_agent.errors import DeviceRefused

LOG = logging.getLogger(__name__)


def _rdev_of(path: str) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_rdev if stat.S_ISBLK(st.st_mode) else None


def _parent_rdev(rdev: int, sysfs: str = "/sys") -> int | None:
    """The whole disk's device number when ``rdev`` is a partition, else None."""
    node = os.path.join(sysfs, "dev", "block", f"{os.major(rdev)}:{os.minor(rdev)}")
    real = os.path.realpath(node)
    if not os.path.exists(os.path.join(real, "partition")):
        return None
    try:
        with open(os.path.join(os.path.dirname(real), "dev")) as fh:
            major, minor = fh.read().strip().split(":")
    except OSError:
        return None
    return os.makedev(int(major), int(minor))


class DeviceGuard:
    """Allow-list of block devices; ``check(dev)`` returns the canonical path or raises DeviceRefused."""

    def __init__(self, allowed: Iterable[str], *, sysfs: str = "/sys") -> None:
        self._sysfs = sysfs
        self._allowed: dict[int, str] = {}
        for dev in allowed:
            real = os.path.realpath(dev)
            rdev = _rdev_of(real)
            if rdev is None:
                raise DeviceRefused(f"cannot allow {dev}: it is not a block device")
            self._allowed[rdev] = real

    @classmethod
    def for_local_disks(cls, disks: Iterable[dict[str, object]], skipped: Iterable[str]) -> DeviceGuard:
        """The ramdisk's guard: every disk of the inventory except the skipped ones (names as in inventory)."""
        skip = {os.path.realpath(str(s)) for s in skipped}
        names = [str(d["name"]) for d in disks if os.path.realpath(str(d["name"])) not in skip]
        return cls(names)

    @property
    def allowed(self) -> list[str]:
        return sorted(self._allowed.values())

    def allows(self, device: str) -> bool:
        try:
            self.check(device)
        except DeviceRefused:
            return False
        return True

    def check(self, device: str) -> str:
        """Resolve ``device`` and return its canonical /dev path if it (or its parent disk) is allowed."""
        real = os.path.realpath(device)
        rdev = _rdev_of(real)
        if rdev is None:
            raise DeviceRefused(f"refusing {device}: not a block device")
        if rdev in self._allowed:
            return real
        parent = _parent_rdev(rdev, self._sysfs)
        if parent is not None and parent in self._allowed:
            return real
        LOG.error("safety guard refused %s (resolved %s); allowed: %s", device, real, ", ".join(self.allowed))
        raise DeviceRefused(f"refusing {device} ({real}): not in the allow-list of this agent")

    def open_for_write(self, device: str, *, direct: bool = False, readable: bool = False) -> tuple[int, str]:
        """Check ``device`` and open it for writing, exclusively (EBUSY when mounted or in an array)."""
        real = self.check(device)
        flags = (os.O_RDWR if readable else os.O_WRONLY) | os.O_EXCL | os.O_CLOEXEC
        if direct:
            flags |= os.O_DIRECT
        return os.open(real, flags), real
