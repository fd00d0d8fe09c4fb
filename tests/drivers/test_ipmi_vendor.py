"""The ``ipmitool`` vendor interface (``send_raw``, ``bmc_reset``) against the IPMI emulator, directly and through
``POST /v1/nodes/{node}/vendor_passthru`` (SQLite and PostgreSQL). The emulator answers Get Device ID with its
device id bytes (Debian's ``ipmitool raw`` reads the same), acknowledges cold and warm resets and refuses a
command it does not implement with completion code 0xc1, which reaches the caller."""

from __future__ import annotations

import logging

import pytest

from ironworks import errors
from ironworks.drivers.ipmi.interfaces import IPMIConnections
from ironworks.drivers.ipmi.vendor import IPMIVendor
from ironworks.lab.bmc.process import BMCLab
from tests.api.helpers import fault, make_node
from tests.drivers.conftest import HEALTHY, HEALTHY2, Task
from tests.drivers.test_ipmi_driver import FAST, ipmitool

DEVICE_ID = "20 01 01 00 02 83 00 00 00 01 00 00 00 00 00"


def test_send_raw_reads_the_device_id_as_ipmitool_does(ipmi_lab: BMCLab, caplog: pytest.LogCaptureFixture) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY]
    vendor, task = IPMIVendor(IPMIConnections(FAST)), Task(bmc.ipmi_driver_info())
    caplog.set_level(logging.DEBUG)
    assert vendor.send_raw(task, "POST", {"raw_bytes": "0x06 0x01"}) == DEVICE_ID
    assert ipmitool(bmc, "raw", "0x06", "0x01").split() == DEVICE_ID.split()
    assert bmc.password not in caplog.text
    with pytest.raises(errors.BMCCommandError, match="0xc1"):
        vendor.send_raw(task, "POST", {"raw_bytes": "0x06 0x04"})  # Get Self Test Results: not implemented


def test_bmc_reset_warm_and_cold_acknowledged(ipmi_lab: BMCLab) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY]
    vendor, task = IPMIVendor(IPMIConnections(FAST)), Task(bmc.ipmi_driver_info())
    vendor.bmc_reset(task, "POST", {"warm": True})
    vendor.bmc_reset(task, "POST", {"warm": "false"})
    vendor.bmc_reset(task, "POST", {})  # Ironic's default: warm
    assert "Sent warm reset" in ipmitool(bmc, "mc", "reset", "warm")


def test_through_the_api(ipmi_lab: BMCLab, service, api) -> None:  # type: ignore[no-untyped-def]
    bmc = ipmi_lab.ipmi[HEALTHY2]
    node = make_node(api, driver="ipmi", driver_info=bmc.ipmi_driver_info())
    path = f"/v1/nodes/{node['uuid']}/vendor_passthru"
    r = api.post(path, params={"method": "send_raw"}, json={"raw_bytes": "0x06 0x01"})
    assert r.status_code == 202, r.text
    r = api.post(path, params={"method": "bmc_reset"}, json={"warm": False})
    assert r.status_code == 202, r.text
    r = api.post(path, params={"method": "send_raw"}, json={"raw_bytes": "0x06 0x04"})
    assert r.status_code == 500, r.text
    text = fault(r)["faultstring"]
    assert "0xc1" in text and bmc.password not in text
