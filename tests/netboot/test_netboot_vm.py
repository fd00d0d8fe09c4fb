"""Real netboots: QEMU (TCG) VMs on a tap in the lab bridge, DHCP from our dnsmasq, iPXE, the real deploy ramdisk.

Each test builds (or takes from the cache) the deploy ramdisk, runs dnsmasq and the file server inside a fresh
namespace, and boots a VM whose virtio NIC (``bootindex=1``) uses QEMU's default iPXE ROM, or, for the
chainload test, OVMF's own PXE client. The agent's ``ironworks.api_url`` points at the file server, so its first
request (``GET /v1/lookup``, answered 404) lands in the server's access log. Times from VM start to the
ramdisk's ``/init`` marker are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import os
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from ironworks.lab.qemu import Nic, QemuVm, TapNet, VmSpec
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
from ironworks.netboot import ipxe
from ironworks.netboot.dnsmasq import HostEntry, mac_hexhyp
from tests.netboot.conftest import Stack

pytestmark = [pytest.mark.vm]

INIT_MARKER = "ironworks-init: started"
AGENT_MARKER = "ironworks-init: starting ironworks-agent"
#: iPXE's answer when DHCPv4 got nothing (the RA still configures IPv6, so "Configuring ... ok" is printed)
NO_BOOT = "Nothing to boot"


@pytest.fixture(scope="module")
def ramdisk():  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.skip("building the ramdisk needs root (debootstrap, chroot)")
    return build_ramdisk(shared_cache_dir(), say=lambda line: print(line, file=sys.stderr))


def _publish_deploy(stack: Stack, ramdisk, mac: str) -> None:  # type: ignore[no-untyped-def]
    kernel = stack.files.publish(ramdisk.kernel, "vmlinuz")
    initrd = stack.files.publish(ramdisk.initrd, "initrd.img")
    script = ipxe.render_deploy(
        ipxe.DeployRamdisk(
            kernel_url=kernel,
            initrd_url=initrd,
            api_url=stack.http.url,
            node="vm-test",
            extra_params=("ironworks.lookup_timeout=5", "ironworks.on_exit=poweroff"),
        )
    )
    stack.files.write_script(mac, script)
    stack.dnsmasq.add_host(HostEntry(mac))


def _vm(stack: Stack, tmp_path: Path, name: str, mac: str, *, firmware: str = "bios",
        nic_model: str = "virtio-net-pci") -> QemuVm:
    tap = stack.net.add_tap(f"tap-{name}"[:15])
    spec = VmSpec(
        name=name,
        workdir=tmp_path / "vm",
        firmware=firmware,  # type: ignore[arg-type]
        memory_mb=1024,
        nics=(Nic(mac, TapNet(tap), model=nic_model, bootindex=1),),
    )
    return QemuVm(spec, qemu=str(stack.net.wrapper(tmp_path / "qemu-in-netns")))


def _boot_to_agent(stack: Stack, vm: QemuVm, mac: str, label: str) -> None:
    with vm:
        vm.wait_for_serial(INIT_MARKER, timeout=180)
        marker_at = time.monotonic() - vm.started_at
        serial = vm.wait_for_serial(AGENT_MARKER, timeout=120)
        deadline = time.monotonic() + 120
        while not any(r["path"].startswith("/v1/lookup") for r in stack.requests()):
            assert time.monotonic() < deadline, f"no agent lookup; serial tail:\n{vm.serial()[-3000:]}"
            time.sleep(0.5)
        lookup_at = time.monotonic() - vm.started_at
    print(f"\n{label}: VM start → ramdisk /init marker {marker_at:.1f} s, → agent lookup {lookup_at:.1f} s",
          file=sys.stderr)
    paths = [r["path"] for r in stack.requests()]
    script = f"/nodes/{mac_hexhyp(mac)}.ipxe"
    assert paths.index("/boot.ipxe") < paths.index(script) < paths.index("/shared/vmlinuz")
    assert "/shared/initrd.img" in paths
    lookup = next(r for r in stack.requests() if str(r["path"]).startswith("/v1/lookup"))
    assert mac in urllib.parse.unquote(str(lookup["path"])) and lookup["status"] == 404
    assert str(lookup["user_agent"]).startswith("ironworks-agent/")
    assert f"BOOTIF={mac}" in serial  # iPXE filled in ${netX/mac}
    assert "ironworks-init: network up on" in serial
    assert "IRONWORKS-BOOT-ERROR" not in serial


@pytest.mark.timeout(420)
def test_bios_netboot_of_the_deploy_ramdisk(stack: Stack, ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mac = "52:54:00:1b:00:01"
    _publish_deploy(stack, ramdisk, mac)
    _boot_to_agent(stack, _vm(stack, tmp_path, "bios", mac), mac, "BIOS netboot")


@pytest.mark.timeout(420)
def test_uefi_netboot_of_the_deploy_ramdisk(stack: Stack, ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """OVMF runs the iPXE EFI driver from the NIC's option ROM; the kernel's EFI stub needs ``initrd=``."""
    mac = "52:54:00:1b:00:02"
    _publish_deploy(stack, ramdisk, mac)
    vm = _vm(stack, tmp_path, "uefi", mac, firmware="uefi")
    _boot_to_agent(stack, vm, mac, "UEFI netboot")
    assert "EFI stub: Loaded initrd from command line option" in vm.serial()


@pytest.mark.timeout(300)
def test_uefi_pxe_chainloads_ipxe_over_tftp(stack: Stack, ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without an iPXE ROM (``romfile=``) OVMF's own PXE client asks as client arch 7, gets snponly.efi over
    TFTP, and that iPXE (user class iPXE) gets boot.ipxe: the chainload path non-iPXE machines take."""
    mac = "52:54:00:1b:00:03"
    _publish_deploy(stack, ramdisk, mac)
    vm = _vm(stack, tmp_path, "pxe", mac, firmware="uefi", nic_model="virtio-net-pci,romfile=")
    with vm:
        vm.wait_for_serial(INIT_MARKER, timeout=180)
        marker_at = time.monotonic() - vm.started_at
    print(f"\nUEFI PXE → snponly.efi chainload: VM start → /init marker {marker_at:.1f} s", file=sys.stderr)
    log = stack.dnsmasq.config.log_file.read_text()
    assert f"sent {stack.files.tftp_root}/snponly.efi" in log
    assert any(r["path"] == "/boot.ipxe" for r in stack.requests())


