"""Software RAID, deploy onto the RAID-1 root and grub on every member, inside a QEMU VM (``-m vm``).

The deploy ramdisk boots with two virtio disk files; the agent in it is driven over the agent protocol
(tests/agent/protocol_stub.py on 127.0.0.1, reached through QEMU's restricted user network):

    boot 1 (cleaning): create_configuration with another layout (a previous tenant's arrays), delete_configuration
                       twice (the second finds nothing), erase_devices_metadata, create_configuration
                       (RAID-1 root + RAID-0 scratch), the same again over the running arrays
    boot 2 (deploy):   udev has assembled the arrays at boot; create_configuration once more over them (the
                       "non-fresh member" case), then write_image (no device named: the RAID-1 root is
                       chosen), write_configdrive, install_bootloader (BIOS and UEFI)

The host then reads both disk files: md superblocks on both members, the image's GPT and a ``config-2`` ISO inside
the array on both, grub's boot code + core.img and an ESP with ``EFI/BOOT/BOOTX64.EFI`` on both. Finally QEMU
boots each disk file *alone* (BIOS, and one under UEFI) and grub prints the image's grub.cfg marker.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ironworks_agent.hardware import configdrive, md

from ironworks.lab.qemu import Disk, GuestForward, Nic, QemuVm, UserNet, VmSpec
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
from ironworks.lab.ramdisk.vm import GUEST_API_ADDR, GUEST_API_PORT, blank_disks, ramdisk_vm
from tests.agent.conftest import FileServer
from tests.agent.protocol_stub import ProtocolStub

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]
MiB = 2**20
MAC = "52:54:00:5e:00:31"
FILES_ADDR, FILES_PORT = "10.0.2.101", 8080
MD_MAGIC = 0xA92B4EFC
GRUB_MARKER = "IRONWORKS-GRUB-OK"
TARGET = {"logical_disks": [
    {"raid_level": "1", "size_gb": 0.25, "controller": "software", "volume_name": "root", "is_root_volume": True},
    {"raid_level": "0", "size_gb": "MAX", "controller": "software", "volume_name": "scratch"}]}
OLD_TENANT = {"logical_disks": [
    {"raid_level": "1", "size_gb": 0.1, "controller": "software", "volume_name": "old"},
    {"raid_level": "0", "size_gb": "MAX", "controller": "software", "volume_name": "oldscratch"}]}
GRUB_CFG = f"""serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
echo "{GRUB_MARKER} root=$root"
halt
"""


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def build_whole_disk_image(path: Path, work: Path) -> None:
    """A 40 MiB GPT whole-disk image: BIOS boot, a 16 MiB ESP with a marker file, an ext4 root with grub.cfg."""
    with open(path, "wb") as fh:
        fh.truncate(40 * MiB)
    sh("sgdisk", "-n", "1:2048:+1M", "-t", "1:EF02", "-n", "2:0:+16M", "-t", "2:EF00", "-n", "3:0:0",
       "-t", "3:8300", str(path))
    _, esp, root = md.gpt_entries(str(path))
    tree = work / "rootfs"
    (tree / "boot/grub").mkdir(parents=True)
    (tree / "boot/grub/grub.cfg").write_text(GRUB_CFG)
    (tree / "etc").mkdir()
    (tree / "etc/hostname").write_text("from-the-image\n")
    sh("mkfs.ext4", "-q", "-F", "-L", "image-root", "-d", str(tree), "-E", f"offset={root.first * 512}",
       str(path), f"{(root.last - root.first + 1) // 2}k")
    sh("mkfs.fat", "--offset", str(esp.first), "-n", "IMAGE-ESP", str(path), str((esp.last - esp.first + 1) // 2))
    (work / "marker.txt").write_text("from the image's ESP\n")
    target = f"{path}@@{esp.first * 512}"
    sh("mmd", "-i", target, "::/EFI", "::/EFI/image")
    sh("mcopy", "-i", target, str(work / "marker.txt"), "::/EFI/image/marker.txt")


def _spec(ramdisk: Any, workdir: Path, name: str, disks: tuple[Disk, ...], api_port: int, files_port: int) -> VmSpec:
    spec = ramdisk_vm(ramdisk, workdir, mac=MAC, name=name, disks=disks, api_port=api_port)
    forwards = (GuestForward(GUEST_API_ADDR, GUEST_API_PORT, api_port),
                GuestForward(FILES_ADDR, FILES_PORT, files_port))
    return dataclasses.replace(spec, nics=(Nic(MAC, UserNet(guest_forwards=forwards)),))


def _run(spec: VmSpec, commands: list[tuple[str, str, dict[str, Any]]], stub: ProtocolStub,
         timeout: float) -> tuple[dict[str, dict[str, Any]], str, float]:
    """Boot ``spec``, send ``commands`` one after another, return {id: result}, the serial log and seconds."""
    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    with QemuVm(spec) as vm:
        try:
            for cid, name, params in commands:
                before = sum(len(v) for v in stub.state.results.values())
                stub.send(cid, name, params)
                got = stub.wait_results(before + 1, timeout=timeout)
                results[cid] = got[cid][0]
                if results[cid]["status"] != "SUCCEEDED":
                    break
        finally:
            serial = vm.serial()
    return results, serial, time.monotonic() - started


@dataclasses.dataclass
class Deployed:
    disks: tuple[Disk, ...]
    clean: dict[str, dict[str, Any]]
    deploy: dict[str, dict[str, Any]]
    image: Path
    workdir: Path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    if os.geteuid() != 0:
        pytest.skip("building the ramdisk needs root")
    for tool in ("sgdisk", "mkfs.fat", "mmd", "mdir", "genisoimage"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/apt-packages.txt)")
    ramdisk = build_ramdisk(shared_cache_dir())
    work = tmp_path_factory.mktemp("raid-vm")
    www = work / "www"
    www.mkdir()
    image = www / "image.raw"
    build_whole_disk_image(image, work)
    checksum = hashlib.sha256(image.read_bytes()).hexdigest()
    iso = configdrive.build_iso({"meta_data": {"uuid": "raid-node", "hostname": "raid-node"}})
    disks = blank_disks(work, 2, size_mib=512)
    files = FileServer(www)
    stub = ProtocolStub({MAC}, heartbeat_interval=5, poll_wait=5)
    api_port, files_port = (s.httpd.server_address[1] for s in (stub, files))
    try:
        clean, serial, seconds = _run(_spec(ramdisk, work, "clean", disks, api_port, files_port), [
            ("old", "create_configuration", {"target_raid_config": OLD_TENANT, "esp_size_mib": 96}),
            ("del-1", "delete_configuration", {}),
            ("del-2", "delete_configuration", {}),
            ("erase", "erase_devices_metadata", {}),
            ("create-1", "create_configuration", {"target_raid_config": TARGET, "esp_size_mib": 64}),
            ("create-2", "create_configuration", {"target_raid_config": TARGET, "esp_size_mib": 64}),
        ], stub, timeout=300)
        print(f"cleaning boot: {seconds:.1f} s", file=sys.stderr)
        assert all(r["status"] == "SUCCEEDED" for r in clean.values()) and len(clean) == 6, (clean, serial[-4000:])
        (work / "clean.serial.txt").write_text(serial)
        stub.state.revoke()  # a new ramdisk boot: the service issues a new agent token at lookup
        deploy, serial, seconds = _run(_spec(ramdisk, work, "deploy", disks, api_port, files_port), [
            ("create-3", "create_configuration", {"target_raid_config": TARGET, "esp_size_mib": 64}),
            ("write", "write_image", {"url": f"http://{FILES_ADDR}:{FILES_PORT}/image.raw",
                                      "checksum": f"sha256:{checksum}"}),
            ("cd", "write_configdrive", {"configdrive": base64.b64encode(gzip.compress(iso)).decode()}),
            ("grub", "install_bootloader", {}),
        ], stub, timeout=400)
        print(f"deploy boot: {seconds:.1f} s", file=sys.stderr)
        (work / "deploy.serial.txt").write_text(serial)
        assert all(r["status"] == "SUCCEEDED" for r in deploy.values()) and len(deploy) == 4, (deploy, serial[-4000:])
        assert "md/raid1:md" in serial  # udev assembled the arrays at boot (before create-3 replaced them)
    finally:
        stub.close()
        files.close()
    yield Deployed(disks, clean, deploy, image, work)


def _superblock(path: Path, offset: int) -> tuple[str, int]:
    """(array name, data offset in bytes) of the md 1.2 superblock of the member partition at ``offset``."""
    with open(path, "rb") as fh:
        fh.seek(offset + 4096)
        sb = fh.read(256)
    assert struct.unpack_from("<I", sb, 0)[0] == MD_MAGIC, f"no md superblock at {offset} in {path.name}"
    name = sb[32:64].split(b"\0", 1)[0].decode()
    return name, struct.unpack_from("<Q", sb, 128)[0] * 512


def test_raid_config_reported_in_ironics_shape(deployed: Deployed) -> None:
    old = deployed.clean["old"]["result"]["raid_config"]["logical_disks"]
    assert [d["volume_name"] for d in old] == ["old", "oldscratch"]
    deleted = deployed.clean["del-1"]["result"]["deleted"]
    assert sorted(d["volume_name"] for d in deleted) == ["old", "oldscratch"]
    assert deployed.clean["del-1"]["result"]["disks_cleared"] == ["/dev/vda", "/dev/vdb"]
    assert deployed.clean["del-2"]["result"] == {"deleted": [], "zeroed": [], "disks_cleared": []}  # idempotent
    for cid in ("create-1", "create-2"):
        created = deployed.clean[cid]["result"]["raid_config"]["logical_disks"]
        root, scratch = created
        assert root["raid_level"] == "1" and root["controller"] == "software" and root["is_root_volume"] is True
        assert root["size_gb"] == 0.25 and root["size_bytes"] >= 0.25 * 2**30
        assert root["root_device_hint"] == {"name": "/dev/md/root"}
        assert root["members"] == ["/dev/vda3", "/dev/vdb3"]
        assert scratch["raid_level"] == "0" and scratch["size_gb"] == "MAX" and "root_device_hint" not in scratch
        assert scratch["members"] == ["/dev/vda4", "/dev/vdb4"] and scratch["size_bytes"] > 100 * MiB
        assert root["physical_disks"] == scratch["physical_disks"] == ["/dev/vda", "/dev/vdb"]
    assert deployed.deploy["create-3"]["status"] == "SUCCEEDED"  # over the arrays udev assembled


def test_image_and_config_drive_went_onto_the_raid1_root(deployed: Deployed) -> None:
    write = deployed.deploy["write"]["result"]
    assert write["device"].startswith("/dev/md") and write["bytes_written"] == deployed.image.stat().st_size
    assert write["gpt_fixed"] is True
    assert deployed.deploy["cd"]["result"]["device"] == write["device"]
    grub = deployed.deploy["grub"]["result"]
    assert grub["disks"] == ["/dev/vda", "/dev/vdb"] and grub["bios"] == ["/dev/vda", "/dev/vdb"]
    assert [u["disk"] for u in grub["uefi"]] == ["/dev/vda", "/dev/vdb"]
    assert all(u["files_copied_from_image_esp"] == 1 for u in grub["uefi"])
    assert grub["grub_cfg"] is True and grub["root_partition"].startswith(write["device"] + "p")


def test_both_members_carry_the_array_the_boot_code_and_the_config_drive(deployed: Deployed) -> None:
    with open(deployed.image, "rb") as fh:
        image_esp = md.gpt_entries(str(deployed.image))[1]
        fh.seek(image_esp.first * 512)
        esp_bytes = fh.read((image_esp.last - image_esp.first + 1) * 512)
    for disk in deployed.disks:
        path = disk.path
        entries = {e.number: e for e in md.gpt_entries(str(path))}
        assert [entries[n].name for n in (1, 2, 3, 4)] == ["bios-boot", "esp", "ironworks-root", "ironworks-raid"]
        name, data_offset = _superblock(path, entries[3].first * 512)
        assert name.endswith("root") and data_offset == 8 * MiB
        assert _superblock(path, entries[4].first * 512)[0].endswith("scratch")
        with open(path, "rb") as fh:
            mbr = fh.read(512)
            fh.seek(entries[1].first * 512)
            core = fh.read(512)
            assert b"GRUB" in mbr and mbr[510:] == b"\x55\xaa", f"no grub boot code on {path.name}"
            assert core != bytes(512), f"no grub core.img in the BIOS boot partition of {path.name}"
            inner_base = entries[3].first * 512 + data_offset  # the array's content, mirrored on each member
            inner = md.gpt_entries(str(path), inner_base)
            assert [e.number for e in inner][:3] == [1, 2, 3] and inner[-1].name == "config-2", inner
            fh.seek(inner_base + inner[1].first * 512)
            assert fh.read(len(esp_bytes)) == esp_bytes  # the image's ESP, untouched
            fh.seek(inner_base + inner[-1].first * 512 + 0x8000)
            pvd = fh.read(2048)
            assert pvd[1:6] == b"CD001" and pvd[40:72].decode().strip() == "config-2", f"{path.name}: {pvd[:80]!r}"
        esp = f"{path}@@{entries[2].first * 512}"
        assert "BOOTX64  EFI" in sh("mdir", "-i", esp, "::/EFI/BOOT")
        assert sh("mtype", "-i", esp, "::/EFI/image/marker.txt") == "from the image's ESP\n"


@pytest.mark.parametrize(("index", "firmware"), [(0, "bios"), (1, "bios"), (0, "uefi"), (1, "uefi")])
def test_each_disk_alone_boots_grub_from_the_degraded_raid1(deployed: Deployed, index: int, firmware: str) -> None:
    disk = deployed.disks[index]
    spec = VmSpec(name=f"alone-{index}-{firmware}", workdir=deployed.workdir, firmware=firmware, memory_mb=256,
                  cpus=1, disks=(Disk(disk.path, "raw", bootindex=1),), rng=False, extra_args=("-snapshot",))
    with QemuVm(spec) as vm:
        text = vm.wait_for_serial(GRUB_MARKER, timeout=120)
    line = next(x for x in text.splitlines() if GRUB_MARKER in x and "echo" not in x)
    assert "root=mduuid/" in line, line  # grub found /boot/grub inside the md array
