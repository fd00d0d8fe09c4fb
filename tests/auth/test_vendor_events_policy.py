"""Vendor passthru and events are admin-only (Ironic: ``baremetal:node:vendor_passthru``,
``baremetal:driver:vendor_passthru``, ``baremetal:events:post`` default to the system admin): an owner's member
gets 403, a stranger the node's 404, the admin the answer. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.auth.helpers import make_node

EVENT = {
    "events": [
        {
            "event": "network.bind_port",
            "port_id": "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "mac_address": "52:54:00:12:34:56",
            "status": "ACTIVE",
        }
    ]
}


def test_only_admins_call_vendor_passthru_and_post_events(auth_service, admin):
    node = make_node(admin, owner="acme", vendor_interface="fake")
    methods = f"/v1/nodes/{node['uuid']}/vendor_passthru/methods"
    call = f"/v1/nodes/{node['uuid']}/vendor_passthru?method=third_method_sync"
    for user, expected in ((MEMBER, 403), (READER, 403), (OTHER_MEMBER, 404)):
        with client(auth_service, user) as c:
            assert c.get(methods).status_code == expected, user
            assert c.post(call, json={"bar": "meow"}).status_code == expected, user
            assert c.get("/v1/drivers/fake-hardware/vendor_passthru/methods").status_code == 403, user
            assert c.post("/v1/drivers/fake-hardware/vendor_passthru?method=x", json={}).status_code == 403
            assert c.post("/v1/events", json=EVENT).status_code == 403, user
    assert admin.get(methods).status_code == 200
    r = admin.post(call, json={"bar": "meow"})
    assert r.status_code == 200 and r.json() is True
    assert admin.get("/v1/drivers/fake-hardware/vendor_passthru/methods").json() == {}
    assert admin.post("/v1/events", json=EVENT).status_code == 204
