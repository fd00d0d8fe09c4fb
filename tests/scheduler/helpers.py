"""Nodes for scheduling tests: made available through the HTTP API, or many at once through the repository."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ironworks import states
from ironworks.identifiers import new_uuid
from tests.conductor.helpers import move


def available_node(api: httpx.Client, *, traits: tuple[str, ...] = (), **fields: Any) -> dict[str, Any]:
    """Enroll a fake-hardware node with ``fields``, give it ``traits``, then manage and provide it."""
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", **fields})
    assert r.status_code == 201, r.text
    uuid = r.json()["uuid"]
    if traits:
        r = api.put(f"/v1/nodes/{uuid}/traits", json={"traits": list(traits)})
        assert r.status_code == 204, r.text
    move(api, uuid, "manage")
    body = move(api, uuid, "provide")
    assert body["provision_state"] == "available", body
    return body


def bulk_available(
    services: Any, count: int, *, prefix: str = "bulk", traits: tuple[str, ...] = (), **fields: Any
) -> list[str]:
    """``count`` available nodes written straight through the node repository (setup speed for races)."""
    uuids = []
    for i in range(count):
        values = {
            "uuid": new_uuid(),
            "name": f"{prefix}-{i}",
            "driver": "fake-hardware",
            "provision_state": states.AVAILABLE,
            "power_state": states.POWER_OFF,
            "conductor_group": "",
            **fields,
        }
        values.update(services.drivers.resolve_interfaces("fake-hardware", {}))
        uuids.append(services.nodes.create(values, traits)["uuid"])
    return uuids


def wait_state(api: httpx.Client, allocation: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll an allocation until it leaves ``allocating`` (what openstacksdk's wait_for_allocation does)."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/v1/allocations/{allocation}").json()
        if body["state"] != "allocating" or time.monotonic() > deadline:
            return body
        time.sleep(0.05)
