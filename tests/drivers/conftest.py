"""Fixtures for driver tests: real BMC emulators (IPMI in a child process, sushy-emulator) and a task stand-in.

``Task`` is the minimal ``TaskView`` a driver sees: the node dict and ``set_internal``. It is not a mock of
anything the drivers call out to; the BMCs behind it are real protocol servers on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ironworks.lab.bmc.process import BMCLab
from ironworks.lab.bmc.redfish import RedfishEmulator


class Task:
    def __init__(self, driver_info: dict[str, Any], **node: Any) -> None:
        self.node: dict[str, Any] = {"uuid": "11111111-2222-3333-4444-555555555555", "driver_info": driver_info,
                                     "driver_internal_info": {}, "properties": {}, "instance_info": {},
                                     "boot_mode": None, **node}

    def set_internal(self, **values: Any) -> None:
        self.node["driver_internal_info"].update(values)

    def update(self, **columns: Any) -> None:
        self.node.update(columns)


#: BMC indexes of the shared IPMI lab
HEALTHY, HEALTHY2, NO_ANSWER, WRONG_PASSWORD, IGNORE_POWER, GARBAGE = range(6)


@pytest.fixture(scope="session")
def ipmi_lab() -> Iterator[BMCLab]:
    """Six emulated IPMI BMCs in one child process; see the index constants for their faults."""
    faults = [f"{NO_ANSWER}:no-answer", f"{WRONG_PASSWORD}:wrong-password", f"{IGNORE_POWER}:ignore-power",
              f"{GARBAGE}:garbage"]
    with BMCLab(count=6, faults=faults, username="admin", password="s3cret-pw") as lab:
        yield lab


@pytest.fixture(scope="session")
def redfish_bmc() -> Iterator[RedfishEmulator]:
    """sushy-emulator with its fake driver and eight systems (1–3 start powered on), behind basic auth."""
    with RedfishEmulator(count=8, username="admin", password="rf-s3cret", powered_on=(1, 2, 3)) as emulator:
        yield emulator
