"""Steps run on child nodes (API 1.83 ``execute_on_child_nodes`` / ``limit_child_node_execution``), through the
running service on SQLite and PostgreSQL with fake hardware: manual cleaning and servicing of a parent node run
the marked steps on its children, under each child's lock and driver; a child's failure fails the parent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ironworks import states
from tests.api.helpers import fault
from tests.conductor.helpers import move, provision, settle

ERASE = {"interface": "deploy", "step": "erase_devices_metadata"}
POWER_ON = {"interface": "power", "step": "power_on"}
POWER_OFF = {"interface": "power", "step": "power_off"}


def node(api: httpx.Client, parent: str | None = None, **driver_info: Any) -> str:
    body: dict[str, Any] = {"driver": "fake-hardware", "driver_info": driver_info}
    if parent is not None:
        body["parent_node"] = parent
    r = api.post("/v1/nodes", json=body)
    assert r.status_code == 201, r.text
    move(api, r.json()["uuid"], "manage")
    return str(r.json()["uuid"])


def family(api: httpx.Client, **second_child_info: Any) -> tuple[str, str, str, str]:
    """A manageable parent, its two children and an unrelated node."""
    parent = node(api)
    return parent, node(api, parent), node(api, parent, **second_child_info), node(api)


def get(api: httpx.Client, uuid: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/nodes/{uuid}").json())


def erased(api: httpx.Client, uuid: str) -> bool:
    return bool(get(api, uuid)["driver_internal_info"].get("fake_metadata_erased"))


def test_manual_clean_runs_marked_steps_on_every_child(api: httpx.Client) -> None:
    parent, child1, child2, other = family(api)
    for uuid in (parent, child1, child2, other):
        assert get(api, uuid)["power_state"] == states.POWER_OFF
    steps = [dict(ERASE, execute_on_child_nodes=True), dict(POWER_ON, execute_on_child_nodes=True)]
    assert provision(api, parent, "clean", clean_steps=steps).status_code == 202
    done = settle(api, parent)
    assert (done["provision_state"], done["last_error"]) == (states.MANAGEABLE, None)
    for child in (child1, child2):
        body = get(api, child)
        assert erased(api, child) and body["power_state"] == states.POWER_ON
        assert (body["provision_state"], body["reservation"], body["last_error"]) == (states.MANAGEABLE, None, None)
    for untouched in (parent, other):  # the step ran instead of, not as well as, on the parent
        assert not erased(api, untouched) and get(api, untouched)["power_state"] == states.POWER_OFF


def test_limit_restricts_the_children_and_skips_non_children(api: httpx.Client) -> None:
    parent, child1, child2, other = family(api)
    step = dict(ERASE, execute_on_child_nodes=True, limit_child_node_execution=[child1, other])
    assert provision(api, parent, "clean", clean_steps=[step]).status_code == 202
    assert settle(api, parent)["provision_state"] == states.MANAGEABLE
    assert [erased(api, u) for u in (parent, child1, child2, other)] == [False, True, False, False]


def test_limit_without_execute_runs_on_the_parent_as_ironic(api: httpx.Client) -> None:
    parent, child1, _, _ = family(api)
    step = dict(ERASE, execute_on_child_nodes=False, limit_child_node_execution=["not-even-a-uuid"])
    assert provision(api, parent, "clean", clean_steps=[step]).status_code == 202
    assert settle(api, parent)["provision_state"] == states.MANAGEABLE
    assert (erased(api, parent), erased(api, child1)) == (True, False)


FAILURES = [
    ({"fake_fail_clean_step": "disk on fire"}, ERASE, "disk on fire"),
    ({}, {"interface": "deploy", "step": "no_such_step"}, "not supported by node's driver interfaces"),
    ({}, {"interface": "deploy", "step": "hold"}, "cannot run on a child node"),
]


@pytest.mark.parametrize(("info", "step", "reason"), FAILURES, ids=["raises", "unknown", "hold"])
def test_a_failing_child_fails_the_parents_clean(
    api: httpx.Client, info: dict[str, Any], step: dict[str, Any], reason: str
) -> None:
    parent, child1, child2, _ = family(api, **info)
    culprit = child2 if info else child1  # the children run in turn: an injected fault is the second's
    assert provision(api, parent, "clean", clean_steps=[dict(step, execute_on_child_nodes=True)]).status_code == 202
    failed = settle(api, parent)
    assert failed["provision_state"] == states.CLEANFAIL
    name = f"{step['interface']}.{step['step']}"
    assert f"Step {name} failed on child node {culprit}" in failed["last_error"]
    assert reason in failed["last_error"]
    assert get(api, culprit)["reservation"] is None  # the child's lock is given back


def test_service_runs_marked_steps_on_the_children(api: httpx.Client) -> None:
    parent, child1, child2, _ = family(api)
    move(api, parent, "provide")
    assert move(api, parent, "active")["provision_state"] == states.ACTIVE
    power = get(api, parent)["power_state"]
    for child in (child1, child2):
        assert api.put(f"/v1/nodes/{child}/states/power", json={"target": "power on"}).status_code == 202
        assert settle(api, child)["power_state"] == states.POWER_ON
    step = dict(POWER_OFF, execute_on_child_nodes=True, limit_child_node_execution=[child2])
    assert provision(api, parent, "service", service_steps=[step]).status_code == 202
    done = settle(api, parent)
    assert (done["provision_state"], done["last_error"], done["power_state"]) == (states.ACTIVE, None, power)
    assert [get(api, c)["power_state"] for c in (child1, child2)] == [states.POWER_ON, states.POWER_OFF]


def test_a_child_step_that_waits_fails_the_parents_service(api: httpx.Client) -> None:
    parent, child1, _, _ = family(api)
    move(api, parent, "provide")
    move(api, parent, "active")
    step = {"interface": "vendor", "step": "trigger_servicewait", "execute_on_child_nodes": True}
    assert provision(api, parent, "service", service_steps=[step]).status_code == 202
    failed = settle(api, parent)
    assert failed["provision_state"] == states.SERVICEFAIL
    assert f"Step vendor.trigger_servicewait failed on child node {child1}" in failed["last_error"]
    assert "must finish without waiting" in failed["last_error"]
    child = get(api, child1)
    assert (child["provision_state"], child["reservation"]) == (states.MANAGEABLE, None)


BAD = [
    ("clean", {"execute_on_child_nodes": "yes"}, 400),
    ("clean", {"execute_on_child_nodes": True, "limit_child_node_execution": "all"}, 400),
    ("clean", {"execute_on_child_nodes": True, "limit_child_node_execution": ["not-a-uuid"]}, 400),
    ("clean", {"execute_on_child_nodes": True, "limit_child_node_execution": [7]}, 400),
    ("clean", {"execute_on_child_nodes": True, "limit_child_node_execution": ["UNKNOWN"]}, 404),
    ("service", {"execute_on_child_nodes": 1}, 400),
    ("service", {"execute_on_child_nodes": True, "limit_child_node_execution": ["UNKNOWN"]}, 404),
    ("active", {"execute_on_child_nodes": True}, 400),  # Ironic's deploy step schema has no such keys
]


@pytest.mark.parametrize(("target", "keys", "code"), BAD, ids=range(len(BAD)))
def test_bad_child_node_steps_are_refused_and_change_nothing(
    api: httpx.Client, target: str, keys: dict[str, Any], code: int
) -> None:
    parent = node(api)
    node(api, parent)
    if target != "clean":
        move(api, parent, "provide")
    if target == "service":
        move(api, parent, "active")
    keys = {k: (["00000000-0000-4000-8000-000000000000"] if v == ["UNKNOWN"] else v) for k, v in keys.items()}
    key = {"clean": "clean_steps", "service": "service_steps", "active": "deploy_steps"}[target]
    step = dict(ERASE, **keys) if target != "active" else dict(ERASE, args={}, priority=10, **keys)
    before = get(api, parent)
    r = provision(api, parent, target, **{key: [step]})
    assert r.status_code == code, r.text
    fault(r)
    after = get(api, parent)
    assert (after["provision_state"], after["provision_updated_at"]) == (
        before["provision_state"],
        before["provision_updated_at"],
    )
