"""The IPMI emulator is a real IPMI 2.0 server: Debian's ``ipmitool -I lanplus`` drives it.

None of this goes through Ironworks' own client, so the emulator cannot merely mirror it.
"""

from __future__ import annotations

import re

from ironworks.lab.bmc.process import BMCLab
from tests.lab.conftest import Ipmitool


def ok(result: object) -> str:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    return str(result.stdout)  # type: ignore[attr-defined]


def test_power_status_on_off_cycle(bmcs: BMCLab, ipmitool: Ipmitool) -> None:
    bmc = bmcs.ipmi[0]
    assert "Chassis Power is off" in ok(ipmitool(bmc, "chassis", "power", "status"))
    assert "Up/On" in ok(ipmitool(bmc, "chassis", "power", "on"))
    assert "Chassis Power is on" in ok(ipmitool(bmc, "chassis", "power", "status"))
    assert "Cycle" in ok(ipmitool(bmc, "chassis", "power", "cycle"))
    assert "Chassis Power is on" in ok(ipmitool(bmc, "chassis", "power", "status"))
    assert "System Power         : on" in ok(ipmitool(bmc, "chassis", "status"))
    assert "Down/Off" in ok(ipmitool(bmc, "chassis", "power", "off"))
    assert "Chassis Power is off" in ok(ipmitool(bmc, "chassis", "power", "status"))


def test_bootdev_pxe_and_disk_with_options(bmcs: BMCLab, ipmitool: Ipmitool) -> None:
    bmc = bmcs.ipmi[1]
    assert "Set Boot Device to pxe" in ok(ipmitool(bmc, "chassis", "bootdev", "pxe"))
    flags = ok(ipmitool(bmc, "chassis", "bootparam", "get", "5"))
    assert "Force PXE" in flags and "only next boot" in flags and "legacy" in flags
    ok(ipmitool(bmc, "chassis", "bootdev", "disk", "options=persistent,efiboot"))
    flags = ok(ipmitool(bmc, "chassis", "bootparam", "get", "5"))
    assert "Hard-Drive" in flags and "all future boots" in flags and "BIOS EFI boot" in flags


def test_one_time_boot_device_is_consumed_by_the_next_boot(bmcs: BMCLab, ipmitool: Ipmitool) -> None:
    bmc = bmcs.ipmi[1]
    ok(ipmitool(bmc, "chassis", "power", "off"))
    ok(ipmitool(bmc, "chassis", "bootdev", "pxe"))
    ok(ipmitool(bmc, "chassis", "power", "on"))
    flags = ok(ipmitool(bmc, "chassis", "bootparam", "get", "5"))
    assert "Force PXE" not in flags and "No override" in flags
    ok(ipmitool(bmc, "chassis", "bootdev", "pxe", "options=persistent"))
    ok(ipmitool(bmc, "chassis", "power", "cycle"))
    assert "Force PXE" in ok(ipmitool(bmc, "chassis", "bootparam", "get", "5"))


def test_sensors_and_device_id(bmcs: BMCLab, ipmitool: Ipmitool) -> None:
    bmc = bmcs.ipmi[0]
    sdr = ok(ipmitool(bmc, "sdr", "list"))
    assert re.search(r"CPU Temp\s+\|\s+\d+ degrees C\s+\|\s+ok", sdr), sdr
    assert re.search(r"Fan 1\s+\|\s+\d+ RPM", sdr), sdr
    # ipmitool prints an integral reading without decimals ("12 Volts"); the emulator jitters 11.8-12.2 V.
    volts = re.search(r"12V\s+\|\s+(\d+(?:\.\d+)?) Volts", sdr)
    assert volts and 11.7 < float(volts.group(1)) < 12.3, sdr
    info = ok(ipmitool(bmc, "mc", "info"))
    assert "IPMI Version              : 2.0" in info


def test_wrong_password_and_unknown_user_are_refused(bmcs: BMCLab, ipmitool: Ipmitool) -> None:
    bmc = bmcs.ipmi[0]
    wrong = ipmitool(bmc, "chassis", "power", "status", password="not-the-password")
    assert wrong.returncode != 0 and "Chassis Power" not in wrong.stdout
    unknown = ipmitool(bmc, "chassis", "power", "status", user="mallory")
    assert unknown.returncode != 0 and "Chassis Power" not in unknown.stdout


def test_injected_faults(bmcs: BMCLab, ipmitool: Ipmitool) -> None:
    ignoring, silent = bmcs.ipmi[2], bmcs.ipmi[3]
    ok(ipmitool(ignoring, "chassis", "power", "on"))  # acknowledged ...
    assert "Chassis Power is off" in ok(ipmitool(ignoring, "chassis", "power", "status"))  # ... not done
    assert ipmitool(silent, "chassis", "power", "status").returncode != 0
