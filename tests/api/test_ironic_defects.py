"""Answers that differed from Ironic's when Ironic's clients ran against Ironworks (issue 13, "Defects found"),
each as Ironic answers it (Ironic's status and, where clients match on it, its words). SQLite and PostgreSQL."""

from __future__ import annotations

from ironworks import states
from tests.api.helpers import fault, make_node, snapshot
from tests.conductor.helpers import enroll, move, provision, settle

PROTECTED = "Node {} is protected and cannot be undeployed, rebuilt or deleted"


def _active(api) -> str:
    node = enroll(api)
    for target in ("manage", "provide", "active"):
        move(api, node, target)
    return node


def test_protected_node_refusals_are_403(api):
    node = _active(api)
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/protected", "value": True}])
    assert r.status_code == 200, r.text
    for target in ("deleted", "undeploy", "rebuild"):
        r = provision(api, node, target)
        assert r.status_code == 403, (target, r.text)
        assert fault(r)["faultstring"] == PROTECTED.format(node)
    assert settle(api, node)["provision_state"] == states.ACTIVE
    api.put(f"/v1/nodes/{node}/maintenance")
    r = api.delete(f"/v1/nodes/{node}")
    assert r.status_code == 403, r.text
    assert api.get(f"/v1/nodes/{node}").status_code == 200


def test_retired_cannot_be_set_on_an_available_node(api):
    node = enroll(api)
    move(api, node, "manage")
    move(api, node, "provide")
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/retired", "value": True}])
    assert r.status_code == 409, r.text
    assert fault(r)["faultstring"] == (f"Node {node} can not have 'retired' set in provision state 'available', "
                                       "the current state is 'available'")
    move(api, node, "manage")
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/retired", "value": True}])
    assert r.status_code == 200 and r.json()["retired"] is True


def test_node_uuid_must_not_be_empty(api):
    before = snapshot(api)
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", "uuid": ""})
    assert r.status_code == 400, r.text
    fault(r)
    assert snapshot(api) == before


def test_traits_bodies_and_old_versions(service, api):
    node = make_node(api, name="n1")
    r = api.put("/v1/nodes/n1/traits/CUSTOM_A", json={})  # {} is no body, as in Ironic
    assert r.status_code == 204, r.text
    assert r.headers["Location"].endswith("/v1/nodes/n1/traits/CUSTOM_A")
    assert api.put("/v1/nodes/n1/traits/CUSTOM_B", json={"x": 1}).status_code == 400
    r = api.put("/v1/nodes/n1/traits", json={})
    assert r.status_code == 400 and "A single node trait may be added" in fault(r)["faultstring"]
    assert api.get("/v1/nodes/n1/traits").json() == {"traits": ["CUSTOM_A"]}
    with service.client("1.36") as c:
        for method, path, status in (("GET", "traits", 404), ("PUT", "traits", 405), ("DELETE", "traits", 404),
                                     ("PUT", "traits/CUSTOM_C", 405), ("DELETE", "traits/CUSTOM_A", 404)):
            r = c.request(method, f"/v1/nodes/{node['uuid']}/{path}", json={"traits": []} if method == "PUT" else None)
            assert r.status_code == status, (method, path, r.text)
            fault(r)
    assert api.get("/v1/nodes/n1/traits").json() == {"traits": ["CUSTOM_A"]}


def test_target_raid_config_cleared_with_empty_object_and_jbod_accepted(api):
    node = make_node(api, raid_interface="fake")["uuid"]
    jbod = {"logical_disks": [{"size_gb": "MAX", "raid_level": "JBOD"}]}
    r = api.put(f"/v1/nodes/{node}/states/raid", json=jbod)
    assert r.status_code == 204, r.text
    assert api.get(f"/v1/nodes/{node}").json()["target_raid_config"] == jbod
    r = api.put(f"/v1/nodes/{node}/states/raid", json={})
    assert r.status_code == 204, r.text
    assert api.get(f"/v1/nodes/{node}").json()["target_raid_config"] == {}


def test_deploy_records_image_type_and_whole_disk(api):
    node = _active(api)
    shown = api.get(f"/v1/nodes/{node}").json()
    assert shown["instance_info"]["image_type"] == "whole-disk"
    assert shown["driver_internal_info"]["is_whole_disk_image"] is True


NEUTRON_PORT = "5f0c7a52-3c1e-4f4c-9d7e-0a2b4c6d8e10"


def _node_with_ports(api, network_interface: str, macs: list[str]) -> dict:
    node = make_node(api, name="n1", network_interface=network_interface)
    for mac in macs:
        assert api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": mac}).status_code == 201
    return node


def test_plain_vif_is_recorded_on_a_free_port_with_noop(api):
    _node_with_ports(api, "noop", ["52:54:00:00:00:01"])
    r = api.post("/v1/nodes/n1/vifs", json={"id": NEUTRON_PORT})
    assert r.status_code == 204, r.text
    assert [v["id"] for v in api.get("/v1/nodes/n1/vifs").json()["vifs"]] == [NEUTRON_PORT]
    port = api.get("/v1/ports/detail").json()["ports"][0]
    assert port["internal_info"]["tenant_vif_port_id"] == NEUTRON_PORT
    r = api.post("/v1/nodes/n1/vifs", json={"id": "another-vif"})
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == "Unable to attach VIF another-vif, not enough free physical ports."
    assert api.delete("/v1/nodes/n1/vifs/never-attached").status_code == 204  # Ironic's noop detaches anything
    assert api.delete(f"/v1/nodes/n1/vifs/{NEUTRON_PORT}").status_code == 204
    assert api.get("/v1/nodes/n1/vifs").json() == {"vifs": []}
    assert "tenant_vif_port_id" not in api.get("/v1/ports/detail").json()["ports"][0]["internal_info"]


def test_plain_vif_with_flat_and_detaching_an_unattached_one(api):
    node = _node_with_ports(api, "flat", ["52:54:00:00:00:01", "52:54:00:00:00:02"])
    r = api.post("/v1/nodes/n1/vifs", json={"id": NEUTRON_PORT})
    assert r.status_code == 204, r.text
    r = api.delete("/v1/nodes/n1/vifs/never-attached")
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == (f"Unable to detach VIF never-attached from node {node['uuid']} because it "
                                       "is not attached to it.")
    r = api.post("/v1/nodes/n1/vifs", json={"id": NEUTRON_PORT})
    assert r.status_code == 409, r.text
