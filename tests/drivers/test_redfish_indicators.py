"""The ``redfish`` management interface's indicator LEDs (API 1.63) against sushy-emulator: the system's and its
chassis' ``IndicatorLED``, read back from the emulator directly (not through sushy)."""

from __future__ import annotations

import pytest

from ironworks import errors
from ironworks.drivers.bmc.policy import BMCPolicy
from ironworks.drivers.redfish.interfaces import RedfishConnections, RedfishManagement
from ironworks.lab.bmc.redfish import RedfishEmulator
from tests.drivers.test_redfish_driver import task_for

POLICY = BMCPolicy(attempts=1, backoff=0.2, poll_interval=0.5, power_timeout=25.0, request_timeout=10.0)


def test_system_and_chassis_leds(redfish_bmc: RedfishEmulator) -> None:
    mgmt = RedfishManagement(RedfishConnections(POLICY))
    task = task_for(redfish_bmc, 5)
    supported = mgmt.get_supported_indicators(task)
    system_id = redfish_bmc.system_path(5).rsplit("/", 1)[1]
    assert supported["system"] == {system_id: {"readonly": False, "states": ["BLINKING", "OFF", "ON"]}}
    (chassis_id,) = supported["chassis"]
    assert "disk" not in supported  # the emulator's fake systems have no storage with drives

    mgmt.set_indicator_state(task, "system", system_id, "BLINKING")
    assert redfish_bmc.get(redfish_bmc.system_path(5))["IndicatorLED"] == "Blinking"
    assert mgmt.get_indicator_state(task, "system", system_id) == "BLINKING"
    mgmt.set_indicator_state(task, "system", system_id, "OFF")
    assert mgmt.get_indicator_state(task, "system", system_id) == "OFF"
    assert redfish_bmc.get(redfish_bmc.system_path(5))["IndicatorLED"] == "Off"

    before = mgmt.get_indicator_state(task, "chassis", chassis_id)
    mgmt.set_indicator_state(task, "chassis", chassis_id, "BLINKING")
    assert redfish_bmc.get(f"/redfish/v1/Chassis/{chassis_id}")["IndicatorLED"] == "Blinking"
    mgmt.set_indicator_state(task, "chassis", chassis_id, before)  # the emulator's one chassis is shared

    with pytest.raises(errors.InvalidParameterValue):
        mgmt.set_indicator_state(task, "system", system_id, "UNKNOWN")
    with pytest.raises(errors.InvalidParameterValue, match="not offered"):
        mgmt.get_indicator_state(task, "disk", "drive-1")
    with pytest.raises(errors.InvalidParameterValue, match="not offered"):
        mgmt.set_indicator_state(task, "system", "another-system", "ON")
