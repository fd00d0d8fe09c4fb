"""/v1/networks (the Ironworks extension) through HTTP: create, show, list, JSON Patch, delete, and refusals."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault

WEB = {
    "name": "web",
    "vlan_id": 100,
    "physical_network": "fabric",
    "cidr": "10.100.0.0/24",
    "gateway": "10.100.0.1",
    "dns_nameservers": ["10.100.0.2"],
    "allocation_pool": {"start": "10.100.0.10", "end": "10.100.0.200"},
    "routes": [{"destination": "172.16.0.0/12", "nexthop": "10.100.0.254"}],
    "roles": ["tenant"],
    "mtu": 9000,
}


def make_network(api, **fields):
    r = api.post("/v1/networks", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def networks(api):
    return api.get("/v1/networks/detail").json()["networks"]


def test_create_show_list_delete(api):
    net = make_network(api, **WEB)
    for key, value in WEB.items():
        assert net[key] == value, key
    assert net["dhcp_interface"] is None and net["extra"] == {} and net["created_at"] and net["updated_at"] is None
    assert api.get("/v1/networks/web").json() == net
    assert api.get(f"/v1/networks/{net['uuid']}").json() == net
    listed = api.get("/v1/networks").json()["networks"]
    assert [(n["name"], n["vlan_id"], n["roles"]) for n in listed] == [("web", 100, ["tenant"])]
    assert set(listed[0]) == {"uuid", "name", "vlan_id", "cidr", "roles", "owner", "shared", "links"}
    # an admin's network without an owner is the operator's and not shared unless said (docs/networking.md)
    assert (listed[0]["owner"], listed[0]["shared"]) == (None, False)
    assert api.get("/v1/networks/web", params={"fields": "name,cidr"}).json() == {
        "name": "web",
        "cidr": "10.100.0.0/24",
        "links": net["links"],
    }
    assert api.delete("/v1/networks/web").status_code == 204
    assert api.get("/v1/networks/web").status_code == 404
    fault(api.get("/v1/networks/web"))


def test_defaults_flat_network_and_roles(api):
    net = make_network(api, name="prov", roles=["provisioning", "cleaning", "provisioning"], dhcp_interface="brv10")
    assert net["roles"] == ["cleaning", "provisioning"] and net["vlan_id"] is None and net["cidr"] is None
    assert net["allocation_pool"] is None and net["dns_nameservers"] == [] and net["routes"] == []
    assert make_network(api, name="plain")["roles"] == ["tenant"]


def test_pagination(api):
    for i in range(5):
        make_network(api, name=f"n{i}", vlan_id=10 + i)
    first = api.get("/v1/networks", params={"limit": 2}).json()
    assert [n["name"] for n in first["networks"]] == ["n0", "n1"] and "marker=" in first["next"]
    rest = api.get(first["next"]).json()
    assert [n["name"] for n in rest["networks"]] == ["n2", "n3"]
    assert [
        n["name"]
        for n in api.get("/v1/networks", params={"sort_key": "vlan_id", "sort_dir": "desc"}).json()["networks"]
    ] == ["n4", "n3", "n2", "n1", "n0"]


def test_patch(api):
    make_network(api, **WEB)
    r = api.patch(
        "/v1/networks/web",
        json=[
            {"op": "replace", "path": "/vlan_id", "value": 101},
            {"op": "add", "path": "/dns_nameservers/-", "value": "10.100.0.3"},
            {"op": "replace", "path": "/allocation_pool/end", "value": "10.100.0.20"},
            {"op": "add", "path": "/extra/rack", "value": "r1"},
            {"op": "remove", "path": "/routes"},
        ],
    )
    assert r.status_code == 200, r.text
    net = r.json()
    assert net["vlan_id"] == 101 and net["dns_nameservers"] == ["10.100.0.2", "10.100.0.3"]
    assert net["allocation_pool"] == {"start": "10.100.0.10", "end": "10.100.0.20"}
    assert net["extra"] == {"rack": "r1"} and net["routes"] == [] and net["updated_at"]
    assert api.get("/v1/networks/web").json() == net


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, "'name' is a required property"),
        ({"name": "x", "vlan_id": 0}, 400, "vlan_id"),
        ({"name": "x", "vlan_id": 4095}, 400, "vlan_id"),
        ({"name": "x", "vlan_id": "100"}, 400, "vlan_id"),
        ({"name": "x", "cidr": "10.0.0.1/24"}, 400, "host bits"),
        ({"name": "x", "cidr": "banana"}, 400, "cidr"),
        ({"name": "x", "cidr": "10.0.0.0/24", "gateway": "10.0.1.1"}, 400, "outside"),
        ({"name": "x", "gateway": "10.0.1.1"}, 400, "needs a cidr"),
        ({"name": "x", "cidr": "10.0.0.0/24", "gateway": "10.0.0.255"}, 400, "broadcast"),
        (
            {"name": "x", "cidr": "10.0.0.0/24", "allocation_pool": {"start": "10.0.0.50", "end": "10.0.0.10"}},
            400,
            "after end",
        ),
        ({"name": "x", "cidr": "10.0.0.0/24", "allocation_pool": {"start": "10.0.0.5"}}, 400, "allocation_pool"),
        ({"name": "x", "dns_nameservers": ["dns.example"]}, 400, "dns_nameservers"),
        ({"name": "x", "roles": ["tenant", "storage"]}, 400, "unknown role(s) storage"),
        ({"name": "x", "mtu": 20}, 400, "mtu"),
        ({"name": "x", "colour": "blue"}, 400, "'colour' was unexpected"),
        ({"name": "not a name!"}, 400, "name"),
        (
            {"name": "x", "cidr": "10.0.0.0/24", "routes": [{"destination": "0.0.0.0/0", "nexthop": "10.9.9.9"}]},
            400,
            "outside",
        ),
        ({"name": "x", "dhcp_interface": "much-too-long-interface-name"}, 400, "dhcp_interface"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(api, body, status, words):
    r = api.post("/v1/networks", json=body)
    assert r.status_code == status, r.text
    assert words in fault(r)["faultstring"]
    assert networks(api) == []


def test_conflicts_and_bad_patches_change_nothing(api):
    make_network(api, **WEB)
    r = api.post("/v1/networks", json={"name": "web"})
    assert r.status_code == 409 and "already exists" in fault(r)["faultstring"]
    before = networks(api)
    for patch, status in (
        ([{"op": "replace", "path": "/cidr", "value": "10.200.0.0/24"}], 400),  # gateway now outside
        ([{"op": "replace", "path": "/uuid", "value": "x"}], 400),
        ([{"op": "add", "path": "/colour", "value": "x"}], 400),
        ([{"op": "remove", "path": "/name"}], 400),
        ({"op": "replace"}, 400),
    ):
        r = api.patch("/v1/networks/web", json=patch)
        assert r.status_code == status, (patch, r.text)
        fault(r)
    assert networks(api) == before
    assert api.patch("/v1/networks/nope", json=[{"op": "replace", "path": "/mtu", "value": 1500}]).status_code == 404
    assert api.delete("/v1/networks/nope").status_code == 404
