"""Inventory against the real host: the loop device the test created, CPUs, memory, boot mode, NICs."""

from __future__ import annotations

import os

from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.hardware import inventory
from ironworks_agent.hardware.disks import list_block_devices
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import MiB


def test_block_devices_include_the_loop_device(loop: str) -> None:
    disks = {d["name"]: d for d in list_block_devices(include_loop=True)}
    assert loop in disks
    dev = disks[loop]
    assert dev["size"] == 256 * MiB
    assert dev["type"] == "loop"
    assert dev["removable"] is False and dev["multipath"] is False
    assert dev["logical_sectors"] == 512
    for key in ("model", "vendor", "serial", "wwn", "hctl", "by_path", "rotational", "tran"):
        assert key in dev
    assert loop not in {d["name"] for d in list_block_devices()}  # loops are hidden by default


def test_inventory_shape_matches_the_host(loop: str) -> None:
    status, result, error = dispatch.run(
        CommandContext(guard=DeviceGuard([loop]), include_loop=True), "get_inventory", {})
    assert status == "SUCCEEDED", error
    assert result is not None
    inv = result["inventory"]
    assert inv["cpu"]["count"] == os.cpu_count()
    assert inv["cpu"]["architecture"] == os.uname().machine
    assert inv["cpu"]["model_name"]
    assert isinstance(inv["cpu"]["flags"], list) and inv["cpu"]["flags"]
    assert inv["memory"]["total"] > 256 * MiB
    assert inv["memory"]["physical_mb"] * MiB >= inv["memory"]["total"] * 0.9
    expected_mode = "uefi" if os.path.isdir("/sys/firmware/efi") else "bios"
    assert inv["boot"]["current_boot_mode"] == expected_mode
    names = {i["name"] for i in inv["interfaces"]}
    physical = {n for n in os.listdir("/sys/class/net") if os.path.exists(f"/sys/class/net/{n}/device")}
    assert names == physical
    for nic in inv["interfaces"]:
        assert nic["mac_address"] and len(nic["mac_address"]) == 17
    assert set(inv["system_vendor"]) >= {"manufacturer", "product_name", "serial_number"}
    loop_disk = next(d for d in inv["disks"] if d["name"] == loop)
    assert loop_disk["skip_reason"] is None
    # the only allowed disk is too small (< 4 GiB) to be a root disk without hints
    assert result["root_disk"] is None


def test_cpu_info_parses_a_cpuinfo_file(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "cpuinfo")
    with open(path, "w") as fh:
        for n in range(4):
            fh.write(f"processor\t: {n}\nmodel name\t: Test CPU 9000\ncpu MHz\t\t: 2400.000\n"
                     f"physical id\t: {n // 2}\nflags\t\t: fpu vme sse2 vmx\n\n")
    info = inventory.cpu_info(path)
    assert info["count"] == 4 and info["socket_count"] == 2
    assert info["model_name"] == "Test CPU 9000" and info["frequency"] == "2400.000"
    assert info["flags"] == ["fpu", "vme", "sse2", "vmx"]
