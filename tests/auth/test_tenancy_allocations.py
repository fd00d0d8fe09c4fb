"""Allocations stay inside the caller's project (issue 12), through HTTP as real users of two projects: a
backfill, a candidate list or a ``?node=`` filter naming another project's node is answered exactly like a
node that does not exist, before anything about it is checked or told; the "what is free" answer counts only
nodes the project could get; and a project holds at most its cap of nodes."""

from __future__ import annotations

import dataclasses
import threading

import httpx
import pytest

from tests.api.helpers import fault, post_allocation
from tests.auth.conftest import MEMBER, OTHER_MEMBER, client
from tests.auth.helpers import make_node
from tests.conductor.helpers import move

MISSING = "00000000-0000-4000-8000-000000000000"


def _same_answer(foreign: httpx.Response, missing: httpx.Response, foreign_name: str, missing_name: str) -> None:
    """A foreign node is answered exactly like a missing one: same status, same message with the name."""
    assert foreign.status_code == missing.status_code, (foreign.text, missing.text)
    assert fault(foreign)["faultstring"] == fault(missing)["faultstring"].replace(missing_name, foreign_name)


def _active(admin: httpx.Client, **fields) -> dict:
    node = make_node(admin, resource_class="gold", **fields)
    body = move(admin, node["uuid"], "active")
    assert body["provision_state"] == "active", body
    return body


def test_backfill_of_a_foreign_node_is_not_found_and_changes_nothing(auth_service, admin):
    evil_active = _active(admin, owner="evil", name="evil-active")
    evil_idle = make_node(admin, owner="evil", name="evil-idle", resource_class="gold")
    mine = _active(admin, owner="acme", name="acme-active")
    with client(auth_service, MEMBER) as c:
        for node in (evil_active, evil_idle):
            for ident, missing in ((node["uuid"], MISSING), (node["name"], "no-such-node")):
                for extra in ({}, {"resource_class": "silver"}, {"traits": ["CUSTOM_X"]}):
                    foreign = post_allocation(c, {"node": ident, **extra})
                    _same_answer(foreign, post_allocation(c, {"node": missing, **extra}), ident, missing)
                    told = fault(foreign)["faultstring"].replace(ident, "<node>")
                    assert told == "Node <node> could not be found.", told
        # a foreign node among the candidates of a backfill is as unknown as a missing one
        foreign = post_allocation(c, {"node": "acme-active", "candidate_nodes": ["evil-idle"]})
        missing = post_allocation(c, {"node": "acme-active", "candidate_nodes": ["no-such-node"]})
        _same_answer(foreign, missing, "evil-idle", "no-such-node")
        # its own deployed node it may backfill
        r = post_allocation(c, {"node": "acme-active"})
        assert r.status_code == 201 and r.json()["node_uuid"] == mine["uuid"] and r.json()["owner"] == "acme"
    after = admin.get(f"/v1/nodes/{evil_active['uuid']}").json()
    assert after["instance_uuid"] == evil_active["instance_uuid"] and after["allocation_uuid"] is None
    assert [a["node_uuid"] for a in admin.get("/v1/allocations").json()["allocations"]] == [mine["uuid"]]


def test_an_instance_uuid_in_use_on_a_foreign_node_does_not_name_the_node(auth_service, admin):
    taken = "7b7f7b7f-0000-4000-8000-000000000001"
    evil = make_node(admin, owner="evil", instance_uuid=taken, resource_class="gold")
    make_node(admin, owner="acme", resource_class="gold")
    with client(auth_service, MEMBER) as c:
        r = post_allocation(c, {"resource_class": "gold", "uuid": taken})
        assert r.status_code == 409, r.text
        assert evil["uuid"] not in r.text and "another node" in fault(r)["faultstring"]
    r = post_allocation(admin, {"resource_class": "gold", "uuid": taken})
    assert r.status_code == 409 and evil["uuid"] in fault(r)["faultstring"]


@pytest.fixture
def two_projects(auth_service, admin):
    """acme's and evil's node, each with a portgroup and a port."""
    out = {}
    for i, project in enumerate(("acme", "evil")):
        node = make_node(admin, owner=project, name=f"{project}-node")
        pg = admin.post("/v1/portgroups", json={"node_uuid": node["uuid"], "name": f"pg-{project}"}).json()
        port = admin.post(
            "/v1/ports",
            json={"node_uuid": node["uuid"], "address": f"52:54:00:00:13:0{i}", "portgroup_uuid": pg["uuid"]},
        ).json()
        out[project] = {"node": node, "pg": pg, "port": port}
    return out


