"""Hold steps and ``unhold`` (API 1.85), servicing (1.87, ``disable_ramdisk`` 1.108) and the reserved steps,
through the running service on SQLite and PostgreSQL with fake hardware."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from ironworks import states
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, provision, settle

HOLD = {"interface": "deploy", "step": "hold"}
ERASE = {"interface": "deploy", "step": "erase_devices_metadata"}
VENDOR = {"interface": "vendor", "step": "log_passthrough"}
BIOS = {
    "interface": "bios",
    "step": "apply_configuration",
    "args": {"settings": [{"name": "BootMode", "value": "Bios"}]},
}


def rest(api: httpx.Client, node: str, state: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll until the node is in ``state`` and unlocked (hold states are not among settle()'s resting ones)."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] == state and body["reservation"] is None:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"node {node} is {body['provision_state']}, not {state}: {body['last_error']}")
        time.sleep(0.02)


def active_node(api: httpx.Client) -> str:
    node = enroll(api)
    move(api, node, "manage")
    move(api, node, "provide")
    assert move(api, node, "active")["provision_state"] == states.ACTIVE
    return node


def test_clean_hold_then_unhold_runs_the_next_step(service, api: httpx.Client) -> None:
    node = enroll(api)
    move(api, node, "manage")
    assert provision(api, node, "clean", clean_steps=[HOLD, ERASE]).status_code == 202
    held = rest(api, node, states.CLEANHOLD)
    assert held["target_provision_state"] == states.MANAGEABLE
    assert held["clean_step"]["step"] == "hold"
    assert "fake_metadata_erased" not in held["driver_internal_info"]
    with service.client("1.84") as old:
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "unhold"})
        assert r.status_code == 406, r.text
        fault(r)
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == states.CLEANHOLD
    assert provision(api, node, "unhold").status_code == 202
    done = settle(api, node)
    assert (done["provision_state"], done["last_error"], done["clean_step"]) == (states.MANAGEABLE, None, {})
    assert done["driver_internal_info"]["fake_metadata_erased"] is True
    # unhold is refused where nothing holds (Ironic: 400 InvalidStateRequested)
    r = provision(api, node, "unhold")
    assert r.status_code == 400, r.text
    fault(r)


def test_clean_hold_abort(api: httpx.Client) -> None:
    node = enroll(api)
    move(api, node, "manage")
    assert provision(api, node, "clean", clean_steps=[HOLD, ERASE]).status_code == 202
    rest(api, node, states.CLEANHOLD)
    assert provision(api, node, "abort").status_code == 202
    body = rest(api, node, states.CLEANFAIL)
    assert "aborted" in body["last_error"] and "fake_metadata_erased" not in body["driver_internal_info"]


def test_deploy_hold_unhold_and_abort(api: httpx.Client) -> None:
    nodes = []
    for _ in range(2):
        node = enroll(api)
        move(api, node, "manage")
        move(api, node, "provide")
        r = provision(api, node, "active", deploy_steps=[dict(HOLD, priority=150, args={})])
        assert r.status_code == 202, r.text
        held = rest(api, node, states.DEPLOYHOLD)
        assert (held["target_provision_state"], held["deploy_step"]["step"]) == (states.ACTIVE, "hold")
        nodes.append(node)
    assert provision(api, nodes[0], "unhold").status_code == 202
    assert settle(api, nodes[0])["provision_state"] == states.ACTIVE  # the deploy went on after the hold
    assert provision(api, nodes[1], "abort").status_code == 202
    assert rest(api, nodes[1], states.DEPLOYFAIL)["last_error"]


def test_reserved_power_and_wait_steps(api: httpx.Client) -> None:
    node = enroll(api)
    move(api, node, "manage")
    steps = [
        {"interface": "power", "step": "power_on"},
        {"interface": "deploy", "step": "wait", "args": {"seconds": 0}},
        {"interface": "power", "step": "power_off"},
    ]
    body = move(api, node, "clean", clean_steps=steps)
    assert (body["provision_state"], body["last_error"]) == (states.MANAGEABLE, None)
    assert body["power_state"] == states.POWER_OFF
    move(api, node, "clean", clean_steps=steps[:1])
    assert api.get(f"/v1/nodes/{node}").json()["power_state"] == states.POWER_ON


def test_service_runs_steps_end_to_end(service, api: httpx.Client) -> None:
    node = active_node(api)
    r = provision(api, node, "service", service_steps=[VENDOR, BIOS])
    assert r.status_code == 202, r.text
    done = settle(api, node)
    assert (done["provision_state"], done["target_provision_state"], done["last_error"]) == (states.ACTIVE, None, None)
    assert done["service_step"] == {} and "service_steps" not in done["driver_internal_info"]
    assert done["driver_internal_info"]["fake_vendor_calls"] == 1
    setting = api.get(f"/v1/nodes/{node}/bios/BootMode").json()["BootMode"]
    assert setting["value"] == "Bios"
    with service.client("1.86") as old:
        assert "service_step" not in old.get(f"/v1/nodes/{node}").json()
    # without the ramdisk (1.108): only steps that need none
    r = provision(api, node, "service", service_steps=[VENDOR], disable_ramdisk=True)
    assert r.status_code == 202, r.text
    assert settle(api, node)["driver_internal_info"]["fake_vendor_calls"] == 2


def test_service_hold_unhold_and_abort(api: httpx.Client) -> None:
    node = active_node(api)
    assert provision(api, node, "service", service_steps=[VENDOR, HOLD, VENDOR]).status_code == 202
    held = rest(api, node, states.SERVICEHOLD)
    assert (held["target_provision_state"], held["service_step"]["step"]) == (states.ACTIVE, "hold")
    assert held["driver_internal_info"]["fake_vendor_calls"] == 1
    assert provision(api, node, "unhold").status_code == 202
    done = settle(api, node)
    assert (done["provision_state"], done["driver_internal_info"]["fake_vendor_calls"]) == (states.ACTIVE, 2)

    assert provision(api, node, "service", service_steps=[HOLD, VENDOR]).status_code == 202
    rest(api, node, states.SERVICEHOLD)
    assert provision(api, node, "abort").status_code == 202
    body = settle(api, node)
    assert body["provision_state"] == states.ACTIVE
    assert body["last_error"] == (
        'By request, the service operation was aborted during or after the completion of step "deploy.hold"'
    )
    assert body["driver_internal_info"]["fake_vendor_calls"] == 2


def test_service_wait_abort_waits_for_a_step_that_cannot_be_aborted(api: httpx.Client) -> None:
    node = active_node(api)
    assert (
        provision(
            api, node, "service", service_steps=[{"interface": "vendor", "step": "trigger_servicewait"}]
        ).status_code
        == 202
    )
    waiting = rest(api, node, states.SERVICEWAIT)
    assert waiting["service_step"]["step"] == "trigger_servicewait"
    assert provision(api, node, "abort").status_code == 202  # as Ironic: flagged, done after the step
    body = api.get(f"/v1/nodes/{node}").json()
    assert body["provision_state"] == states.SERVICEWAIT and body["service_step"]["abort_after"] is True


def test_failed_service_step_then_abort(api: httpx.Client) -> None:
    node = active_node(api)
    bad = dict(BIOS, args={"settings": [{"name": "NoSuchSetting", "value": "1"}]})
    assert provision(api, node, "service", service_steps=[bad]).status_code == 202
    failed = rest(api, node, states.SERVICEFAIL)
    assert "failed step bios.apply_configuration" in failed["last_error"]
    assert (failed["maintenance"], failed["fault"], failed["service_step"]) == (True, "service failure", {})
    r = provision(api, node, "abort")  # Ironic: not while in maintenance (409)
    assert r.status_code == 409, r.text
    fault(r)
    assert (
        api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/maintenance", "value": False}]).status_code
        == 200
    )
    assert provision(api, node, "abort").status_code == 202
    body = settle(api, node)
    assert body["provision_state"] == states.ACTIVE
    assert body["last_error"] == "By request, the service operation was aborted"


BAD_SERVICE = [
    ({"service_steps": [{"interface": "vendor", "step": "no_such_step"}]}, 400),
    ({"service_steps": [dict(VENDOR, priority=10)]}, 400),  # users give no priority
    ({"service_steps": [{"interface": "boot", "step": "hold"}]}, 400),  # not a step interface
    ({"service_steps": [dict(BIOS, args={})]}, 400),  # missing a required argument
    ({"service_steps": [dict(VENDOR, args={"x": 1})]}, 400),  # unexpected argument
    ({"service_steps": [{"interface": "deploy", "step": "erase_devices_metadata"}]}, 400),  # a clean step only
    ({"service_steps": [{"interface": "vendor", "step": "trigger_servicewait"}], "disable_ramdisk": True}, 400),
    ({"service_steps": [VENDOR, "x"]}, 400),
    ({"service_steps": []}, 400),
    ({}, 400),
    ({"service_steps": [dict(VENDOR, execute_on_child_nodes="yes")]}, 400),
]


@pytest.mark.parametrize(("body", "code"), BAD_SERVICE, ids=range(len(BAD_SERVICE)))
def test_bad_service_requests_change_nothing(api: httpx.Client, body: dict[str, Any], code: int) -> None:
    node = active_node(api)
    before = api.get(f"/v1/nodes/{node}").json()
    r = provision(api, node, "service", **body)
    assert r.status_code == code, r.text
    fault(r)
    after = api.get(f"/v1/nodes/{node}").json()
    assert (after["provision_state"], after["provision_updated_at"]) == (
        before["provision_state"],
        before["provision_updated_at"],
    )


def test_service_version_and_state_gates(service, api: httpx.Client) -> None:
    node = active_node(api)
    steps = [VENDOR]
    with service.client("1.86") as old:
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "service", "service_steps": steps})
        assert r.status_code == 406, r.text
    with service.client("1.107") as old:
        r = old.put(
            f"/v1/nodes/{node}/states/provision",
            json={"target": "service", "service_steps": steps, "disable_ramdisk": True},
        )
        assert r.status_code == 406, r.text
    with service.client("1.87") as at:
        r = at.put(f"/v1/nodes/{node}/states/provision", json={"target": "service", "service_steps": steps})
        assert r.status_code == 202, r.text
    settle(api, node)
    r = provision(api, node, "clean", service_steps=steps)  # service_steps with another target
    assert r.status_code == 400, r.text
    other = enroll(api)
    move(api, other, "manage")
    r = provision(api, other, "service", service_steps=steps)  # not from manageable
    assert r.status_code == 400, r.text
    fault(r)
