"""/v1/chassis through HTTP: create, show, list, patch, delete and the nodes of a chassis."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import fault, make_node, snapshot


def make_chassis(api, **fields):
    r = api.post("/v1/chassis", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_show_patch_delete(api):
    given = str(uuid.uuid4())
    r = api.post("/v1/chassis", json={"uuid": given, "description": "rack 7", "extra": {"row": "b"}})
    assert r.status_code == 201, r.text
    chassis = r.json()
    assert chassis["uuid"] == given and chassis["description"] == "rack 7" and chassis["extra"] == {"row": "b"}
    assert r.headers["Location"].endswith(f"/v1/chassis/{given}")
    assert chassis["nodes"][0]["href"].endswith(f"/v1/chassis/{given}/nodes")
    assert api.get(f"/v1/chassis/{given}").json() == chassis
    assert api.get(f"/v1/chassis/{given}", params={"fields": "description"}).json() == {
        "description": "rack 7",
        "links": chassis["links"],
    }
    r = api.patch(
        f"/v1/chassis/{given}",
        json=[
            {"op": "replace", "path": "/description", "value": "rack 8"},
            {"op": "add", "path": "/extra/col", "value": 3},
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "rack 8" and r.json()["extra"] == {"row": "b", "col": 3}
    cleared = api.patch(f"/v1/chassis/{given}", json=[{"op": "remove", "path": "/description"}]).json()
    assert cleared["description"] is None
    assert api.delete(f"/v1/chassis/{given}").status_code == 204
    r = api.get(f"/v1/chassis/{given}")
    assert r.status_code == 404
    fault(r)


def test_list_pagination_and_detail(api):
    created = [make_chassis(api, description=f"c{i}")["uuid"] for i in range(5)]
    for path in ("/v1/chassis?limit=2", "/v1/chassis/detail?limit=2"):
        seen, url = [], path
        while url:
            body = api.get(url).json()
            seen += [c["uuid"] for c in body["chassis"]]
            url = body.get("next")
        assert seen == created, path
    plain = api.get("/v1/chassis").json()["chassis"][0]
    assert set(plain) == {"uuid", "description", "links"}
    detailed = api.get("/v1/chassis/detail").json()["chassis"][0]
    assert "extra" in detailed and "nodes" in detailed
    desc = api.get("/v1/chassis", params={"sort_key": "description", "sort_dir": "desc"}).json()["chassis"]
    assert [c["description"] for c in desc] == ["c4", "c3", "c2", "c1", "c0"]


def test_nodes_of_a_chassis_and_delete_refused(api):
    chassis = make_chassis(api)
    other = make_chassis(api)
    inside = [make_node(api, name=f"in{i}", chassis_uuid=chassis["uuid"])["uuid"] for i in range(3)]
    make_node(api, name="outside")
    seen, url = [], f"/v1/chassis/{chassis['uuid']}/nodes?limit=2"
    while url:
        body = api.get(url).json()
        seen += [n["uuid"] for n in body["nodes"]]
        url = body.get("next")
    assert seen == inside
    detail = api.get(f"/v1/chassis/{chassis['uuid']}/nodes/detail").json()["nodes"]
    assert {n["chassis_uuid"] for n in detail} == {chassis["uuid"]} and len(detail) == 3
    assert api.get(f"/v1/chassis/{other['uuid']}/nodes").json()["nodes"] == []
    r = api.get(f"/v1/chassis/{uuid.uuid4()}/nodes")
    assert r.status_code == 404
    fault(r)
    before = snapshot(api)
    r = api.delete(f"/v1/chassis/{chassis['uuid']}")
    assert r.status_code == 400 and "contains nodes" in fault(r)["faultstring"]
    assert snapshot(api) == before


CREATE_CASES = [
    ("not json", b"{", 400),
    ("array body", b"[]", 400),
    ("unknown field", {"name": "c"}, 400),
    ("read-only nodes", {"nodes": []}, 400),
    ("description too long", {"description": "d" * 256}, 400),
    ("description wrong type", {"description": 5}, 400),
    ("extra not object", {"extra": "x"}, 400),
    ("invalid uuid", {"uuid": "chassis-1"}, 400),
    ("duplicate uuid", {"uuid": "{chassis}"}, 409),
]


@pytest.fixture
def existing(api):
    return make_chassis(api, description="existing")["uuid"]


@pytest.mark.parametrize(("label", "body", "status"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_refused(api, existing, label, body, status):
    before = snapshot(api)
    if isinstance(body, bytes):
        r = api.post("/v1/chassis", content=body, headers={"Content-Type": "application/json"})
    else:
        body = {k: (v.format(chassis=existing) if isinstance(v, str) else v) for k, v in body.items()}
        r = api.post("/v1/chassis", json=body)
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


PATCH_CASES = [
    ("not a list", {"op": "add"}, 400),
    ("uuid", [{"op": "replace", "path": "/uuid", "value": str(uuid.uuid4())}], 400),
    ("unknown root", [{"op": "add", "path": "/name", "value": "x"}], 400),
    ("description too long", [{"op": "replace", "path": "/description", "value": "d" * 256}], 400),
    ("extra list", [{"op": "replace", "path": "/extra", "value": [1]}], 400),
    ("missing member", [{"op": "remove", "path": "/extra/none"}], 400),
]


@pytest.mark.parametrize(("label", "patch", "status"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_refused(api, existing, label, patch, status):
    before = snapshot(api)
    r = api.patch(f"/v1/chassis/{existing}", json=patch)
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


def test_bad_identifiers_and_params(api, existing):
    before = snapshot(api)
    for method, path, status in [
        ("GET", "/v1/chassis/rack-1", 400),
        ("GET", f"/v1/chassis/{uuid.uuid4()}", 404),
        ("DELETE", f"/v1/chassis/{uuid.uuid4()}", 404),
        ("DELETE", "/v1/chassis/x", 400),
        ("GET", "/v1/chassis?sort_key=extra", 400),
        ("GET", "/v1/chassis?limit=-1", 400),
        ("GET", "/v1/chassis?fields=name", 400),
        ("GET", f"/v1/chassis/{existing}/nodes?chassis_uuid={uuid.uuid4()}", 400),
    ]:
        r = api.request(method, path)
        assert r.status_code == status, (method, path, r.text)
        fault(r)
    assert snapshot(api) == before
