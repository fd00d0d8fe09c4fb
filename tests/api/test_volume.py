"""/v1/volume (API 1.32) through HTTP on SQLite and PostgreSQL: connectors and targets, their lists, filters and
pages, uniqueness, JSON Patch, Ironic's power/provision state rules, masked target properties, the node
sub-resources and the version gate. The ``openstack baremetal volume connector|target`` commands:
tests/api/test_cli_every_subcommand.py::test_volume_connectors_and_targets."""

from __future__ import annotations

import json
import uuid

import pytest

from ironworks import states
from tests.api.helpers import fault, make_node
from tests.conductor.helpers import move, settle

IQN = "iqn.2026-12.org.example:node-1"
PROPS = {
    "target_iqn": "iqn.2026-12.org.example:vol",
    "auth_method": "CHAP",
    "auth_username": "chap-user",
    "auth_password": "chap-secret-7x",
}


def _node(api, name=None, *, power_off=True):
    node = make_node(api, **({"name": name} if name else {}))
    if power_off:
        r = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power off"})
        assert r.status_code == 202, r.text
        assert settle(api, node["uuid"])["power_state"] == states.POWER_OFF
    return node


def _connector(api, node, connector_id=IQN, type_="iqn", **more):
    r = api.post(
        "/v1/volume/connectors", json={"node_uuid": node["uuid"], "type": type_, "connector_id": connector_id, **more}
    )
    assert r.status_code == 201, r.text
    return r.json()


