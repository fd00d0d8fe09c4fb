"""Small helpers for API tests: Ironic's error body, and a snapshot of what the API shows."""

from __future__ import annotations

import json
from typing import Any

import httpx


def fault(response: httpx.Response) -> dict[str, Any]:
    """The decoded Ironic error: ``{"error_message": "<json with faultcode, faultstring, debuginfo>"}``."""
    body = response.json()
    assert set(body) == {"error_message"}, body
    inner = json.loads(body["error_message"])
    assert set(inner) == {"faultcode", "faultstring", "debuginfo"}, inner
    assert inner["faultcode"] == ("Client" if response.status_code < 500 else "Server")
    assert inner["faultstring"], inner
    return inner


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """Everything the API shows about the inventory, to prove a refused request changed nothing."""
    out: dict[str, Any] = {}
    for path, key in (("/v1/nodes/detail", "nodes"), ("/v1/ports/detail", "ports"),
                      ("/v1/portgroups/detail", "portgroups"), ("/v1/chassis/detail", "chassis")):
        r = api.get(path)
        if r.status_code == 200:
            out[key] = r.json()[key]
    return out


def make_node(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"driver": "fake-hardware", **fields}
    r = api.post("/v1/nodes", json=body)
    assert r.status_code == 201, r.text
    return r.json()
