"""From a root filesystem tree to the cached image: disk.raw, disk.qcow2 and manifest.json.

:func:`assemble` is the last stage of both image kinds:

1. write ``/boot/grub/grub.cfg`` (serial console, one entry: the tree's kernel and initrd with ``cmdline``)
   and ``/etc/fstab`` into the tree;
2. GPT (BIOS boot, ESP, root), the root ext4 from the tree, the ESP with ``EFI/BOOT/BOOTX64.EFI``, grub's
   BIOS boot code and core.img (disk.py);
3. the zstd-compressed qcow2 and the sha256 of both files, recorded in ``manifest.json`` (written last).

Filesystem UUIDs are derived from the image key, so the same inputs give the same UUIDs (and kernel command
line) every time.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

from ironworks.images import disk

ESP_MIB = 32
RAW_NAME, QCOW2_NAME, MANIFEST_NAME = "disk.raw", "disk.qcow2", "manifest.json"


def tree_mib(tree: Path) -> int:
    """Disk usage of ``tree`` in MiB (``du``, so hard links count once)."""
    out = subprocess.run(["du", "-s", "-B1M", str(tree)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def root_uuid(key: str) -> str:
    return disk.derived_uuid(key, "root")


def assemble(
    tree: Path,
    target: Path,
    *,
    key: str,
    kind: str,
    kernel: str,
    initrd: str,
    cmdline: str,
    size_mib: int | None = None,
    manifest: dict[str, Any] | None = None,
    epoch: int,
) -> dict[str, Any]:
    """Build the image of ``tree`` into ``target`` (a new directory); returns the manifest it wrote.

    ``kernel`` and ``initrd`` are paths inside the tree (e.g. ``/boot/vmlinuz``); ``cmdline`` gets
    ``root=UUID=<root uuid>`` in front. ``size_mib`` defaults to the tree's size plus 30 % and 64 MiB.
    """
    started = time.monotonic()
    target.mkdir(parents=True)
    uuid = root_uuid(key)
    full_cmdline = f"root=UUID={uuid} {cmdline}".strip()
    (tree / "boot/grub").mkdir(parents=True, exist_ok=True)
    (tree / "boot/grub/grub.cfg").write_text(
        disk.grub_cfg(title=f"Ironworks {kind}", kernel=kernel, initrd=initrd, cmdline=full_cmdline)
    )
    (tree / "etc").mkdir(exist_ok=True)
    (tree / "etc/fstab").write_text(f"UUID={uuid} / ext4 errors=remount-ro 0 1\n")
    if size_mib is None:
        size_mib = 1 + ESP_MIB + math.ceil(tree_mib(tree) * 1.3) + 64
        size_mib = (size_mib + 15) // 16 * 16
    raw = target / RAW_NAME
    layout = disk.partition(raw, size_mib=size_mib, esp_mib=ESP_MIB, disk_guid=disk.derived_uuid(key, "disk"))
    disk.write_ext4(raw, layout.root, tree, uuid=uuid, label=f"{kind}-root", epoch=epoch)
    efi = target / "BOOTX64.EFI"
    disk.grub_efi_image(efi, uuid)
    disk.write_esp(raw, layout.esp, {"EFI/BOOT/BOOTX64.EFI": efi}, volume_id=disk.derived_uuid(key, "esp")[:8])
    efi.unlink()
    disk.install_grub_bios(raw, layout, uuid, target)
    assembled = time.monotonic()
    qcow2 = target / QCOW2_NAME
    disk.to_qcow2(raw, qcow2)
    doc: dict[str, Any] = {
        **(manifest or {}),
        "kind": kind,
        "key": key,
        "size_mib": size_mib,
        "root_uuid": uuid,
        "cmdline": full_cmdline,
        "kernel": kernel,
        "initrd": initrd,
        "partitions": {
            name: {"number": p.number, "first_sector": p.first, "last_sector": p.last}
            for name, p in (("bios_boot", layout.bios), ("esp", layout.esp), ("root", layout.root))
        },
        "sha256_raw": disk.sha256(raw),
        "sha256_qcow2": disk.sha256(qcow2),
        "qcow2_bytes": qcow2.stat().st_size,
        "assemble_seconds": round(assembled - started, 1),
        "qcow2_seconds": round(time.monotonic() - assembled, 1),
    }
    (target / MANIFEST_NAME).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc
