"""grub2 on every member disk of the software RAID root, so the server boots with any one disk gone.

The whole-disk image was written onto the RAID-1 root array (``/dev/md/<root volume>``): the array then holds
the image's own partition table, and the kernel shows its partitions as ``/dev/mdNpM``. Firmware cannot see
inside the array, so each *member disk* gets a bootloader of its own, using the partitions that
``create_configuration`` put on every member (raid.py):

- **BIOS**: ``grub-install --target=i386-pc --boot-directory=<image root>/boot <member disk>`` for each member:
  grub's core.img goes into the member's 1 MiB BIOS boot partition, the boot code into its MBR. core.img
  contains the md (``mdraid1x``), GPT and filesystem modules and finds ``/boot/grub`` *inside* the array by the
  array's UUID, so it works from either member alone (grub reads a degraded RAID-1).
- **UEFI**: each member's ESP is formatted (vfat, label ``ESP``) when it has no vfat yet, the content of the
  image's own ESP (if the image has one, inside the array) is copied onto it, then
  ``grub-install --target=x86_64-efi --removable --no-nvram`` puts grub at the removable-media path
  ``EFI/BOOT/BOOTX64.EFI``, which every UEFI firmware tries on every disk without an NVRAM boot entry, so the
  firmware needs no entry per disk and a replaced disk needs none either.

The grub that is installed is the ramdisk's (grub-pc-bin, grub-efi-amd64-bin: the image needs no grub of its own);
its modules go to ``<boot>/grub/i386-pc`` and ``x86_64-efi`` in the image's root filesystem, next to the
image's ``grub.cfg``, which grub reads at boot. The root filesystem is the partition (of the array) whose
filesystem UUID is ``root_uuid`` when given, else the one with ``boot/grub/grub.cfg`` (or ``grub/grub.cfg``, a
separate /boot), else the largest Linux filesystem.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from ironworks_agent.errors import DeviceNotFound, InvalidCommand
from ironworks_agent.hardware import erase, md
from ironworks_agent.hardware.disks import device_size
from ironworks_agent.process import run
from ironworks_agent.safety import DeviceGuard

LOG = logging.getLogger(__name__)
LINUX_FS = ("ext2", "ext3", "ext4", "xfs", "btrfs")


def _blkid(dev: str, tag: str) -> str:
    return run(["blkid", "-p", "-o", "value", "-s", tag, dev], check=False).stdout.strip()


@contextlib.contextmanager
def mounted(dev: str, *, readonly: bool = False, fstype: str | None = None) -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="ironworks-mnt-")
    argv = ["mount", *(["-o", "ro"] if readonly else []), *(["-t", fstype] if fstype else []), dev, path]
    run(argv)
    try:
        yield path
    finally:
        run(["umount", path], check=False)
        os.rmdir(path)


def _boot_dir(mnt: str) -> str | None:
    for rel in ("boot", ""):
        if os.path.isfile(os.path.join(mnt, rel, "grub", "grub.cfg")):
            return os.path.join(mnt, rel).rstrip("/")
    return None


def find_root_partition(array: str, root_uuid: str | None) -> str:
    """The partition of ``array`` (or the array itself) holding the image's root or /boot filesystem."""
    candidates = erase.partition_nodes(array) or [array]
    linux = [p for p in candidates if _blkid(p, "TYPE") in LINUX_FS]
    if root_uuid:
        for part in candidates:
            if _blkid(part, "UUID").lower() == root_uuid.lower():
                return part
        raise DeviceNotFound(f"no filesystem with UUID {root_uuid} on {array}")
    for part in linux:
        with mounted(part, readonly=True) as mnt:
            if _boot_dir(mnt):
                return part
    if not linux:
        raise DeviceNotFound(f"no Linux filesystem on {array} to install grub for")
    return max(linux, key=lambda p: device_size(p))


def _image_esp(array: str, efi_uuid: str | None) -> str | None:
    for part in erase.partition_nodes(array):
        if efi_uuid and _blkid(part, "UUID").lower() == efi_uuid.lower():
            return part
    for entry in md.gpt_entries(array):
        if entry.type_guid == md.ESP_TYPE:
            part = md.partition_node(array, entry.number)
            if os.path.exists(part) and _blkid(part, "TYPE") == "vfat":
                return part
    return None


def _member_partition(disk: str, type_guid: str) -> str | None:
    for entry in md.gpt_entries(disk):
        if entry.type_guid == type_guid:
            return md.partition_node(disk, entry.number)
    return None


def _copy_tree(src: str, dst: str) -> int:
    count = 0
    for root, _dirs, files in os.walk(src):
        target = os.path.join(dst, os.path.relpath(root, src))
        os.makedirs(target, exist_ok=True)
        for name in files:
            shutil.copyfile(os.path.join(root, name), os.path.join(target, name))
            count += 1
    return count


def install_bootloader(guard: DeviceGuard, array: str, *, root_uuid: str | None = None,
                       efi_system_part_uuid: str | None = None, boot_mode: str | None = None) -> dict[str, Any]:
    """grub on every member disk of ``array`` for ``boot_mode`` ``bios``, ``uefi`` or both (None)."""
    if boot_mode not in (None, "bios", "uefi"):
        raise InvalidCommand("target_boot_mode must be bios or uefi")
    mdguard = md.MdGuard(guard)
    array = mdguard.check(array)
    disks = sorted({md.parent_disk(m) for m in md.slaves(array)})
    if not disks:
        raise DeviceNotFound(f"{array} is not a running md array")
    disks = [guard.check(d) for d in disks]
    root = find_root_partition(array, root_uuid)
    done: dict[str, Any] = {"device": array, "root_partition": root, "disks": disks, "bios": [], "uefi": []}
    with mounted(mdguard.check(root)) as mnt:
        boot = _boot_dir(mnt) or os.path.join(mnt, "boot")
        done["grub_cfg"] = os.path.isfile(os.path.join(boot, "grub", "grub.cfg"))
        if not done["grub_cfg"]:
            LOG.warning("the image has no grub/grub.cfg: grub will stop at its prompt")
        if boot_mode in (None, "bios"):
            for disk in disks:
                if _member_partition(disk, md.BIOS_BOOT_TYPE) is None:
                    raise DeviceNotFound(f"{disk} has no BIOS boot partition (create_configuration makes one)")
                run(["grub-install", "--target=i386-pc", f"--boot-directory={boot}", guard.check(disk)])
                done["bios"].append(disk)
        if boot_mode in (None, "uefi"):
            image_esp = _image_esp(array, efi_system_part_uuid)
            for disk in disks:
                esp = _member_partition(disk, md.ESP_TYPE)
                if esp is None:
                    raise DeviceNotFound(f"{disk} has no EFI system partition (create_configuration makes one)")
                guard.check(esp)
                if _blkid(esp, "TYPE") != "vfat":
                    run(["mkfs.fat", "-F", "32", "-n", "ESP", esp])
                copied = 0
                with mounted(esp, fstype="vfat") as esp_mnt:
                    if image_esp:
                        with mounted(mdguard.check(image_esp), readonly=True, fstype="vfat") as src:
                            copied = _copy_tree(src, esp_mnt)
                    run(["grub-install", "--target=x86_64-efi", f"--efi-directory={esp_mnt}",
                         f"--boot-directory={boot}", "--removable", "--no-nvram"])
                done["uefi"].append({"disk": disk, "esp": esp, "files_copied_from_image_esp": copied})
    run(["sync"], check=False)
    return done
