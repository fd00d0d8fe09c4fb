"""Allocations through the HTTP API, as Ironic shows them: claim, release, backfill, versions, bad input.

Every test runs on SQLite and on PostgreSQL (the ``service`` fixture).
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import fault, post_allocation
from tests.conductor.helpers import move, settle
from tests.scheduler.helpers import available_node, wait_state

FIELDS = {
    "candidate_nodes",
    "created_at",
    "extra",
    "last_error",
    "name",
    "node_uuid",
    "owner",
    "resource_class",
    "state",
    "traits",
    "updated_at",
    "uuid",
    "links",
}


def test_allocation_claims_a_node_and_release_frees_it(api):
    node = available_node(api, name="gold-1", resource_class="gold", traits=("CUSTOM_FAST",))
    available_node(api, name="silver-1", resource_class="silver")
    r = post_allocation(
        api, {"resource_class": "gold", "traits": ["CUSTOM_FAST"], "name": "web-1", "extra": {"ticket": "T-1"}}
    )
    assert r.status_code == 201, r.text
    alloc = r.json()
    assert set(alloc) == FIELDS
    assert r.headers["Location"].endswith(f"/v1/allocations/{alloc['uuid']}")
    assert wait_state(api, alloc["uuid"])["state"] == "active"
    assert alloc["node_uuid"] == node["uuid"] and alloc["resource_class"] == "gold"
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["allocation_uuid"] == alloc["uuid"] and shown["instance_uuid"] == alloc["uuid"]
    assert shown["instance_info"]["traits"] == ["CUSTOM_FAST"]
    # found by uuid, by name, through the node, and in lists filtered as Ironic filters them
    assert api.get("/v1/allocations/web-1").json()["uuid"] == alloc["uuid"]
    assert api.get(f"/v1/nodes/{node['uuid']}/allocation").json()["uuid"] == alloc["uuid"]
    listed = api.get("/v1/allocations", params={"node": "gold-1", "state": "active"}).json()["allocations"]
    assert [a["uuid"] for a in listed] == [alloc["uuid"]]
    assert api.get("/v1/allocations", params={"resource_class": "silver"}).json()["allocations"] == []
    fields = api.get(f"/v1/allocations/{alloc['uuid']}", params={"fields": "uuid,state"}).json()
    assert set(fields) == {"uuid", "state", "links"}

    r = api.delete("/v1/allocations/web-1")
    assert r.status_code == 204, r.text
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["allocation_uuid"] is None and shown["instance_uuid"] is None
    assert api.get(f"/v1/allocations/{alloc['uuid']}").status_code == 404
    assert fault(api.get(f"/v1/nodes/{node['uuid']}/allocation"))["faultstring"].startswith("Allocation for node")


def test_no_matching_node_ends_in_error_with_last_error(api):
    available_node(api, resource_class="gold")
    r = post_allocation(api, {"resource_class": "platinum"})
    assert r.status_code == 201, r.text
    body = wait_state(api, r.json()["uuid"])
    assert body["state"] == "error" and body["node_uuid"] is None
    assert "no available nodes match the resource class platinum" in body["last_error"]
    r = post_allocation(api, {"resource_class": "gold", "traits": ["CUSTOM_MISSING"]})
    assert wait_state(api, r.json()["uuid"])["state"] == "error"


def test_candidate_nodes_restrict_the_choice_and_names_are_resolved(api):
    available_node(api, name="a", resource_class="gold")
    b = available_node(api, name="b", resource_class="gold")
    r = post_allocation(api, {"resource_class": "gold", "candidate_nodes": ["b"]})
    assert r.status_code == 201, r.text
    assert r.json()["node_uuid"] == b["uuid"] and r.json()["candidate_nodes"] == [b["uuid"]]
    r = post_allocation(api, {"resource_class": "gold", "candidate_nodes": ["b"]})
    assert r.json()["state"] == "error"
    assert "none of the requested nodes" in r.json()["last_error"]
    r = post_allocation(api, {"resource_class": "gold", "candidate_nodes": ["nope"]})
    assert r.status_code == 400 and "nope" in fault(r)["faultstring"]


def test_node_named_like_the_allocation_is_preferred(api):
    for name in ("rack1-a", "rack1-b", "rack1-c"):
        available_node(api, name=name, resource_class="gold")
    r = post_allocation(api, {"resource_class": "gold", "name": "rack1-c"})
    assert api.get(f"/v1/nodes/{r.json()['node_uuid']}").json()["name"] == "rack1-c"


def test_patch_name_and_extra_from_1_57(service, api):
    available_node(api, resource_class="gold")
    alloc = post_allocation(api, {"resource_class": "gold", "name": "x"}).json()
    ops = [{"op": "replace", "path": "/name", "value": "y"}, {"op": "add", "path": "/extra/k", "value": "v"}]
    with service.client("1.56") as old:
        assert old.patch(f"/v1/allocations/{alloc['uuid']}", json=ops).status_code == 405
    r = api.patch(f"/v1/allocations/{alloc['uuid']}", json=ops)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "y" and r.json()["extra"] == {"k": "v"}
    for bad in (
        [{"op": "replace", "path": "/resource_class", "value": "x"}],
        [{"op": "replace", "path": "/name", "value": "not a name"}],
    ):
        r = api.patch(f"/v1/allocations/{alloc['uuid']}", json=bad)
        assert r.status_code == 400, r.text
    assert api.get(f"/v1/allocations/{alloc['uuid']}").json()["name"] == "y"


def test_versions_gate_the_api_as_in_ironic(service, api):
    available_node(api, resource_class="gold")
    alloc = post_allocation(api, {"resource_class": "gold", "owner": "p1"}).json()
    with service.client("1.51") as old:
        assert old.get("/v1/allocations").status_code == 404
        assert old.get(f"/v1/allocations/{alloc['uuid']}").status_code == 404
        assert post_allocation(old, {"resource_class": "gold"}).status_code == 405
        assert old.delete(f"/v1/allocations/{alloc['uuid']}").status_code == 405
        assert "allocation_uuid" not in old.get(f"/v1/nodes/{alloc['node_uuid']}").json()
    with service.client("1.59") as v59:
        assert "owner" not in v59.get(f"/v1/allocations/{alloc['uuid']}").json()
        assert v59.get("/v1/allocations", params={"owner": "p1"}).status_code == 406
        assert v59.get("/v1/allocations", params={"fields": "owner"}).status_code == 406
    with service.client("1.57") as v57:
        r = post_allocation(v57, {"node": alloc["node_uuid"]})
        assert r.status_code == 400 and "node" in fault(r)["faultstring"]
    assert api.get(f"/v1/allocations/{alloc['uuid']}").json()["owner"] == "p1"
    assert [a["owner"] for a in api.get("/v1/allocations", params={"owner": "p1"}).json()["allocations"]] == ["p1"]


@pytest.mark.parametrize(
    "body, needle",
    [
        ({}, "resource_class field is mandatory"),
        ({"resource_class": "gold", "bogus": 1}, "bogus"),
        ({"resource_class": "gold", "traits": ["lowercase"]}, "trait"),
        ({"resource_class": "gold", "traits": "CUSTOM_A"}, "traits"),
        ({"resource_class": "gold", "name": "has space"}, "invalid name"),
        ({"resource_class": "gold", "name": "candidates"}, "invalid name"),
        ({"resource_class": "gold", "uuid": "not-a-uuid"}, "UUID"),
        ({"resource_class": "x" * 81}, "resource_class"),
        ({"resource_class": "gold", "flavor": "no-such-flavor"}, "no-such-flavor"),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(api, body, needle):
    available_node(api, resource_class="gold")
    r = post_allocation(api, body)
    assert r.status_code == 400, r.text
    assert needle in fault(r)["faultstring"]
    assert api.get("/v1/allocations").json()["allocations"] == []
    assert api.get("/v1/nodes", params={"associated": "true"}).json()["nodes"] == []


def test_duplicate_name_or_uuid_is_a_409(api):
    available_node(api, resource_class="gold")
    available_node(api, resource_class="gold")
    first = post_allocation(api, {"resource_class": "gold", "name": "dup"}).json()
    r = post_allocation(api, {"resource_class": "gold", "name": "dup"})
    assert r.status_code == 409, r.text
    r = post_allocation(api, {"resource_class": "gold", "uuid": first["uuid"]})
    assert r.status_code == 409, r.text
    assert len(api.get("/v1/allocations").json()["allocations"]) == 1
    assert len(api.get("/v1/nodes", params={"associated": "true"}).json()["nodes"]) == 1


def _deploy(api: httpx.Client, **fields) -> dict:
    node = available_node(api, **fields)
    r = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "active"})
    assert r.status_code == 202, r.text
    body = settle(api, node["uuid"], timeout=30)
    assert body["provision_state"] == "active", body
    return body


def test_backfill_an_allocation_for_a_deployed_node(api):
    node = _deploy(api, resource_class="gold", instance_uuid="0f2f3b0e-1111-4aaa-8bbb-123456789abc")
    r = post_allocation(api, {"node": node["name"] or node["uuid"], "name": "backfilled"})
    assert r.status_code == 201, r.text
    alloc = r.json()
    assert alloc["state"] == "active" and alloc["node_uuid"] == node["uuid"]
    assert alloc["uuid"] == node["instance_uuid"] and alloc["resource_class"] == "gold"
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["allocation_uuid"] == alloc["uuid"]
    # an active node keeps its allocation unless in maintenance, as in Ironic
    r = api.delete(f"/v1/allocations/{alloc['uuid']}")
    assert r.status_code == 409 and "active" in fault(r)["faultstring"]
    assert api.put(f"/v1/nodes/{node['uuid']}/maintenance").status_code == 202
    assert api.delete(f"/v1/nodes/{node['uuid']}/allocation").status_code == 204
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["instance_uuid"] is None


def test_backfill_refuses_a_node_that_is_not_deployed_or_does_not_fit(api):
    idle = available_node(api, resource_class="gold")
    r = post_allocation(api, {"node": idle["uuid"]})
    assert r.status_code == 400 and '"active" state' in fault(r)["faultstring"]
    deployed = _deploy(api, resource_class="gold")
    r = post_allocation(api, {"node": deployed["uuid"], "resource_class": "silver"})
    assert r.status_code == 400 and "silver" in fault(r)["faultstring"]
    assert post_allocation(api, {"node": "no-such-node"}).status_code == 404
    assert api.get("/v1/allocations").json()["allocations"] == []


def test_undeploy_and_instance_uuid_removal_release_the_allocation(api):
    node = available_node(api, resource_class="gold")
    alloc = post_allocation(api, {"resource_class": "gold"}).json()
    assert alloc["node_uuid"] == node["uuid"]
    r = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "active"})
    assert r.status_code == 202, r.text
    assert settle(api, node["uuid"], timeout=30)["instance_uuid"] == alloc["uuid"]
    body = move(api, node["uuid"], "deleted")
    assert body["provision_state"] == "available" and body["instance_uuid"] is None
    assert body["allocation_uuid"] is None
    assert api.get(f"/v1/allocations/{alloc['uuid']}").status_code == 404

    again = post_allocation(api, {"resource_class": "gold"}).json()
    assert again["node_uuid"] == node["uuid"]
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/instance_uuid"}])
    assert r.status_code == 200, r.text
    assert r.json()["allocation_uuid"] is None
    assert api.get(f"/v1/allocations/{again['uuid']}").status_code == 404


def test_deleting_a_node_in_maintenance_deletes_its_allocation(api):
    node = available_node(api, resource_class="gold")
    alloc = post_allocation(api, {"resource_class": "gold"}).json()
    r = api.delete(f"/v1/nodes/{node['uuid']}")
    assert r.status_code == 409, r.text
    assert api.put(f"/v1/nodes/{node['uuid']}/maintenance").status_code == 202
    assert api.delete(f"/v1/nodes/{node['uuid']}").status_code == 204
    assert api.get(f"/v1/allocations/{alloc['uuid']}").status_code == 404