def test_node_filters_answer_a_foreign_node_like_a_missing_one(auth_service, admin, two_projects):
    evil = two_projects["evil"]
    acme = two_projects["acme"]
    with client(auth_service, MEMBER) as c:
        for path, param, foreign, missing in (
            ("/v1/ports", "node", evil["node"]["uuid"], MISSING),
            ("/v1/ports", "node", "evil-node", "no-such-node"),
            ("/v1/ports", "node_uuid", evil["node"]["uuid"], MISSING),
            ("/v1/ports/detail", "node", "evil-node", "no-such-node"),
            ("/v1/ports", "portgroup", evil["pg"]["uuid"], MISSING),
            ("/v1/ports", "portgroup", "pg-evil", "no-such-pg"),
            ("/v1/portgroups", "node", evil["node"]["uuid"], MISSING),
            ("/v1/portgroups/detail", "node", "evil-node", "no-such-node"),
            ("/v1/allocations", "node", evil["node"]["uuid"], MISSING),
            ("/v1/allocations", "node", "evil-node", "no-such-node"),
        ):
            got = c.get(path, params={param: foreign})
            assert got.status_code in (400, 404), (path, param, got.text)
            _same_answer(got, c.get(path, params={param: missing}), foreign, missing)
        # the project's own node still filters
        assert [p["uuid"] for p in c.get("/v1/ports", params={"node": "acme-node"}).json()["ports"]] == [
            acme["port"]["uuid"]
        ]
        assert [p["uuid"] for p in c.get("/v1/ports", params={"portgroup": "pg-acme"}).json()["ports"]] == [
            acme["port"]["uuid"]
        ]
        pgs = c.get("/v1/portgroups", params={"node": acme["node"]["uuid"]}).json()["portgroups"]
        assert [p["uuid"] for p in pgs] == [acme["pg"]["uuid"]]
        assert c.get("/v1/allocations", params={"node": "acme-node"}).json()["allocations"] == []
    # a node of nobody's that the project's allocation holds filters its allocations too
    make_node(admin, name="nobodys", resource_class="bronze")
    with client(auth_service, MEMBER) as c:
        mine = post_allocation(c, {"resource_class": "bronze"}).json()
        assert mine["state"] == "active", mine
        held = c.get("/v1/allocations", params={"node": "nobodys"}).json()["allocations"]
        assert [a["uuid"] for a in held] == [mine["uuid"]]
    with client(auth_service, OTHER_MEMBER) as c:
        got = c.get("/v1/allocations", params={"node": "nobodys"})
        _same_answer(got, c.get("/v1/allocations", params={"node": "no-such-node"}), "nobodys", "no-such-node")


def test_a_project_never_gets_or_hears_of_nodes_leased_to_another(auth_service, admin):
    small = {"cpus": 8, "memory_mb": 1024, "local_gb": 10}
    make_node(admin, owner="acme", name="acme-8", resource_class="gold", properties=small)
    make_node(admin, owner="evil", name="evil-32", resource_class="gold", properties={**small, "cpus": 32})
    # no owner, but leased to evil: evil's, not a free-for-all
    leased = make_node(admin, lessee="evil", name="leased-64", resource_class="gold", properties={**small, "cpus": 64})
    make_node(admin, name="nobodys-4", resource_class="gold", properties={**small, "cpus": 4})
    make_node(admin, lessee="evil", name="leased-silver", resource_class="silver")
    r = admin.post("/v1/flavors", json={"name": "bm.16", "resource_class": "gold", "cpus": 16, "exact_match": True})
    assert r.status_code == 201, r.text
    with client(auth_service, MEMBER) as c:
        r = post_allocation(c, {"flavor": "bm.16"})
        assert r.status_code == 409, r.text
        message = fault(r)["faultstring"]
        assert "cpus=8" in message and "cpus=4" in message, message
        assert "cpus=32" not in message and "cpus=64" not in message, message
        r = post_allocation(c, {"resource_class": "silver"})
        assert r.status_code == 201 and r.json()["state"] == "error" and r.json()["node_uuid"] is None, r.text
        assert c.get("/v1/allocations/candidates", params={"resource_class": "gold"}).status_code == 403
    assert admin.get(f"/v1/nodes/{leased['uuid']}").json()["instance_uuid"] is None
    with client(auth_service, OTHER_MEMBER) as c:
        r = post_allocation(c, {"resource_class": "silver"})
        assert r.status_code == 201 and r.json()["state"] == "active", r.text


