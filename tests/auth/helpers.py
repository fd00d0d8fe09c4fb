"""Nodes for the auth tests, made by the admin: ``available`` (so a deploy can start), with owner and lessee."""

from __future__ import annotations

from typing import Any

import httpx

BMC_USER = "bmc-operator"
BMC_PASSWORD = "bmc-secret-9f3"


def make_node(
    admin: httpx.Client, *, owner: str | None = None, lessee: str | None = None, name: str | None = None, **fields: Any
) -> dict[str, Any]:
    """An ``available`` fake-hardware node (enrolled at API 1.10, as old clients do), then owner, lessee and any
    other ``fields`` set at the newest version."""
    body: dict[str, Any] = {
        "driver": "fake-hardware",
        "driver_info": {"ipmi_address": "192.0.2.10", "ipmi_username": BMC_USER, "ipmi_password": BMC_PASSWORD},
    }
    if name is not None:
        body["name"] = name
    r = admin.post("/v1/nodes", json=body, headers={"X-OpenStack-Ironic-API-Version": "1.10"})
    assert r.status_code == 201, r.text
    later = {"owner": owner, "lessee": lessee, **fields}
    ops = [{"op": "add", "path": f"/{k}", "value": v} for k, v in later.items() if v is not None]
    if ops:
        r = admin.patch(f"/v1/nodes/{r.json()['uuid']}", json=ops)
        assert r.status_code == 200, r.text
    return dict(r.json())


def node_for(admin: httpx.Client, project: str | None, relation: str) -> dict[str, Any]:
    """A node that ``project`` owns ("own"), leases ("leased") or has nothing to do with ("foreign")."""
    if relation == "own":
        return make_node(admin, owner=project, lessee="some-tenant")
    if relation == "leased":
        return make_node(admin, owner="landlord", lessee=project)
    return make_node(admin, owner="landlord", lessee="some-tenant")
