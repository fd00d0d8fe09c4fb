"""Networks have an owner project and a ``shared`` flag (issue 12, Neutron's model), through HTTP as real users
of two projects: a member sees and uses only its project's and shared networks, another project's network is
answered exactly like a missing one (VIF attach, server create, show, change), and a member's own network gets
its VLAN from the operator's range, never one the member picks."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from tests.api.helpers import fault
from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.auth.helpers import make_node
from tests.instances.helpers import DEBIAN

#: acme's, evil's, a shared one (evil's, shared) and the operator's own (no owner, not shared)
NETWORKS = {
    "net-acme": {"vlan_id": 101, "cidr": "10.101.0.0/24", "owner": "acme"},
    "net-evil": {"vlan_id": 102, "cidr": "10.102.0.0/24", "owner": "evil"},
    "net-shared": {"vlan_id": 103, "cidr": "10.103.0.0/24", "owner": "evil", "shared": True},
    "net-ops": {"vlan_id": 104, "cidr": "10.104.0.0/24"},
}


@pytest.fixture
def nets(auth_service, admin):
    made = {}
    for name, body in NETWORKS.items():
        r = admin.post("/v1/networks", json={"name": name, **body})
        assert r.status_code == 201, r.text
        made[name] = r.json()
    return made


def _same_answer(foreign: httpx.Response, missing: httpx.Response, foreign_name: str, missing_name: str) -> None:
    """A foreign resource is answered exactly like a missing one: same status, same message with the name."""
    assert foreign.status_code == missing.status_code, (foreign.text, missing.text)
    assert fault(foreign)["faultstring"] == fault(missing)["faultstring"].replace(missing_name, foreign_name)


def test_members_and_readers_see_their_projects_and_shared_networks(auth_service, admin, nets):
    for user in (MEMBER, READER):
        with client(auth_service, user) as c:
            listed = c.get("/v1/networks").json()["networks"]
            assert sorted(n["name"] for n in listed) == ["net-acme", "net-shared"]
            assert sorted(n["name"] for n in c.get("/v1/networks/detail").json()["networks"]) == [
                "net-acme",
                "net-shared",
            ]
            assert c.get("/v1/networks/net-shared").json()["owner"] == "evil"
            for name in ("net-evil", "net-ops"):
                for ident in (name, nets[name]["uuid"]):
                    _same_answer(c.get(f"/v1/networks/{ident}"), c.get("/v1/networks/nope"), ident, "nope")
            # a foreign network is no page marker either
            r = c.get("/v1/networks", params={"marker": nets["net-evil"]["uuid"]})
            assert r.status_code == 404, r.text
    with client(auth_service, OTHER_MEMBER) as c:
        assert sorted(n["name"] for n in c.get("/v1/networks").json()["networks"]) == ["net-evil", "net-shared"]
    assert len(admin.get("/v1/networks").json()["networks"]) == 4


def test_vif_attach_takes_only_own_or_shared_networks(auth_service, admin, nets):
    # vlan: a VIF id naming no network is refused (noop/flat would record it as a plain VIF id, api-versions.md)
    node = make_node(admin, owner="acme", name="acme-node", network_interface="vlan")
    for i in range(3):
        r = admin.post("/v1/ports", json={"node_uuid": node["uuid"], "address": f"52:54:00:00:12:0{i}"})
        assert r.status_code == 201, r.text
    path = f"/v1/nodes/{node['uuid']}/vifs"
    with client(auth_service, MEMBER) as c:
        for name in ("net-evil", "net-ops"):
            # every way of naming a network: by name or uuid, "network", "networks", or the VIF id itself
            for ident in (name, nets[name]["uuid"]):
                for body, missing_body in (
                    ({"id": "v1", "network": ident}, {"id": "v1", "network": "nope"}),
                    ({"id": "v1", "networks": [ident]}, {"id": "v1", "networks": ["nope"]}),
                    ({"id": ident}, {"id": "nope"}),
                ):
                    _same_answer(c.post(path, json=body), c.post(path, json=missing_body), ident, "nope")
        assert c.get(path).json()["vifs"] == []
        assert c.post(path, json={"id": "mine", "network": "net-acme"}).status_code == 204
        assert c.post(path, json={"id": "shared", "network": "net-shared"}).status_code == 204
        got = sorted(v["networks"][0]["network"] for v in c.get(path).json()["vifs"])
        assert got == ["net-acme", "net-shared"]
    # the operator attaches whatever it likes
    assert admin.post(path, json={"id": "ops", "network": "net-ops"}).status_code == 204


def test_server_create_takes_only_own_or_shared_networks(auth_service, admin, nets):
    assert admin.post("/v1/images", json=DEBIAN).status_code == 201
    r = admin.post("/v1/flavors", json={"name": "small", "resource_class": "gold", "cpus": 16, "memory_mb": 32768})
    assert r.status_code == 201, r.text
    make_node(admin, owner="acme", name="acme-node", resource_class="gold")

    def body(network):
        return {"name": "web-1", "flavor": "small", "image": "debian-12", "networks": [{"network": network}]}

    with client(auth_service, MEMBER) as c:
        for name in ("net-evil", "net-ops"):
            for ident in (name, nets[name]["uuid"]):
                foreign = c.post("/v1/instances", json=body(ident))
                _same_answer(foreign, c.post("/v1/instances", json=body("nope")), ident, "nope")
        assert c.get("/v1/instances").json()["instances"] == []
    assert admin.get("/v1/nodes/acme-node").json()["instance_uuid"] is None


def test_member_networks_get_a_vlan_from_the_operators_range(auth_service, admin, nets, monkeypatch):
    with client(auth_service, MEMBER) as c:
        # no tenant VLAN range configured: members cannot create networks
        r = c.post("/v1/networks", json={"name": "mine", "cidr": "10.50.0.0/24"})
        assert r.status_code == 409 and "tenant_vlan_ranges" in fault(r)["faultstring"]
        settings = dataclasses.replace(auth_service.services.settings, tenant_vlan_ranges=("fabric:101:103",))
        monkeypatch.setattr(auth_service.services, "settings", settings)
        # where a network lives, who owns it and who shares it are the operator's to say
        for extra in (
            {"vlan_id": 102},
            {"physical_network": "fabric"},
            {"shared": True},
            {"roles": ["provisioning"]},
            {"dhcp_interface": "br-evil"},
        ):
            r = c.post("/v1/networks", json={"name": "mine", **extra})
            assert r.status_code == 403, (extra, r.text)
            assert "disallowed by policy" in fault(r)["faultstring"]
        r = c.post("/v1/networks", json={"name": "mine", "owner": "evil"})
        assert r.status_code == 403 and "project evil" in fault(r)["faultstring"]
        r = c.post("/v1/networks", json={"name": "mine", "cidr": "10.50.0.0/24", "roles": ["tenant"]})
        assert r.status_code == 201, r.text
        mine = r.json()
        # 101-103 are free on "fabric" (the admin's networks have no physical network): the lowest is taken
        assert (mine["owner"], mine["shared"], mine["physical_network"], mine["vlan_id"]) == (
            "acme",
            False,
            "fabric",
            101,
        )
        assert c.post("/v1/networks", json={"name": "mine-2"}).json()["vlan_id"] == 102
        assert c.post("/v1/networks", json={"name": "mine-3"}).json()["vlan_id"] == 103
        r = c.post("/v1/networks", json={"name": "mine-4"})
        assert r.status_code == 409 and "in use" in fault(r)["faultstring"]
    with client(auth_service, OTHER_MEMBER) as c:
        _same_answer(c.get("/v1/networks/mine"), c.get("/v1/networks/nope"), "mine", "nope")


def test_only_the_owner_changes_a_network_and_only_an_admin_moves_or_shares_it(auth_service, admin, nets):
    with client(auth_service, MEMBER) as c:
        ok = c.patch("/v1/networks/net-acme", json=[{"op": "replace", "path": "/gateway", "value": "10.101.0.1"}])
        assert ok.status_code == 200 and ok.json()["gateway"] == "10.101.0.1", ok.text
        for path, value in (("/shared", True), ("/owner", "evil"), ("/vlan_id", 102), ("/roles", ["cleaning"])):
            r = c.patch("/v1/networks/net-acme", json=[{"op": "replace", "path": path, "value": value}])
            assert r.status_code == 403, (path, r.text)
        # a shared network of another project: readable, not changeable
        r = c.patch("/v1/networks/net-shared", json=[{"op": "add", "path": "/extra/x", "value": 1}])
        assert r.status_code == 403, r.text
        assert c.delete("/v1/networks/net-shared").status_code == 403
        # a network the project cannot see at all: exactly like a missing one
        patch = [{"op": "add", "path": "/extra/x", "value": 1}]
        _same_answer(
            c.patch("/v1/networks/net-evil", json=patch), c.patch("/v1/networks/nope", json=patch), "net-evil", "nope"
        )
        _same_answer(c.delete("/v1/networks/net-ops"), c.delete("/v1/networks/nope"), "net-ops", "nope")
    with client(auth_service, READER) as c:
        assert c.delete("/v1/networks/net-acme").status_code == 403
    with client(auth_service, MEMBER) as c:
        assert c.delete("/v1/networks/net-acme").status_code == 204
    shown = admin.get("/v1/networks/net-evil").json()
    assert shown["extra"] == {} and shown["owner"] == "evil" and shown["shared"] is False
    r = admin.patch("/v1/networks/net-ops", json=[{"op": "replace", "path": "/shared", "value": True}])
    assert r.status_code == 200 and r.json()["shared"] is True
    with client(auth_service, OTHER_MEMBER) as c:
        assert c.get("/v1/networks/net-ops").status_code == 200
