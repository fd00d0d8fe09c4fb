"""The ``redfish`` power and management interfaces against a real ``sushy-emulator --fake`` on 127.0.0.1.

The fake driver applies a power change 1–11 s after the request (by design), so the power actions run in
parallel, one system each (systems 1–3 start powered on), and each is verified by polling: the test takes as
long as the slowest, not the sum.
Results are cross-checked by reading the emulator's JSON directly (not through sushy).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from ironworks import errors, states
from ironworks.drivers.bmc.policy import BMCPolicy
from ironworks.drivers.redfish.interfaces import RedfishConnections, RedfishManagement, RedfishPower
from ironworks.lab.bmc.redfish import RedfishEmulator
from tests.drivers.conftest import Task

POLICY = BMCPolicy(attempts=2, backoff=0.2, poll_interval=0.5, power_timeout=25.0, request_timeout=10.0)


def task_for(emulator: RedfishEmulator, index: int, **extra: object) -> Task:
    return Task({"redfish_address": emulator.url, "redfish_system_id": emulator.system_path(index),
                 "redfish_username": "admin", "redfish_password": "rf-s3cret", **extra})


def test_power_actions_are_verified(redfish_bmc: RedfishEmulator) -> None:
    power = RedfishPower(RedfishConnections(POLICY))
    tasks = {name: task_for(redfish_bmc, index) for index, name in enumerate(("on", "off", "reboot", "soft"))}

    scenarios: dict[str, Callable[[Task], tuple[str, str]]] = {
        "on": lambda task: (power.get_power_state(task), power.set_power_state(task, states.POWER_ON)),
        "off": lambda task: (power.get_power_state(task), power.set_power_state(task, states.POWER_OFF)),
        "reboot": lambda task: (power.get_power_state(task), power.reboot(task)),
        "soft": lambda task: (power.get_power_state(task), power.set_power_state(task, states.SOFT_POWER_OFF)),
    }
    with ThreadPoolExecutor(len(scenarios)) as pool:
        futures = {name: pool.submit(scenarios[name], tasks[name]) for name in scenarios}
        results = {name: future.result(timeout=120) for name, future in futures.items()}

    assert results["on"] == (states.POWER_OFF, states.POWER_ON)
    assert results["off"] == (states.POWER_ON, states.POWER_OFF)
    assert results["reboot"] == (states.POWER_ON, states.POWER_ON)
    assert results["soft"] == (states.POWER_ON, states.POWER_OFF)
    expected = {"on": "On", "off": "Off", "reboot": "On", "soft": "Off"}
    for index, name in enumerate(scenarios):
        assert redfish_bmc.get(redfish_bmc.system_path(index))["PowerState"] == expected[name]


def test_boot_device_and_mode(redfish_bmc: RedfishEmulator) -> None:
    management = RedfishManagement(RedfishConnections(POLICY))
    task = task_for(redfish_bmc, 4)
    assert {"pxe", "disk", "cdrom"} <= set(management.supported_boot_devices(task))

    management.set_boot_device(task, "pxe", persistent=True)
    assert management.get_boot_device(task) == {"boot_device": "pxe", "persistent": True}
    boot = redfish_bmc.get(redfish_bmc.system_path(4))["Boot"]
    assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideMode"]) == ("Pxe", "UEFI")

    task.node["properties"]["capabilities"] = "boot_mode:bios"
    management.set_boot_device(task, "disk", persistent=False)
    boot = redfish_bmc.get(redfish_bmc.system_path(4))["Boot"]
    # the emulator stores a one-time override but reports it as Continuous (known sushy-tools behaviour)
    assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideMode"]) == ("Hdd", "Legacy")
    assert management.get_boot_mode(task) == "bios"
    management.set_boot_mode(task, "uefi")
    assert management.get_boot_mode(task) == "uefi"
    assert redfish_bmc.get(redfish_bmc.system_path(4))["Boot"]["BootSourceOverrideMode"] == "UEFI"
    with pytest.raises(errors.InvalidParameterValue):
        management.set_boot_device(task, "floppy")


def test_wrong_password_unknown_system_and_no_service(redfish_bmc: RedfishEmulator,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    power = RedfishPower(RedfishConnections(POLICY))
    with pytest.raises(errors.BMCAuthError) as caught:
        power.get_power_state(task_for(redfish_bmc, 0, redfish_password="not-it-either"))
    assert redfish_bmc.url in str(caught.value) and "not-it-either" not in str(caught.value)
    assert "not-it-either" not in caplog.text and "rf-s3cret" not in caplog.text

    with pytest.raises(errors.BMCCommandError) as missing:
        power.get_power_state(task_for(redfish_bmc, 0, redfish_system_id="/redfish/v1/Systems/missing"))
    assert "404" in str(missing.value)

    closed = RedfishEmulator(count=1)  # a port nobody listens on
    with pytest.raises(errors.BMCConnectionError) as refused:
        power.get_power_state(Task({"redfish_address": closed.url, "redfish_system_id": "/redfish/v1/Systems/1"}))
    assert closed.url in str(refused.value)


def test_single_system_is_found_without_a_system_id() -> None:
    with RedfishEmulator(count=1) as emulator:
        power = RedfishPower(RedfishConnections(POLICY))
        assert power.get_power_state(Task({"redfish_address": emulator.url})) == states.POWER_OFF


def test_silent_and_garbage_redfish_services() -> None:
    """Faults injected with two tiny loopback servers: one accepts TCP and never answers, one answers junk."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Junk(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"\x00{not json")

        def log_message(self, *args: object) -> None:
            return None

    junk = ThreadingHTTPServer(("127.0.0.1", 0), Junk)
    threading.Thread(target=junk.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes handshakes; nobody ever reads or answers
    policy = BMCPolicy(attempts=1, request_timeout=1.0, poll_interval=0.1)
    power = RedfishPower(RedfishConnections(policy))
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(errors.BMCConnectionError) as caught:
            power.get_power_state(Task({"redfish_address": url, "redfish_system_id": "/redfish/v1/Systems/1"}))
        assert url in str(caught.value)
        url = f"http://127.0.0.1:{junk.server_address[1]}"
        with pytest.raises(errors.BMCProtocolError) as garbled:
            power.get_power_state(Task({"redfish_address": url, "redfish_system_id": "/redfish/v1/Systems/1"}))
        assert url in str(garbled.value)
    finally:
        silent.close()
        junk.shutdown()
        junk.server_close()


def test_inject_nmi_is_a_reset_of_type_nmi(redfish_bmc: RedfishEmulator) -> None:
    """sushy-emulator's fake driver has no NMI (its libvirt driver injects one): the request reaches the BMC as a
    ``ComputerSystem.Reset`` with ``ResetType: Nmi``, and the BMC's refusal is reported, naming the action."""
    management, task = RedfishManagement(RedfishConnections(POLICY)), task_for(redfish_bmc, 7)
    with pytest.raises(errors.BMCError, match="Nmi"):
        management.inject_nmi(task)
