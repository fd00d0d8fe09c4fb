"""kexec into the image just written: find its kernel, load it, and (after the answer was posted) jump into it.

1. The target device is checked by the safety guard (a partition of an allowed disk, or the RAID root); its
   partition table is re-read.
2. Each partition with a filesystem (or the device itself when it has none) is mounted read-only in turn and
   searched with ``bootfind.find_boot_entry``; the first hit wins. The kernel and initrd(s) are copied into the
   ramdisk (several initrds are concatenated, as boot loaders do) and the filesystem is unmounted again.
3. ``kexec -l`` loads them with the entry's command line. Nothing usable found, or ``kexec -l`` refused: the
   answer says ``loaded: false`` with the reason, and the service falls back to a reboot.
4. ``execute`` (run by the agent after the result was accepted): ``sync`` and ``kexec -e``. Should that
   return, the machine is rebooted (it boots from disk, the boot device the service set).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from typing import Any

from ironworks_agent.errors import ToolFailed
from ironworks_agent.hardware import bootfind, erase
from ironworks_agent.hardware.bootloader import mounted
from ironworks_agent.process import have, run
from ironworks_agent.safety import DeviceGuard

LOG = logging.getLogger(__name__)
MOUNTABLE = ("ext2", "ext3", "ext4", "vfat", "xfs", "btrfs")


def _probe(dev: str) -> dict[str, str]:
    out = run(["blkid", "-p", "-o", "export", dev], check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def candidates(device: str) -> list[tuple[str, str, str | None]]:
    """(node, fstype, fs uuid) of the mountable filesystems on ``device``: its partitions, else itself."""
    run(["blockdev", "--rereadpt", device], check=False)
    if have("udevadm"):
        run(["udevadm", "settle", "--timeout=10"], check=False)
    found = []
    for node in erase.partition_nodes(device) or [device]:
        info = _probe(node)
        if info.get("TYPE") in MOUNTABLE:
            found.append((node, info["TYPE"], info.get("UUID")))
    return sorted(found, key=lambda c: c[1] == "vfat")  # the root (and /boot) before the ESP


def _copy_out(root: str, entry: bootfind.BootEntry, workdir: str) -> tuple[str, str | None]:
    kernel = bootfind.resolve_inside(root, entry.kernel)
    if kernel is None:
        raise FileNotFoundError(entry.kernel)
    kernel_copy = os.path.join(workdir, "kernel")
    shutil.copyfile(kernel, kernel_copy)
    if not entry.initrds:
        return kernel_copy, None
    initrd_copy = os.path.join(workdir, "initrd")
    with open(initrd_copy, "wb") as out:
        for name in entry.initrds:
            path = bootfind.resolve_inside(root, name)
            if path is None:
                raise FileNotFoundError(name)
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, 4 << 20)
    return kernel_copy, initrd_copy


def load(guard: DeviceGuard, device: str, *, console: str = "", tmpdir: str | None = None) -> dict[str, Any]:
    """Find and ``kexec -l`` the image's kernel on ``device``. Never raises for a missing kernel: the answer
    carries ``loaded`` and, when false, ``reason``."""
    device = guard.check(device)
    if not have("kexec"):
        return {"loaded": False, "reason": "kexec-tools is not installed in the ramdisk", "device": device}
    searched = []
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="ironworks-kexec-", dir=tmpdir)
    for node, fstype, uuid in candidates(device):
        guard.check(node)
        searched.append(node)
        try:
            with mounted(node, readonly=True, fstype=fstype) as root:
                entry = bootfind.find_boot_entry(root, fs_uuid=uuid, console=console)
                if entry is None:
                    continue
                kernel, initrd = _copy_out(root, entry, workdir)
        except (ToolFailed, OSError) as exc:
            LOG.warning("cannot search %s for a kernel: %s", node, exc)
            continue
        # -i: no purgatory checksum of the loaded segments (seconds under emulation; we jump right away)
        argv = ["kexec", "-l", "-i", kernel, f"--command-line={entry.cmdline}"]
        argv += [f"--initrd={initrd}"] if initrd else []
        found_after = time.monotonic() - started
        try:
            run(argv, timeout=120)
        except ToolFailed as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            return {"loaded": False, "reason": exc.message, "device": device, "partition": node}
        LOG.info("loaded %s (%s) from %s for kexec: %s", entry.kernel, entry.source, node, entry.cmdline)
        return {
            "loaded": True,
            "device": device,
            "partition": node,
            "source": entry.source,
            "config": entry.config,
            "kernel": entry.kernel,
            "initrd": list(entry.initrds) or None,
            "cmdline": entry.cmdline,
            "search_s": round(found_after, 3),
            "load_s": round(time.monotonic() - started - found_after, 3),
        }
    shutil.rmtree(workdir, ignore_errors=True)
    where = ", ".join(searched) or "no mountable filesystem"
    return {"loaded": False, "reason": f"no bootable kernel found on {device} (searched: {where})", "device": device}


def execute() -> None:
    """Jump into the loaded kernel; reboot (into the disk) if that is refused. Does not return on success."""
    os.sync()
    LOG.warning("kexec: jumping into the deployed kernel")
    try:
        run(["kexec", "-e"], timeout=60)
    except ToolFailed as exc:
        LOG.error("kexec -e failed (%s); rebooting into the disk instead", exc.message)
    os.sync()
    with open("/proc/sysrq-trigger", "w") as fh:
        fh.write("b")
