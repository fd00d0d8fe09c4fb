"""Node ``health`` (API 1.109) through HTTP, SQLite and PostgreSQL: the power sync reads it from the BMC (here
fake-hardware's ``driver_info.fake_health``), records changes in the node history, and it is shown from 1.109.
The Redfish reading (``Status.Health``) is tested against sushy-emulator in tests/drivers/test_redfish_boot_mode.py.
"""

from __future__ import annotations

from tests.conductor.helpers import enroll, move, patch_info


def _sync(service) -> None:
    service.services.conductor.periodic.sync_power_states()


def test_power_sync_records_the_bmc_health(service, api):
    node = enroll(api, fake_health="Warning")
    quiet = enroll(api)  # a BMC that reports no health: stays unknown, no history
    move(api, node, "manage")
    move(api, quiet, "manage")
    assert api.get(f"/v1/nodes/{node}").json()["health"] is None
    _sync(service)
    assert api.get(f"/v1/nodes/{node}").json()["health"] == "Warning"
    assert api.get(f"/v1/nodes/{quiet}").json()["health"] is None
    with service.client("1.108") as c:
        assert "health" not in c.get(f"/v1/nodes/{node}").json()
        assert c.get(f"/v1/nodes/{node}?fields=health").status_code == 406
    with service.client("1.109") as c:
        assert c.get(f"/v1/nodes/{node}?fields=health").json()["health"] == "Warning"
        listed = {n["uuid"]: n["health"] for n in c.get("/v1/nodes?fields=uuid,health").json()["nodes"]}
        assert listed == {node: "Warning", quiet: None}

    history = api.get(f"/v1/nodes/{node}/history?detail=true").json()["history"]
    changes = [e for e in history if e["event_type"] == "monitoring"]
    assert [(e["event"], e["severity"]) for e in changes] == [
        ("Node health status changed: health='Warning' (previously 'None')", "WARNING")
    ]
    assert not [e for e in api.get(f"/v1/nodes/{quiet}/history").json()["history"] if "health" in e["event"]]

    _sync(service)  # unchanged: no new entry
    patch_info(api, node, fake_health="OK")
    _sync(service)
    assert api.get(f"/v1/nodes/{node}").json()["health"] == "OK"
    patch_info(api, node, fake_health="on fire")  # not one of Ironic's values: ignored, the last one stays
    _sync(service)
    assert api.get(f"/v1/nodes/{node}").json()["health"] == "OK"
    events = [e["event"] for e in api.get(f"/v1/nodes/{node}/history").json()["history"] if "health" in e["event"]]
    assert events == [
        "Node health status changed: health='Warning' (previously 'None')",
        "Node health status changed: health='OK' (previously 'Warning')",
    ]


def test_health_is_read_only(api):
    node = enroll(api)
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/health", "value": "OK"}])
    assert r.status_code == 400, r.text
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", "health": "OK"})
    assert r.status_code == 400, r.text
