"""``PUT /v1/nodes/{node}/management/inject_nmi`` (API 1.29): 204, the fake server records the NMI
(``driver_internal_info.fake_nmi_count``); 404 below 1.29 as Ironic; a driver failure is reported, a locked node
is 409. SQLite and PostgreSQL (``service``). The IPMI path against the BMC emulator:
tests/drivers/test_ipmi_driver.py::test_inject_nmi_reaches_a_running_machine_only."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, make_node


def _nmis(api, uuid: str) -> int:
    return int(api.get(f"/v1/nodes/{uuid}").json()["driver_internal_info"].get("fake_nmi_count", 0))


def test_inject_nmi_from_1_29(service, api):
    node = make_node(api, name="n1")
    with service.client("1.28") as c:
        r = c.put("/v1/nodes/n1/management/inject_nmi", json={})
        assert r.status_code == 404, r.text
        fault(r)
    assert _nmis(api, node["uuid"]) == 0
    with service.client("1.29") as c:
        r = c.put("/v1/nodes/n1/management/inject_nmi", json={})
        assert r.status_code == 204, r.text
        assert r.content == b""
        assert c.put(f"/v1/nodes/{node['uuid']}/management/inject_nmi").status_code == 204  # no body is {} too
    assert _nmis(api, node["uuid"]) == 2


def test_bad_body_unknown_node_and_driver_failure(service, api):
    node = make_node(api, driver_info={"fake_fail_inject_nmi": "the BMC said no"})
    path = f"/v1/nodes/{node['uuid']}/management/inject_nmi"
    r = api.put(path, json={"force": True})
    assert r.status_code == 400, r.text
    fault(r)
    r = api.put("/v1/nodes/nope/management/inject_nmi", json={})
    assert r.status_code == 404, r.text
    r = api.put(path, json={})
    assert r.status_code == 500, r.text
    assert "the BMC said no" in fault(r)["faultstring"]
    assert _nmis(api, node["uuid"]) == 0


def test_locked_node_is_409(service, api):
    node = make_node(api)
    service.services.nodes.update(node["uuid"], lambda current: {"reservation": service.services.conductor.name})
    r = api.put(f"/v1/nodes/{node['uuid']}/management/inject_nmi", json={})
    assert r.status_code == 409, r.text
    fault(r)
    assert _nmis(api, node["uuid"]) == 0


@pytest.mark.parametrize("driver", ["ipmi", "redfish"])
def test_real_drivers_validate_first(service, api, driver):
    node = make_node(api, driver=driver)  # no BMC address: refused before anything is sent
    r = api.put(f"/v1/nodes/{node['uuid']}/management/inject_nmi", json={})
    assert r.status_code == 400, r.text
    fault(r)
