"""The hardware inventory in Ironic's shape (what ironic-python-agent reports and ``GET /v1/nodes/{id}/inventory``
returns): ``cpu``, ``memory``, ``disks``, ``interfaces``, ``system_vendor``, ``boot``, ``hostname``, ``bmc_*``.

Everything is read from /proc, sysfs and lsblk; nothing is written. Ironworks extras are additive (e.g.
``driver`` on interfaces, ``type``/``removable``/``multipath`` on disks) so Ironic-shaped consumers still work.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from typing import Any

from ironworks_agent.hardware.disks import list_block_devices
from ironworks_agent.process import have, run


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def cpu_info(cpuinfo: str = "/proc/cpuinfo") -> dict[str, Any]:
    text = _read(cpuinfo) or ""
    model = freq = None
    flags: list[str] = []
    count = 0
    sockets: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            count += 1
        elif key == "model name" and model is None:
            model = value
        elif key == "cpu MHz" and freq is None:
            freq = value
        elif key in ("flags", "Features") and not flags:
            flags = value.split()
        elif key == "physical id":
            sockets.add(value)
    return {
        "model_name": model,
        "frequency": freq,
        "count": count or os.cpu_count() or 1,
        "architecture": platform.machine(),
        "flags": flags,
        "socket_count": len(sockets) or 1,
    }


def memory_info(meminfo: str = "/proc/meminfo", sysfs: str = "/sys") -> dict[str, Any]:
    total = 0
    for line in (_read(meminfo) or "").splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) * 1024
    physical_mb = None
    mem_dir = os.path.join(sysfs, "devices", "system", "memory")
    block = _read(os.path.join(mem_dir, "block_size_bytes"))
    if block:
        online = 0
        for entry in os.listdir(mem_dir):
            if entry.startswith("memory") and _read(os.path.join(mem_dir, entry, "online")) == "1":
                online += 1
        physical_mb = online * int(block, 16) // (1024 * 1024) or None
    if physical_mb is None:
        physical_mb = -(-total // (1024 * 1024 * 128)) * 128  # round the visible total up to 128 MiB
    return {"total": total, "physical_mb": physical_mb}


def _addresses() -> dict[str, dict[str, str | None]]:
    if not have("ip"):
        return {}
    try:
        data = json.loads(run(["ip", "-j", "addr", "show"], check=False).stdout or "[]")
    except ValueError:
        return {}
    out: dict[str, dict[str, str | None]] = {}
    for link in data:
        v4 = next((a["local"] for a in link.get("addr_info", []) if a.get("family") == "inet"), None)
        v6 = next((a["local"] for a in link.get("addr_info", []) if a.get("family") == "inet6"), None)
        out[link.get("ifname", "")] = {"ipv4": v4, "ipv6": v6}
    return out


def interfaces(boot_mac: str | None = None, sysfs: str = "/sys") -> list[dict[str, Any]]:
    """Physical NICs (those with a ``device`` link in sysfs); virtual ones (lo, bridges, veth) are skipped."""
    base = os.path.join(sysfs, "class", "net")
    addrs = _addresses()
    result = []
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        if not os.path.exists(os.path.join(d, "device")):
            continue
        mac = (_read(os.path.join(d, "address")) or "").lower() or None
        speed = _read(os.path.join(d, "speed"))
        driver_link = os.path.join(d, "device", "driver")
        result.append({
            "name": name,
            "mac_address": mac,
            "ipv4_address": addrs.get(name, {}).get("ipv4"),
            "ipv6_address": addrs.get(name, {}).get("ipv6"),
            "has_carrier": _read(os.path.join(d, "carrier")) == "1",
            "speed_mbps": int(speed) if speed and speed.lstrip("-").isdigit() and int(speed) > 0 else None,
            "driver": os.path.basename(os.path.realpath(driver_link)) if os.path.exists(driver_link) else None,
            "vendor": _read(os.path.join(d, "device", "vendor")),
            "product": _read(os.path.join(d, "device", "device")),
            "lldp": None,
            "client_id": None,
            "biosdevname": None,
            "pxe_enabled": bool(boot_mac and mac == boot_mac.lower()),
        })
    return result


def system_vendor(sysfs: str = "/sys") -> dict[str, Any]:
    dmi = os.path.join(sysfs, "class", "dmi", "id")
    return {
        "manufacturer": _read(os.path.join(dmi, "sys_vendor")),
        "product_name": _read(os.path.join(dmi, "product_name")),
        "serial_number": _read(os.path.join(dmi, "product_serial")),
        "firmware": {
            "vendor": _read(os.path.join(dmi, "bios_vendor")),
            "version": _read(os.path.join(dmi, "bios_version")),
            "build_date": _read(os.path.join(dmi, "bios_date")),
        },
    }


def boot_info(boot_mac: str | None = None, sysfs: str = "/sys") -> dict[str, Any]:
    uefi = os.path.isdir(os.path.join(sysfs, "firmware", "efi"))
    return {"current_boot_mode": "uefi" if uefi else "bios", "pxe_interface": boot_mac}


def collect(*, boot_mac: str | None = None, include_loop: bool = False) -> dict[str, Any]:
    """The whole inventory (Ironic's shape)."""
    return {
        "cpu": cpu_info(),
        "memory": memory_info(),
        "disks": list_block_devices(include_loop=include_loop),
        "interfaces": interfaces(boot_mac),
        "system_vendor": system_vendor(),
        "boot": boot_info(boot_mac),
        "hostname": socket.gethostname(),
        "bmc_address": None,
        "bmc_v6address": None,
        "bmc_mac": None,
    }
