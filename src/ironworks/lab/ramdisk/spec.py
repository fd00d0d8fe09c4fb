"""What goes into a deploy ramdisk: package and kernel-module lists, the Debian mirror, and input hashing.

A :class:`RamdiskSpec` is pure data. Its :meth:`RamdiskSpec.base_key` covers everything the debootstrap stage
depends on (suite, mirror, packages, modules, trimming rules); the builder adds the agent's source tree hash and
the files under ``files/`` to make the key of the final image. Change any input and the key changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

#: bump when the base stage (debootstrap, trimming, kernel/module selection) changes behaviour
BASE_STAGE_VERSION = 3
#: bump when the packing stage (overlay, cpio layout) changes behaviour
PACK_STAGE_VERSION = 2

DEFAULT_SUITE = "bookworm"

#: Debian packages installed by debootstrap (``--variant=minbase`` adds the essential set and apt).
DEFAULT_PACKAGES: tuple[str, ...] = (
    "python3-minimal",
    # http.client, json, urllib, ssl, hashlib, lzma, email... are not in python3-minimal
    "libpython3.11-stdlib",
    "ca-certificates",
    "mdadm",
    "gdisk",
    "parted",
    "e2fsprogs",
    "dosfstools",
    "qemu-utils",
    "grub-pc-bin",
    "grub-efi-amd64-bin",
    "grub2-common",
    "efibootmgr",
    "util-linux",
    "iproute2",
    "kmod",
    "udev",
    "busybox",
    "zstd",
    "xz-utils",
    "hdparm",
    "dmidecode",
    # the agent's kexec command: jump into the deployed kernel without a firmware POST
    "kexec-tools",
)

#: The kernel comes from this package's dependency (``linux-image-6.1.0-N-amd64``), downloaded from the mirror.
KERNEL_PACKAGE = "linux-image-amd64"

#: Kernel modules shipped (plus their dependencies); names missing or built in are skipped.
DEFAULT_MODULES: tuple[str, ...] = (
    "virtio_pci",
    "virtio_blk",
    "virtio_net",
    "virtio_scsi",
    "virtio_rng",
    "sd_mod",
    "sr_mod",
    "sg",
    "ahci",
    "ata_piix",
    "nvme",
    "e1000",
    "e1000e",
    "md_mod",
    "linear",
    "raid0",
    "raid1",
    "raid10",
    "raid456",
    "ext4",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "nls_iso8859_1",
    "nls_utf8",
    "isofs",
    "loop",
    "efivarfs",
    "crc32c_generic",
    "crc32c_intel",
)

#: Paths (relative to the rootfs, shell-style globs) removed after debootstrap: documentation, locales,
#: caches, the udev hardware database and parts of the stdlib nobody imports in a ramdisk.
TRIM_GLOBS: tuple[str, ...] = (
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "usr/share/lintian",
    "usr/share/bash-completion",
    "usr/share/zsh",
    "usr/lib/udev/hwdb.bin",
    "usr/lib/udev/hwdb.d",
    "usr/lib/x86_64-linux-gnu/gconv",
    "var/cache/apt/*",
    "var/cache/debconf/*-old",
    "var/cache/ldconfig/aux-cache",
    "var/lib/apt/lists/*",
    "var/lib/dpkg/*-old",
    "var/log/*",
    "usr/lib/python3.11/idlelib",
    "usr/lib/python3.11/tkinter",
    "usr/lib/python3.11/turtledemo",
    "usr/lib/python3.11/lib2to3",
    "usr/lib/python3.11/ensurepip",
    "usr/lib/python3.11/pydoc_data",
)


def apt_source_files(root: Path = Path("/")) -> list[Path]:
    """The apt source files of the machine, in apt's reading order."""
    files = [root / "etc/apt/sources.list"]
    directory = root / "etc/apt/sources.list.d"
    if directory.is_dir():
        files += sorted(p for p in directory.iterdir() if p.suffix in {".list", ".sources"})
    return [f for f in files if f.is_file()]


def _one_line_entries(text: str) -> Iterable[tuple[str, list[str], list[str]]]:
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            yield words[0], [words[1]], words[2:]


def _deb822_entries(text: str) -> Iterable[tuple[str, list[str], list[str]]]:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split(), fields.get("components", "").split()


def detect_mirror(suite: str = DEFAULT_SUITE, root: Path = Path("/")) -> str:
    """The Debian mirror URL this machine's apt uses for ``suite`` ``main``.

    Raises ``LookupError`` when no apt source names that suite.
    """
    for path in apt_source_files(root):
        text = path.read_text(errors="replace")
        entries = _deb822_entries(text) if path.suffix == ".sources" else _one_line_entries(text)
        for uri, suites, components in entries:
            if suite in suites and "main" in components:
                return uri.rstrip("/")
    raise LookupError(f"no apt source for suite {suite!r} component main in /etc/apt (sources.list[.d])")


@dataclasses.dataclass(frozen=True)
class RamdiskSpec:
    """Inputs of the debootstrap stage."""

    mirror: str
    suite: str = DEFAULT_SUITE
    packages: tuple[str, ...] = DEFAULT_PACKAGES
    modules: tuple[str, ...] = DEFAULT_MODULES
    kernel_package: str = KERNEL_PACKAGE

    def base_key(self) -> str:
        doc = {
            "version": BASE_STAGE_VERSION,
            "mirror": self.mirror,
            "suite": self.suite,
            "packages": sorted(set(self.packages)),
            "modules": sorted(set(self.modules)),
            "kernel_package": self.kernel_package,
            "trim": list(TRIM_GLOBS),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def tree_hash(root: Path, *, skip_dirs: frozenset[str] = frozenset({"__pycache__"})) -> str:
    """sha256 over relative paths, modes and contents of the files below ``root`` (sorted, stable)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in skip_dirs for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            digest.update(f"{rel.as_posix()}\0{path.stat().st_mode & 0o111:o}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
