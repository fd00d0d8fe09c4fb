"""The ``ipmitool`` power and management interfaces against the IPMI emulator (a child process on 127.0.0.1).

Where a test checks what the BMC holds, it asks Debian's ``ipmitool`` as an independent second client.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from ironworks import errors, states
from ironworks.drivers.bmc.policy import BMCPolicy
from ironworks.drivers.ipmi.interfaces import IPMIConnections, IPMIManagement, IPMIPower
from ironworks.lab.bmc.process import BMCEndpoint, BMCLab
from tests.drivers.conftest import (
    GARBAGE,
    HEALTHY,
    HEALTHY2,
    IGNORE_POWER,
    NO_ANSWER,
    WRONG_PASSWORD,
    Task,
)

FAST = BMCPolicy(attempts=1, backoff=0.1, poll_interval=0.05, power_timeout=3.0, slot_timeout=10.0)


@pytest.fixture
def conns() -> IPMIConnections:
    return IPMIConnections(FAST)


def task_for(bmc: BMCEndpoint, **extra: object) -> Task:
    return Task(bmc.ipmi_driver_info(**extra))


def ipmitool(bmc: BMCEndpoint, *args: str) -> str:
    if shutil.which("ipmitool") is None:
        pytest.skip("ipmitool is not installed (scripts/apt-packages.txt)")
    out = subprocess.run(["ipmitool", "-I", "lanplus", "-H", bmc.address, "-p", str(bmc.port), "-U",
                          bmc.username, "-P", bmc.password, *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_power_on_off_verified_and_seen_by_ipmitool(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY]
    power, task = IPMIPower(conns), task_for(bmc)
    assert power.set_power_state(task, states.POWER_OFF) == states.POWER_OFF
    assert "Chassis Power is off" in ipmitool(bmc, "chassis", "power", "status")
    assert power.set_power_state(task, states.POWER_ON) == states.POWER_ON
    assert "Chassis Power is on" in ipmitool(bmc, "chassis", "power", "status")
    assert power.get_power_state(task) == states.POWER_ON
    ipmitool(bmc, "chassis", "power", "off")
    assert power.get_power_state(task) == states.POWER_OFF


def test_reboot_and_soft_power_off(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY]
    power, task = IPMIPower(conns), task_for(bmc)
    assert power.reboot(task) == states.POWER_ON  # from off: a plain power on
    assert power.set_power_state(task, states.REBOOT) == states.POWER_ON
    # the simulated OS completes an ACPI shutdown after 0.3 s; verification polls until it did
    assert power.set_power_state(task, states.SOFT_POWER_OFF) == states.POWER_OFF
    assert "Chassis Power is off" in ipmitool(bmc, "chassis", "power", "status")
    assert power.set_power_state(task, states.SOFT_REBOOT) == states.POWER_ON


def test_boot_device_persistent_and_one_time(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY2]
    power, management = IPMIPower(conns), IPMIManagement(conns)
    task = task_for(bmc, ipmi_force_boot_device="false")
    task.node["properties"]["capabilities"] = "boot_mode:bios"
    power.set_power_state(task, states.POWER_OFF)

    management.set_boot_device(task, "pxe", persistent=True)
    assert management.get_boot_device(task) == {"boot_device": "pxe", "persistent": True}
    flags = ipmitool(bmc, "chassis", "bootparam", "get", "5")
    assert "Force PXE" in flags and "all future boots" in flags and "legacy" in flags
    assert management.get_boot_mode(task) == "bios"

    management.set_boot_device(task, "disk", persistent=False)
    assert management.get_boot_device(task) == {"boot_device": "disk", "persistent": False}
    power.set_power_state(task, states.POWER_ON)  # the boot consumes a one-time override
    assert management.get_boot_device(task) == {"boot_device": None, "persistent": False}

    ipmitool(bmc, "chassis", "bootdev", "cdrom")
    assert management.get_boot_device(task)["boot_device"] == "cdrom"
    with pytest.raises(errors.InvalidParameterValue):
        management.set_boot_device(task, "wanboot")


def test_boot_mode_kept_with_the_device(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY2]
    management, task = IPMIManagement(conns), task_for(bmc)
    management.set_boot_device(task, "pxe", persistent=True)  # default mode: UEFI
    assert management.get_boot_mode(task) == "uefi"
    assert "BIOS EFI boot" in ipmitool(bmc, "chassis", "bootparam", "get", "5")
    management.set_boot_mode(task, "bios")
    assert management.get_boot_mode(task) == "bios"
    assert management.get_boot_device(task) == {"boot_device": "pxe", "persistent": True}
    assert task.node["driver_internal_info"]["boot_mode_requested"] == "bios"
    with pytest.raises(errors.InvalidParameterValue):
        management.set_boot_mode(task, "efi")


def test_forced_boot_device_is_rewritten_before_power_on(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY2]
    power, management = IPMIPower(conns), IPMIManagement(conns)
    task = task_for(bmc, ipmi_force_boot_device=True)
    power.set_power_state(task, states.POWER_OFF)
    management.set_boot_device(task, "pxe", persistent=False)
    ipmitool(bmc, "chassis", "bootdev", "none")  # someone (or the BMC) cleared it
    assert management.get_boot_device(task)["boot_device"] is None
    power.set_power_state(task, states.POWER_ON)
    ipmitool(bmc, "chassis", "power", "off")
    # written again right before power on, then consumed by that boot: "none" now, and the emulator booted pxe
    assert management.get_boot_device(task)["boot_device"] is None


def test_sensor_readout(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    sensors = IPMIManagement(conns).get_sensors_data(task_for(ipmi_lab.ipmi[HEALTHY]))
    assert set(sensors) == {"Temperature", "Fan", "Voltage"}
    temperature = sensors["Temperature"]["CPU Temp"]
    assert 40 <= temperature["value"] <= 50 and temperature["health"] == "ok"
    assert 11.0 < sensors["Voltage"]["12V"]["value"] < 13.0
    assert sensors["Fan"]["Fan 1"]["units"] == "RPM"


def test_no_answer_is_a_timeout_naming_the_bmc(ipmi_lab: BMCLab) -> None:
    bmc = ipmi_lab.ipmi[NO_ANSWER]
    started = time.monotonic()
    with pytest.raises(errors.BMCConnectionError) as caught:
        IPMIPower(IPMIConnections(FAST)).get_power_state(task_for(bmc))
    assert f"127.0.0.1:{bmc.port}" in str(caught.value)
    assert time.monotonic() - started < 20


def test_wrong_password_is_an_auth_error_without_the_password(ipmi_lab: BMCLab, conns: IPMIConnections,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    bmc = ipmi_lab.ipmi[WRONG_PASSWORD]
    with pytest.raises(errors.BMCAuthError) as caught:
        IPMIPower(conns).get_power_state(task_for(bmc))
    message = str(caught.value)
    assert f"127.0.0.1:{bmc.port}" in message and "admin" in message
    assert bmc.password not in message and bmc.password not in caplog.text
    # an unknown user is an authentication failure too (RAKP2 status "unauthorized name")
    with pytest.raises(errors.BMCAuthError):
        IPMIPower(conns).get_power_state(task_for(ipmi_lab.ipmi[HEALTHY], ipmi_username="nobody"))


def test_ignored_power_action_ends_in_verification_timeout(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    bmc = ipmi_lab.ipmi[IGNORE_POWER]
    power, task = IPMIPower(conns), task_for(bmc)
    assert power.get_power_state(task) == states.POWER_OFF
    with pytest.raises(errors.PowerStateTimeout) as caught:
        power.set_power_state(task, states.POWER_ON, timeout=0.5)
    assert f"127.0.0.1:{bmc.port}" in str(caught.value) and "'off'" in str(caught.value)


def test_garbage_answers_are_protocol_errors(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    task = task_for(ipmi_lab.ipmi[GARBAGE])
    with pytest.raises(errors.BMCProtocolError):
        IPMIPower(conns).get_power_state(task)
    with pytest.raises(errors.BMCProtocolError):
        IPMIManagement(conns).get_boot_device(task)


def test_many_nodes_in_parallel_within_the_per_bmc_limit(ipmi_lab: BMCLab) -> None:
    conns = IPMIConnections(BMCPolicy(attempts=2, per_bmc_limit=1, poll_interval=0.05))
    power = IPMIPower(conns)
    results: list[str] = []
    failures: list[BaseException] = []

    def poll(bmc: BMCEndpoint) -> None:
        try:
            results.append(power.get_power_state(task_for(bmc)))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=poll, args=(ipmi_lab.ipmi[i % 2],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures and len(results) == 16
    assert set(results) <= {states.POWER_ON, states.POWER_OFF}


def test_inject_nmi_reaches_a_running_machine_only(ipmi_lab: BMCLab, conns: IPMIConnections) -> None:
    """Chassis control 0x04 (pulse diagnostic interrupt): the emulated BMC interrupts a running machine and
    refuses with 0xD5 (not in the present state) when it is off; a soft power off (0x05) would be accepted."""
    bmc = ipmi_lab.ipmi[HEALTHY2]
    power, management, task = IPMIPower(conns), IPMIManagement(conns), task_for(bmc)
    assert power.set_power_state(task, states.POWER_ON) == states.POWER_ON
    management.inject_nmi(task)
    assert "Diag" in ipmitool(bmc, "chassis", "power", "diag")  # the same command from Debian's ipmitool
    assert power.get_power_state(task) == states.POWER_ON
    assert power.set_power_state(task, states.POWER_OFF) == states.POWER_OFF
    with pytest.raises(errors.BMCCommandError, match="0xd5"):
        management.inject_nmi(task)
