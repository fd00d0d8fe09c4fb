"""Deployable OS images built from Debian's packages: ``ironworks image build debian|tiny``.

Both kinds are whole-disk GPT images (BIOS boot partition, ESP, ext4 root) that boot under BIOS (SeaBIOS) and
UEFI (OVMF) with grub, cached by a hash of their inputs (cache.py), as raw and zstd-compressed qcow2 with the
sha256 of each:

* ``tiny`` (tiny.py): Debian's kernel + a busybox initramfs that reads the config drive itself; boots to its
  marker in seconds, also from an md RAID-1 written by the agent;
* ``debian`` (debian.py): bookworm with systemd, cloud-init (ConfigDrive), openssh-server and grub; cloud-init
  applies hostname, SSH keys, root password and network_data, then a unit prints the marker.

When booted, each prints ``marker_line(hostname)`` on ttyS0 after its other ``ironworks-os:`` lines
(marker.py)::

    image = ironworks.images.build("tiny")
    ...boot image.raw or image.qcow2 with a config drive...
    vm.wait_for_serial(ironworks.images.marker_line("node-1"), timeout=120)
    report = ironworks.images.parse_console(vm.serial())
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ironworks.images.cache import shared_cache_dir
from ironworks.images.errors import ImageBuildError
from ironworks.images.marker import MARKER_PREFIX, ConsoleReport, marker_line, parse_console
from ironworks.images.wholedisk import MANIFEST_NAME, QCOW2_NAME, RAW_NAME

KINDS = ("tiny", "debian")

__all__ = [
    "KINDS",
    "MARKER_PREFIX",
    "BuiltImage",
    "ConsoleReport",
    "ImageBuildError",
    "build",
    "marker_line",
    "parse_console",
    "shared_cache_dir",
]


@dataclasses.dataclass(frozen=True)
class BuiltImage:
    """A finished image in the cache (do not modify the files: copy or use ``-snapshot``/an overlay)."""

    raw: Path
    qcow2: Path
    sha256_raw: str
    sha256_qcow2: str
    kind: str
    key: str = ""
    cached: bool = False  # taken from the cache as is, nothing was built by this call
    seconds: float = 0.0  # wall time of the build() call
    manifest: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def marker(self) -> str:
        """The start of the marker line, before the hostname (``marker_line(hostname)`` is the whole line)."""
        return MARKER_PREFIX

    @property
    def root_uuid(self) -> str:
        return str(self.manifest.get("root_uuid", ""))

    @property
    def cmdline(self) -> str:
        """The kernel command line grub passes (``root=UUID=… console=ttyS0…``)."""
        return str(self.manifest.get("cmdline", ""))

    def summary(self) -> str:
        how = "cached" if self.cached else "built"
        return (
            f"{self.kind} image {self.key}: {how} in {self.seconds:.1f} s "
            f"({self.manifest.get('size_mib')} MiB disk, kernel {self.manifest.get('kernel_version')})\n"
            f"  raw:   {self.raw}\n  sha256 {self.sha256_raw}\n"
            f"  qcow2: {self.qcow2}\n  sha256 {self.sha256_qcow2}"
        )


def build(
    kind: str,
    *,
    cache_dir: Path | None = None,
    force: bool = False,
    mirror: str | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> BuiltImage:
    """Build ``kind`` ("tiny" or "debian"), or take it from the cache when its inputs did not change.

    Needs root (debootstrap, chroot) for a build; a cached image needs nothing. ``cache_dir`` defaults to
    :func:`shared_cache_dir`. Raises :class:`ImageBuildError` (also for an unknown ``kind``).
    """
    started = time.monotonic()
    cache_dir = cache_dir or shared_cache_dir()
    if kind == "tiny":
        from ironworks.images.tiny import build_tiny

        directory, cached = build_tiny(cache_dir, force=force, mirror=mirror, say=say)
    elif kind == "debian":
        from ironworks.images.debian import build_debian

        directory, cached = build_debian(cache_dir, force=force, mirror=mirror, say=say)
    else:
        raise ImageBuildError(f"unknown image kind {kind!r} (one of {', '.join(KINDS)})")
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    return BuiltImage(
        raw=directory / RAW_NAME,
        qcow2=directory / QCOW2_NAME,
        sha256_raw=manifest["sha256_raw"],
        sha256_qcow2=manifest["sha256_qcow2"],
        kind=kind,
        key=manifest["key"],
        cached=cached,
        seconds=time.monotonic() - started,
        manifest=manifest,
    )
