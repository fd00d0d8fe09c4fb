"""/v1/portgroups through HTTP: create, show, list (filters, pagination), patch, delete and version gates."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import fault, make_node, snapshot
from tests.api.test_ports import make_pg, make_port, set_node


def test_create_defaults_and_show_by_name(api):
    node = make_node(api)
    r = api.post("/v1/portgroups", json={"node_uuid": node["uuid"], "name": "bond0", "address": "52-54-00-AA-00-01"})
    assert r.status_code == 201, r.text
    pg = r.json()
    assert r.headers["Location"].endswith(f"/v1/portgroups/{pg['uuid']}")
    assert pg["address"] == "52:54:00:aa:00:01" and pg["name"] == "bond0" and pg["node_uuid"] == node["uuid"]
    assert pg["mode"] == "active-backup" and pg["properties"] == {} and pg["standalone_ports_supported"] is True
    assert pg["extra"] == {} and pg["internal_info"] == {} and pg["created_at"]
    assert pg["ports"][0]["href"].endswith(f"/v1/portgroups/{pg['uuid']}/ports")
    assert api.get("/v1/portgroups/bond0").json() == pg
    assert api.get(f"/v1/portgroups/{pg['uuid']}").json() == pg
    assert api.get("/v1/portgroups/bond0", params={"fields": "name,mode"}).json() == {
        "name": "bond0",
        "mode": "active-backup",
        "links": pg["links"],
    }


@pytest.mark.parametrize("mode", ["802.3ad", "balance-rr", "4", "0"])
def test_bond_modes_and_properties(api, mode):
    node = make_node(api)
    props = {"miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast"}
    pg = make_pg(api, node, mode=mode, properties=props, standalone_ports_supported="false")
    assert pg["mode"] == mode and pg["properties"] == props and pg["standalone_ports_supported"] is False


def test_version_gates(service, api):
    node = make_node(api)
    pg = make_pg(api, node, name="bond0", mode="802.3ad")
    with service.client("1.22") as old:
        for method, path in (
            ("GET", "/v1/portgroups"),
            ("GET", "/v1/portgroups/detail"),
            ("GET", f"/v1/portgroups/{pg['uuid']}"),
            ("POST", "/v1/portgroups"),
            ("DELETE", f"/v1/portgroups/{pg['uuid']}"),
        ):
            r = old.request(method, path, json={"node_uuid": node["uuid"]} if method == "POST" else None)
            assert r.status_code == 404, (method, path, r.text)
            fault(r)
    with service.client("1.23") as v23:
        assert v23.get(f"/v1/nodes/{node['uuid']}/portgroups").status_code == 404
        assert v23.get(f"/v1/portgroups/{pg['uuid']}/ports").status_code == 404
        shown = v23.get(f"/v1/portgroups/{pg['uuid']}").json()
        assert "mode" not in shown and "properties" not in shown and shown["name"] == "bond0"
        before = snapshot(api)
        r = v23.post("/v1/portgroups", json={"node_uuid": node["uuid"], "mode": "802.3ad"})
        assert r.status_code == 406
        fault(r)
        r = v23.patch(f"/v1/portgroups/{pg['uuid']}", json=[{"op": "replace", "path": "/mode", "value": "4"}])
        assert r.status_code == 406
        assert v23.get("/v1/portgroups", params={"fields": "mode"}).status_code == 406
        assert snapshot(api) == before
        # without mode at 1.23 the configured default applies
        created = v23.post("/v1/portgroups", json={"node_uuid": node["uuid"]})
        assert created.status_code == 201
        assert api.get(f"/v1/portgroups/{created.json()['uuid']}").json()["mode"] == "active-backup"
    with service.client("1.24") as v24:
        assert v24.get(f"/v1/nodes/{node['uuid']}/portgroups").status_code == 200


def test_list_filters_and_pagination(api):
    one, two = make_node(api, name="one"), make_node(api, name="two")
    created = [make_pg(api, one, name=f"bond{i}", address=f"52:54:00:00:00:{i:02x}")["uuid"] for i in range(5)]
    theirs = make_pg(api, two, name="other")
    for path in (
        "/v1/portgroups?node=one",
        "/v1/portgroups/detail?node=one",
        "/v1/nodes/one/portgroups",
        "/v1/nodes/one/portgroups/detail",
    ):
        seen, url = [], path + ("&" if "?" in path else "?") + "limit=2"
        while url:
            body = api.get(url).json()
            seen += [p["uuid"] for p in body["portgroups"]]
            url = body.get("next")
        assert seen == created, path
    everything = api.get("/v1/portgroups", params={"sort_key": "name", "sort_dir": "desc"}).json()["portgroups"]
    assert [p["name"] for p in everything] == ["other", "bond4", "bond3", "bond2", "bond1", "bond0"]
    assert set(everything[0]) == {"uuid", "address", "name", "links"}
    assert [
        p["uuid"] for p in api.get("/v1/portgroups", params={"address": "52-54-00-00-00-03"}).json()["portgroups"]
    ] == [created[3]]
    assert [p["uuid"] for p in api.get("/v1/nodes/two/portgroups").json()["portgroups"]] == [theirs["uuid"]]
    for params, status in [
        ({"node": "nobody"}, 404),
        ({"address": "nope"}, 400),
        ({"marker": "x"}, 400),
        ({"sort_key": "properties"}, 400),
        ({"shoe": "1"}, 400),
    ]:
        r = api.get("/v1/portgroups", params=params)
        assert r.status_code == status, (params, r.text)
        fault(r)


def test_patch_and_delete(service, api):
    node, other = make_node(api), make_node(api)
    pg = make_pg(api, node, name="bond0", properties={"miimon": 100})
    url = f"/v1/portgroups/{pg['uuid']}"
    r = api.patch(
        url,
        json=[
            {"op": "replace", "path": "/name", "value": "bond1"},
            {"op": "replace", "path": "/mode", "value": "802.3ad"},
            {"op": "add", "path": "/properties/lacp_rate", "value": "fast"},
            {"op": "add", "path": "/address", "value": "52:54:00:00:00:AA"},
            {"op": "add", "path": "/extra/a", "value": 1},
        ],
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["name"] == "bond1" and patched["mode"] == "802.3ad" and patched["address"] == "52:54:00:00:00:aa"
    assert patched["properties"] == {"miimon": 100, "lacp_rate": "fast"} and patched["extra"] == {"a": 1}
    assert api.get("/v1/portgroups/bond1").json() == patched
    # move to another node while empty
    moved = api.patch(url, json=[{"op": "replace", "path": "/node_uuid", "value": other["uuid"]}])
    assert moved.status_code == 200 and moved.json()["node_uuid"] == other["uuid"]
    port = make_port(api, other, "52:54:00:00:00:01", portgroup_uuid=pg["uuid"])
    before = snapshot(api)
    for patch, status in [
        ([{"op": "replace", "path": "/node_uuid", "value": node["uuid"]}], 400),  # not empty
        ([{"op": "replace", "path": "/standalone_ports_supported", "value": False}], 409),  # pxe member
        ([{"op": "remove", "path": "/mode"}], 400),
    ]:
        r = api.patch(url, json=patch)
        assert r.status_code == status, (patch, r.text)
        fault(r)
    r = api.delete(url)
    assert r.status_code == 400 and "contains ports" in fault(r)["faultstring"]
    assert snapshot(api) == before
    set_node(service, other, reservation=service.settings.conductor_name)  # (a stranger's lock is broken by recovery)
    r = api.patch(url, json=[{"op": "add", "path": "/extra/b", "value": 2}])
    assert r.status_code == 409 and "locked" in fault(r)["faultstring"]
    set_node(service, other, reservation=None)
    assert api.delete(f"/v1/ports/{port['uuid']}").status_code == 204
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_move_refused_on_an_active_node(service, api):
    node, other = make_node(api), make_node(api)
    pg = make_pg(api, node)
    set_node(service, node, provision_state="active")
    before = snapshot(api)
    r = api.patch(
        f"/v1/portgroups/{pg['uuid']}", json=[{"op": "replace", "path": "/node_uuid", "value": other["uuid"]}]
    )
    assert r.status_code == 409
    fault(r)
    assert snapshot(api) == before


CREATE_CASES = [
    ("not json", b"{name", 400),
    ("array body", b"[1]", 400),
    ("missing node", {"name": "x"}, 400),
    ("unknown node", {"node_uuid": str(uuid.uuid4())}, 400),
    ("node not a uuid", {"node_uuid": "n1"}, 400),
    ("node wrong type", {"node_uuid": None}, 400),
    ("unknown field", {"node_uuid": "{node}", "ports": []}, 400),
    ("read-only internal_info", {"node_uuid": "{node}", "internal_info": {}}, 400),
    ("name with space", {"node_uuid": "{node}", "name": "bond 0"}, 400),
    ("name too long", {"node_uuid": "{node}", "name": "b" * 256}, 400),
    ("name like a uuid", {"node_uuid": "{node}", "name": str(uuid.uuid4())}, 400),
    ("name wrong type", {"node_uuid": "{node}", "name": 5}, 400),
    ("duplicate name", {"node_uuid": "{node}", "name": "taken"}, 409),
    ("invalid mac", {"node_uuid": "{node}", "address": "52:54:00"}, 400),
    ("duplicate mac", {"node_uuid": "{node}", "address": "52:54:00:00:00:01"}, 409),
    ("duplicate uuid", {"node_uuid": "{node}", "uuid": "{pg}"}, 409),
    ("invalid uuid", {"node_uuid": "{node}", "uuid": "abc"}, 400),
    ("unknown mode", {"node_uuid": "{node}", "mode": "round-robin"}, 400),
    ("mode number out of range", {"node_uuid": "{node}", "mode": "7"}, 400),
    ("mode wrong type", {"node_uuid": "{node}", "mode": 4}, 400),
    ("properties not object", {"node_uuid": "{node}", "properties": ["miimon"]}, 400),
    ("extra not object", {"node_uuid": "{node}", "extra": 1}, 400),
    ("standalone not bool", {"node_uuid": "{node}", "standalone_ports_supported": "sometimes"}, 400),
]


@pytest.fixture
def inventory(api):
    node = make_node(api)
    pg = make_pg(api, node, name="taken", address="52:54:00:00:00:01")
    make_pg(api, node, name="second", address="52:54:00:00:00:02")
    return {"node": node["uuid"], "pg": pg["uuid"]}


def _fill(value, ids):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value.format(**ids) if isinstance(value, str) else value


@pytest.mark.parametrize(("label", "body", "status"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_refused(api, inventory, label, body, status):
    before = snapshot(api)
    if isinstance(body, bytes):
        r = api.post("/v1/portgroups", content=body, headers={"Content-Type": "application/json"})
    else:
        r = api.post("/v1/portgroups", json=_fill(body, inventory))
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


PATCH_CASES = [
    ("not a list", {"op": "add"}, 400),
    ("internal field", [{"op": "replace", "path": "/internal_info", "value": {}}], 400),
    ("unknown root", [{"op": "add", "path": "/colour", "value": 1}], 400),
    ("invalid name", [{"op": "replace", "path": "/name", "value": "a b"}], 400),
    ("duplicate name", [{"op": "replace", "path": "/name", "value": "second"}], 409),
    ("duplicate mac", [{"op": "replace", "path": "/address", "value": "52:54:00:00:00:02"}], 409),
    ("invalid mac", [{"op": "replace", "path": "/address", "value": "1"}], 400),
    ("invalid mode", [{"op": "replace", "path": "/mode", "value": "fastest"}], 400),
    ("remove node", [{"op": "remove", "path": "/node_uuid"}], 400),
    ("unknown node", [{"op": "replace", "path": "/node_uuid", "value": str(uuid.uuid4())}], 400),
    ("properties list", [{"op": "replace", "path": "/properties", "value": []}], 400),
]


@pytest.mark.parametrize(("label", "patch", "status"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_refused(api, inventory, label, patch, status):
    before = snapshot(api)
    r = api.patch(f"/v1/portgroups/{inventory['pg']}", json=patch)
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


def test_bad_identifiers(api, inventory):
    before = snapshot(api)
    for method, path, status in [
        ("GET", "/v1/portgroups/bad%20name", 400),
        ("GET", "/v1/portgroups/missing", 404),
        ("DELETE", f"/v1/portgroups/{uuid.uuid4()}", 404),
        ("GET", "/v1/portgroups/missing/ports", 404),
        ("GET", f"/v1/nodes/{uuid.uuid4()}/portgroups", 404),
    ]:
        r = api.request(method, path)
        assert r.status_code == status, (method, path, r.text)
        fault(r)
    assert snapshot(api) == before
