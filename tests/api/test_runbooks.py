"""/v1/runbooks (API 1.92; traits and description 1.112) through HTTP on SQLite and PostgreSQL: CRUD, version
gates, validation, project ownership, the ``runbook`` argument of manual cleaning and servicing, and the
CLI (``runbook``, ``node clean --runbook``, ``node service``, ``node unhold``) in
tests/api/test_cli_every_subcommand.py::test_runbooks_servicing_and_hold."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from ironworks import states
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, provision, settle
from tests.conductor.test_hold_service import HOLD, VENDOR, active_node, rest

ERASE = {"interface": "deploy", "step": "erase_devices_metadata", "args": {}, "order": 1}
SLEEP = {"interface": "deploy", "step": "sleep", "args": {"seconds": 0}, "order": 0}
LOG = {"interface": "vendor", "step": "log_passthrough", "args": {}, "order": 0}


def _create(
    api: httpx.Client, name: str = "CUSTOM_CLEAN", steps: list[dict[str, Any]] | None = None, **more: Any
) -> dict[str, Any]:
    r = api.post("/v1/runbooks", json={"name": name, "steps": steps or [ERASE], **more})
    assert r.status_code == 201, r.text
    return r.json()


def _traits(api: httpx.Client, node: str, *traits: str) -> None:
    r = api.put(f"/v1/nodes/{node}/traits", json={"traits": list(traits)})
    assert r.status_code == 204, r.text


def test_create_show_list_patch_delete(service, api: httpx.Client) -> None:
    given = str(uuid.uuid4())
    secret = dict(SLEEP, args={"seconds": 0, "password": "hunter2"})
    r = api.post(
        "/v1/runbooks",
        json={
            "uuid": given,
            "name": "CUSTOM_CLEAN",
            "steps": [ERASE, dict(secret, order="2")],
            "extra": {"a": 1},
            "disable_ramdisk": True,
            "description": "wipe",
        },
    )
    assert r.status_code == 201, r.text
    book = r.json()
    assert r.headers["Location"].endswith(f"/v1/runbooks/{given}")
    assert set(book) == {
        "uuid",
        "name",
        "steps",
        "disable_ramdisk",
        "public",
        "owner",
        "extra",
        "created_at",
        "updated_at",
        "links",
        "description",
        "traits",
    }
    assert (book["name"], book["disable_ramdisk"], book["public"], book["owner"], book["traits"]) == (
        "CUSTOM_CLEAN",
        True,
        False,
        None,
        [],
    )
    assert book["steps"][0] == ERASE and book["steps"][1]["order"] == 2
    assert book["steps"][1]["args"]["password"] == "******"
    assert api.get(f"/v1/runbooks/{given}").json() == book
    assert api.get("/v1/runbooks/CUSTOM_CLEAN").json() == book
    assert api.get(f"/v1/runbooks/{given}", params={"fields": "name"}).json() == {
        "name": "CUSTOM_CLEAN",
        "links": book["links"],
    }
    other = _create(api, "CUSTOM_B", [LOG])
    listed = api.get("/v1/runbooks").json()["runbooks"]
    assert [set(b) for b in listed] == [{"uuid", "name", "links"}] * 2
    assert api.get("/v1/runbooks", params={"detail": "true"}).json()["runbooks"][0] == book
    page = api.get("/v1/runbooks", params={"limit": 1}).json()
    assert [b["uuid"] for b in page["runbooks"]] == [given] and "marker=" in page["next"]
    rest_ = api.get("/v1/runbooks", params={"limit": 1, "marker": given}).json()["runbooks"]
    assert [b["uuid"] for b in rest_] == [other["uuid"]]
    assert api.get("/v1/runbooks", params={"sort_key": "steps"}).status_code == 400
    with service.client("1.111") as old:  # description and traits only from 1.112
        shown = old.get(f"/v1/runbooks/{given}").json()
        assert "description" not in shown and "traits" not in shown
        r = old.post("/v1/runbooks", json={"name": "CUSTOM_X", "steps": [ERASE], "description": "x"})
        assert r.status_code == 400, r.text
        r = old.post("/v1/runbooks", json={"name": "not-a-trait", "steps": [ERASE]})
        assert r.status_code == 400, r.text

    r = api.patch(
        f"/v1/runbooks/{given}",
        json=[
            {"op": "replace", "path": "/name", "value": "wipe-disks"},  # a logical name is fine in PATCH
            {"op": "add", "path": "/extra/b", "value": 2},
            {"op": "replace", "path": "/steps", "value": [LOG]},
            {"op": "replace", "path": "/public", "value": True},
        ],
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert (patched["name"], patched["extra"], patched["steps"], patched["public"]) == (
        "wipe-disks",
        {"a": 1, "b": 2},
        [LOG],
        True,
    )
    r = api.patch(f"/v1/runbooks/{given}", json=[{"op": "replace", "path": "/owner", "value": "p1"}])
    assert r.status_code == 400, r.text  # no owner for a public runbook
    r = api.patch(f"/v1/runbooks/{given}", json=[{"op": "replace", "path": "/name", "value": "CUSTOM_B"}])
    assert r.status_code == 409, r.text
    for bad in (
        [{"op": "remove", "path": "/name"}],
        [{"op": "replace", "path": "/uuid", "value": given}],
        [{"op": "replace", "path": "/steps", "value": []}],
        [{"op": "replace", "path": "/traits", "value": []}],
    ):
        r = api.patch(f"/v1/runbooks/{given}", json=bad)
        assert r.status_code == 400, (bad, r.text)
        fault(r)
    assert api.delete("/v1/runbooks/wipe-disks").status_code == 204
    assert api.get(f"/v1/runbooks/{given}").status_code == 404
    assert api.delete(f"/v1/runbooks/{given}").status_code == 404


BAD_BODIES = [
    {"steps": [ERASE]},
    {"name": "CUSTOM_A"},
    {"name": "CUSTOM_A", "steps": []},
    {"name": "CUSTOM_A", "steps": [dict(ERASE, priority=1)]},  # runbook steps have an order, no priority
    {"name": "CUSTOM_A", "steps": [{k: v for k, v in ERASE.items() if k != "order"}]},
    {"name": "CUSTOM_A", "steps": [dict(ERASE, order=-1)]},
    {"name": "CUSTOM_A", "steps": [dict(ERASE, interface="boot")]},
    {"name": "CUSTOM_A", "steps": [dict(ERASE, args=[])]},
    {"name": "CUSTOM_A", "steps": [ERASE, dict(ERASE, order=5)]},  # duplicate step
    {"name": "CUSTOM_A", "steps": [ERASE], "traits": ["CUSTOM_A"]},  # traits only through the sub-resource
    {"name": "CUSTOM_A", "steps": [ERASE], "public": "yes"},
    {"name": "CUSTOM_A", "steps": [ERASE], "extra": []},
    {"name": "CUSTOM_A", "steps": [ERASE], "uuid": "nope"},
    {"name": "bad name!", "steps": [ERASE]},
    {"name": "x" * 256, "steps": [ERASE]},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_validation_table(api: httpx.Client, body: dict[str, Any]) -> None:
    r = api.post("/v1/runbooks", json=body)
    assert r.status_code == 400, r.text
    fault(r)
    assert api.get("/v1/runbooks").json()["runbooks"] == []


def test_version_gates(service, api: httpx.Client) -> None:
    book = _create(api)
    with service.client("1.91") as old:
        for path in ("/v1/runbooks", f"/v1/runbooks/{book['uuid']}"):
            r = old.get(path)
            assert r.status_code == 404, r.text
            fault(r)
        for method, path, body in (
            ("POST", "/v1/runbooks", {"name": "CUSTOM_Z", "steps": [ERASE]}),
            ("PATCH", f"/v1/runbooks/{book['uuid']}", []),
            ("DELETE", f"/v1/runbooks/{book['uuid']}", None),
        ):
            r = old.request(method, path, json=body)
            assert r.status_code == 405, (method, r.text)
        assert "runbooks" not in old.get("/v1/").json()
        node = enroll(api)
        move(api, node, "manage")
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "clean", "runbook": "CUSTOM_CLEAN"})
        assert r.status_code == 406, r.text
    with service.client("1.92") as at:
        assert at.get("/v1/").json()["runbooks"][0]["href"].endswith("/v1/runbooks/")
        assert at.get(f"/v1/runbooks/{book['uuid']}").status_code == 200
        assert at.get(f"/v1/runbooks/{book['uuid']}/traits").status_code == 404  # 1.112
    with service.client("1.112") as new:
        assert new.get(f"/v1/runbooks/{book['uuid']}/traits").json() == {"traits": []}


def test_traits_subresource(api: httpx.Client) -> None:
    book = _create(api)
    base = f"/v1/runbooks/{book['uuid']}/traits"
    assert api.put(base, json={"traits": ["CUSTOM_A", "CUSTOM_B"]}).status_code == 204
    r = api.put(f"{base}/CUSTOM_C")
    assert r.status_code == 204 and r.headers["Location"].endswith(f"{base}/CUSTOM_C")
    assert api.get(base).json() == {"traits": ["CUSTOM_A", "CUSTOM_B", "CUSTOM_C"]}
    assert api.delete(f"{base}/CUSTOM_B").status_code == 204
    assert api.delete(f"{base}/CUSTOM_NOT_THERE").status_code == 204  # silently ignored, as Ironic
    assert api.get(f"/v1/runbooks/{book['uuid']}").json()["traits"] == ["CUSTOM_A", "CUSTOM_C"]
    for method, path, body in (
        ("PUT", base, None),
        ("PUT", f"{base}/CUSTOM_D", {"traits": ["CUSTOM_D"]}),
        ("PUT", base, {"traits": ["lower"]}),
        ("PUT", f"{base}/lower", None),
    ):
        r = api.request(method, path, json=body)
        assert r.status_code == 400, (path, body, r.text)
        fault(r)
    assert api.delete(base).status_code == 204
    assert api.get(base).json() == {"traits": []}


def test_manual_clean_with_a_runbook(service, api: httpx.Client) -> None:
    _create(api, "CUSTOM_CLEAN", [ERASE, dict(HOLD, args={}, order=0)])
    node = enroll(api)
    move(api, node, "manage")
    with service.client("1.111") as old:  # before 1.112 the runbook's name must be a node trait
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "clean", "runbook": "CUSTOM_CLEAN"})
        assert r.status_code == 400 and "approved" in fault(r)["faultstring"]
        _traits(api, node, "CUSTOM_CLEAN")
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "clean", "runbook": "CUSTOM_CLEAN"})
        assert r.status_code == 202, r.text
    held = rest(api, node, states.CLEANHOLD)  # steps run in their order: the hold first
    assert "fake_metadata_erased" not in held["driver_internal_info"]
    assert provision(api, node, "unhold").status_code == 202
    assert settle(api, node)["driver_internal_info"]["fake_metadata_erased"] is True

    # from 1.112 the node needs one of the runbook's traits (a runbook without traits is usable nowhere)
    r = provision(api, node, "clean", runbook="CUSTOM_CLEAN")
    assert r.status_code == 400 and "no traits" in fault(r)["faultstring"]
    assert api.put("/v1/runbooks/CUSTOM_CLEAN/traits/CUSTOM_OTHER").status_code == 204
    r = provision(api, node, "clean", runbook="CUSTOM_CLEAN")
    assert r.status_code == 400 and "not have any of the runbook's traits" in fault(r)["faultstring"]
    _traits(api, node, "CUSTOM_OTHER")
    assert provision(api, node, "clean", runbook="CUSTOM_CLEAN").status_code == 202
    rest(api, node, states.CLEANHOLD)
    assert provision(api, node, "abort").status_code == 202
    rest(api, node, states.CLEANFAIL)
    for extra, code in (({"clean_steps": [ERASE]}, 400), ({}, 404)):
        r = provision(api, node, "clean", runbook="CUSTOM_CLEAN" if extra else "CUSTOM_MISSING", **extra)
        assert r.status_code in (code, 400), r.text
        fault(r)


def test_service_with_a_runbook(service, api: httpx.Client) -> None:
    _create(api, "CUSTOM_SERVICE", [LOG])
    assert api.put("/v1/runbooks/CUSTOM_SERVICE/traits", json={"traits": ["CUSTOM_SVC"]}).status_code == 204
    node = active_node(api)
    _traits(api, node, "CUSTOM_SVC", "CUSTOM_SERVICE")  # the name matters below 1.112
    r = provision(api, node, "service", runbook="CUSTOM_SERVICE", service_steps=[VENDOR])
    assert r.status_code == 400 and "not both" in fault(r)["faultstring"]
    r = provision(api, node, "active", runbook="CUSTOM_SERVICE")  # runbooks serve clean and service only
    assert r.status_code == 400, r.text
    with service.client("1.107") as old:  # the runbook's disable_ramdisk is the request's: 406 before 1.108
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "service", "runbook": "CUSTOM_SERVICE"})
        assert r.status_code == 406, r.text
    assert provision(api, node, "service", runbook="CUSTOM_SERVICE").status_code == 202
    done = settle(api, node)
    assert (done["provision_state"], done["driver_internal_info"]["fake_vendor_calls"]) == (states.ACTIVE, 1)


BAD_PATCHES = [
    [{"op": "add", "path": "/steps/-", "value": "x"}],
    [{"op": "add", "path": "/steps/-", "value": dict(ERASE, interface=["deploy"])}],
    [{"op": "replace", "path": "/steps/0/order", "value": "٣"}],
    [{"op": "replace", "path": "/steps/0/step", "value": {"a": 1}}],
    [{"op": "replace", "path": "/disable_ramdisk", "value": "yes"}],
    [{"op": "replace", "path": "/name", "value": ["CUSTOM_A"]}],
    [{"op": "replace", "path": "/description", "value": "x" * 256}],
    [{"op": "replace", "path": "/owner", "value": 7}],
    [{"op": "add", "path": "/bogus", "value": 1}],
]


@pytest.mark.parametrize("patch", BAD_PATCHES, ids=range(len(BAD_PATCHES)))
def test_hostile_patches_answer_400(api: httpx.Client, patch: list[dict[str, Any]]) -> None:
    book = _create(api)
    r = api.patch(f"/v1/runbooks/{book['uuid']}", json=patch)
    assert r.status_code == 400, r.text
    fault(r)
    assert api.get(f"/v1/runbooks/{book['uuid']}").json() == book


@pytest.mark.parametrize("ident", [5, ["CUSTOM_CLEAN"], {"a": 1}, "", "x" * 300])
def test_hostile_runbook_argument(api: httpx.Client, ident: Any) -> None:
    node = enroll(api)
    before = move(api, node, "manage")
    r = provision(api, node, "clean", runbook=ident)
    assert r.status_code in (400, 404), r.text
    fault(r)
    assert api.get(f"/v1/nodes/{node}").json()["provision_updated_at"] == before["provision_updated_at"]
