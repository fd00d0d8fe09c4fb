"""A step's ``limit_child_node_execution`` (API 1.83) names nodes the caller must be entitled to: as Ironic's
``check_node_policy_and_retrieve``, 404 for a node the caller cannot see, 403 for one it sees but may not clean.
Through HTTP with ``http_basic`` users on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.helpers import fault
from tests.auth.conftest import MEMBER, client
from tests.auth.helpers import make_node
from tests.conductor.helpers import settle

ERASE = {"interface": "deploy", "step": "erase_devices_metadata", "execute_on_child_nodes": True}


def test_limit_names_only_nodes_the_caller_may_clean(auth_service, admin) -> None:
    parent = make_node(admin, owner="acme")["uuid"]
    child = make_node(admin, owner="acme")["uuid"]
    r = admin.patch(f"/v1/nodes/{child}", json=[{"op": "add", "path": "/parent_node", "value": parent}])
    assert r.status_code == 200, r.text
    foreign = make_node(admin, owner="landlord", lessee="some-tenant")["uuid"]
    leased = make_node(admin, owner="landlord", lessee="acme")["uuid"]
    r = admin.put(f"/v1/nodes/{parent}/states/provision", json={"target": "manage"})
    assert r.status_code == 202, r.text
    settle(admin, parent)
    with client(auth_service, MEMBER) as mia:
        for other, code in ((foreign, 404), (leased, 403)):
            step = dict(ERASE, limit_child_node_execution=[child, other])
            r = mia.put(f"/v1/nodes/{parent}/states/provision", json={"target": "clean", "clean_steps": [step]})
            assert r.status_code == code, r.text
            fault(r)
            assert admin.get(f"/v1/nodes/{parent}").json()["provision_state"] == "manageable"
        step = dict(ERASE, limit_child_node_execution=[child])
        r = mia.put(f"/v1/nodes/{parent}/states/provision", json={"target": "clean", "clean_steps": [step]})
        assert r.status_code == 202, r.text
    assert settle(admin, parent)["provision_state"] == "manageable"
    assert admin.get(f"/v1/nodes/{child}").json()["driver_internal_info"].get("fake_metadata_erased") is True
