"""Project scoping beyond the matrix: lists filtered in the query, ports and portgroups following their node,
the lessee's instance life cycle versus the owner's hardware life cycle, and operator-only resources."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, post_allocation
from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.auth.helpers import make_node


@pytest.fixture
def estate(auth_service, admin):
    """Three nodes with a portgroup and a port each: acme owns one, leases one, and a third is someone else's."""
    nodes = {
        "own": make_node(admin, owner="acme", name="own"),
        "leased": make_node(admin, owner="landlord", lessee="acme", name="leased"),
        "foreign": make_node(admin, owner="landlord", lessee="evil", name="foreign"),
    }
    ports, pgs = {}, {}
    for i, (key, node) in enumerate(nodes.items()):
        pg = admin.post("/v1/portgroups", json={"node_uuid": node["uuid"], "name": f"pg-{key}"})
        assert pg.status_code == 201, pg.text
        port = admin.post(
            "/v1/ports",
            json={"node_uuid": node["uuid"], "address": f"52:54:00:00:00:0{i}", "portgroup_uuid": pg.json()["uuid"]},
        )
        assert port.status_code == 201, port.text
        ports[key], pgs[key] = port.json()["uuid"], pg.json()["uuid"]
    return nodes, ports, pgs


def _names(body, key="nodes"):
    return sorted(item["name"] if key == "nodes" else item["uuid"] for item in body[key])


def test_lists_show_only_the_projects_nodes_ports_and_portgroups(auth_service, admin, estate):
    nodes, ports, pgs = estate
    for user in (MEMBER, READER):
        with client(auth_service, user) as c:
            assert _names(c.get("/v1/nodes").json()) == ["leased", "own"]
            assert _names(c.get("/v1/nodes/detail").json()) == ["leased", "own"]
            assert _names(c.get("/v1/ports").json(), "ports") == sorted([ports["own"], ports["leased"]])
            assert _names(c.get("/v1/portgroups/detail").json(), "portgroups") == sorted([pgs["own"], pgs["leased"]])
            # a filter cannot widen the view
            assert _names(c.get("/v1/nodes", params={"owner": "landlord"}).json()) == ["leased"]
    with client(auth_service, OTHER_MEMBER) as c:
        assert _names(c.get("/v1/nodes").json()) == ["foreign"]
    assert _names(admin.get("/v1/nodes").json()) == ["foreign", "leased", "own"]


def test_pagination_within_the_projects_view(auth_service, admin):
    for i in range(5):
        make_node(admin, owner="acme" if i % 2 == 0 else "landlord", name=f"n{i}")
    with client(auth_service, MEMBER) as c:
        first = c.get("/v1/nodes", params={"limit": 2}).json()
        assert _names(first) == ["n0", "n2"]
        second = c.get(first["next"]).json()
        assert _names(second) == ["n4"] and "next" not in second


def test_foreign_ports_and_portgroups_are_not_found(auth_service, estate):
    nodes, ports, pgs = estate
    with client(auth_service, MEMBER) as c:
        assert c.get(f"/v1/ports/{ports['own']}").status_code == 200
        assert c.get(f"/v1/portgroups/{pgs['leased']}").status_code == 200
        for path in (
            f"/v1/ports/{ports['foreign']}",
            f"/v1/portgroups/{pgs['foreign']}",
            f"/v1/nodes/{nodes['foreign']['uuid']}/ports",
            "/v1/nodes/foreign/portgroups",
            f"/v1/portgroups/{pgs['foreign']}/ports",
            f"/v1/nodes/{nodes['foreign']['uuid']}/states",
        ):
            r = c.get(path)
            assert r.status_code == 404, path
            assert "could not be found" in fault(r)["faultstring"]
        # the foreign answer is the same as for a node that does not exist at all
        missing = c.get("/v1/nodes/00000000-0000-0000-0000-000000000000")
        foreign = c.get(f"/v1/nodes/{nodes['foreign']['uuid']}")
        assert missing.status_code == foreign.status_code == 404
        # ports are infrastructure: members read them, only admins change them
        r = c.patch(f"/v1/ports/{ports['own']}", json=[{"op": "add", "path": "/extra/x", "value": 1}])
        assert r.status_code == 403 and "baremetal:port:update" in fault(r)["faultstring"]
        assert c.delete(f"/v1/ports/{ports['own']}").status_code == 403
        r = c.post("/v1/ports", json={"node_uuid": nodes["own"]["uuid"], "address": "52:54:00:00:01:01"})
        assert r.status_code == 403


