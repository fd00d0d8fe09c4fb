"""Block devices as Ironic's inventory describes them, read from ``lsblk`` and sysfs.

Each device is a dict with Ironic's ``BlockDevice`` fields (name, model, size in bytes, rotational, wwn,
wwn_with_extension, wwn_vendor_extension, serial, vendor, hctl, by_path, logical_sectors, physical_sectors,
tran) plus what Ironworks needs to tell disks apart: ``type`` (disk, loop, mpath, rom, md…), ``removable``,
``read_only``, ``multipath`` (the disk is a path of a dm-multipath map) and ``holders``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ironworks_agent.process import have, run

_COLUMNS = "NAME,PATH,TYPE,SIZE,ROTA,RM,RO,MODEL,VENDOR,SERIAL,WWN,HCTL,TRAN,LOG-SEC,PHY-SEC"
_WANTED_TYPES = {"disk", "mpath", "raid0", "raid1", "raid4", "raid5", "raid6", "raid10", "md"}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def by_path_links(root: str = "/dev/disk/by-path") -> dict[str, str]:
    """Map a device's real path to its /dev/disk/by-path name (empty without udev)."""
    links: dict[str, str] = {}
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return links
    for name in names:
        link = os.path.join(root, name)
        links.setdefault(os.path.realpath(link), link)
    return links


def holders(name: str, sysfs: str = "/sys") -> list[str]:
    try:
        return sorted(os.listdir(os.path.join(sysfs, "class", "block", name, "holders")))
    except OSError:
        return []


def _is_multipath_member(name: str, sysfs: str) -> bool:
    for holder in holders(name, sysfs):
        uuid = _read(os.path.join(sysfs, "class", "block", holder, "dm", "uuid")) or ""
        if uuid.startswith("mpath-"):
            return True
    return False


def _from_lsblk() -> list[dict[str, Any]]:
    out = run(["lsblk", "-J", "-b", "-d", "-o", _COLUMNS]).stdout
    return list(json.loads(out).get("blockdevices", []))


def _from_sysfs(sysfs: str) -> list[dict[str, Any]]:
    """A smaller picture when lsblk is missing: name, size, rotational, removable, model, vendor, serial."""
    devices = []
    base = os.path.join(sysfs, "block")
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        sectors = int(_read(os.path.join(d, "size")) or 0)
        kind = "loop" if name.startswith("loop") else "md" if name.startswith("md") else "disk"
        devices.append({
            "name": name, "path": f"/dev/{name}", "type": kind, "size": sectors * 512,
            "rota": _read(os.path.join(d, "queue", "rotational")) == "1",
            "rm": _read(os.path.join(d, "removable")) == "1", "ro": _read(os.path.join(d, "ro")) == "1",
            "model": _read(os.path.join(d, "device", "model")),
            "vendor": _read(os.path.join(d, "device", "vendor")),
            "serial": _read(os.path.join(d, "serial")) or _read(os.path.join(d, "device", "serial")),
            "wwn": _read(os.path.join(d, "device", "wwid")), "hctl": None, "tran": None,
            "log-sec": int(_read(os.path.join(d, "queue", "logical_block_size")) or 512),
            "phy-sec": int(_read(os.path.join(d, "queue", "physical_block_size")) or 512),
        })
    return devices


def _as_bool(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def list_block_devices(*, include_loop: bool = False, sysfs: str = "/sys") -> list[dict[str, Any]]:
    """Whole block devices (not partitions) in Ironic's inventory shape, sorted by name.

    Loop devices are left out unless ``include_loop`` (tests and benchmarks use them); so are empty devices
    (size 0, e.g. an unused loop device or zram).
    """
    raw = _from_lsblk() if have("lsblk") else _from_sysfs(sysfs)
    links = by_path_links()
    devices: list[dict[str, Any]] = []
    for item in raw:
        kind = item.get("type") or "disk"
        if kind == "loop" and not include_loop:
            continue
        if kind != "loop" and kind not in _WANTED_TYPES:
            continue
        size = int(item.get("size") or 0)
        if size == 0:
            continue
        name = item.get("path") or f"/dev/{item['name']}"
        kname = os.path.basename(name)
        wwn = _clean(item.get("wwn"))
        devices.append({
            "name": name,
            "model": _clean(item.get("model")),
            "size": size,
            "rotational": _as_bool(item.get("rota")),
            "wwn": wwn,
            "wwn_with_extension": wwn,
            "wwn_vendor_extension": None,
            "serial": _clean(item.get("serial")) or _read(os.path.join(sysfs, "block", kname, "serial")),
            "vendor": _clean(item.get("vendor")),
            "hctl": _clean(item.get("hctl")),
            "by_path": links.get(os.path.realpath(name)),
            "logical_sectors": item.get("log-sec"),
            "physical_sectors": item.get("phy-sec"),
            "tran": _clean(item.get("tran")),
            "type": kind,
            "removable": _as_bool(item.get("rm")),
            "read_only": _as_bool(item.get("ro")),
            "multipath": kind == "mpath" or _is_multipath_member(kname, sysfs),
            "holders": holders(kname, sysfs),
        })
    return sorted(devices, key=lambda d: d["name"])


def device_size(path: str) -> int:
    """Size in bytes of a block device (or file), by seeking to its end."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)
