"""End to end: nodes with the ``ipmi`` hardware type, driven through the HTTP API, against emulated BMCs.

``manage`` verifies the credentials (enroll → verifying → manageable, or back to enroll with last_error);
power requests reach the BMC (checked with Debian's ipmitool); a BMC that ignores power commands leaves a
readable last_error, and the node stays usable.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import httpx
import pytest

from ironworks import states
from ironworks.lab.bmc.process import BMCEndpoint, BMCLab
from tests.conductor.helpers import provision, settle
from tests.drivers.conftest import HEALTHY, IGNORE_POWER, WRONG_PASSWORD


def ipmitool_power(bmc: BMCEndpoint) -> str:
    if shutil.which("ipmitool") is None:
        pytest.skip("ipmitool is not installed (scripts/apt-packages.txt)")
    out = subprocess.run(["ipmitool", "-I", "lanplus", "-H", bmc.address, "-p", str(bmc.port), "-U",
                          bmc.username, "-P", bmc.password, "chassis", "power", "status"],
                         capture_output=True, text=True, timeout=30, check=True)
    return states.POWER_ON if "is on" in out.stdout else states.POWER_OFF


def enroll_ipmi(api: httpx.Client, bmc: BMCEndpoint, **extra: Any) -> str:
    r = api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": bmc.ipmi_driver_info(**extra)})
    assert r.status_code == 201, r.text
    return str(r.json()["uuid"])


def manage(api: httpx.Client, node: str) -> dict[str, Any]:
    r = provision(api, node, "manage")
    assert r.status_code == 202, r.text
    return settle(api, node, timeout=60)


def test_manage_then_power_on_and_off(api: httpx.Client, ipmi_lab: BMCLab) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY]
    node = enroll_ipmi(api, bmc)
    body = manage(api, node)
    assert body["provision_state"] == states.MANAGEABLE and body["last_error"] is None
    assert body["power_state"] == ipmitool_power(bmc)
    assert body["driver_info"]["ipmi_password"] == "******"

    for target in (states.POWER_ON, states.POWER_OFF):
        r = api.put(f"/v1/nodes/{node}/states/power", json={"target": target, "timeout": 10})
        assert r.status_code == 202, r.text
        body = settle(api, node, timeout=60)
        assert body["power_state"] == target and body["last_error"] is None
        assert ipmitool_power(bmc) == target


def test_manage_with_wrong_password_returns_to_enroll(api: httpx.Client, ipmi_lab: BMCLab) -> None:
    bmc = ipmi_lab.ipmi[WRONG_PASSWORD]
    node = enroll_ipmi(api, bmc)
    body = manage(api, node)
    assert body["provision_state"] == states.ENROLL
    assert f"127.0.0.1:{bmc.port}" in body["last_error"] and "credentials" in body["last_error"]
    assert bmc.password not in body["last_error"]


def test_ignored_power_on_leaves_a_readable_error(api: httpx.Client, ipmi_lab: BMCLab) -> None:
    bmc = ipmi_lab.ipmi[IGNORE_POWER]
    node = enroll_ipmi(api, bmc)
    assert manage(api, node)["provision_state"] == states.MANAGEABLE
    r = api.put(f"/v1/nodes/{node}/states/power", json={"target": states.POWER_ON, "timeout": 2})
    assert r.status_code == 202, r.text
    body = settle(api, node, timeout=60)
    assert body["power_state"] == states.POWER_OFF
    assert f"127.0.0.1:{bmc.port}" in body["last_error"] and "did not reach power state" in body["last_error"]
    # the node is still served: a healthy node next to it works
    healthy = enroll_ipmi(api, ipmi_lab.ipmi[HEALTHY])
    assert manage(api, healthy)["provision_state"] == states.MANAGEABLE
