"""The local-disk and iSCSI iPXE scripts, run by real iPXE in netbooted QEMU VMs.

* BIOS: ``sanboot --no-describe --drive 0x80`` hands over to the disk's boot sector (a 512-byte MBR that
  prints a marker through the BIOS, which SeaBIOS mirrors to the serial port).
* UEFI (OVMF): ``exit 1`` returns to the firmware, which goes on down its boot order (quick ``vm`` test) and
  finally boots the disk, an ESP with a GRUB EFI image that prints a marker (slow, marked ``lab``).
* The iSCSI script parses (``set username:hex`` …), tries its target (none listens in the namespace) and
  ends with its clear failure message. The real iSCSI boot is tested with the storage work.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ironworks.lab.qemu import Disk, Nic, QemuVm, TapNet, VmSpec
from ironworks.netboot import ipxe
from ironworks.netboot.dnsmasq import HostEntry
from tests.netboot.conftest import Stack

DISK_MARKER = "IRONWORKS-DISK-BOOT"

# xor ax,ax; mov ds,ax; mov si,0x7c14; lodsb; or al,al; jz +6; mov ah,0x0e; int 0x10; jmp -11; jmp $
_BOOT_CODE = bytes.fromhex("31c08ed8be147cac08c07406b40ecd10ebf5ebfe")


def bios_disk(path: Path) -> Path:
    sector = bytearray(512)
    message = f"{DISK_MARKER} bios\r\n".encode() + b"\0"
    sector[: len(_BOOT_CODE)] = _BOOT_CODE
    sector[0x14 : 0x14 + len(message)] = message
    sector[510:512] = b"\x55\xaa"
    with open(path, "wb") as handle:
        handle.write(sector)
        handle.truncate(4 << 20)
    return path


def uefi_disk(path: Path, workdir: Path) -> Path:
    """GPT + ESP holding a GRUB EFI image whose embedded configuration prints the marker."""
    for tool in ("sgdisk", "mkfs.fat", "mcopy", "mmd", "grub-mkimage"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/apt-packages.txt)")
    config = workdir / "embedded.cfg"
    config.write_text(f"echo {DISK_MARKER} uefi\nsleep 600\n")
    efi = workdir / "BOOTX64.EFI"
    subprocess.run(["grub-mkimage", "-O", "x86_64-efi", "-o", str(efi), "-p", "/EFI/BOOT", "-c", str(config),
                    "echo", "sleep"], check=True, capture_output=True)
    with open(path, "wb") as handle:
        handle.truncate(48 << 20)
    subprocess.run(["sgdisk", "-n", "1:2048:+40M", "-t", "1:ef00", str(path)], check=True, capture_output=True)
    subprocess.run(["mkfs.fat", "-F", "16", "--offset", "2048", str(path), str(40 * 1024)], check=True,
                   capture_output=True)
    image = f"{path}@@1M"
    subprocess.run(["mmd", "-i", image, "::/EFI", "::/EFI/BOOT"], check=True, capture_output=True)
    subprocess.run(["mcopy", "-i", image, str(efi), "::/EFI/BOOT/BOOTX64.EFI"], check=True, capture_output=True)
    return path


def _vm(stack: Stack, tmp_path: Path, name: str, mac: str, firmware: str, disk: Path,
        extra_args: tuple[str, ...] = ()) -> QemuVm:
    tap = stack.net.add_tap(f"tap-{name}"[:15])
    spec = VmSpec(
        name=name,
        workdir=tmp_path / "vm",
        firmware=firmware,  # type: ignore[arg-type]
        memory_mb=512,
        nics=(Nic(mac, TapNet(tap), bootindex=1),),
        disks=(Disk(disk, "raw", bootindex=2),),
        extra_args=extra_args,
    )
    return QemuVm(spec, qemu=str(stack.net.wrapper(tmp_path / "qemu-in-netns")))


@pytest.mark.vm
@pytest.mark.timeout(300)
def test_bios_local_disk_then_iscsi_script(stack: Stack, tmp_path: Path) -> None:
    mac = "52:54:00:3d:00:01"
    stack.dnsmasq.add_host(HostEntry(mac))
    stack.files.write_script(mac, ipxe.render_local_disk("bios-node"))
    vm = _vm(stack, tmp_path, "localbios", mac, "bios", bios_disk(tmp_path / "bios.raw"))
    with vm:
        serial = vm.wait_for_serial(f"{DISK_MARKER} bios", timeout=120)
        print(f"\nBIOS: VM start → disk marker through iPXE sanboot {time.monotonic() - vm.started_at:.1f} s",
              file=sys.stderr)
        handover = serial[serial.index("ironworks: booting from the local disk"):]
        assert "Booting from Hard Disk" not in handover  # iPXE booted the disk, not the BIOS fallback
        assert "IRONWORKS-BOOT-ERROR" not in serial

        chap = ipxe.Chap("node-user", "s3cr$t pass")
        target = ipxe.IscsiVolume(str(stack.server_ip), "iqn.2024-01.org.ironworks:missing")
        stack.files.write_script(mac, ipxe.render_iscsi(target, chap=chap, node="bios-node"))
        mark = len(vm.serial())
        vm.qmp("system_reset")
        serial = vm.wait_for_serial("IRONWORKS-BOOT-ERROR: iSCSI boot from", timeout=120, start=mark)[mark:]
    assert f"ironworks: attaching {target.uri()}" in serial  # the credential settings parsed


def _uefi_local(stack: Stack, tmp_path: Path) -> QemuVm:
    mac = "52:54:00:3d:00:02"
    stack.dnsmasq.add_host(HostEntry(mac))
    stack.files.write_script(mac, ipxe.render_local_disk("uefi-node"))
    # OVMF tries every network boot entry of the NIC before the disk; its PXEv6 entry is switched off here
    return _vm(stack, tmp_path, "localuefi", mac, "uefi", uefi_disk(tmp_path / "uefi.raw", tmp_path),
               extra_args=("-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"))


@pytest.mark.vm
@pytest.mark.timeout(300)
def test_uefi_local_disk_exit_hands_back_to_the_firmware(stack: Stack, tmp_path: Path) -> None:
    """``exit 1`` fails the boot entry, so OVMF goes on down its boot order (an ``exit 0`` stops in its menu)."""
    with _uefi_local(stack, tmp_path) as vm:
        serial = vm.wait_for_serial(">>Start HTTP Boot over IPv4", timeout=180)
    after = serial[serial.index("ironworks: booting from the local disk"):]
    assert "BdsDxe: failed to start" in after  # our exit status reached the boot manager
    assert "UiApp" not in serial and "IRONWORKS-BOOT-ERROR" not in serial
