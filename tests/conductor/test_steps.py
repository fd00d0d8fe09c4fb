"""Clean and deploy steps: discovery, the software-RAID manual cleaning sequence, refusal of unknown steps
and bad arguments before any state change, visibility of the running step, automated cleaning switches."""

from __future__ import annotations

import time

import httpx
import pytest

from ironworks import errors, states
from ironworks.conductor import steps
from ironworks.drivers.registry import DriverRegistry
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, provision, settle

RAID_SEQUENCE = [
    {"interface": "raid", "step": "delete_configuration"},
    {"interface": "deploy", "step": "erase_devices_metadata"},
    {"interface": "raid", "step": "create_configuration"},
]


def _fake_driver() -> steps.Driver:
    registry = DriverRegistry(["fake-hardware"])
    node = {"driver": "fake-hardware", **registry.resolve_interfaces("fake-hardware", {})}
    return registry.driver_for(node)


def test_discovery_and_ordering() -> None:
    driver = _fake_driver()
    clean = steps.discover(driver, "clean")
    names = {(s["interface"], s["step"]) for s in clean}
    assert {("raid", "create_configuration"), ("raid", "delete_configuration"),
            ("deploy", "erase_devices_metadata"), ("bios", "factory_reset")} <= names
    assert [s["priority"] for s in clean] == sorted((s["priority"] for s in clean), reverse=True)
    assert steps.automated_clean_plan(driver) == [
        {"interface": "deploy", "step": "erase_devices_metadata", "args": {}, "priority": 99, "abortable": True}]
    plan = steps.deploy_plan(driver, None)
    assert [(s["interface"], s["step"]) for s in plan] == [("deploy", "deploy")]


def test_user_deploy_steps_merge_and_validate() -> None:
    driver = _fake_driver()
    user = steps.validate_user_deploy_steps(driver, [
        {"interface": "raid", "step": "apply_configuration", "priority": 150,
         "args": {"raid_config": {"logical_disks": []}}}])
    plan = steps.deploy_plan(driver, user)
    assert [(s["interface"], s["step"]) for s in plan] == [("raid", "apply_configuration"), ("deploy", "deploy")]
    disabled = steps.validate_user_deploy_steps(driver, [{"interface": "deploy", "step": "deploy", "priority": 0}])
    assert steps.deploy_plan(driver, disabled) == []
    for bad in ([{"interface": "raid", "step": "apply_configuration", "args": {"raid_config": {}}}],  # no priority
                [{"interface": "raid", "step": "apply_configuration", "priority": 1}],  # missing arg
                [{"interface": "deploy", "step": "nope", "priority": 1}]):
        with pytest.raises(errors.InvalidParameterValue):
            steps.validate_user_deploy_steps(driver, bad)


def test_software_raid_manual_cleaning(api: httpx.Client) -> None:
    node = enroll(api)
    move(api, node, "manage")
    target = {"logical_disks": [{"size_gb": 10, "raid_level": "1", "is_root_volume": True},
                                {"size_gb": 20, "raid_level": "0"}]}
    r = api.put(f"/v1/nodes/{node}/states/raid", json=target)
    assert r.status_code == 204, r.text
    assert api.get(f"/v1/nodes/{node}").json()["target_raid_config"] == target
    body = move(api, node, "clean", clean_steps=RAID_SEQUENCE)
    assert body["provision_state"] == states.MANAGEABLE
    assert body["last_error"] is None
    assert body["clean_step"] == {}
    assert body["driver_internal_info"].get("fake_metadata_erased") is True
    assert "clean_steps" not in body["driver_internal_info"]
    # delete_configuration, then create_configuration built what the operator asked for (both volumes)
    assert body["raid_config"] == {"logical_disks": target["logical_disks"]}
    assert body["target_raid_config"] == target
    # building only the root volume leaves the other one out
    body = move(api, node, "clean", clean_steps=[RAID_SEQUENCE[0], {**RAID_SEQUENCE[2], "args": {
        "create_nonroot_volumes": False}}])
    assert body["last_error"] is None
    assert body["raid_config"] == {"logical_disks": target["logical_disks"][:1]}


@pytest.mark.parametrize("clean_steps", [
    [{"interface": "raid", "step": "no_such_step"}],
    [{"interface": "warp", "step": "delete_configuration"}],
    [{"interface": "raid", "step": "create_configuration", "args": {"bogus": 1}}],
    [{"interface": "deploy", "step": "sleep"}],  # missing required argument
    [{"interface": "raid", "step": "delete_configuration", "args": "x"}],
    [{"step": "delete_configuration"}],
    "not a list",
])
def test_bad_clean_steps_refused_before_any_change(api: httpx.Client, clean_steps: object) -> None:
    node = enroll(api)
    before = move(api, node, "manage")
    r = provision(api, node, "clean", clean_steps=clean_steps)
    assert r.status_code == 400, r.text
    fault(r)
    after = api.get(f"/v1/nodes/{node}").json()
    assert (after["provision_state"], after["provision_updated_at"]) == (
        before["provision_state"], before["provision_updated_at"])


def test_running_step_is_visible(api: httpx.Client) -> None:
    node = enroll(api)
    move(api, node, "manage")
    r = provision(api, node, "clean", clean_steps=[{"interface": "deploy", "step": "sleep", "args": {"seconds": 1}}])
    assert r.status_code == 202
    seen = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["clean_step"]:
            seen = body
            break
        time.sleep(0.02)
    assert seen is not None
    assert seen["provision_state"] == states.CLEANING
    assert seen["target_provision_state"] == states.MANAGEABLE
    assert seen["clean_step"]["step"] == "sleep"
    assert seen["driver_internal_info"]["clean_steps"][0]["step"] == "sleep"
    assert settle(api, node)["provision_state"] == states.MANAGEABLE


@pytest.mark.parametrize(("per_node", "cleaned"), [(None, True), (False, False), (True, True)])
def test_automated_cleaning_switch(api: httpx.Client, per_node: bool | None, cleaned: bool) -> None:
    node = enroll(api)
    if per_node is not None:
        r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/automated_clean", "value": per_node}])
        assert r.status_code == 200, r.text
    move(api, node, "manage")
    body = move(api, node, "provide")
    assert body["provision_state"] == states.AVAILABLE
    assert bool(body["driver_internal_info"].get("fake_metadata_erased")) is cleaned


def test_cleaning_after_teardown(api: httpx.Client) -> None:
    node = enroll(api)
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/automated_clean", "value": False}])
    assert r.status_code == 200
    move(api, node, "manage")
    move(api, node, "provide")
    move(api, node, "active")
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/automated_clean", "value": True}])
    assert r.status_code == 200
    body = move(api, node, "deleted")
    assert body["provision_state"] == states.AVAILABLE
    assert body["driver_internal_info"].get("fake_metadata_erased") is True
    assert body["instance_info"] == {}


def test_failed_step_goes_to_clean_failed_with_error(api: httpx.Client) -> None:
    node = enroll(api, fake_fail_clean_step="disk on fire")
    move(api, node, "manage")
    body = move(api, node, "provide")
    assert body["provision_state"] == states.CLEANFAIL
    assert "disk on fire" in body["last_error"]
    assert body["target_provision_state"] == states.AVAILABLE
