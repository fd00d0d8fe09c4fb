#!/usr/bin/env python3
"""Deployable OS image benchmark: build seconds (cold or cached) and boot-to-marker seconds under QEMU TCG.

For each kind asked for (default: tiny), builds the image (``--cold``: into an empty temporary cache, so
debootstrap and everything else are timed; otherwise the shared cache is used and the figure is a cache hit
unless the inputs changed), then boots it from disk under BIOS (SeaBIOS) and UEFI (OVMF) with a config drive
from ``ironworks.configdrive.builder`` and times QEMU start → the marker line with the configured hostname.
Prints one JSON line per kind, e.g.::

    {"kind": "tiny", "build_s": 0.1, "cached": true, "assemble_s": 2.3, "qcow2_s": 0.9, "raw_mib": 112,
     "qcow2_mib": 11.9, "boot_bios_s": 9.8, "boot_uefi_s": 14.2}

    .venv/bin/python bench/image_build_bench.py [--kind tiny --kind debian] [--cold] [--boots 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ironworks import images
from ironworks.configdrive import builder
from ironworks.lab.qemu import Disk, QemuVm, VmSpec


def boot_to_marker(image: images.BuiltImage, workdir: Path, firmware: str) -> float:
    hostname = f"bench-{image.kind}-{firmware}"
    drive = workdir / f"{hostname}.iso"
    drive.write_bytes(builder.build({"uuid": hostname, "hostname": hostname}).image)
    spec = VmSpec(
        name=hostname,
        workdir=workdir,
        firmware="uefi" if firmware == "uefi" else "bios",
        memory_mb=1024 if image.kind == "debian" else 512,
        disks=(Disk(image.qcow2, "qcow2", bootindex=1), Disk(drive, "raw")),
        extra_args=("-snapshot",),
    )
    with QemuVm(spec) as vm:
        vm.wait_for_serial(images.marker_line(hostname), timeout=1200)
        return time.monotonic() - vm.started_at


def bench(kind: str, *, cold: bool, boots: int, workdir: Path) -> dict[str, object]:
    cache_dir = Path(tempfile.mkdtemp(prefix="image-bench-cache-", dir="/var/tmp")) if cold else None
    image = images.build(kind, cache_dir=cache_dir, say=lambda line: print(line, file=sys.stderr, flush=True))
    figures: dict[str, object] = {
        "kind": kind,
        "build_s": round(image.seconds, 1),
        "cached": image.cached,
        "assemble_s": image.manifest.get("assemble_seconds"),
        "qcow2_s": image.manifest.get("qcow2_seconds"),
        "raw_mib": image.manifest.get("size_mib"),
        "qcow2_mib": round(image.qcow2.stat().st_size / 2**20, 1),
    }
    for firmware in ("bios", "uefi"):
        times = [boot_to_marker(image, workdir, firmware) for _ in range(boots)]
        figures[f"boot_{firmware}_s"] = round(statistics.median(times), 1)
    if cache_dir is not None:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", action="append", choices=images.KINDS, help="repeatable; default tiny")
    parser.add_argument("--cold", action="store_true", help="build in an empty cache (debootstrap included)")
    parser.add_argument("--boots", type=int, default=1, help="boots per firmware (median printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="image-bench-") as tmp:
        for kind in args.kind or ["tiny"]:
            print(json.dumps(bench(kind, cold=args.cold, boots=args.boots, workdir=Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
