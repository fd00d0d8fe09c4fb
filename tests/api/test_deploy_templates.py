"""/v1/deploy_templates (API 1.55) through HTTP on SQLite and PostgreSQL: CRUD, version gates, validation,
JSON Patch, the deploy that runs a template's steps, and the ``openstack baremetal deploy template`` CLI."""

from __future__ import annotations

import json
import uuid

import pytest

from ironworks import states
from tests.api.helpers import baremetal_cli, fault
from tests.conductor.helpers import enroll, move, provision, settle

RAID = {"logical_disks": [{"size_gb": 10, "raid_level": "1", "is_root_volume": True}]}
APPLY_RAID = {"interface": "raid", "step": "apply_configuration", "args": {"raid_config": RAID}, "priority": 90}
SLEEP = {"interface": "deploy", "step": "sleep", "args": {"seconds": 0}, "priority": 0}


def _create(api, name="CUSTOM_RAID1", steps=None, **more):
    r = api.post("/v1/deploy_templates", json={"name": name, "steps": steps or [APPLY_RAID], **more})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_show_list_patch_delete(api):
    given = str(uuid.uuid4())
    secret = dict(SLEEP, args={"seconds": 0, "password": "hunter2"})
    r = api.post(
        "/v1/deploy_templates",
        json={
            "uuid": given,
            "name": "CUSTOM_RAID1",
            "extra": {"a": 1},
            "steps": [APPLY_RAID, dict(secret, priority="5")],
        },
    )
    assert r.status_code == 201, r.text
    tmpl = r.json()
    assert r.headers["Location"].endswith(f"/v1/deploy_templates/{given}")
    assert set(tmpl) == {"uuid", "name", "steps", "extra", "created_at", "updated_at", "links"}
    assert (tmpl["uuid"], tmpl["name"], tmpl["extra"], tmpl["updated_at"]) == (given, "CUSTOM_RAID1", {"a": 1}, None)
    assert tmpl["steps"][0] == APPLY_RAID
    assert tmpl["steps"][1]["priority"] == 5 and tmpl["steps"][1]["args"]["password"] == "******"
    assert tmpl["links"][0]["href"].endswith(f"/v1/deploy_templates/{given}")
    assert api.get(f"/v1/deploy_templates/{given}").json() == tmpl
    assert api.get("/v1/deploy_templates/CUSTOM_RAID1").json() == tmpl  # by name
    assert api.get(f"/v1/deploy_templates/{given}", params={"fields": "name"}).json() == {
        "name": "CUSTOM_RAID1",
        "links": tmpl["links"],
    }
    other = _create(api, "CUSTOM_B", [dict(SLEEP, priority=10)])
    listed = api.get("/v1/deploy_templates").json()["deploy_templates"]
    assert [set(t) for t in listed] == [{"uuid", "name", "links"}] * 2
    assert api.get("/v1/deploy_templates", params={"detail": "true"}).json()["deploy_templates"][0] == tmpl
    page = api.get("/v1/deploy_templates", params={"limit": 1}).json()
    assert [t["uuid"] for t in page["deploy_templates"]] == [given] and "marker=" in page["next"]
    rest = api.get("/v1/deploy_templates", params={"limit": 1, "marker": given}).json()["deploy_templates"]
    assert [t["uuid"] for t in rest] == [other["uuid"]]
    by_name = api.get("/v1/deploy_templates", params={"sort_key": "name", "sort_dir": "desc"}).json()
    assert [t["name"] for t in by_name["deploy_templates"]] == ["CUSTOM_RAID1", "CUSTOM_B"]
    assert api.get("/v1/deploy_templates", params={"detail": "true", "fields": "name"}).status_code == 400

    r = api.patch(
        f"/v1/deploy_templates/{given}",
        json=[
            {"op": "replace", "path": "/name", "value": "CUSTOM_RAID10"},
            {"op": "add", "path": "/extra/b", "value": 2},
            {"op": "replace", "path": "/steps", "value": [dict(SLEEP, priority=3)]},
        ],
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert (patched["name"], patched["extra"], patched["steps"]) == (
        "CUSTOM_RAID10",
        {"a": 1, "b": 2},
        [dict(SLEEP, priority=3)],
    )
    assert patched["updated_at"] is not None
    r = api.patch(f"/v1/deploy_templates/{given}", json=[{"op": "replace", "path": "/name", "value": "CUSTOM_B"}])
    assert r.status_code == 409, r.text
    fault(r)
    for bad in (
        [{"op": "remove", "path": "/name"}],
        [{"op": "replace", "path": "/uuid", "value": given}],
        [{"op": "replace", "path": "/steps", "value": []}],
        [{"op": "replace", "path": "/name", "value": "lower"}],
    ):
        r = api.patch(f"/v1/deploy_templates/{given}", json=bad)
        assert r.status_code == 400, (bad, r.text)
        fault(r)
    assert api.get(f"/v1/deploy_templates/{given}").json() == patched

    assert api.delete("/v1/deploy_templates/CUSTOM_RAID10").status_code == 204
    r = api.get(f"/v1/deploy_templates/{given}")
    assert r.status_code == 404 and "could not be found" in fault(r)["faultstring"]
    assert api.delete(f"/v1/deploy_templates/{given}").status_code == 404


def test_name_unique_and_uuid_unique(api):
    tmpl = _create(api)
    r = api.post("/v1/deploy_templates", json={"name": "CUSTOM_RAID1", "steps": [APPLY_RAID]})
    assert r.status_code == 409 and "CUSTOM_RAID1" in fault(r)["faultstring"]
    r = api.post("/v1/deploy_templates", json={"uuid": tmpl["uuid"], "name": "CUSTOM_X", "steps": [APPLY_RAID]})
    assert r.status_code == 409, r.text


def _step(**over):
    return [dict(APPLY_RAID, **over)]


BAD_BODIES = [
    {"steps": [APPLY_RAID]},  # no name
    {"name": "CUSTOM_A"},  # no steps
    {"name": "CUSTOM_A", "steps": []},
    {"name": "CUSTOM_A", "steps": "x"},
    {"name": "raid1", "steps": [APPLY_RAID]},  # not a trait
    {"name": "CUSTOM_a-b", "steps": [APPLY_RAID]},
    {"name": "CUSTOM_" + "A" * 250, "steps": [APPLY_RAID]},
    {"name": 5, "steps": [APPLY_RAID]},
    {"name": "CUSTOM_A", "steps": [APPLY_RAID], "description": "x"},  # unknown key
    {"name": "CUSTOM_A", "steps": [APPLY_RAID], "extra": []},
    {"name": "CUSTOM_A", "steps": [APPLY_RAID], "uuid": "nope"},
    {"name": "CUSTOM_A", "steps": _step(interface="boot")},  # not a deploy-step interface
    {"name": "CUSTOM_A", "steps": _step(interface="rescue")},
    {"name": "CUSTOM_A", "steps": _step(priority=-1)},
    {"name": "CUSTOM_A", "steps": _step(priority=1.5)},
    {"name": "CUSTOM_A", "steps": _step(priority=True)},
    {"name": "CUSTOM_A", "steps": _step(priority="x1")},
    {"name": "CUSTOM_A", "steps": _step(args=[])},
    {"name": "CUSTOM_A", "steps": _step(step="")},
    {"name": "CUSTOM_A", "steps": _step(step=7)},
    {"name": "CUSTOM_A", "steps": _step(order=1)},
    {"name": "CUSTOM_A", "steps": [{k: v for k, v in APPLY_RAID.items() if k != "args"}]},
    {"name": "CUSTOM_A", "steps": [{k: v for k, v in APPLY_RAID.items() if k != "priority"}]},
    {"name": "CUSTOM_A", "steps": [APPLY_RAID, dict(APPLY_RAID, priority=1)]},  # duplicate step
    {"name": "CUSTOM_A", "steps": ["raid.apply_configuration"]},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_validation_table(api, body):
    r = api.post("/v1/deploy_templates", json=body)
    assert r.status_code == 400, r.text
    fault(r)
    assert api.get("/v1/deploy_templates").json()["deploy_templates"] == []


def test_version_gate(service, api):
    tmpl = _create(api)
    with service.client("1.54") as old:
        for method, path in (("GET", "/v1/deploy_templates"), ("GET", f"/v1/deploy_templates/{tmpl['uuid']}")):
            r = old.request(method, path)
            assert r.status_code == 404, r.text
            fault(r)
        for method, path, body in (
            ("POST", "/v1/deploy_templates", {"name": "CUSTOM_Z", "steps": [APPLY_RAID]}),
            ("PATCH", f"/v1/deploy_templates/{tmpl['uuid']}", []),
            ("DELETE", f"/v1/deploy_templates/{tmpl['uuid']}", None),
        ):
            r = old.request(method, path, json=body)
            assert r.status_code == 405, (method, r.text)
            fault(r)
        assert "deploy_templates" not in old.get("/v1/").json()
    with service.client("1.55") as at:
        assert at.get("/v1/").json()["deploy_templates"][0]["href"].endswith("/v1/deploy_templates/")
        assert at.get("/v1/deploy_templates").json()["deploy_templates"][0]["uuid"] == tmpl["uuid"]
        assert at.get(f"/v1/deploy_templates/{tmpl['uuid']}").status_code == 200
    assert [t["name"] for t in api.get("/v1/deploy_templates").json()["deploy_templates"]] == ["CUSTOM_RAID1"]


def _available_with_traits(api, *traits):
    node = enroll(api)
    move(api, node, "manage")
    move(api, node, "provide")
    r = api.patch(
        f"/v1/nodes/{node}", json=[{"op": "add", "path": "/instance_info", "value": {"traits": list(traits)}}]
    )
    assert r.status_code == 200, r.text
    return node


def test_deploy_runs_the_matching_template_steps(api):
    _create(api, "CUSTOM_RAID1", [APPLY_RAID])
    _create(api, "CUSTOM_UNUSED", [dict(APPLY_RAID, args={"raid_config": {"logical_disks": []}})])
    node = _available_with_traits(api, "CUSTOM_RAID1", "CUSTOM_NO_TEMPLATE")
    assert api.get(f"/v1/nodes/{node}").json()["raid_config"] == {}
    assert provision(api, node, "active").status_code == 202
    done = settle(api, node)
    assert done["provision_state"] == states.ACTIVE, done["last_error"]
    assert done["raid_config"]["logical_disks"] == RAID["logical_disks"]  # the template's step ran

    # a user deploy step overrides the template's step of the same interface and step (priority 0: disabled)
    other = _available_with_traits(api, "CUSTOM_RAID1")
    r = provision(api, other, "active", deploy_steps=[dict(APPLY_RAID, args={}, priority=0)])
    assert r.status_code == 202, r.text
    assert settle(api, other)["provision_state"] == states.ACTIVE
    assert api.get(f"/v1/nodes/{other}").json()["raid_config"] == {}


def test_template_naming_unknown_step_refused_at_deploy_request(api):
    _create(api, "CUSTOM_BAD", [{"interface": "deploy", "step": "no_such_step", "args": {}, "priority": 50}])
    _create(api, "CUSTOM_NOARGS", [dict(APPLY_RAID, args={})])
    _create(api, "CUSTOM_DUP", [dict(APPLY_RAID, priority=5)])
    _create(api, "CUSTOM_CORE", [{"interface": "deploy", "step": "deploy", "args": {}, "priority": 10}])
    _create(api, "CUSTOM_RAID1", [APPLY_RAID])
    for traits, words in (
        (["CUSTOM_BAD"], "no_such_step"),
        (["CUSTOM_CORE"], "core step"),
        (["CUSTOM_NOARGS"], "raid_config"),
        (["CUSTOM_DUP", "CUSTOM_RAID1"], "Duplicate deploy steps"),
    ):
        node = _available_with_traits(api, *traits)
        r = provision(api, node, "active")
        assert r.status_code == 400, r.text
        message = fault(r)["faultstring"]
        assert words in message and "Matching deploy templates" in message, message
        body = api.get(f"/v1/nodes/{node}").json()
        assert (body["provision_state"], body["target_provision_state"]) == (states.AVAILABLE, None)


def test_openstack_baremetal_deploy_template_cli(service):
    cli = baremetal_cli(service.url)

    created = json.loads(
        cli(
            "deploy",
            "template",
            "create",
            "CUSTOM_RAID1",
            "--steps",
            json.dumps([APPLY_RAID]),
            "--extra",
            "row=b",
            "-f",
            "json",
        )
    )
    assert created["name"] == "CUSTOM_RAID1" and created["steps"] == [APPLY_RAID] and created["extra"] == {"row": "b"}
    listed = json.loads(cli("deploy", "template", "list", "-f", "json"))
    assert [t.get("Name", t.get("name")) for t in listed] == ["CUSTOM_RAID1"]
    cli(
        "deploy",
        "template",
        "set",
        "CUSTOM_RAID1",
        "--name",
        "CUSTOM_RAID10",
        "--steps",
        json.dumps([dict(SLEEP, priority=4)]),
    )
    shown = json.loads(cli("deploy", "template", "show", created["uuid"], "-f", "json"))
    assert (shown["name"], shown["steps"]) == ("CUSTOM_RAID10", [dict(SLEEP, priority=4)])
    cli("deploy", "template", "delete", "CUSTOM_RAID10")
    assert json.loads(cli("deploy", "template", "list", "-f", "json")) == []
    assert "trait" in cli("deploy", "template", "create", "lower", "--steps", json.dumps([APPLY_RAID]), fails=True)
