"""Node history entries of a failed deploy and a failed clean record who asked (``user``, ``project``: API
1.113), the state the node failed in, its target and the seconds it spent there (API 1.115), as Ironic's
node_history_record; each field is hidden below its version. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ironworks import states
from tests.auth.conftest import MEMBER, client
from tests.conductor.helpers import move, settle


@pytest.mark.parametrize(
    ("fault_key", "steps", "failed", "state", "target"),
    [
        ("fake_fail_deploy", ("manage", "provide", "active"), states.DEPLOYFAIL, states.DEPLOYING, states.ACTIVE),
        ("fake_fail_clean", ("manage", "provide"), states.CLEANFAIL, states.CLEANING, states.AVAILABLE),
    ],
)
def test_failed_operation_history_fields(auth_service, admin, fault_key, steps, failed, state, target):
    r = admin.post(
        "/v1/nodes",
        json={"driver": "fake-hardware", "owner": MEMBER.project, "driver_info": {fault_key: "injected failure"}},
    )
    assert r.status_code == 201, r.text
    node = r.json()["uuid"]
    with client(auth_service, MEMBER) as member:  # the owner's member runs the life cycle
        for step in steps:
            body = move(member, node, step)
    assert body["provision_state"] == failed, body
    settle(admin, node)
    with auth_service.client("1.115", auth=admin.auth) as c:
        history = c.get(f"/v1/nodes/{node}/history", params={"detail": "true"}).json()["history"]
        assert len(history) == 1, history
        entry = history[0]
        assert "injected failure" in entry["event"] and entry["severity"] == "ERROR"
        assert entry["user"] == MEMBER.name and entry["project"] == MEMBER.project
        assert entry["state"] == state and entry["target_provision_state"] == target
        assert isinstance(entry["duration_seconds"], int) and entry["duration_seconds"] >= 0
        assert c.get(f"/v1/nodes/{node}/history/{entry['uuid']}").json() == entry
    with auth_service.client("1.114", auth=admin.auth) as c:
        one = c.get(f"/v1/nodes/{node}/history/{entry['uuid']}").json()
        assert one["project"] == MEMBER.project
        assert not {"state", "target_provision_state", "duration_seconds"} & set(one)
    with auth_service.client("1.112", auth=admin.auth) as c:
        listed = c.get(f"/v1/nodes/{node}/history", params={"detail": "true"}).json()["history"][0]
        assert listed["user"] == MEMBER.name
        assert not {"project", "state", "target_provision_state", "duration_seconds"} & set(listed)
