"""Every provisioning transition a user can ask for, and a sample of refused ones, through the HTTP API on
fake-hardware, on SQLite and PostgreSQL. Failures and waits are produced by the fake drivers' driver_info."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ironworks import states
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, patch_info, provision, settle

S = states


def _fail_then_clear(op: str, target: str, **extra: Any) -> Callable[[httpx.Client, str], None]:
    def step(api: httpx.Client, node: str) -> None:
        patch_info(api, node, **{f"fake_fail_{op}": "injected failure"})
        move(api, node, target, **extra)
        patch_info(api, node, **{f"fake_fail_{op}": None})
    return step


def _wait(op: str, target: str, **extra: Any) -> Callable[[httpx.Client, str], None]:
    def step(api: httpx.Client, node: str) -> None:
        patch_info(api, node, **{f"fake_wait_{op}": True})
        move(api, node, target, **extra)
    return step


def _to(target: str, **extra: Any) -> Callable[[httpx.Client, str], None]:
    return lambda api, node: move(api, node, target, **extra) and None


PW = {"rescue_password": "s3cret"}
#: how to bring a fresh node into each state
RECIPES: dict[str, list[Callable[[httpx.Client, str], None]]] = {
    S.ENROLL: [],
    S.MANAGEABLE: [_to("manage")],
    S.AVAILABLE: [_to("manage"), _to("provide")],
    S.ACTIVE: [_to("manage"), _to("provide"), _to("active")],
    S.DEPLOYFAIL: [_to("manage"), _to("provide"), _fail_then_clear("deploy", "active")],
    S.ERROR: [_to("manage"), _to("provide"), _to("active"), _fail_then_clear("teardown", "deleted")],
    S.CLEANFAIL: [_to("manage"), _fail_then_clear("clean", "provide")],
    S.INSPECTFAIL: [_to("manage"), _fail_then_clear("inspect", "inspect")],
    S.ADOPTFAIL: [_to("manage"), _fail_then_clear("adopt", "adopt")],
    S.RESCUE: [_to("manage"), _to("provide"), _to("active"), _to("rescue", **PW)],
    S.RESCUEFAIL: [_to("manage"), _to("provide"), _to("active"), _fail_then_clear("rescue", "rescue", **PW)],
    S.UNRESCUEFAIL: [_to("manage"), _to("provide"), _to("active"), _to("rescue", **PW),
                     _fail_then_clear("unrescue", "unrescue")],
    S.DEPLOYWAIT: [_to("manage"), _to("provide"), _wait("deploy", "active")],
    S.CLEANWAIT: [_to("manage"), _wait("clean", "provide")],
    S.INSPECTWAIT: [_to("manage"), _wait("inspect", "inspect")],
    S.RESCUEWAIT: [_to("manage"), _to("provide"), _to("active"), _wait("rescue", "rescue", **PW)],
}

#: (state, API target) -> the state the node rests in afterwards
ALLOWED: dict[tuple[str, str], str] = {
    (S.ENROLL, "manage"): S.MANAGEABLE,
    (S.MANAGEABLE, "provide"): S.AVAILABLE,
    (S.MANAGEABLE, "inspect"): S.MANAGEABLE,
    (S.MANAGEABLE, "adopt"): S.ACTIVE,
    (S.AVAILABLE, "manage"): S.MANAGEABLE,
    (S.AVAILABLE, "active"): S.ACTIVE,
    (S.ACTIVE, "rebuild"): S.ACTIVE,
    (S.ACTIVE, "deleted"): S.AVAILABLE,
    (S.ACTIVE, "rescue"): S.RESCUE,
    (S.DEPLOYFAIL, "active"): S.ACTIVE,
    (S.DEPLOYFAIL, "rebuild"): S.ACTIVE,
    (S.DEPLOYFAIL, "deleted"): S.AVAILABLE,
    (S.ERROR, "rebuild"): S.ACTIVE,
    (S.ERROR, "deleted"): S.AVAILABLE,
    (S.CLEANFAIL, "manage"): S.MANAGEABLE,
    (S.INSPECTFAIL, "manage"): S.MANAGEABLE,
    (S.INSPECTFAIL, "inspect"): S.MANAGEABLE,
    (S.ADOPTFAIL, "adopt"): S.ACTIVE,
    (S.ADOPTFAIL, "manage"): S.MANAGEABLE,
    (S.RESCUE, "rescue"): S.RESCUE,
    (S.RESCUE, "unrescue"): S.ACTIVE,
    (S.RESCUE, "deleted"): S.AVAILABLE,
    (S.RESCUEFAIL, "rescue"): S.RESCUE,
    (S.RESCUEFAIL, "unrescue"): S.ACTIVE,
    (S.RESCUEFAIL, "deleted"): S.AVAILABLE,
    (S.UNRESCUEFAIL, "rescue"): S.RESCUE,
    (S.UNRESCUEFAIL, "unrescue"): S.ACTIVE,
    (S.UNRESCUEFAIL, "deleted"): S.AVAILABLE,
    (S.DEPLOYWAIT, "deleted"): S.AVAILABLE,
    (S.CLEANWAIT, "abort"): S.CLEANFAIL,
    (S.INSPECTWAIT, "abort"): S.INSPECTFAIL,
    (S.RESCUEWAIT, "abort"): S.RESCUEFAIL,
    (S.DEPLOYWAIT, "abort"): S.DEPLOYFAIL,  # API 1.110
    (S.RESCUEWAIT, "deleted"): S.AVAILABLE,
}

#: a sample of refused requests: (state, target)
FORBIDDEN = [
    (S.ENROLL, "provide"), (S.ENROLL, "active"), (S.ENROLL, "inspect"), (S.ENROLL, "deleted"),
    (S.MANAGEABLE, "active"), (S.MANAGEABLE, "unrescue"), (S.MANAGEABLE, "abort"),
    (S.AVAILABLE, "inspect"), (S.AVAILABLE, "deleted"), (S.AVAILABLE, "adopt"), (S.AVAILABLE, "provide"),
    (S.ACTIVE, "provide"), (S.ACTIVE, "manage"), (S.ACTIVE, "unrescue"), (S.ACTIVE, "active"),
    (S.RESCUE, "active"), (S.CLEANFAIL, "provide"), (S.DEPLOYFAIL, "manage"), (S.ERROR, "provide"),
    (S.INSPECTWAIT, "manage"), (S.CLEANWAIT, "deleted"),
]


def _reach(api: httpx.Client, state: str) -> str:
    node = enroll(api)
    for step in RECIPES[state]:
        step(api, node)
    body = settle(api, node)
    assert body["provision_state"] == state, body
    return node


def _extra(target: str) -> dict[str, Any]:
    return dict(PW) if target == "rescue" else {}


@pytest.mark.parametrize(("state", "target"), sorted(ALLOWED), ids=lambda v: str(v).replace(" ", "_"))
def test_allowed_transition(api: httpx.Client, state: str, target: str) -> None:
    node = _reach(api, state)
    r = provision(api, node, target, **_extra(target))
    assert r.status_code == 202, r.text
    assert r.headers["Location"].endswith(f"/v1/nodes/{node}/states")
    body = settle(api, node)
    assert body["provision_state"] == ALLOWED[(state, target)], body
    assert body["reservation"] is None
    if body["provision_state"] in states.FAILURE_STATES:
        assert body["last_error"]
    elif not (state in states.FAILURE_STATES and target == "manage"):  # Ironic keeps it on that move
        assert body["last_error"] is None, body["last_error"]


def test_every_user_transition_of_the_table_is_walked() -> None:
    """ALLOWED covers each (state, user event) pair of TRANSITIONS reachable at the advertised versions."""
    verbs = {"manage": "manage", "provide": "provide", "inspect": "inspect", "adopt": "adopt", "deploy": "active",
             "rebuild": "rebuild", "delete": "deleted", "rescue": "rescue", "unrescue": "unrescue", "abort": "abort"}
    gated: set[tuple[str, str]] = set()  # nothing beyond the advertised 1.115
    unreachable = {S.DEPLOYHOLD, S.CLEANHOLD, S.SERVICING, S.SERVICEWAIT, S.SERVICEHOLD, S.SERVICEFAIL}
    wanted = {(src, verbs[ev]) for (src, ev) in states.TRANSITIONS
              if ev in verbs and src not in unreachable and (src, ev) not in gated}
    transient_user = {(S.CLEANING, "manage")}  # internal: manual cleaning ends with "manage"
    assert wanted - transient_user == set(ALLOWED)


@pytest.mark.parametrize(("state", "target"), FORBIDDEN, ids=lambda v: str(v).replace(" ", "_"))
def test_forbidden_transition(api: httpx.Client, state: str, target: str) -> None:
    node = _reach(api, state)
    before = api.get(f"/v1/nodes/{node}").json()
    r = provision(api, node, target, **_extra(target))
    assert r.status_code == 400, r.text
    assert "can not be performed" in fault(r)["faultstring"]
    after = api.get(f"/v1/nodes/{node}").json()
    assert after["provision_state"] == before["provision_state"]
    assert after["provision_updated_at"] == before["provision_updated_at"]


def test_locked_node_answers_409(api: httpx.Client) -> None:
    node = _reach(api, S.AVAILABLE)
    patch_info(api, node, fake_sleep_deploy=1.5)
    assert provision(api, node, "active").status_code == 202
    shown = api.get(f"/v1/nodes/{node}").json()
    assert shown["provision_state"] == S.DEPLOYING and shown["reservation"]
    r = provision(api, node, "deleted")
    assert r.status_code == 409, r.text
    assert "locked" in fault(r)["faultstring"]
    assert settle(api, node)["provision_state"] == S.ACTIVE


@pytest.mark.parametrize(("version", "target", "status"), [
    ("1.1", "manage", 406), ("1.5", "inspect", 406), ("1.12", "abort", 406), ("1.14", "clean", 406),
    ("1.16", "adopt", 406), ("1.37", "rescue", 406), ("1.72", "deploy", 406),
    # Ironic checks "undeploy" under its event name (no version) and "service" after the state machine
    ("1.1", "undeploy", 400), ("1.86", "service", 400), ("1.115", "fly", 400), ("1.1", "deleted", 400),
])
def test_version_gates(service: Any, version: str, target: str, status: int) -> None:
    with service.client(version) as api:
        node = enroll(api)
        r = provision(api, node, target)
        assert r.status_code == status, r.text
        fault(r)


def test_bad_bodies_are_refused_before_any_change(api: httpx.Client) -> None:
    node = _reach(api, S.MANAGEABLE)
    for body in ({}, {"target": 5}, {"target": "manage", "bogus": 1}, {"target": "provide", "clean_steps": []},
                 {"target": "clean"}, {"target": "provide", "rescue_password": "x"},
                 {"target": "provide", "configdrive": "abc"}):
        r = api.put(f"/v1/nodes/{node}/states/provision", json=body)
        assert r.status_code == 400, (body, r.text)
        fault(r)
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == S.MANAGEABLE
    active = _reach(api, S.ACTIVE)
    for password in ("", "   ", None):
        r = provision(api, active, "rescue", rescue_password=password)
        assert r.status_code == 400, r.text
    assert api.get(f"/v1/nodes/{active}").json()["provision_state"] == S.ACTIVE


def test_maintenance_blocks_deploy(api: httpx.Client) -> None:
    node = _reach(api, S.AVAILABLE)
    assert api.put(f"/v1/nodes/{node}/maintenance", json={"reason": "x"}).status_code == 202
    r = provision(api, node, "active")
    assert r.status_code == 400
    assert "maintenance" in fault(r)["faultstring"]


def test_rescue_password_is_masked(api: httpx.Client) -> None:
    node = _reach(api, S.ACTIVE)
    move(api, node, "rescue", rescue_password="topsecret")
    assert "topsecret" not in api.get(f"/v1/nodes/{node}").text
