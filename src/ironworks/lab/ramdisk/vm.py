"""Boot the deploy ramdisk in a QEMU VM whose agent talks to a service on the host's 127.0.0.1.

For the agent's VM tests and quick lab experiments (the lab proper netboots through dnsmasq and iPXE):

    disks = blank_disks(tmp_path, 2, size_mib=64)
    spec = ramdisk_vm(build_ramdisk(shared_cache_dir()), tmp_path, mac="52:54:00:00:00:01", disks=disks,
                      api_port=service_port, params="ironworks.selftest=raid1")
    with QemuVm(spec) as vm: ...

The guest sees the service at ``http://10.0.2.100:6385`` (a guest forward inside QEMU's private, restricted
user network), so nothing in the guest can reach any other address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ironworks.lab.qemu import DirectBoot, Disk, GuestForward, Nic, UserNet, VmSpec
from ironworks.lab.ramdisk.builder import BuildResult

GUEST_API_ADDR = "10.0.2.100"
GUEST_API_PORT = 6385
GUEST_API_URL = f"http://{GUEST_API_ADDR}:{GUEST_API_PORT}"


def blank_disks(workdir: Path, count: int, *, size_mib: int = 64, prefix: str = "disk") -> tuple[Disk, ...]:
    """``count`` sparse raw disk images (serials ``<prefix>-0``…), readable from the host after the VM ran."""
    workdir.mkdir(parents=True, exist_ok=True)
    disks = []
    for index in range(count):
        path = workdir / f"{prefix}-{index}.raw"
        with open(path, "wb") as handle:
            handle.truncate(size_mib * 2**20)
        disks.append(Disk(path, "raw", serial=f"{prefix}-{index}"))
    return tuple(disks)


def ramdisk_vm(
    ramdisk: BuildResult,
    workdir: Path,
    *,
    mac: str,
    name: str = "ramdisk",
    disks: tuple[Disk, ...] = (),
    api_port: int | None = None,
    params: str = "",
    firmware: Literal["bios", "uefi"] = "bios",
    memory_mb: int = 1024,
) -> VmSpec:
    """A VM booting ``ramdisk`` directly (PVH ``vmlinux`` under BIOS, the bzImage's EFI stub under UEFI).

    With ``api_port`` the agent gets ``ironworks.api_url`` pointing at 127.0.0.1:``api_port`` on the host, and
    ``BOOTIF`` is ``mac``; ``params`` are appended to the kernel command line (e.g. ``ironworks.selftest=…``,
    ``ironworks.lookup_timeout=…``, ``ironworks.agent=0``).
    """
    forwards = (GuestForward(GUEST_API_ADDR, GUEST_API_PORT, api_port),) if api_port is not None else ()
    append = f"console=ttyS0 BOOTIF={mac}"
    if api_port is not None:
        append += f" ironworks.api_url={GUEST_API_URL}"
    if params:
        append += " " + params
    kernel = ramdisk.vmlinux if firmware == "bios" and ramdisk.vmlinux is not None else ramdisk.kernel
    return VmSpec(
        name=name,
        workdir=workdir,
        firmware=firmware,
        memory_mb=memory_mb,
        disks=disks,
        nics=(Nic(mac, UserNet(guest_forwards=forwards)),),
        boot=DirectBoot(kernel, ramdisk.initrd, append),
    )
