"""Endpoints and behaviours of API 1.66–1.115 at their version boundary, and the answer envelope (request ids,
version headers, unprefixed paths) Ironic gives on every answer. SQLite and PostgreSQL (``service``)."""

from __future__ import annotations

import re

import pytest

from ironworks.db.repos import agent_commands
from ironworks.db.repos.history import HistoryRepo
from tests.api.helpers import fault, make_node

MAC = "52:54:00:aa:bb:01"


def _store_inventory(service, node_uuid: str) -> None:
    node = service.services.nodes.get(node_uuid)
    with service.services.db.write() as session:
        agent_commands.store_inventory(session, node["id"], {"interfaces": [{"mac_address": MAC}]}, {"x": 1})


@pytest.mark.parametrize(("path", "since"), [
    ("/v1/nodes/n1/history", 78),
    ("/v1/nodes/n1/inventory", 81),
    ("/v1/nodes/n1/children", 83),
])
def test_node_subresource_boundary(service, api, path, since):
    node = make_node(api, name="n1")
    _store_inventory(service, node["uuid"])
    with service.client(f"1.{since - 1}") as c:
        r = c.get(path)
        assert r.status_code == 404, r.text
        fault(r)
    with service.client(f"1.{since}") as c:
        r = c.get(path)
        assert r.status_code == 200, r.text
    if path.endswith("inventory"):
        assert r.json() == {"inventory": {"interfaces": [{"mac_address": MAC}]}, "plugin_data": {"x": 1}}


def test_history_fields_by_version(service, api):
    node = make_node(api, name="n1")
    HistoryRepo(service.services.db).record(service.services.nodes.get(node["uuid"])["id"], "x" * 300, "deploy")
    with service.client("1.78") as c:
        plain = c.get("/v1/nodes/n1/history").json()["history"][0]
        assert plain["event"] == "x" * 251 + "..."  # Ironic shortens long events in a plain list
        assert set(plain) == {"uuid", "created_at", "severity", "event", "links"}
        assert plain["links"] == [{"href": f"{service.url}/v1/nodes/{node['uuid']}/history/{plain['uuid']}",
                                   "rel": "self"}]
        one = c.get(f"/v1/nodes/n1/history/{plain['uuid']}").json()
        assert {"event_type", "conductor", "user"} <= set(one) and "project" not in one and "state" not in one
    with service.client("1.113") as c:
        one = c.get("/v1/nodes/n1/history", params={"detail": "true"}).json()["history"][0]
        assert "project" in one and "duration_seconds" not in one
    with service.client("1.115") as c:
        one = c.get("/v1/nodes/n1/history", params={"detail": "true"}).json()["history"][0]
        assert {"project", "state", "target_provision_state", "duration_seconds"} <= set(one)


def test_driver_fields_boundary(service):
    with service.client("1.76") as c:
        r = c.get("/v1/drivers", params={"fields": "name"})
        assert r.status_code == 406, r.text
        fault(r)
        assert c.get("/v1/drivers/fake-hardware", params={"fields": "name"}).status_code == 406
    with service.client("1.77") as c:
        r = c.get("/v1/drivers/fake-hardware", params={"fields": "name,default_power_interface"})
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"name", "default_power_interface", "links"}
        drivers = c.get("/v1/drivers", params={"fields": "name"}).json()["drivers"]
        assert all(set(d) == {"name", "links"} for d in drivers)
        assert c.get("/v1/drivers", params={"fields": "nope"}).status_code == 400
        assert c.get("/v1/drivers", params={"fields": "name", "detail": "true"}).status_code == 400
    with service.client("1.85") as c:
        assert "default_firmware_interface" not in c.get("/v1/drivers/fake-hardware").json()
    with service.client("1.86") as c:
        assert c.get("/v1/drivers/fake-hardware").json()["default_firmware_interface"]


@pytest.mark.parametrize(("field", "value", "since"), [("name", "eth0", 88), ("description", "uplink", 97)])
def test_port_field_boundary(service, api, field, value, since):
    node = make_node(api)
    with service.client(f"1.{since - 1}") as old, service.client(f"1.{since}") as new:
        body = {"node_uuid": node["uuid"], "address": MAC, field: value}
        r = old.post("/v1/ports", json=body)
        assert r.status_code == 406, r.text
        fault(r)
        r = new.post("/v1/ports", json=body)
        assert r.status_code == 201, r.text
        port = r.json()
        assert port[field] == value
        assert field not in old.get(f"/v1/ports/{port['uuid']}").json()
        assert old.get("/v1/ports", params={"fields": f"uuid,{field}"}).status_code == 406
        assert new.get("/v1/ports", params={"fields": f"uuid,{field}"}).json()["ports"][0][field] == value


