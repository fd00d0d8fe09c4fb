"""Helpers for the image tests: a config drive file from ``ironworks.configdrive.builder`` and a QEMU VM that
boots a cached image from disk (``-snapshot``: the cached file is never written) with it attached."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import struct
from pathlib import Path
from typing import Any, Literal, cast

import pytest

from ironworks.configdrive import builder
from ironworks.lab.qemu import Disk, VmSpec

TOOLS = ("debootstrap", "sgdisk", "mkfs.ext4", "mkfs.fat", "mcopy", "grub-mkimage", "qemu-img", "qemu-system-x86_64")


def require_build_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("building an image needs root (debootstrap, chroot)")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/apt-packages.txt)")
    if not Path("/usr/lib/grub/i386-pc/boot.img").is_file():
        pytest.skip("grub-pc-bin is not installed (scripts/apt-packages.txt)")


def ed25519_public_key(seed: str) -> str:
    """A well-formed OpenSSH ed25519 public key line (the key's 32 bytes derived from ``seed``)."""
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + hashlib.sha256(seed.encode()).digest()
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {seed}@ironworks-test"


def fingerprint(public_key: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line, as ``ssh-keygen -l`` prints it."""
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def config_drive_file(path: Path, meta: dict[str, Any], **kwargs: Any) -> Path:
    """Write the config-2 ISO of ``meta`` (builder.build) to ``path``."""
    path.write_bytes(builder.build(meta, **kwargs).image)
    return path


def boot_spec(
    name: str,
    workdir: Path,
    disks: tuple[Disk, ...],
    *,
    firmware: str = "bios",
    memory_mb: int = 512,
) -> VmSpec:
    """A VM that boots the first disk (bootindex 1); ``-snapshot`` keeps every disk file unchanged."""
    first, *rest = disks
    boot_first = Disk(first.path, first.format, serial=first.serial, bootindex=1)
    return VmSpec(
        name=name,
        workdir=workdir,
        firmware=cast(Literal["bios", "uefi"], firmware),
        memory_mb=memory_mb,
        disks=(boot_first, *rest),
        extra_args=("-snapshot",),
    )
