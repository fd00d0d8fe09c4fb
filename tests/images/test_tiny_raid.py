"""The ``tiny`` image deployed by the real agent onto a software RAID-1 root (``-m vm``), booted from disk.

The deploy ramdisk boots with two blank virtio disks and is driven over the agent protocol
(tests/agent/protocol_stub.py on 127.0.0.1 through QEMU's restricted user network), as a deploy does:
create_configuration (RAID-1 root), write_image (the tiny raw image over HTTP, sha256 checked),
write_configdrive (a config drive from ``ironworks.configdrive.builder``) and install_bootloader (grub on both
members, BIOS and UEFI). Then QEMU boots the disks themselves: both disks under SeaBIOS, and each disk alone
under OVMF (the other one pulled). The console must show the configured hostname and a root on the md array.
"""

from __future__ import annotations

import base64
import gzip
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ironworks import images
from ironworks.configdrive import builder
from ironworks.lab.qemu import Disk, QemuVm
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
from ironworks.lab.ramdisk.vm import blank_disks
from tests.agent.conftest import FileServer
from tests.agent.protocol_stub import ProtocolStub
from tests.agent.test_raid_vm import FILES_ADDR, FILES_PORT, MAC, _spec
from tests.images.conftest import boot_spec, require_build_tools

pytestmark = [pytest.mark.vm, pytest.mark.timeout(1200)]
HOSTNAME = "tiny-raid-node"
TARGET = {
    "logical_disks": [
        {"raid_level": "1", "size_gb": 0.25, "controller": "software", "volume_name": "root", "is_root_volume": True}
    ]
}


@pytest.fixture(scope="module")
def raid_disks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Disk, ...]]:
    require_build_tools()
    for tool in ("mmd", "genisoimage"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/apt-packages.txt)")
    tiny = images.build("tiny")
    ramdisk = build_ramdisk(shared_cache_dir())
    work = tmp_path_factory.mktemp("tiny-raid")
    www = work / "www"
    www.mkdir()
    (www / "tiny.raw").symlink_to(tiny.raw)
    iso = builder.build({"uuid": "tiny-raid", "hostname": HOSTNAME}).image
    disks = blank_disks(work, 2, size_mib=512)
    files = FileServer(www)
    stub = ProtocolStub({MAC}, heartbeat_interval=5, poll_wait=5)
    api_port, files_port = (s.httpd.server_address[1] for s in (stub, files))
    commands: list[tuple[str, str, dict[str, Any]]] = [
        ("raid", "create_configuration", {"target_raid_config": TARGET, "esp_size_mib": 64}),
        (
            "write",
            "write_image",
            {"url": f"http://{FILES_ADDR}:{FILES_PORT}/tiny.raw", "checksum": f"sha256:{tiny.sha256_raw}"},
        ),
        ("cd", "write_configdrive", {"configdrive": base64.b64encode(gzip.compress(iso)).decode()}),
        ("grub", "install_bootloader", {}),
    ]
    started = time.monotonic()
    try:
        with QemuVm(_spec(ramdisk, work, "deploy", disks, api_port, files_port)) as vm:
            results: dict[str, Any] = {}
            for count, (cid, name, params) in enumerate(commands, start=1):
                stub.send(cid, name, params)
                results[cid] = stub.wait_results(count, timeout=400)[cid][0]
                assert results[cid]["status"] == "SUCCEEDED", (cid, results[cid], vm.serial()[-4000:])
        print(f"deploy of tiny onto RAID-1: {time.monotonic() - started:.1f} s", file=sys.stderr)
    finally:
        stub.close()
        files.close()
    assert results["write"]["result"]["device"].startswith("/dev/md")
    yield disks


def _boot(disks: tuple[Disk, ...], workdir: Path, name: str, firmware: str) -> images.ConsoleReport:
    spec = boot_spec(name, workdir, disks, firmware=firmware)
    with QemuVm(spec) as vm:
        text = vm.wait_for_serial(images.marker_line(HOSTNAME), timeout=240)
    return images.parse_console(text)


def test_boots_from_the_raid1_of_both_disks(raid_disks: tuple[Disk, ...], tmp_path: Path) -> None:
    report = _boot(raid_disks, tmp_path, "raid-both", "bios")
    assert report.hostname == HOSTNAME
    assert report.root_device is not None and report.root_device.startswith("/dev/md")
    assert report.raid == "raid1:2 members=vda3,vdb3 degraded=0"
    assert report.config_drive is not None and report.config_drive.startswith("/dev/md")


@pytest.mark.parametrize("index", [0, 1])
def test_each_disk_alone_boots_the_degraded_raid1_under_uefi(
    raid_disks: tuple[Disk, ...], tmp_path: Path, index: int
) -> None:
    report = _boot((raid_disks[index],), tmp_path, f"raid-alone-{index}", "uefi")
    assert report.hostname == HOSTNAME and report.firmware == "uefi"
    assert report.raid == "raid1:2 members=vda3 degraded=1"
