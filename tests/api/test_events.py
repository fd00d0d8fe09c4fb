"""``POST /v1/events`` (API 1.54): Ironic's network event body validated as its schema (400), 404 below 1.54,
204; an event whose MAC is a port's lands in that node's history. SQLite and PostgreSQL (``service``)."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, make_node

PORT_ID = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
DEVICE = "6d2e3f40-5b6c-4d7e-8f90-a1b2c3d4e5f6"


def _event(**over):
    event = {
        "event": "network.bind_port",
        "port_id": PORT_ID,
        "mac_address": "52:54:00:12:34:56",
        "status": "ACTIVE",
        "device_id": DEVICE,
        "binding:host_id": None,
        "binding:vnic_type": "baremetal",
    }
    event.update(over)
    return {k: v for k, v in event.items() if v is not ...}


def test_events_from_1_54_recorded_in_the_node_history(service, api):
    node = make_node(api)
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": "52:54:00:12:34:56"})
    assert r.status_code == 201, r.text
    body = {"events": [_event(), _event(event="network.unbind_port", mac_address="52:54:00:99:99:99", device_id=None)]}
    with service.client("1.53") as c:
        r = c.post("/v1/events", json=body)
        assert r.status_code == 404, r.text
        fault(r)
    with service.client("1.54") as c:
        r = c.post("/v1/events", json=body)
        assert r.status_code == 204, r.text
        assert r.content == b""
    history = api.get(f"/v1/nodes/{node['uuid']}/history", params={"detail": "true"}).json()["history"]
    assert [h["event_type"] for h in history] == ["network"]
    assert "network.bind_port" in history[0]["event"] and "52:54:00:12:34:56" in history[0]["event"]
    assert history[0]["severity"] == "INFO"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'events' must be a non-empty list"),
        ({"events": []}, "'events' must be a non-empty list"),
        ({"events": [_event()], "extra": 1}, "additional properties"),
        ({"events": ["x"]}, "must be an object"),
        ({"events": [_event(event="network.create_port")]}, "events[0].event"),
        ({"events": [_event(port_id="not-a-uuid")]}, "events[0].port_id"),
        ({"events": [_event(mac_address="52:54:00")]}, "events[0].mac_address"),
        ({"events": [_event(status=...)]}, "'status' is a required property"),
        ({"events": [_event(status=3)]}, "events[0].status"),
        ({"events": [_event(device_id="x")]}, "events[0].device_id"),
        ({"events": [_event(**{"binding:host_id": 5})]}, "events[0].binding:host_id"),
        ({"events": [_event(**{"binding:vnic_type": 5})]}, "binding:vnic_type"),
        ({"events": [_event(), _event(other=1)]}, "events[1]: additional properties"),
        ([1], "must be an object"),
    ],
)
def test_bad_bodies_are_400(service, api, body, message):
    r = api.post("/v1/events", json=body)
    assert r.status_code == 400, r.text
    assert message in fault(r)["faultstring"]


def test_not_json_is_400(service, api):
    r = api.post("/v1/events", content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    fault(r)
