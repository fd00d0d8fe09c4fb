"""Power actions, boot devices and node history through the HTTP API."""

from __future__ import annotations

import httpx
import pytest

from ironworks import states
from ironworks.db.repos.history import HistoryRepo
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, settle


def _power(api: httpx.Client, node: str, target: str, **extra: object) -> httpx.Response:
    return api.put(f"/v1/nodes/{node}/states/power", json={"target": target, **extra})


@pytest.mark.parametrize(("target", "expected"), [
    (states.POWER_ON, states.POWER_ON), (states.POWER_OFF, states.POWER_OFF), (states.REBOOT, states.POWER_ON),
    (states.SOFT_POWER_OFF, states.POWER_OFF), (states.SOFT_REBOOT, states.POWER_ON),
])
def test_power_actions(api: httpx.Client, target: str, expected: str) -> None:
    node = enroll(api)
    move(api, node, "manage")
    r = _power(api, node, target, timeout=30)
    assert r.status_code == 202, r.text
    assert r.headers["Location"].endswith(f"/v1/nodes/{node}/states")
    body = settle(api, node)
    assert body["power_state"] == expected
    assert body["target_power_state"] is None
    assert body["last_error"] is None


@pytest.mark.parametrize(("version", "body", "status"), [
    ("1.26", {"target": states.SOFT_POWER_OFF}, 406),
    ("1.26", {"target": states.POWER_ON, "timeout": 10}, 406),
    ("1.27", {"target": states.POWER_ON, "timeout": 0}, 400),
    ("1.27", {"target": states.POWER_ON, "timeout": "soon"}, 400),
    ("1.27", {"target": "power sideways"}, 400),
    ("1.27", {"target": states.POWER_ON, "bogus": 1}, 400),
    ("1.27", {}, 400),
])
def test_bad_power_requests(service: object, version: str, body: dict[str, object], status: int) -> None:
    with service.client(version) as api:  # type: ignore[attr-defined]
        node = enroll(api)
        r = api.put(f"/v1/nodes/{node}/states/power", json=body)
        assert r.status_code == status, r.text
        fault(r)
        assert api.get(f"/v1/nodes/{node}").json()["target_power_state"] is None


def test_power_refused_while_cleaning(api: httpx.Client) -> None:
    node = enroll(api, fake_wait_clean=True)
    move(api, node, "manage")
    assert move(api, node, "provide")["provision_state"] == states.CLEANWAIT
    r = _power(api, node, states.POWER_ON)
    assert r.status_code == 400
    assert states.CLEANWAIT in fault(r)["faultstring"]


def test_power_failure_is_recorded(service: object, api: httpx.Client) -> None:
    node = enroll(api, fake_fail_power="BMC says no")
    move(api, node, "manage")
    assert _power(api, node, states.POWER_ON).status_code == 202
    body = settle(api, node)
    assert body["power_state"] == states.POWER_OFF
    assert "BMC says no" in body["last_error"]
    from ironworks.db.repos.nodes import NodeRepo

    node_id = NodeRepo(service.services.db).get(node)["id"]  # type: ignore[attr-defined]
    events = HistoryRepo(service.services.db).list(node_id)  # type: ignore[attr-defined]
    assert any("BMC says no" in e["event"] and e["severity"] == "ERROR" for e in events)


def test_boot_device(api: httpx.Client) -> None:
    node = enroll(api)
    assert api.get(f"/v1/nodes/{node}/management/boot_device/supported").json() == {
        "supported_boot_devices": ["pxe", "disk"]}
    assert api.get(f"/v1/nodes/{node}/management/boot_device").json() == {"boot_device": "pxe", "persistent": False}
    r = api.put(f"/v1/nodes/{node}/management/boot_device", json={"boot_device": "disk", "persistent": True})
    assert r.status_code == 204, r.text
    assert api.get(f"/v1/nodes/{node}/management/boot_device").json() == {"boot_device": "disk", "persistent": True}
    for bad in ({"boot_device": "cdrom"}, {"boot_device": "teleport"}, {}, {"boot_device": "pxe", "persistent": "y"},
                {"boot_device": "pxe", "extra": 1}):
        r = api.put(f"/v1/nodes/{node}/management/boot_device", json=bad)
        assert r.status_code == 400, (bad, r.text)
        fault(r)
    assert api.get(f"/v1/nodes/{node}/management/boot_device").json()["boot_device"] == "disk"


def test_failures_land_in_history(service: object, api: httpx.Client) -> None:
    from ironworks.db.repos.nodes import NodeRepo

    node = enroll(api, fake_fail_deploy="image is corrupt")
    move(api, node, "manage")
    move(api, node, "provide")
    body = move(api, node, "active")
    assert body["provision_state"] == states.DEPLOYFAIL
    assert body["target_provision_state"] == states.ACTIVE
    node_id = NodeRepo(service.services.db).get(node)["id"]  # type: ignore[attr-defined]
    events = HistoryRepo(service.services.db).list(node_id)  # type: ignore[attr-defined]
    assert [e["event_type"] for e in events] == [states.DEPLOYING]
    assert "image is corrupt" in events[0]["event"]
    # served at every version (an extension until 1.78 is advertised)
    r = api.get(f"/v1/nodes/{node}/history")
    assert r.status_code == 200, r.text
    assert [e["uuid"] for e in r.json()["history"]] == [events[0]["uuid"]]
    assert "image is corrupt" in r.json()["history"][0]["event"]
    detail = api.get(f"/v1/nodes/{node}/history/{events[0]['uuid']}").json()
    assert detail["event_type"] == states.DEPLOYING
    assert api.get(f"/v1/nodes/{node}/history/00000000-0000-0000-0000-000000000000").status_code == 404