def test_ports_by_name_from_1_88(service, api):
    node = make_node(api)
    port = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": MAC, "name": "eth0"}).json()
    with service.client("1.87") as c:
        assert c.get("/v1/ports/eth0").status_code == 400  # a UUID is required below 1.88
    with service.client("1.88") as c:
        assert c.get("/v1/ports/eth0").json()["uuid"] == port["uuid"]
        r = c.patch("/v1/ports/eth0", json=[{"op": "add", "path": "/extra/a", "value": 1}])
        assert r.status_code == 200 and r.json()["extra"] == {"a": 1}
        assert c.delete("/v1/ports/eth0").status_code == 400  # Ironic: DELETE takes a UUID only
        assert c.get("/v1/ports/eth1").status_code == 404


def test_v1_document_lists_resources_by_version(service):
    with service.client("1.51") as c:
        body = c.get("/v1/").json()
        assert "allocations" not in body and "lookup" in body and "portgroups" in body
        assert body["media_types"] == {"base": "application/json",
                                       "type": "application/vnd.openstack.ironic.v1+json"}
    with service.client("1.52") as c:
        assert "allocations" in c.get("/v1/").json()


REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200), ("GET", "/v1/nodes", 200), ("GET", "/v1/nope", 404),
    ("GET", "/v1/nodes/7a9a2b1e-0c4e-4b57-9d8e-3f2f5e0d1c11", 404),
    ("POST", "/v1/drivers", 405), ("GET", "/nothing/here", 404),
])
def test_every_answer_has_request_id_and_version_headers(service, method, path, status):
    with service.client("1.1") as c:
        r = c.request(method, path)
    assert r.status_code == status, r.text
    assert REQUEST_ID.match(r.headers["X-OpenStack-Request-Id"]), r.headers
    assert r.headers["OpenStack-Request-Id"] == r.headers["X-OpenStack-Request-Id"]
    assert r.headers["X-OpenStack-Ironic-API-Minimum-Version"] == "1.1"
    assert r.headers["X-OpenStack-Ironic-API-Maximum-Version"] == "1.115"


def test_request_ids_differ_and_an_inbound_one_is_not_echoed(service):
    with service.client("1.1", headers={"X-OpenStack-Request-Id": "req-00000000-0000-0000-0000-000000000000"}) as c:
        ids = {c.get("/v1/nodes").headers["X-OpenStack-Request-Id"] for _ in range(3)}
    assert len(ids) == 3 and "req-00000000-0000-0000-0000-000000000000" not in ids


def test_root_answer_carries_the_negotiated_version(service):
    with service.client("1.80") as c:
        r = c.get("/")
    assert r.headers["X-OpenStack-Ironic-API-Version"] == "1.80"
    with service.client("1.200") as c:
        assert c.get("/").status_code == 406


def test_paths_without_v1_are_v1(service, api):
    node = make_node(api, name="n1")
    bookmark = next(link["href"] for link in node["links"] if link["rel"] == "bookmark")
    assert bookmark == f"{service.url}/nodes/{node['uuid']}"
    r = api.get(bookmark)
    assert r.status_code == 200 and r.json()["uuid"] == node["uuid"]
    assert api.get("/nodes").json()["nodes"][0]["uuid"] == node["uuid"]
    r = api.patch("/nodes/n1", json=[{"op": "add", "path": "/extra/a", "value": 1}])
    assert r.status_code == 200 and r.json()["extra"] == {"a": 1}
    assert api.get("/drivers").status_code == 200
    r = api.get("/nope")
    assert r.status_code == 404
    fault(r)


def test_shards_boundary(service, api):
    for name, shard in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("none", None)):
        make_node(api, name=name, shard=shard)
    with service.client("1.81") as c:
        r = c.get("/v1/shards")
        assert r.status_code == 404, r.text
        fault(r)
        assert "shards" not in c.get("/v1/").json()
    with service.client("1.82") as c:
        r = c.get("/v1/shards")
        assert r.status_code == 200, r.text
        shards = r.json()["shards"]
        assert shards[0] == {"name": "a", "count": 2}
        assert sorted(shards[1:], key=lambda s: s["name"]) == [{"name": "None", "count": 1},
                                                              {"name": "b", "count": 1}]
        assert c.get("/v1/shards/a").status_code == 404
        assert c.get("/v1/shards", params={"x": 1}).status_code == 400
        assert "shards" in c.get("/v1/").json()


def test_history_sorts_by_created_at_both_ways(service, api):
    node_id = service.services.nodes.get(make_node(api, name="n1")["uuid"])["id"]
    for event in ("first", "second", "third"):
        HistoryRepo(service.services.db).record(node_id, event, "deploy")
    newest = api.get("/v1/nodes/n1/history", params={"sort_key": "created_at", "sort_dir": "desc", "limit": 2}).json()
    assert [h["event"] for h in newest["history"]] == ["third", "second"]
    rest = api.get(newest["next"]).json()
    assert [h["event"] for h in rest["history"]] == ["first"]
    assert api.get("/v1/nodes/n1/history", params={"sort_key": "severity"}).status_code == 400
