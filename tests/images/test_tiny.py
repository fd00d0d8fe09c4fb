"""The ``tiny`` image (``-m vm``): built from Debian's packages, cached by its inputs, a GPT whole disk whose
qcow2 holds the same bytes as its raw file, and booting from disk under SeaBIOS and OVMF with a config drive
from ``ironworks.configdrive.builder``: the console shows the config drive's hostname and key, the root it
found and the firmware it booted with."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ironworks import images
from ironworks.images import disk
from ironworks.lab.qemu import Disk, QemuVm
from tests.images.conftest import boot_spec, config_drive_file, ed25519_public_key, require_build_tools

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def tiny() -> images.BuiltImage:
    require_build_tools()
    return images.build("tiny")


def test_a_second_build_comes_from_the_cache(tiny: images.BuiltImage) -> None:
    again = images.build("tiny")
    assert again.cached is True
    assert (again.key, again.raw, again.qcow2) == (tiny.key, tiny.raw, tiny.qcow2)
    assert (again.sha256_raw, again.sha256_qcow2) == (tiny.sha256_raw, tiny.sha256_qcow2)
    assert disk.sha256(again.raw) == again.sha256_raw  # the recorded checksums are those of the files
    assert disk.sha256(again.qcow2) == again.sha256_qcow2


def test_qcow2_converts_back_to_the_raw_bytes(tiny: images.BuiltImage, tmp_path: Path) -> None:
    info = subprocess.run(["qemu-img", "info", str(tiny.qcow2)], capture_output=True, text=True, check=True).stdout
    assert "file format: qcow2" in info and "compression type: zstd" in info
    compare = subprocess.run(
        ["qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(tiny.raw), str(tiny.qcow2)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compare.returncode == 0, compare.stdout + compare.stderr
    back = tmp_path / "back.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(tiny.qcow2), str(back)], check=True)
    assert disk.sha256(back) == tiny.sha256_raw


def test_whole_disk_gpt_with_bios_boot_esp_and_root(tiny: images.BuiltImage) -> None:
    table = subprocess.run(["sgdisk", "-p", str(tiny.raw)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in table.splitlines() if line.strip()[:1].isdigit()]
    assert [(r[0], r[5]) for r in rows] == [("1", "EF02"), ("2", "EF00"), ("3", "8300")], table
    with open(tiny.raw, "rb") as fh:
        mbr = fh.read(512)
    assert b"GRUB" in mbr and mbr[510:] == b"\x55\xaa"  # grub's boot code, protective MBR kept
    esp = tiny.manifest["partitions"]["esp"]["first_sector"] * 512
    listing = subprocess.run(
        ["mdir", "-i", f"{tiny.raw}@@{esp}", "::/EFI/BOOT"], capture_output=True, text=True, check=True
    ).stdout
    assert "BOOTX64  EFI" in listing
    assert tiny.cmdline.startswith(f"root=UUID={tiny.root_uuid} ")


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_boots_from_disk_and_applies_the_config_drive(tiny: images.BuiltImage, tmp_path: Path, firmware: str) -> None:
    hostname = f"tiny-{firmware}-node"
    key = ed25519_public_key(hostname)
    drive = config_drive_file(
        tmp_path / "config-2.iso", {"uuid": "u-1", "hostname": hostname, "public_keys": {"default": key}}
    )
    spec = boot_spec(f"tiny-{firmware}", tmp_path, (Disk(tiny.qcow2, "qcow2"), Disk(drive, "raw")), firmware=firmware)
    with QemuVm(spec) as vm:
        text = vm.wait_for_serial(images.marker_line(hostname), timeout=240)
    report = images.parse_console(text)
    assert report.hostname == hostname
    assert report.firmware == firmware
    assert report.root_device == "/dev/vda3" and report.raid == "none"
    assert report.root is not None and "fs=ext4 kernel=/boot/vmlinuz" in report.root
    assert report.config_drive == "/dev/vdb public-keys=1"
    assert report.cmdline is not None and f"root=UUID={tiny.root_uuid}" in report.cmdline


def test_without_a_config_drive_it_keeps_its_own_hostname(tiny: images.BuiltImage, tmp_path: Path) -> None:
    spec = boot_spec("tiny-no-cd", tmp_path, (Disk(tiny.raw, "raw"),))
    with QemuVm(spec) as vm:
        text = vm.wait_for_serial(images.marker_line("tiny"), timeout=240)
    assert images.parse_console(text).config_drive == "none"


def test_the_cli_prints_paths_and_checksums(tiny: images.BuiltImage, capsys: pytest.CaptureFixture[str]) -> None:
    from ironworks.cli import main

    assert main(["image", "build", "tiny"]) == 0
    out = capsys.readouterr().out
    assert f"raw:   {tiny.raw}" in out and f"qcow2: {tiny.qcow2}" in out
    assert f"sha256 {tiny.sha256_raw}" in out and f"sha256 {tiny.sha256_qcow2}" in out
    assert "cached" in out


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(images.ImageBuildError, match="unknown image kind 'windows'"):
        images.build("windows")