def _target(api, node, boot_index=0, **more):
    body = {
        "node_uuid": node["uuid"],
        "volume_type": "iscsi",
        "boot_index": boot_index,
        "volume_id": str(uuid.uuid4()),
        **more,
    }
    r = api.post("/v1/volume/targets", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_version_gate_and_links(service, api):
    node = _node(api, "n1", power_off=False)
    with service.client("1.31") as c:
        for method, path in (
            ("GET", "/v1/volume"),
            ("GET", "/v1/volume/connectors"),
            ("POST", "/v1/volume/targets"),
            ("GET", "/v1/nodes/n1/volume"),
            ("GET", "/v1/nodes/n1/volume/targets"),
        ):
            r = c.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 404, (method, path, r.text)
            fault(r)
        assert "volume" not in c.get("/v1/").json()
        assert "volume" not in c.get("/v1/nodes/n1").json()
    with service.client("1.32") as c:
        assert c.get("/v1/").json()["volume"][0]["href"] == f"{service.url}/v1/volume/"
        assert c.get("/v1/nodes/n1").json()["volume"][0]["href"] == f"{service.url}/v1/nodes/{node['uuid']}/volume"
        root = c.get("/v1/volume").json()
        assert root["connectors"] == [
            {"href": f"{service.url}/v1/volume/connectors", "rel": "self"},
            {"href": f"{service.url}/volume/connectors", "rel": "bookmark"},
        ]
        assert root["targets"][0]["href"] == f"{service.url}/v1/volume/targets"
        assert root["links"][0]["href"] == f"{service.url}/v1/volume/"
        sub = c.get("/v1/nodes/n1/volume").json()
        assert sub["connectors"][0]["href"] == f"{service.url}/v1/nodes/n1/volume/connectors"


def test_connector_crud_lists_and_patch(service, api):
    node = _node(api, "n1")
    other = _node(api, "n2")
    given = str(uuid.uuid4())
    r = api.post(
        "/v1/volume/connectors",
        json={"uuid": given, "node_uuid": node["uuid"], "type": "iqn", "connector_id": IQN, "extra": {"rack": 4}},
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{service.url}/v1/volume/connectors/{given}"
    created = r.json()
    assert set(created) == {"uuid", "node_uuid", "type", "connector_id", "extra", "created_at", "updated_at", "links"}
    assert created["node_uuid"] == node["uuid"] and created["extra"] == {"rack": 4}
    assert api.get(f"/v1/volume/connectors/{given}").json() == created
    wwpn = _connector(api, other, "50:01:43:80:12:34:56:78", "wwpn")
    listed = api.get("/v1/volume/connectors").json()["connectors"]
    assert [set(c) for c in listed] == [{"uuid", "node_uuid", "type", "connector_id", "links"}] * 2
    detail = api.get("/v1/volume/connectors", params={"detail": "true"}).json()["connectors"]
    assert detail[0] == created
    only = api.get("/v1/volume/connectors", params={"fields": "uuid,type"}).json()["connectors"]
    assert [set(c) for c in only] == [{"uuid", "type", "links"}] * 2
    for params in ({"node": "n2"}, {"node": other["uuid"]}):
        assert [c["uuid"] for c in api.get("/v1/volume/connectors", params=params).json()["connectors"]] == [
            wwpn["uuid"]
        ]
    assert [c["uuid"] for c in api.get("/v1/nodes/n1/volume/connectors").json()["connectors"]] == [given]
    page = api.get("/v1/volume/connectors", params={"limit": 1, "sort_key": "connector_id", "sort_dir": "desc"})
    assert [c["uuid"] for c in page.json()["connectors"]] == [given]  # "iqn…" sorts after "50:…"
    assert "marker=" in page.json()["next"] and "/v1/volume/connectors?" in page.json()["next"]
    assert [c["uuid"] for c in api.get(page.json()["next"]).json()["connectors"]] == [wwpn["uuid"]]
    # PATCH: a node powered off may change; the connector may move to a node with the same owner
    r = api.patch(
        f"/v1/volume/connectors/{given}",
        json=[
            {"op": "replace", "path": "/connector_id", "value": "iqn.2026-12.org.example:renamed"},
            {"op": "add", "path": "/extra/row", "value": "b"},
            {"op": "replace", "path": "/node_uuid", "value": other["uuid"]},
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["connector_id"].endswith("renamed") and r.json()["extra"] == {"rack": 4, "row": "b"}
    assert r.json()["node_uuid"] == other["uuid"] and r.json()["updated_at"] is not None
    r = api.patch(f"/v1/volume/connectors/{given}", json=[{"op": "remove", "path": "/extra"}])
    assert r.status_code == 200 and r.json()["extra"] == {}
    assert api.delete(f"/v1/volume/connectors/{given}").status_code == 204
    r = api.get(f"/v1/volume/connectors/{given}")
    assert r.status_code == 404 and fault(r)["faultstring"] == f"Volume connector {given} could not be found."


def test_target_crud_and_masked_properties(service, api):
    node = _node(api, "n1")
    created = _target(api, node, properties=PROPS, extra={"k": "v"})
    assert created["properties"]["auth_password"] == "******"
    assert created["properties"]["target_iqn"] == PROPS["target_iqn"]
    assert set(created) == {
        "uuid",
        "node_uuid",
        "volume_type",
        "properties",
        "boot_index",
        "volume_id",
        "extra",
        "created_at",
        "updated_at",
        "links",
    }
    shown = api.get(f"/v1/volume/targets/{created['uuid']}").json()
    assert shown == created
    second = _target(api, node, boot_index=1)
    listed = api.get("/v1/nodes/n1/volume/targets").json()["targets"]
    assert [set(t) for t in listed] == [{"uuid", "node_uuid", "volume_type", "boot_index", "volume_id", "links"}] * 2
    by_index = api.get("/v1/volume/targets", params={"sort_key": "boot_index", "sort_dir": "desc"}).json()
    assert [t["boot_index"] for t in by_index["targets"]] == [1, 0]
    r = api.patch(
        f"/v1/volume/targets/{created['uuid']}",
        json=[
            {"op": "add", "path": "/properties/auth_password", "value": "rotated-secret-9"},
            {"op": "replace", "path": "/volume_type", "value": "fibre_channel"},
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["volume_type"] == "fibre_channel" and r.json()["properties"]["auth_password"] == "******"
    texts = [
        api.get("/v1/volume/targets", params={"detail": "true"}).text,
        api.get(f"/v1/volume/targets/{created['uuid']}").text,
        r.text,
        json.dumps(created),
    ]
    assert not any(secret in t for t in texts for secret in ("chap-secret-7x", "rotated-secret-9"))
    r = api.patch(f"/v1/volume/targets/{second['uuid']}", json=[{"op": "replace", "path": "/boot_index", "value": 0}])
    assert r.status_code == 409, r.text
    assert fault(r)["faultstring"] == "A volume target with boot index '0' for the same node already exists."
    assert api.delete(f"/v1/volume/targets/{second['uuid']}").status_code == 204
    assert [t["uuid"] for t in api.get("/v1/volume/targets").json()["targets"]] == [created["uuid"]]


def test_uniqueness(api):
    node, other = _node(api, "n1"), _node(api, "n2")
    first = _connector(api, node)
    r = api.post("/v1/volume/connectors", json={"node_uuid": other["uuid"], "type": "iqn", "connector_id": IQN})
    assert r.status_code == 409, r.text
    assert fault(r)["faultstring"] == f"A volume connector with type iqn and connector ID {IQN} already exists."
    _connector(api, other, IQN, "ip")  # the same id under another type is another connector
    r = api.post(
        "/v1/volume/connectors",
        json={"uuid": first["uuid"], "node_uuid": node["uuid"], "type": "mac", "connector_id": "52:54:00:00:00:01"},
    )
    assert r.status_code == 409 and "already exists" in fault(r)["faultstring"]
    _target(api, node, 0)
    r = api.post(
        "/v1/volume/targets",
        json={"node_uuid": node["uuid"], "volume_type": "iscsi", "boot_index": 0, "volume_id": "vol-2"},
    )
    assert r.status_code == 409, r.text
    _target(api, other, 0)  # boot index 0 on another node


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("connectors", {"type": "iqn", "connector_id": IQN}, 400),  # node_uuid missing
        ("connectors", {"node_uuid": "NODE", "connector_id": IQN}, 400),  # type missing
        ("connectors", {"node_uuid": "NODE", "type": "iqn", "connector_id": 5}, 400),
        ("connectors", {"node_uuid": "NODE", "type": "x" * 33, "connector_id": IQN}, 400),
        ("connectors", {"node_uuid": "NODE", "type": "iqn", "connector_id": IQN, "bogus": 1}, 400),
        ("connectors", {"node_uuid": "NODE", "type": "iqn", "connector_id": IQN, "extra": []}, 400),
        ("connectors", {"node_uuid": "n1", "type": "iqn", "connector_id": IQN}, 400),  # a name, not a UUID
        ("connectors", {"node_uuid": "NODE", "type": "iqn", "connector_id": IQN, "uuid": "nope"}, 400),
        ("connectors", [], 400),
        ("targets", {"node_uuid": "NODE", "volume_type": "iscsi", "volume_id": "v"}, 400),  # boot_index missing
        ("targets", {"node_uuid": "NODE", "volume_type": "iscsi", "volume_id": "v", "boot_index": "0"}, 400),
        ("targets", {"node_uuid": "NODE", "volume_type": "iscsi", "volume_id": "v", "boot_index": True}, 400),
        ("targets", {"node_uuid": "NODE", "volume_type": "iscsi", "volume_id": "v", "boot_index": 2**40}, 400),
        ("targets", {"node_uuid": "NODE", "volume_type": "iscsi", "volume_id": "v" * 37, "boot_index": 0}, 400),
        (
            "targets",
            {"node_uuid": "NODE", "volume_type": "iscsi", "volume_id": "v", "boot_index": 0, "properties": "x"},
            400,
        ),
    ],
)
def test_bad_create_bodies(api, path, body, status):
    node = make_node(api, name="n1")
    if isinstance(body, dict) and body.get("node_uuid") == "NODE":
        body = dict(body, node_uuid=node["uuid"])
    r = api.post(f"/v1/volume/{path}", json=body)
    assert r.status_code == status, r.text
    fault(r)
    assert api.get(f"/v1/volume/{path}").json()[path] == []


def test_missing_node_and_bad_queries(api):
    missing = str(uuid.uuid4())
    r = api.post("/v1/volume/connectors", json={"node_uuid": missing, "type": "iqn", "connector_id": IQN})
    assert r.status_code == 400
    assert fault(r)["faultstring"].startswith(f"Invalid input for field/attribute node_uuid. Value: '{missing}'.")
    for params, status in (
        ({"sort_key": "extra"}, 400),
        ({"sort_key": "nope"}, 400),
        ({"limit": "0"}, 400),
        ({"fields": "uuid", "detail": "true"}, 400),
        ({"fields": "bogus"}, 400),
        ({"node": missing}, 404),
        ({"marker": missing}, 404),
        ({"marker": "x"}, 400),
        ({"bogus": "1"}, 400),
        ({"detail": "maybe"}, 400),
    ):
        r = api.get("/v1/volume/connectors", params=params)
        assert r.status_code == status, (params, r.text)
        fault(r)
    assert api.get("/v1/volume/targets", params={"sort_key": "properties"}).status_code == 400
    assert api.get("/v1/volume/targets/not-a-uuid").status_code == 404


def test_bad_patches(api):
    node = _node(api, "n1")
    conn = _connector(api, node)
    tgt = _target(api, node)
    for base, patch in (
        (f"/v1/volume/connectors/{conn['uuid']}", [{"op": "replace", "path": "/uuid", "value": str(uuid.uuid4())}]),
        (f"/v1/volume/connectors/{conn['uuid']}", [{"op": "add", "path": "/bogus", "value": 1}]),
        (f"/v1/volume/connectors/{conn['uuid']}", [{"op": "replace", "path": "/node_uuid", "value": "n1"}]),
        (f"/v1/volume/connectors/{conn['uuid']}", [{"op": "remove", "path": "/type"}]),
        (
            f"/v1/volume/connectors/{conn['uuid']}",
            [{"op": "replace", "path": "/node_uuid", "value": str(uuid.uuid4())}],
        ),
        (f"/v1/volume/targets/{tgt['uuid']}", [{"op": "replace", "path": "/boot_index", "value": "1"}]),
        (f"/v1/volume/targets/{tgt['uuid']}", [{"op": "remove", "path": "/volume_id"}]),
        (f"/v1/volume/targets/{tgt['uuid']}", {"op": "remove", "path": "/extra"}),
    ):
        r = api.patch(base, json=patch)
        assert r.status_code == 400, (patch, r.text)
        fault(r)
    assert api.get(f"/v1/volume/connectors/{conn['uuid']}").json() == conn
    assert api.get(f"/v1/volume/targets/{tgt['uuid']}").json() == tgt


def test_power_and_state_rules(service, api):
    node = _node(api, "n1", power_off=False)  # fake-hardware starts with no known power state
    conn = _connector(api, node)  # creating needs no state (as Ironic)
    tgt = _target(api, node)
    r = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
    assert r.status_code == 202
    settle(api, node["uuid"])
    patch = [{"op": "add", "path": "/extra/a", "value": 1}]
    for kind, obj in (("connector", conn), ("target", tgt)):
        r = api.patch(f"/v1/volume/{kind}s/{obj['uuid']}", json=patch)
        assert r.status_code == 400, r.text
        assert fault(r)["faultstring"] == (
            f'The requested action "volume {kind} update" can not be performed on '
            f'node "{node["uuid"]}" while it is in state "power on".'
        )
    # deleting: refused while powered on outside enroll/manageable/adopt failed
    move(api, node["uuid"], "manage")
    move(api, node["uuid"], "provide")
    r = api.delete(f"/v1/volume/targets/{tgt['uuid']}")
    assert r.status_code == 400, r.text
    assert "volume target deletion" in fault(r)["faultstring"]
    move(api, node["uuid"], "manage")
    assert api.delete(f"/v1/volume/targets/{tgt['uuid']}").status_code == 204
    # a locked node refuses changes (409)
    with service.services.db.write() as session:
        from sqlalchemy import text

        session.execute(text("UPDATE nodes SET reservation = 'other-conductor' WHERE uuid = :u"), {"u": node["uuid"]})
    r = api.delete(f"/v1/volume/connectors/{conn['uuid']}")
    assert r.status_code == 409, r.text
    assert "locked" in fault(r)["faultstring"]
    with service.services.db.write() as session:
        session.execute(text("UPDATE nodes SET reservation = NULL WHERE uuid = :u"), {"u": node["uuid"]})
    assert api.delete(f"/v1/volume/connectors/{conn['uuid']}").status_code == 204


def test_node_subresource_is_list_only_and_node_delete_takes_them(api):
    node = _node(api, "n1")
    conn = _connector(api, node)
    _target(api, node)
    for method, path in (
        ("GET", f"/v1/nodes/n1/volume/connectors/{conn['uuid']}"),
        ("PATCH", f"/v1/nodes/n1/volume/connectors/{conn['uuid']}"),
        ("POST", "/v1/nodes/n1/volume/connectors"),
    ):
        r = api.request(method, path, json=[] if method == "PATCH" else {})
        assert r.status_code == 400, (method, path, r.text)
        assert fault(r)["faultstring"] == "Malformed request URI."
    assert api.get(f"/v1/nodes/{uuid.uuid4()}/volume/connectors").status_code == 404
    assert api.delete("/v1/nodes/n1").status_code == 204
    assert api.get("/v1/volume/connectors").json()["connectors"] == []
    assert api.get("/v1/volume/targets").json()["targets"] == []
