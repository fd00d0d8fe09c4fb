"""Version discovery and microversion negotiation, as Ironic clients expect them."""

from __future__ import annotations

import pytest

from ironworks.resources import microversion
from tests.api.helpers import fault, make_node

MAX = microversion.MAX_VERSION


def test_root_document(service):
    with service.client(None) as c:
        r = c.get("/")
    assert r.status_code == 200
    body = r.json()
    assert body["default_version"] == {
        "id": "v1", "links": [{"href": f"{service.url}/v1/", "rel": "self"}], "status": "CURRENT",
        "min_version": "1.1", "version": MAX,
    }
    assert body["versions"] == [body["default_version"]]


def test_v1_document_and_headers(service):
    with service.client(None) as c:
        r = c.get("/v1")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "v1"
    assert body["version"]["version"] == MAX
    for key in ("nodes", "ports", "chassis", "drivers", "links", "media_types"):
        assert key in body
    assert r.headers["X-OpenStack-Ironic-API-Minimum-Version"] == "1.1"
    assert r.headers["X-OpenStack-Ironic-API-Maximum-Version"] == MAX
    assert r.headers["X-OpenStack-Ironic-API-Version"] == "1.1"  # no header means the minimum


@pytest.mark.parametrize(("sent", "status", "answered"), [
    ("1.31", 200, "1.31"), ("latest", 200, MAX), ("1.1", 200, "1.1"),
    ("1.999", 406, None), ("2.0", 406, None), ("1.0", 406, None), ("abc", 406, None), ("1.x", 406, None),
])
def test_version_header(service, sent, status, answered):
    with service.client(sent) as c:
        r = c.get("/v1/nodes")
    assert r.status_code == status
    assert r.headers["X-OpenStack-Ironic-API-Maximum-Version"] == MAX
    if answered:
        assert r.headers["X-OpenStack-Ironic-API-Version"] == answered
    else:
        text = fault(r)["faultstring"]
        assert "1.1" in text or sent in text or text == "Invalid value for X-OpenStack-Ironic-API-Version header"


def test_openstack_api_version_header_form(service):
    with service.client(None, headers={"OpenStack-API-Version": "baremetal 1.40"}) as c:
        r = c.get("/v1/nodes")
    assert r.headers["X-OpenStack-Ironic-API-Version"] == "1.40"


def test_fields_are_hidden_in_older_versions(service, api):
    node = make_node(api, name="old", owner="o", lessee="l", description="d")
    with service.client("1.31") as c:
        shown = c.get(f"/v1/nodes/{node['uuid']}").json()
    assert "name" in shown and "power_interface" in shown
    for hidden in ("traits", "owner", "lessee", "description", "conductor_group", "bios_interface", "fault",
                   "rescue_interface", "protected", "conductor", "allocation_uuid", "retired"):
        assert hidden not in shown, hidden
    with service.client("1.4") as c:
        shown = c.get(f"/v1/nodes/{node['uuid']}").json()
        assert "name" not in shown
        assert c.get("/v1/nodes/old").status_code == 400  # names are 1.5+
        assert c.get("/v1/nodes", params={"fields": "uuid"}).status_code == 406
        # setting a field newer than the request's version is refused
        r = c.post("/v1/nodes", json={"driver": "fake-hardware", "owner": "x"})
        assert r.status_code == 406


def test_old_versions_enroll_into_available(service):
    with service.client("1.10") as c:
        r = c.post("/v1/nodes", json={"driver": "fake-hardware"})
        assert r.status_code == 201
        assert r.json()["provision_state"] == "available"
    with service.client("1.1") as c:
        assert c.get(f"/v1/nodes/{r.json()['uuid']}").json()["provision_state"] is None
    with service.client("1.11") as c:
        assert c.post("/v1/nodes", json={"driver": "fake-hardware"}).json()["provision_state"] == "enroll"


def test_drivers(api):
    drivers = api.get("/v1/drivers").json()["drivers"]
    assert {d["name"] for d in drivers} == {"fake-hardware", "ipmi", "redfish"}
    ipmi = api.get("/v1/drivers/ipmi").json()
    assert ipmi["default_power_interface"] == "ipmitool"
    assert "ipmitool" in ipmi["enabled_management_interfaces"]
    assert api.get("/v1/drivers/nope").status_code == 404
    props = api.get("/v1/drivers/ipmi/properties").json()
    assert "ipmi_address" in props