def test_lessee_runs_the_instance_but_not_the_hardware(auth_service, admin):
    node = make_node(admin, owner="landlord", lessee="acme")
    uuid = node["uuid"]
    with client(auth_service, MEMBER) as c:
        ok = c.patch(
            f"/v1/nodes/{uuid}",
            json=[
                {"op": "add", "path": "/instance_info/image_source", "value": "http://192.0.2.1/img.qcow2"},
                {"op": "add", "path": "/extra/ticket", "value": "T-1"},
            ],
        )
        assert ok.status_code == 200, ok.text
        for path, value in (
            ("/owner", "acme"),
            ("/lessee", "evil"),
            ("/name", "mine"),
            ("/driver", "ipmi"),
            ("/deploy_interface", "direct"),
            ("/driver_info/ipmi_address", "192.0.2.99"),
        ):
            r = c.patch(f"/v1/nodes/{uuid}", json=[{"op": "add", "path": path, "value": value}])
            assert r.status_code == 403, (path, r.text)
        assert c.put(f"/v1/nodes/{uuid}/states/provision", json={"target": "manage"}).status_code == 403
        assert c.put(f"/v1/nodes/{uuid}/maintenance", json={"reason": "x"}).status_code == 403
        assert c.put(f"/v1/nodes/{uuid}/traits", json={"traits": ["CUSTOM_X"]}).status_code == 403
        assert c.put(f"/v1/nodes/{uuid}/states/power", json={"target": "power on"}).status_code == 202
        assert c.delete(f"/v1/nodes/{uuid}").status_code == 403
    shown = admin.get(f"/v1/nodes/{uuid}").json()
    assert shown["owner"] == "landlord" and shown["lessee"] == "acme" and shown["extra"] == {"ticket": "T-1"}


def test_owner_member_manages_its_hardware_but_not_ownership(auth_service, admin):
    uuid = make_node(admin, owner="acme")["uuid"]
    with client(auth_service, MEMBER) as c:
        assert (
            c.patch(
                f"/v1/nodes/{uuid}",
                json=[
                    {"op": "add", "path": "/lessee", "value": "tenant-b"},
                    {"op": "add", "path": "/name", "value": "acme-1"},
                ],
            ).status_code
            == 200
        )
        assert c.put(f"/v1/nodes/{uuid}/states/provision", json={"target": "manage"}).status_code == 202
        r = c.patch(f"/v1/nodes/{uuid}", json=[{"op": "replace", "path": "/owner", "value": "evil"}])
        assert r.status_code == 403 and "update:owner" in fault(r)["faultstring"]
        assert c.post("/v1/nodes", json={"driver": "fake-hardware"}).status_code == 403
    assert admin.get(f"/v1/nodes/{uuid}").json()["owner"] == "acme"


def test_lessee_sees_no_infrastructure_details(auth_service, admin):
    uuid = make_node(admin, owner="landlord", lessee="acme")["uuid"]
    with client(auth_service, MEMBER) as c:
        body = c.get(f"/v1/nodes/{uuid}", params={"fields": "driver_info,driver_internal_info,uuid"}).json()
        assert "Redacted" in body["driver_info"]["content"]
        assert "Redacted" in body["driver_internal_info"]["content"]
        detail = c.get("/v1/nodes/detail").json()["nodes"][0]
        assert "Redacted" in detail["driver_info"]["content"]
        assert c.get(f"/v1/nodes/{uuid}/history").status_code == 403


@pytest.mark.parametrize("path", ["/v1/chassis", "/v1/drivers", "/v1/audit", "/v1/drivers/fake-hardware"])
def test_operator_resources_are_admin_only(auth_service, admin, path):
    with client(auth_service, READER) as c:
        r = c.get(path)
        assert r.status_code == 403
        assert "disallowed by policy" in fault(r)["faultstring"]
    assert admin.get(path).status_code == 200


def test_allocations_stay_within_the_project(auth_service, admin):
    make_node(admin, owner="acme", resource_class="gold", name="gold-acme")
    make_node(admin, owner="landlord", resource_class="gold", name="gold-landlord")
    with client(auth_service, READER) as c:
        assert post_allocation(c, {"resource_class": "gold"}).status_code == 403
    with client(auth_service, MEMBER) as c:
        r = post_allocation(c, {"resource_class": "gold"})
        assert r.status_code == 201, r.text
        alloc = r.json()
        assert alloc["owner"] == "acme"
        shown = c.get(f"/v1/allocations/{alloc['uuid']}").json()
        assert shown["state"] in ("allocating", "active")
        assert c.get("/v1/allocations/candidates", params={"resource_class": "gold"}).status_code == 403
    with client(auth_service, OTHER_MEMBER) as c:
        r = post_allocation(c, {"resource_class": "gold", "owner": "acme"})
        assert r.status_code == 403 and "project acme" in fault(r)["faultstring"]
        r = c.get("/v1/allocations", params={"owner": "acme"})
        assert r.status_code == 403 and "disallowed by policy" in fault(r)["faultstring"]
        assert c.get(f"/v1/allocations/{alloc['uuid']}").status_code == 404
        assert c.get("/v1/allocations").json()["allocations"] == []
        assert c.delete(f"/v1/allocations/{alloc['uuid']}").status_code == 404
    assert [a["uuid"] for a in admin.get("/v1/allocations").json()["allocations"]] == [alloc["uuid"]]