def _cap(auth_service, monkeypatch, cap: int) -> None:
    settings = dataclasses.replace(auth_service.services.settings, max_allocations_per_project=cap)
    monkeypatch.setattr(auth_service.services, "settings", settings)


def test_a_project_holds_at_most_its_cap_of_nodes(auth_service, admin, monkeypatch):
    for i in range(4):
        make_node(admin, owner="acme", name=f"acme-{i}", resource_class="gold")
    make_node(admin, owner="evil", name="evil-0", resource_class="gold")
    _cap(auth_service, monkeypatch, 2)
    with client(auth_service, MEMBER) as c:
        # an allocation that failed holds no node and does not count
        failed = post_allocation(c, {"resource_class": "platinum"})
        assert failed.status_code == 201 and failed.json()["state"] == "error", failed.text
        first = [post_allocation(c, {"resource_class": "gold"}).json() for _ in range(2)]
        assert [a["state"] for a in first] == ["active", "active"]
        r = post_allocation(c, {"resource_class": "gold"})
        assert r.status_code == 409, r.text
        assert "max_allocations" in fault(r)["faultstring"] and "acme" in fault(r)["faultstring"]
        assert len(c.get("/v1/allocations").json()["allocations"]) == 3
        assert c.delete(f"/v1/allocations/{first[0]['uuid']}").status_code == 204
        assert post_allocation(c, {"resource_class": "gold"}).json()["state"] == "active"
    # the cap is per project: evil is not affected; the operator is never capped
    with client(auth_service, OTHER_MEMBER) as c:
        assert post_allocation(c, {"resource_class": "gold"}).json()["state"] == "active"
    r = post_allocation(admin, {"resource_class": "gold", "owner": "acme"})
    assert r.status_code == 201 and r.json()["state"] == "active", r.text

    # a project's own cap overrides the setting (0: unlimited); the operator's allocation counts too
    r = admin.put("/v1/projects/acme", json={"isolated": False, "max_allocations": 3})
    assert r.status_code == 201 and r.json()["max_allocations"] == 3, r.text
    with client(auth_service, MEMBER) as c:
        r = post_allocation(c, {"resource_class": "gold"})
        assert r.status_code == 409 and "holds 3 node(s)" in fault(r)["faultstring"], r.text
        assert admin.put("/v1/projects/acme", json={"isolated": False, "max_allocations": 0}).status_code == 200
        assert post_allocation(c, {"resource_class": "gold"}).json()["state"] == "active"
    assert admin.put("/v1/projects/acme", json={"isolated": False, "max_allocations": -1}).status_code == 400


def test_parallel_requests_cannot_pass_the_cap_together(auth_service, admin, monkeypatch):
    for i in range(8):
        make_node(admin, owner="acme", name=f"acme-{i}", resource_class="gold")
    r = admin.put("/v1/projects/acme", json={"isolated": False, "max_allocations": 3})
    assert r.status_code == 201, r.text
    _cap(auth_service, monkeypatch, 0)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        with client(auth_service, MEMBER) as c:
            barrier.wait()
            r = post_allocation(c, {"resource_class": "gold"})
            # refused at once (409), or answered allocating and refused by the claim's own count (error)
            if r.status_code == 201 and r.json()["state"] == "error":
                assert "max_allocations" in r.json()["last_error"], r.text
                statuses.append(409)
            else:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * 3 + [409] * 5
    held = [a for a in admin.get("/v1/allocations").json()["allocations"] if a["node_uuid"]]
    assert len(held) == 3


def test_servers_count_against_the_cap(auth_service, admin):
    from tests.instances.helpers import server_node, world

    world(admin)
    for i in range(3):
        server_node(admin, f"acme-{i}", f"52:54:00:00:14:0{i}", owner="acme")
    assert admin.put("/v1/projects/acme", json={"isolated": False, "max_allocations": 1}).status_code == 201
    body = {"flavor": "small", "image": "debian-12", "networks": ["web"]}
    with client(auth_service, MEMBER) as c:
        assert c.post("/v1/instances", json={"name": "web-1", **body}).status_code == 202
        r = c.post("/v1/instances", json={"name": "web-2", **body})
        assert r.status_code == 409 and "max_allocations" in fault(r)["faultstring"], r.text
        assert [i["name"] for i in c.get("/v1/instances").json()["instances"]] == ["web-1"]
        r = post_allocation(c, {"resource_class": "gold"})
        assert r.status_code == 409, r.text
