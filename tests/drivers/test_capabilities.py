"""Honest capabilities, through the running service: only interfaces with code behind them are offered, the
real types' default rescue is ``no-rescue``, ``validate`` tells the truth for every interface (with the reason
when false), and rescuing a node that cannot be rescued is a 400 that changes nothing."""

from __future__ import annotations

import httpx
import pytest

from ironworks.bootstrap import build_drivers
from ironworks.drivers.hardware_types import INTERFACE_KINDS
from tests.agent_service.conftest import set_columns
from tests.api.helpers import fault
from tests.conductor.helpers import move, provision
from tests.fixtures.servers import ServiceUnderTest, make_settings

#: names that were offered with no code behind them (issue 12)
NOT_IMPLEMENTED = {"deploy": "ramdisk", "rescue": "agent", "storage": "iscsi", "console": "ipmitool-sol"}


def test_every_offered_interface_has_an_implementation(tmp_path) -> None:
    registry = build_drivers(make_settings(str(tmp_path)))
    for hw in registry.hardware_types.values():
        for kind in INTERFACE_KINDS:
            for name in hw.supported(kind):
                assert registry.implementation(kind, name) is not None, (hw.name, kind, name)


@pytest.mark.parametrize("driver", ["ipmi", "redfish"])
def test_unimplemented_names_are_not_offered_and_rescue_defaults_to_no_rescue(api: httpx.Client, driver: str) -> None:
    shown = api.get(f"/v1/drivers/{driver}").json()
    for kind, name in NOT_IMPLEMENTED.items():
        assert name not in shown[f"enabled_{kind}_interfaces"], (kind, shown[f"enabled_{kind}_interfaces"])
    assert shown["default_rescue_interface"] == "no-rescue"
    node = api.post("/v1/nodes", json={"driver": driver})
    assert node.status_code == 201, node.text
    assert node.json()["rescue_interface"] == "no-rescue"
    for kind, name in NOT_IMPLEMENTED.items():
        r = api.post("/v1/nodes", json={"driver": driver, f"{kind}_interface": name})
        assert r.status_code == 400, (kind, r.text)
        assert f"{name!r} is not supported" in fault(r)["faultstring"]


def test_validate_reports_every_interface_with_reasons(api: httpx.Client) -> None:
    r = api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": {"ipmi_address": "127.0.0.1"}})
    node = r.json()["uuid"]
    result = api.get(f"/v1/nodes/{node}/validate").json()
    assert set(result) == set(INTERFACE_KINDS) - {"vendor"}  # Ironic's keys
    assert result["power"] == {"result": True} and result["management"] == {"result": True}
    assert result["network"] == {"result": True} and result["storage"] == {"result": True}
    for kind in ("rescue", "console", "bios", "firmware"):
        assert result[kind] == {
            "result": False, "reason": f"Driver ipmi does not support {kind} (disabled or not implemented)."}
    assert result["deploy"]["result"] is False and "deploy_kernel" in result["deploy"]["reason"]
    assert all(isinstance(v["result"], bool) for v in result.values()), result  # never null


def test_a_legacy_node_with_the_old_agent_rescue_is_reported_and_refused(service: ServiceUnderTest,
                                                                        api: httpx.Client) -> None:
    """A node enrolled before ``agent`` rescue was withdrawn keeps the name in its row: validate says false with
    the reason, and a rescue request is a 400 instead of a rescue failed in the conductor."""
    node = api.post("/v1/nodes", json={"driver": "fake-hardware"}).json()["uuid"]
    move(api, node, "manage")
    move(api, node, "provide")
    move(api, node, "active")
    set_columns(service, node, rescue_interface="agent")
    result = api.get(f"/v1/nodes/{node}/validate").json()["rescue"]
    assert result["result"] is False and "'agent' is not supported by hardware type 'fake-hardware'" in result["reason"]
    r = provision(api, node, "rescue", rescue_password="pw")
    assert r.status_code == 400 and "not implemented in this conductor" in fault(r)["faultstring"], r.text
    shown = api.get(f"/v1/nodes/{node}").json()
    assert (shown["provision_state"], shown["target_provision_state"], shown["last_error"]) == ("active", None, None)


def test_rescue_of_a_no_rescue_node_is_400_and_changes_nothing(api: httpx.Client) -> None:
    node = api.post("/v1/nodes", json={"driver": "fake-hardware", "rescue_interface": "no-rescue"}).json()["uuid"]
    move(api, node, "manage")
    move(api, node, "provide")
    move(api, node, "active")
    assert api.get(f"/v1/nodes/{node}/validate").json()["rescue"] == {
        "result": False, "reason": "Driver fake-hardware does not support rescue (disabled or not implemented)."}
    r = provision(api, node, "rescue", rescue_password="s3cret-rescue")
    assert r.status_code == 400, r.text
    message = fault(r)["faultstring"]
    assert "does not support rescue" in message and "s3cret-rescue" not in message
    shown = api.get(f"/v1/nodes/{node}").json()
    assert (shown["provision_state"], shown["target_provision_state"], shown["last_error"]) == ("active", None, None)
    assert "rescue_password" not in shown["instance_info"]
