"""A BMC emulator fronting a real QEMU process through QMP, driven by Debian's ipmitool.

Power on starts QEMU (SeaBIOS prints on the serial log), the boot device becomes the NIC's ``bootindex``,
power off quits QEMU. A second QMP socket in the QEMU command line lets the test look inside independently.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.lab.bmc.process import BMCLab
from ironworks.lab.bmc.qmp import QMPClient
from tests.lab.conftest import Ipmitool

pytestmark = [
    pytest.mark.vm,
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="QEMU is not installed"),
]


@pytest.fixture
def qemu_bmc(tmp_path: Path) -> Iterator[tuple[BMCLab, Path]]:
    probe = tmp_path / "probe.sock"
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * (1 << 20))
    qemu = (
        f"qemu-system-x86_64 -accel tcg -cpu qemu64 -m 64 -nodefaults -no-user-config -nographic "
        f"-serial stdio -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,id=net0,bootindex=5 "
        f"-drive file={disk},format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0,id=disk0,bootindex=6 "
        f"-qmp unix:{probe},server=on,wait=off"
    )
    with BMCLab(count=1, qemu=qemu, workdir=str(tmp_path), username="admin", password="qemu-pw") as lab:
        yield lab, tmp_path


def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def bootindex(probe: QMPClient, device: str) -> int:
    return int(probe.execute("qom-get", {"path": f"/machine/peripheral/{device}", "property": "bootindex"}))


def test_qemu_power_and_boot_device(qemu_bmc: tuple[BMCLab, Path], ipmitool: Ipmitool) -> None:
    lab, workdir = qemu_bmc
    bmc = lab.ipmi[0]
    log = workdir / "bmc-0" / "qemu.log"
    assert "is off" in ipmitool(bmc, "chassis", "power", "status").stdout
    assert ipmitool(bmc, "chassis", "bootdev", "pxe").returncode == 0
    assert ipmitool(bmc, "chassis", "power", "on").returncode == 0
    assert "is on" in ipmitool(bmc, "chassis", "power", "status").stdout
    wait_for(lambda: log.exists() and "SeaBIOS" in log.read_text(errors="replace"))

    probe = QMPClient.connect(workdir / "probe.sock")
    try:
        assert probe.execute("query-status")["status"] == "running"
        assert (bootindex(probe, "net0"), bootindex(probe, "disk0")) == (1, 2)
        assert ipmitool(bmc, "chassis", "bootdev", "disk").returncode == 0
        assert bootindex(probe, "net0") == 1  # effective at the next reset, not before
        assert ipmitool(bmc, "chassis", "power", "reset").returncode == 0
        assert "is on" in ipmitool(bmc, "chassis", "power", "status").stdout
        assert (bootindex(probe, "disk0"), bootindex(probe, "net0")) == (1, 2)
    finally:
        probe.close()

    assert ipmitool(bmc, "chassis", "power", "off").returncode == 0
    assert "is off" in ipmitool(bmc, "chassis", "power", "status").stdout
    assert not (workdir / "probe.sock").exists() or _qmp_gone(workdir / "probe.sock")


def _qmp_gone(path: Path) -> bool:
    try:
        QMPClient.connect(path, timeout=1).close()
    except OSError:
        return True
    return False