@pytest.mark.timeout(300)
def test_unknown_mac_gets_no_lease_then_is_served_once_added_without_restart(
    stack: Stack, ramdisk, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """(c) an unknown MAC: dnsmasq ignores it and iPXE fails to configure the NIC; (d) its host entry is added
    while dnsmasq runs and, after a reset, the same VM netboots (same dnsmasq pid: no restart); (e) after the
    entry is removed it is ignored again."""
    mac = "52:54:00:1b:00:04"
    pid = stack.dnsmasq.pid
    vm = _vm(stack, tmp_path, "unknown", mac)
    with vm:
        serial = vm.wait_for_serial(NO_BOOT, timeout=120)
        assert "Filename:" not in serial and f"net0: {stack.server_ip}" not in serial
        assert "net0: 10." not in serial  # only the IPv6 autoconfiguration (RA) succeeded
        assert f"DHCPDISCOVER({stack.net.main.bridge}) {mac} ignored" in stack.dnsmasq.config.log_file.read_text()
        assert not any(r["path"].startswith("/nodes/") for r in stack.requests())

        _publish_deploy(stack, ramdisk, mac)
        mark = len(vm.serial())
        vm.qmp("system_reset")
        vm.wait_for_serial("ironworks: loading the deploy kernel", timeout=120, start=mark)
        assert stack.dnsmasq.pid == pid

        stack.dnsmasq.remove_host(mac)
        mark = len(vm.serial())
        vm.qmp("system_reset")
        vm.wait_for_serial(NO_BOOT, timeout=120, start=mark)
        assert "ironworks: loading" not in vm.serial()[mark:] and "net0: 10." not in vm.serial()[mark:]
    assert stack.dnsmasq.pid == pid
