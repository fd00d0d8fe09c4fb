"""Tenancy: owners and lessees as in Ironic, and isolated projects that only get nodes of their own pool.

Pool of nodes: two dedicated to the isolated project ``acme`` (one it owns, one tagged ``extra.pool``), an
unowned shared node, one owned by ``beta`` and one owned by ``gamma`` but leased to ``beta``.
"""

from __future__ import annotations

from tests.api.helpers import fault, post_allocation
from tests.scheduler.helpers import available_node


def nodes(api):
    made = {
        "acme-owned": available_node(api, name="acme-owned", resource_class="std", owner="acme"),
        "acme-pool": available_node(api, name="acme-pool", resource_class="std", extra={"pool": "acme"}),
        "shared": available_node(api, name="shared", resource_class="std"),
        "beta-owned": available_node(api, name="beta-owned", resource_class="std", owner="beta"),
        "leased": available_node(api, name="leased", resource_class="std", owner="gamma", lessee="beta"),
    }
    return {name: n["uuid"] for name, n in made.items()}


def names(api, allocations):
    out = []
    for a in allocations:
        assert a["state"] in ("active", "error"), a
        out.append(api.get(f"/v1/nodes/{a['node_uuid']}").json()["name"] if a["node_uuid"] else None)
    return out


def allocate(api, **body):
    r = post_allocation(api, {"resource_class": "std", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_project_policy_api(api):
    r = api.put("/v1/projects/acme", json={"isolated": True, "description": "PCI"})
    assert r.status_code == 201, r.text
    assert r.json()["pool"] == "acme" and r.json()["isolated"] is True
    r = api.put("/v1/projects/acme", json={"isolated": True, "pool": "acme-racks"})
    assert r.status_code == 200 and r.json()["pool"] == "acme-racks"
    assert api.get("/v1/projects/acme").json()["pool"] == "acme-racks"
    assert [p["project_id"] for p in api.get("/v1/projects").json()["projects"]] == ["acme"]
    r = api.put("/v1/projects/other", json={"isolated": True, "pool": "acme-racks"})
    assert r.status_code == 409 and "acme" in fault(r)["faultstring"]
    for bad in ({"isolated": "yes"}, {"isolated": False, "pool": "x"}, {"pool": "x"}, {"isolated": True, "x": 1}):
        assert api.put("/v1/projects/other", json=bad).status_code == 400
    assert api.get("/v1/projects/other").status_code == 404
    assert api.delete("/v1/projects/acme").status_code == 204
    assert api.get("/v1/projects/acme").status_code == 404


def test_owner_gets_owned_leased_and_shared_nodes_as_in_ironic(api):
    ids = nodes(api)
    got = names(api, [allocate(api, owner="beta") for _ in range(6)])
    # beta: its own, the one leased to it and unowned ones (acme is not isolated yet); never acme's own
    assert sorted(filter(None, got)) == ["acme-pool", "beta-owned", "leased", "shared"]
    assert got.count(None) == 2
    assert api.get(f"/v1/nodes/{ids['acme-owned']}").json()["instance_uuid"] is None


def test_isolated_project_gets_only_its_pool_and_nobody_else_gets_it(api):
    ids = nodes(api)
    assert api.put("/v1/projects/acme", json={"isolated": True}).status_code == 201
    others = [allocate(api, owner="beta") for _ in range(4)] + [allocate(api) for _ in range(2)]
    taken = names(api, others)
    assert sorted(filter(None, taken)) == ["beta-owned", "leased", "shared"]
    acme = names(api, [allocate(api, owner="acme") for _ in range(3)])
    assert sorted(filter(None, acme)) == ["acme-owned", "acme-pool"] and acme.count(None) == 1
    failed = api.get("/v1/allocations", params={"owner": "acme", "state": "error"}).json()["allocations"]
    assert len(failed) == 1 and "owner" in failed[0]["last_error"]
    # every node went to exactly one tenant
    active = api.get("/v1/allocations", params={"state": "active"}).json()["allocations"]
    assert sorted(a["node_uuid"] for a in active) == sorted(ids.values())


def test_candidates_name_the_pool_and_owner_reasons(api):
    nodes(api)
    api.put("/v1/projects/acme", json={"isolated": True})
    body = api.get("/v1/allocations/candidates", params={"resource_class": "std", "owner": "beta"}).json()
    assert sorted(c["name"] for c in body["candidates"]) == ["beta-owned", "leased", "shared"]
    why = {n["name"]: n["reasons"][0]["check"] for n in body["rejected"]}
    assert why == {"acme-owned": "pool", "acme-pool": "pool"}
    body = api.get("/v1/allocations/candidates", params={"resource_class": "std", "owner": "acme"}).json()
    assert sorted(c["name"] for c in body["candidates"]) == ["acme-owned", "acme-pool"]
    body = api.get("/v1/allocations/candidates", params={"resource_class": "std", "owner": "delta"}).json()
    why = {n["name"]: n["reasons"][0]["check"] for n in body["rejected"]}
    assert why["beta-owned"] == "owner" and why["acme-owned"] == "pool"


def test_owner_of_a_node_allocated_to_a_project_cannot_change(api):
    node = available_node(api, resource_class="std", owner="p1")
    assert allocate(api, owner="p1")["node_uuid"] == node["uuid"]
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "replace", "path": "/owner", "value": "p2"}])
    assert r.status_code == 409 and "allocation with an owner" in fault(r)["faultstring"]
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["owner"] == "p1"
