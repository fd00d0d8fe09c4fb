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


@pytest.mark.parametrize(
    ("name", "at_1_9", "at_1_10"),
    [
        ("rack-1.node-2", 201, 201),  # a host name: valid under both rules
        ("node_1", 400, 201),  # RFC 3986 unreserved characters from 1.10
        ("node~1", 400, 201),
        ("Node.A_b~c-d", 400, 201),
        ("node 1", 400, 400),  # never: not unreserved
        ("node/1", 400, 400),
        ("x" * 256, 400, 400),
    ],
)
def test_node_names_follow_rfc_3986_from_1_10(service, name, at_1_9, at_1_10):
    for version, expected in (("1.9", at_1_9), ("1.10", at_1_10)):
        with service.client(version) as c:
            r = c.post("/v1/nodes", json={"driver": "fake-hardware", "name": name})
            assert r.status_code == expected, (version, r.text)
            if expected == 201:
                assert c.delete(f"/v1/nodes/{r.json()['uuid']}").status_code == 204
            else:
                fault(r)


def test_chassis_uuid_is_unset_from_1_25(service, api):
    chassis = api.post("/v1/chassis", json={"description": "rack 7"}).json()
    node = make_node(api, chassis_uuid=chassis["uuid"])
    with service.client("1.24") as old:
        r = old.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/chassis_uuid"}])
        assert r.status_code == 406, r.text
        fault(r)
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["chassis_uuid"] == chassis["uuid"]
    with service.client("1.25") as new:
        r = new.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/chassis_uuid"}])
        assert r.status_code == 200, r.text
        assert r.json()["chassis_uuid"] is None
    assert api.get(f"/v1/chassis/{chassis['uuid']}/nodes").json()["nodes"] == []


def test_driver_type_and_detail_from_1_30(service, api):
    with service.client("1.29") as old:
        for query in ("type=dynamic", "detail=true"):
            r = old.get(f"/v1/drivers?{query}")
            assert r.status_code == 406, (query, r.text)
            fault(r)
        assert "type" not in old.get("/v1/drivers").json()["drivers"][0]
    assert {d["type"] for d in api.get("/v1/drivers?type=dynamic").json()["drivers"]} == {"dynamic"}
    assert api.get("/v1/drivers?type=classic").json()["drivers"] == []  # no classic drivers exist any more
    r = api.get("/v1/drivers?type=modern")
    assert r.status_code == 400, r.text
    fault(r)
    brief = api.get("/v1/drivers").json()["drivers"]
    assert not any("default_power_interface" in d for d in brief)
    detailed = {d["name"]: d for d in api.get("/v1/drivers?detail=true").json()["drivers"]}
    assert detailed["ipmi"]["default_power_interface"] == "ipmitool"
    assert "ipmitool" in detailed["ipmi"]["enabled_power_interfaces"]


def test_json_suffix_is_stripped_below_1_91_with_the_legacy_header(service, api):
    web = make_node(api, name="web")
    dotted = make_node(api, name="db.json")
    legacy = {"X-OpenStack-Ironic-API-Version": "1.90"}
    with service.client(None) as c:
        assert c.get("/v1/nodes/web.json", headers=legacy).json()["uuid"] == web["uuid"]
        assert c.get("/v1/nodes/web/ports.json", headers=legacy).json() == {"ports": []}
        # a name that itself ends in .json: the stripped name is not found, so the name as sent is looked up
        assert c.get("/v1/nodes/db.json", headers=legacy).json()["uuid"] == dotted["uuid"]
        r = c.patch("/v1/nodes/web.json", headers=legacy, json=[{"op": "add", "path": "/extra/a", "value": 1}])
        assert r.status_code == 200 and r.json()["extra"] == {"a": 1}, r.text
        r = c.patch("/v1/nodes/db.json", headers=legacy, json=[{"op": "add", "path": "/extra/b", "value": 2}])
        assert r.status_code == 200 and r.json()["extra"] == {"b": 2}, r.text  # the body was replayed
        assert c.get("/v1/nodes/nope.json", headers=legacy).status_code == 404
        # from 1.91, or with the standard header only: nothing is stripped
        for headers in ({"X-OpenStack-Ironic-API-Version": "1.91"}, {"OpenStack-API-Version": "baremetal 1.90"}):
            r = c.get("/v1/nodes/web.json", headers=headers)
            assert r.status_code == 404, (headers, r.text)
            fault(r)
            assert c.get("/v1/nodes/db.json", headers=headers).json()["uuid"] == dotted["uuid"]
