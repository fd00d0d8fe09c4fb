"""The ``redfish`` management interface's boot mode, secure boot (API 1.76) and health (API 1.109) against
sushy-emulator: the driver alone, then through the HTTP API (``PUT …/states/boot_mode`` / ``secure_boot``, the
power sync's health), each result read back from the emulator directly (not through sushy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ironworks import errors, states
from ironworks.drivers.bmc.policy import BMCPolicy
from ironworks.drivers.redfish.interfaces import RedfishConnections, RedfishManagement
from ironworks.lab.bmc.redfish import RedfishEmulator
from tests.api.helpers import make_node
from tests.conductor.helpers import move, settle
from tests.drivers.test_redfish_driver import task_for

POLICY = BMCPolicy(attempts=1, backoff=0.2, poll_interval=0.5, power_timeout=25.0, request_timeout=10.0)
INDEX = 7  # the shared emulator's system these tests change (and put back)


def _bmc_boot_mode(emulator: RedfishEmulator) -> str:
    return str(emulator.get(emulator.system_path(INDEX))["Boot"]["BootSourceOverrideMode"])


def _bmc_secure_boot(emulator: RedfishEmulator) -> bool:
    return bool(emulator.get(emulator.system_path(INDEX) + "/SecureBoot")["SecureBootEnable"])


@pytest.fixture
def system7(redfish_bmc: RedfishEmulator) -> Iterator[RedfishEmulator]:
    """System 7 in UEFI mode without secure boot, put back so afterwards."""
    mgmt, task = RedfishManagement(RedfishConnections(POLICY)), task_for(redfish_bmc, INDEX)

    def reset() -> None:
        mgmt.set_boot_mode(task, "uefi")
        mgmt.set_secure_boot_state(task, False)

    reset()
    yield redfish_bmc
    reset()


def test_driver_boot_mode_secure_boot_and_health(system7: RedfishEmulator) -> None:
    mgmt, task = RedfishManagement(RedfishConnections(POLICY)), task_for(system7, INDEX)
    assert mgmt.get_boot_mode(task) == "uefi" and _bmc_boot_mode(system7) == "UEFI"
    assert mgmt.get_secure_boot_state(task) is False

    mgmt.set_secure_boot_state(task, True)
    assert _bmc_secure_boot(system7) is True and mgmt.get_secure_boot_state(task) is True
    mgmt.set_secure_boot_state(task, True)  # already so: nothing to do
    mgmt.set_secure_boot_state(task, False)
    assert _bmc_secure_boot(system7) is False

    mgmt.set_boot_mode(task, "bios")
    assert _bmc_boot_mode(system7) == "Legacy" and mgmt.get_boot_mode(task) == "bios"
    with pytest.raises(errors.DriverError, match="requires UEFI"):
        mgmt.set_secure_boot_state(task, True)
    assert _bmc_secure_boot(system7) is False
    assert mgmt.get_node_health(task) == "OK"  # the emulator's Status.Health


def test_through_the_api(system7: RedfishEmulator, service, api) -> None:  # type: ignore[no-untyped-def]
    node = make_node(api, driver="redfish", driver_info=task_for(system7, INDEX).node["driver_info"])["uuid"]
    move(api, node, "manage")

    def put(what: str, target: object) -> dict:
        r = api.put(f"/v1/nodes/{node}/states/{what}", json={"target": target})
        assert r.status_code == 202, r.text
        return settle(api, node, timeout=60)

    shown = put("boot_mode", "bios")
    assert (shown["boot_mode"], shown["last_error"]) == ("bios", None) and _bmc_boot_mode(system7) == "Legacy"
    shown = put("secure_boot", True)
    assert shown["secure_boot"] is None and "requires UEFI" in shown["last_error"]
    assert _bmc_secure_boot(system7) is False
    put("boot_mode", "uefi")
    shown = put("secure_boot", True)
    assert (shown["boot_mode"], shown["secure_boot"], shown["last_error"]) == ("uefi", True, None)
    assert _bmc_secure_boot(system7) is True

    assert shown["health"] is None and shown["provision_state"] == states.MANAGEABLE
    service.services.conductor.periodic.sync_power_states()
    assert api.get(f"/v1/nodes/{node}").json()["health"] == "OK"
