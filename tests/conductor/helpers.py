"""Driving nodes through the HTTP API and waiting for them to settle."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ironworks import states

STABLE_OR_RESTING = set(states.STABLE_STATES) | set(states.FAILURE_STATES) | set(states.WAIT_STATES)


def enroll(api: httpx.Client, **driver_info: Any) -> str:
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", "driver_info": driver_info})
    assert r.status_code == 201, r.text
    return str(r.json()["uuid"])


def settle(api: httpx.Client, node: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll until the node rests: a stable, failed or wait state, no target left for stable ones, no lock."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/v1/nodes/{node}").json()
        state = body["provision_state"]
        resting = state in STABLE_OR_RESTING and (state not in states.STABLE_STATES
                                                  or body["target_provision_state"] is None)
        if resting and body.get("reservation") is None and body["target_power_state"] is None:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"node {node} did not settle: {state} -> {body['target_provision_state']}")
        time.sleep(0.02)


def provision(api: httpx.Client, node: str, target: str, **extra: Any) -> httpx.Response:
    return api.put(f"/v1/nodes/{node}/states/provision", json={"target": target, **extra})


def move(api: httpx.Client, node: str, target: str, **extra: Any) -> dict[str, Any]:
    r = provision(api, node, target, **extra)
    assert r.status_code == 202, r.text
    return settle(api, node)


def patch_info(api: httpx.Client, node: str, **values: Any) -> None:
    ops = [{"op": "add", "path": f"/driver_info/{k}", "value": v} for k, v in values.items() if v is not None]
    ops += [{"op": "remove", "path": f"/driver_info/{k}"} for k, v in values.items() if v is None]
    r = api.patch(f"/v1/nodes/{node}", json=ops)
    assert r.status_code == 200, r.text
