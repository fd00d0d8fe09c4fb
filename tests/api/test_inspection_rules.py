"""/v1/inspection_rules (API 1.96) through HTTP on SQLite and PostgreSQL: CRUD in Ironic's shapes, the version
gate, sensitive rules, validation of conditions/actions, hostile bodies and list queries. The admin-only policy:
tests/auth/test_inspection_rules_policy.py; the ``openstack baremetal inspection rule`` CLI:
tests/api/test_cli_every_subcommand.py::test_inspection_rules."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.helpers import fault
from tests.fixtures.servers import ServiceUnderTest

RULE = {
    "description": "vendor trait",
    "priority": 50,
    "conditions": [{"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "Dell"}}],
    "actions": [{"op": "add-trait", "args": {"name": "CUSTOM_DELL"}}],
}


def _create(api: httpx.Client, **body: object) -> dict:
    r = api.post("/v1/inspection_rules", json={**RULE, **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_show_list_patch_delete(api: httpx.Client) -> None:
    given = str(uuid.uuid4())
    r = api.post("/v1/inspection_rules", json={**RULE, "uuid": given})
    assert r.status_code == 201, r.text
    rule = r.json()
    assert r.headers["Location"].endswith(f"/v1/inspection_rules/{given}")
    assert set(rule) == {
        "uuid",
        "description",
        "priority",
        "sensitive",
        "phase",
        "conditions",
        "actions",
        "created_at",
        "updated_at",
        "links",
    }
    assert (rule["uuid"], rule["priority"], rule["phase"], rule["sensitive"]) == (given, 50, "main", False)
    assert rule["conditions"] == RULE["conditions"] and rule["actions"] == RULE["actions"]
    assert rule["links"][0]["href"].endswith(f"/v1/inspection/{given}")  # Ironic's link resource name
    assert api.get(f"/v1/inspection_rules/{given}").json() == rule
    assert api.get(f"/v1/inspection_rules/{given}", params={"fields": "priority"}).json() == {
        "priority": 50,
        "links": rule["links"],
    }
    other = _create(api, priority=10, description=None)
    listed = api.get("/v1/inspection_rules").json()["inspection_rules"]
    assert [set(x) for x in listed] == [{"uuid", "priority", "phase", "description", "links"}] * 2
    assert api.get("/v1/inspection_rules", params={"detail": "true"}).json()["inspection_rules"][0] == rule
    page = api.get("/v1/inspection_rules", params={"limit": 1}).json()
    assert [x["uuid"] for x in page["inspection_rules"]] == [given] and "marker=" in page["next"]
    assert "/v1/inspection_rules?" in page["next"]
    by_prio = api.get("/v1/inspection_rules", params={"sort_key": "priority"}).json()["inspection_rules"]
    assert [x["uuid"] for x in by_prio] == [other["uuid"], given]
    assert api.get("/v1/inspection_rules", params={"phase": "other"}).json()["inspection_rules"] == []
    # JSON Patch: any field but the uuid; the result is validated as a new rule
    r = api.patch(
        f"/v1/inspection_rules/{given}",
        json=[
            {"op": "replace", "path": "/priority", "value": 99},
            {
                "op": "add",
                "path": "/actions/-",
                "value": {"op": "set-capability", "args": {"name": "boot_mode", "value": "uefi"}},
            },
            {"op": "remove", "path": "/conditions"},
        ],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["priority"], len(r.json()["actions"]), r.json()["conditions"]) == (99, 2, [])
    assert r.json()["updated_at"] is not None
    bad = api.patch(f"/v1/inspection_rules/{given}", json=[{"op": "replace", "path": "/priority", "value": -1}])
    assert bad.status_code == 400 and "minimum" in fault(bad)["faultstring"]
    assert (
        api.patch(
            f"/v1/inspection_rules/{given}", json=[{"op": "replace", "path": "/uuid", "value": str(uuid.uuid4())}]
        ).status_code
        == 400
    )
    assert api.delete(f"/v1/inspection_rules/{given}").status_code == 204
    assert api.get(f"/v1/inspection_rules/{given}").status_code == 404
    assert api.delete(f"/v1/inspection_rules/{given}").status_code == 404
    assert api.post("/v1/inspection_rules", json={**RULE, "uuid": other["uuid"]}).status_code == 409


def test_sensitive_rule_hides_conditions_and_actions(api: httpx.Client) -> None:
    rule = _create(api, sensitive=True)
    assert (rule["sensitive"], rule["conditions"], rule["actions"]) == (True, None, None)
    shown = api.get(f"/v1/inspection_rules/{rule['uuid']}", params={"fields": "uuid,conditions,actions"}).json()
    assert (shown["conditions"], shown["actions"]) == (None, None)
    listed = api.get("/v1/inspection_rules", params={"detail": "true"}).json()["inspection_rules"][0]
    assert (listed["conditions"], listed["actions"]) == (None, None)
    r = api.patch(
        f"/v1/inspection_rules/{rule['uuid']}", json=[{"op": "replace", "path": "/sensitive", "value": False}]
    )
    assert r.status_code == 400 and "cannot have the sensitive flag unset" in fault(r)["faultstring"]
    r = api.patch(f"/v1/inspection_rules/{rule['uuid']}", json=[{"op": "replace", "path": "/priority", "value": 1}])
    assert r.status_code == 200 and r.json()["actions"] is None


@pytest.mark.parametrize(
    ("version", "method", "status"),
    [
        ("1.95", "GET", 404),
        ("1.95", "POST", 405),
        ("1.95", "PATCH", 405),
        ("1.95", "DELETE", 405),
        ("1.96", "GET", 200),
        ("1.96", "POST", 201),
    ],
)
def test_version_gate(service: ServiceUnderTest, version: str, method: str, status: int) -> None:
    with service.client(version) as client:
        target = "/v1/inspection_rules" if method in ("GET", "POST") else f"/v1/inspection_rules/{uuid.uuid4()}"
        r = client.request(
            method,
            target,
            json=RULE
            if method == "POST"
            else ([{"op": "remove", "path": "/description"}] if method == "PATCH" else None),
        )
        assert r.status_code == status, r.text
        root = client.get("/v1/").json()
        assert ("inspection_rules" in root) is (version == "1.96")


BAD_BODIES = [
    ({"conditions": []}, "'actions' is a required property"),
    ({"actions": []}, "should be non-empty"),
    ({"actions": [{"op": "explode", "args": {}}]}, "is not one of"),
    ({"actions": [{"op": "fail"}]}, "'args' is a required property"),
    ({"actions": [{"op": "fail", "args": "boom"}]}, "is not of type 'array', 'object'"),
    ({"actions": [{"op": "fail", "args": {}}]}, "missing required argument(s): msg"),
    ({"actions": [{"op": "fail", "args": {"msg": "x", "extra": 1}}]}, "unexpected argument(s): extra"),
    (
        {"actions": [{"op": "fail", "args": {"msg": "x"}}], "conditions": [{"op": "!!eq", "args": {"values": []}}]},
        "is not one of",
    ),
    (
        {"actions": [{"op": "fail", "args": {"msg": "x"}}], "conditions": [{"op": "eq", "args": {}}]},
        "missing required argument(s): values",
    ),
    (
        {
            "actions": [{"op": "fail", "args": {"msg": "x"}}],
            "conditions": [{"op": "eq", "args": {"values": [1]}, "loop": [1], "multiple": "most"}],
        },
        "is not one of",
    ),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "phase": "preprocess"}, "Invalid phase: preprocess"),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "priority": 10000}, "between 0 and 9999"),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "priority": True}, "is not of type 'integer'"),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "description": "d" * 256}, "is too long"),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "name": "x"}, "Additional properties are not allowed"),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "uuid": "not-a-uuid"}, "Expected a UUID"),
    # a regular expression that could backtrack catastrophically is refused when the rule is created
    (
        {
            "actions": [{"op": "fail", "args": {"msg": "x"}}],
            "conditions": [{"op": "matches", "args": {"value": "{inventory[x]}", "regex": "(a+)+$"}}],
        },
        "nested repetition",
    ),
    (
        {
            "actions": [{"op": "fail", "args": {"msg": "x"}}],
            "conditions": [{"op": "contains", "args": {"value": "x", "regex": "(x)\\1"}}],
        },
        "backreferences",
    ),
    (
        {
            "actions": [{"op": "fail", "args": {"msg": "x"}}],
            "conditions": [{"op": "matches", "args": {"value": "x", "regex": "[a-"}}],
        },
        "invalid regular expression",
    ),
    ({"actions": [{"op": "log", "args": {"msg": "x" * 70000}}]}, "at most 65536 bytes"),
    ({"actions": [{"op": "log", "args": {"msg": "x"}}] * 101}, "at most 100 actions"),
    ({"actions": [{"op": "log", "args": {"msg": "{item}"}, "loop": list(range(1001))}]}, "at most 1000 items"),
    ([{"actions": []}], "is not of type 'object'"),
    # what python-ironicclient sends for `inspection rule create` without --conditions, or with --priority 5
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "conditions": None}, "None is not of type 'array'"),
    ({"actions": [{"op": "fail", "args": {"msg": "x"}}], "priority": "5"}, "'5' is not of type 'integer'"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES, ids=[m for _, m in BAD_BODIES])
def test_bad_rules_answer_400(api: httpx.Client, body: object, message: str) -> None:
    r = api.post("/v1/inspection_rules", json=body)
    assert r.status_code == 400, r.text
    assert message in fault(r)["faultstring"]
    assert api.get("/v1/inspection_rules").json()["inspection_rules"] == []


def test_deep_or_huge_bodies_answer_400(api: httpx.Client) -> None:
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    r = api.post("/v1/inspection_rules", json={"actions": [{"op": "log", "args": {"msg": deep}}]})
    assert r.status_code == 400 and "nested deeper" in fault(r)["faultstring"]
    r = api.post(
        "/v1/inspection_rules",
        content=b'{"actions": [' + b"1," * 200000 + b"1]}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text


def test_list_queries_refused_as_ironic(api: httpx.Client) -> None:
    for params, message in (
        ({"sort_key": "actions"}, "invalid field for sorting"),
        ({"fields": "uuid", "detail": "true"}, "Can not specify ?detail=True"),
        ({"fields": "nope"}, "are not valid"),
        ({"limit": "0"}, "Limit must be positive"),
        ({"marker": str(uuid.uuid4())}, "could not be found"),
    ):
        r = api.get("/v1/inspection_rules", params=params)
        assert r.status_code in (400, 404), r.text
        assert message in fault(r)["faultstring"]
    assert api.get("/v1/inspection_rules/not-a-uuid").status_code == 404  # by UUID only, as Ironic
