"""Indicators (``/v1/nodes/{node}/management/indicators``, API 1.63; not version-gated, as Ironic's code) with
fake-hardware through HTTP, SQLite and PostgreSQL. The state set is kept per node in driver_internal_info."""

from __future__ import annotations

from tests.api.helpers import fault, make_node


def test_list_get_and_set(service, api):
    node = make_node(api, name="ind1")
    base = f"/v1/nodes/{node['uuid']}/management/indicators"
    listed = {i["name"]: i for i in api.get("/v1/nodes/ind1/management/indicators").json()["indicators"]}
    assert set(listed) == {"led@system", "led-0@chassis"}
    assert listed["led@system"]["component"] == "system" and listed["led@system"]["readonly"] is False
    assert listed["led@system"]["states"] == ["BLINKING", "OFF", "ON"]
    assert listed["led-0@chassis"]["readonly"] is True
    assert listed["led@system"]["links"][0]["href"].endswith("/v1/nodes/ind1/management/indicators/led@system")
    assert api.get(f"{base}/led@system").json() == {"state": "OFF"}
    r = api.put(f"{base}/led@system", json={"state": "BLINKING"})
    assert r.status_code == 204, r.text
    assert api.get(f"{base}/led@system").json() == {"state": "BLINKING"}
    assert api.put(f"{base}/led@system?state=ON").status_code == 204  # the query form
    with service.client("1.1") as c:  # as Ironic's code: no version check
        assert c.get(f"{base}/led@system").json() == {"state": "ON"}
    other = make_node(api)
    assert api.get(f"/v1/nodes/{other['uuid']}/management/indicators/led@system").json() == {"state": "OFF"}


def test_bad_requests_are_400_and_change_nothing(service, api):
    node = make_node(api)
    base = f"/v1/nodes/{node['uuid']}/management/indicators"
    for method, path, body in (
        ("GET", f"{base}/no-at-sign", None),
        ("PUT", f"{base}/no-at-sign", {"state": "ON"}),
        ("PUT", f"{base}/led@system", {}),
        ("PUT", f"{base}/led@system", {"state": "PURPLE"}),
        ("PUT", f"{base}/led@system", {"state": 1}),
        ("PUT", f"{base}/led@system", {"state": "ON", "colour": "red"}),
        ("PUT", f"{base}/led-0@chassis", {"state": "ON"}),
        ("PUT", f"{base}/led@disk", {"state": "ON"}),
        ("GET", f"{base}/nope@system", None),
    ):
        r = api.request(method, path, json=body)
        assert r.status_code == 400, (method, path, body, r.text)
        fault(r)
    assert api.get(f"{base}/led@system").json() == {"state": "OFF"}
    assert api.get("/v1/nodes/nope/management/indicators").status_code == 404


def test_locked_node_is_409_and_real_drivers_validate(service, api):
    node = make_node(api)
    # held under the running conductor's own name: a lock of an unknown conductor would be broken as stale by
    # the conductor's recovery, racing this test
    holder = service.services.conductor.name
    service.services.nodes.update(node["uuid"], lambda current: {"reservation": holder})
    r = api.put(f"/v1/nodes/{node['uuid']}/management/indicators/led@system", json={"state": "ON"})
    assert r.status_code == 409, r.text
    service.services.nodes.update(node["uuid"], lambda current: {"reservation": None})
    assert api.get(f"/v1/nodes/{node['uuid']}/management/indicators/led@system").json() == {"state": "OFF"}
    ipmi = make_node(api, driver="ipmi")
    r = api.get(f"/v1/nodes/{ipmi['uuid']}/management/indicators")
    assert r.status_code == 400, r.text
    fault(r)
