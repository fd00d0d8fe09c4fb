"""The ``redfish`` BIOS interface against sushy-emulator over HTTP.

sushy-emulator's fake systems have no BIOS, so two emulators are used: the shared ``redfish_bmc`` (no BIOS: the
interface must fail with a driver error and cache nothing), and ``bios_bmc``, the same emulator run through
tests/drivers/bios_emulator.py, whose fake driver gains the BIOS methods libvirt's driver has; its attribute
registry is sushy-emulator's own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks import errors
from ironworks.drivers.base import Driver
from ironworks.drivers.bios.redfish import RedfishBios
from ironworks.drivers.bmc.policy import BMCPolicy
from ironworks.drivers.redfish.interfaces import RedfishConnections, RedfishPower
from ironworks.lab.bmc.redfish import RedfishEmulator
from tests.drivers.conftest import Task

POLICY = BMCPolicy(attempts=1, backoff=0.2, poll_interval=0.5, power_timeout=25.0, request_timeout=10.0)


class BiosTask(Task):
    def __init__(self, emulator: RedfishEmulator, index: int, conns: RedfishConnections) -> None:
        super().__init__(
            {
                "redfish_address": emulator.url,
                "redfish_system_id": emulator.system_path(index),
                "redfish_username": "admin",
                "redfish_password": "rf-s3cret",
            }
        )
        self.driver = Driver("redfish", {"power": RedfishPower(conns)})


@pytest.fixture(scope="module")
def bios_bmc() -> Iterator[RedfishEmulator]:
    wrapper = Path(__file__).with_name("bios_emulator.py")
    with RedfishEmulator(
        count=2, username="admin", password="rf-s3cret", powered_on=(0, 1), command=(sys.executable, str(wrapper))
    ) as emulator:
        yield emulator


def _values(task: Task) -> dict[str, str | None]:
    return {name: s["value"] for name, s in task.node["driver_internal_info"]["bios_settings"].items()}


def test_cache_apply_and_factory_reset(bios_bmc: RedfishEmulator) -> None:
    conns = RedfishConnections(POLICY)
    bios = RedfishBios(conns)
    task = BiosTask(bios_bmc, 0, conns)
    bios.cache_bios_settings(task)
    cached = task.node["driver_internal_info"]["bios_settings"]
    assert cached["ProcTurboMode"]["value"] == "Enabled" and cached["NumCores"]["value"] == "10"
    # the registry fields come from the emulator's BIOS attribute registry
    assert cached["ProcTurboMode"]["attribute_type"] == "Enumeration"
    assert cached["ProcTurboMode"]["allowable_values"] == ["Enabled", "Disabled"]
    assert cached["ProcTurboMode"]["read_only"] is False
    assert cached["SysPassword"]["attribute_type"] == "Password" and cached["SysPassword"]["value"] is None

    bios.apply_configuration(
        task, settings=[{"name": "ProcTurboMode", "value": "Disabled"}, {"name": "EmbeddedSata", "value": "Ahci"}]
    )
    assert _values(task)["ProcTurboMode"] == "Disabled" and _values(task)["EmbeddedSata"] == "Ahci"
    seen = bios_bmc.get(bios_bmc.system_path(0) + "/BIOS")["Attributes"]  # a second opinion, not through sushy
    assert seen["ProcTurboMode"] == "Disabled"
    assert bios_bmc.get(bios_bmc.system_path(1) + "/BIOS")["Attributes"]["ProcTurboMode"] == "Enabled"

    with pytest.raises(errors.InvalidParameterValue, match="NoSuchThing"):
        bios.apply_configuration(
            task, settings=[{"name": "NoSuchThing", "value": "1"}, {"name": "QuietBoot", "value": "false"}]
        )
    assert bios_bmc.get(bios_bmc.system_path(0) + "/BIOS")["Attributes"]["QuietBoot"] == "true"
    with pytest.raises(errors.InvalidParameterValue, match="NumCores are read-only"):  # so says the registry
        bios.apply_configuration(task, settings=[{"name": "NumCores", "value": 12}])
    with pytest.raises(errors.InvalidParameterValue):
        bios.apply_configuration(task, settings=[{"name": "ProcTurboMode"}])

    bios.factory_reset(task)
    assert _values(task)["ProcTurboMode"] == "Enabled" and _values(task)["EmbeddedSata"] == "Raid"
    assert bios_bmc.get(bios_bmc.system_path(0) + "/BIOS")["Attributes"]["EmbeddedSata"] == "Raid"


def test_a_bmc_without_bios_is_reported_and_nothing_cached(redfish_bmc: RedfishEmulator) -> None:
    conns = RedfishConnections(POLICY)
    bios = RedfishBios(conns)
    task = BiosTask(redfish_bmc, 4, conns)
    with pytest.raises(errors.BMCError, match="BIOS"):
        bios.cache_bios_settings(task)
    with pytest.raises(errors.BMCError, match="BIOS"):
        bios.apply_configuration(task, settings=[{"name": "BootMode", "value": "Bios"}])
    assert "bios_settings" not in task.node["driver_internal_info"]
