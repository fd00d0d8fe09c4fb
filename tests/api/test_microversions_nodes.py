"""Node fields and filters of API 1.66–1.115 at their version boundary, as Ironic gates them.

One row per field: one version below it the field is hidden from every answer and refused (406) in ``fields=``,
``sort_key``, a POST body and a PATCH path; at its version it is shown and accepted. Filters likewise.
Runs on SQLite and PostgreSQL (the ``service`` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import fault, make_node

#: field -> (version, a value to POST / PATCH or None when the field is read-only, sortable)
FIELDS: dict[str, tuple[int, Any, bool]] = {
    "network_data": (66, {"links": [], "networks": [], "services": []}, False),
    "boot_mode": (75, None, True),
    "secure_boot": (75, None, True),
    "shard": (82, "shard-a", True),
    "parent_node": (83, "parent", True),
    "firmware_interface": (86, "fake", True),
    "service_step": (87, None, False),
    "disable_power_off": (95, True, True),
    "instance_name": (104, "web-1", True),
    "health": (109, None, False),
}


def _v(minor: int) -> str:
    return f"1.{minor}"


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_node_field_boundary(service, api, field):
    since, value, sortable = FIELDS[field]
    make_node(api, name="parent")
    node = make_node(api, name="n1")
    with service.client(_v(since - 1)) as old, service.client(_v(since)) as new:
        # hidden below, shown at its version: show, list detail, fields
        assert field not in old.get(f"/v1/nodes/{node['uuid']}").json()
        assert field not in old.get("/v1/nodes/detail").json()["nodes"][0]
        assert field in new.get(f"/v1/nodes/{node['uuid']}").json()
        assert field in new.get("/v1/nodes/detail").json()["nodes"][0]
        r = old.get(f"/v1/nodes/{node['uuid']}", params={"fields": f"uuid,{field}"})
        assert r.status_code == 406, r.text
        fault(r)
        assert old.get("/v1/nodes", params={"fields": f"uuid,{field}"}).status_code == 406
        r = new.get(f"/v1/nodes/{node['uuid']}", params={"fields": f"uuid,{field}"})
        assert r.status_code == 200 and field in r.json(), r.text
        if sortable:
            assert old.get("/v1/nodes", params={"sort_key": field}).status_code == 406
        if value is None:
            return
        # a POST body or a PATCH naming it: 406 below, accepted at its version
        r = old.post("/v1/nodes", json={"driver": "fake-hardware", field: value})
        assert r.status_code == 406, r.text
        fault(r)
        r = old.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": f"/{field}", "value": value}])
        assert r.status_code == 406, r.text
        r = new.post("/v1/nodes", json={"driver": "fake-hardware", field: value})
        assert r.status_code == 201, r.text
        r = new.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": f"/{field}", "value": value}])
        assert r.status_code == 200, r.text
        shown = r.json()[field]
        assert shown == (api.get("/v1/nodes/parent").json()["uuid"] if field == "parent_node" else value)


def test_boot_mode_is_read_only_but_accepted_on_create(service):
    """Ironic's quirk: boot_mode/secure_boot are in the POST schema (1.75+) but never patchable (400)."""
    with service.client("1.75") as c:
        r = c.post("/v1/nodes", json={"driver": "fake-hardware", "boot_mode": "uefi", "secure_boot": True})
        assert r.status_code == 201, r.text
        assert (r.json()["boot_mode"], r.json()["secure_boot"]) == ("uefi", True)
        uuid = r.json()["uuid"]
        r = c.patch(f"/v1/nodes/{uuid}", json=[{"op": "add", "path": "/boot_mode", "value": "bios"}])
        assert r.status_code == 400, r.text
        assert c.get(f"/v1/nodes/{uuid}").json()["boot_mode"] == "uefi"


def test_health_is_unknown_and_read_only(api):
    node = make_node(api)
    assert node["health"] is None  # no driver reports a BMC health yet: unknown
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": "/health", "value": "OK"}])
    assert r.status_code == 400, r.text
    assert api.post("/v1/nodes", json={"driver": "fake-hardware", "health": "OK"}).status_code == 400


#: list filter -> (version, value, node names it matches among s1 (shard a), s2 (shard b), plain, child)
FILTERS: dict[str, tuple[int, str, set[str]]] = {
    "shard": (82, "a,b", {"s1", "s2"}),
    "sharded": (82, "false", {"plain"}),
    "include_children": (83, "true", {"s1", "s2", "plain", "child"}),
    "parent_node": (83, "{plain}", {"child"}),
    "instance_name": (104, "web-1", {"s2"}),
}


@pytest.mark.parametrize("param", sorted(FILTERS))
def test_node_filter_boundary(service, api, param):
    since, value, expected = FILTERS[param]
    make_node(api, name="s1", shard="a")
    make_node(api, name="s2", shard="b", instance_name="web-1")
    plain = make_node(api, name="plain")
    make_node(api, name="child", parent_node=plain["uuid"])
    value = value.format(plain=plain["uuid"])
    with service.client(_v(since - 1)) as old, service.client(_v(since)) as new:
        r = old.get("/v1/nodes", params={param: value})
        assert r.status_code == 406, r.text
        fault(r)
        r = new.get("/v1/nodes", params={param: value})
        assert r.status_code == 200, r.text
        assert {n["name"] for n in r.json()["nodes"]} == expected


def test_child_nodes_are_listed_only_when_asked(service, api):
    """At every version (as Ironic), a list leaves child nodes out unless include_children or parent_node."""
    parent = make_node(api, name="parent")
    child = make_node(api, name="child", parent_node="parent")  # a name is resolved to the parent's uuid
    assert child["parent_node"] == parent["uuid"]
    with service.client("1.1") as c:
        assert [n["uuid"] for n in c.get("/v1/nodes").json()["nodes"]] == [parent["uuid"]]
    # /v1/nodes/detail does not check the version of these two filters (Ironic's quirk)
    with service.client("1.65") as c:
        r = c.get("/v1/nodes/detail", params={"include_children": "true"})
        assert r.status_code == 200 and len(r.json()["nodes"]) == 2


def test_parent_node_must_exist_and_share_the_owner(api):
    make_node(api, name="theirs", owner="other-project")
    for parent in ("nope", "theirs"):
        r = api.post("/v1/nodes", json={"driver": "fake-hardware", "parent_node": parent})
        assert r.status_code == 400, r.text
        assert fault(r)["faultstring"] == (f"Unable to apply the requested parent_node '{parent}'. "
                                           "Requested value was invalid.")


def test_children_endpoint_boundary(service, api):
    parent = make_node(api, name="parent")
    child = make_node(api, name="child", parent_node=parent["uuid"])
    with service.client("1.82") as c:
        r = c.get("/v1/nodes/parent/children")
        assert r.status_code == 404, r.text
        fault(r)
    with service.client("1.83") as c:
        r = c.get("/v1/nodes/parent/children")
    assert r.status_code == 200, r.text
    assert r.json() == {"children": [child["uuid"]],
                        "links": {"href": f"{service.url}/v1/nodes?parent_node={parent['uuid']}", "rel": "children"}}


def test_shard_filter_takes_a_list(api):
    for name, shard in (("a1", "a"), ("b1", "b"), ("c1", "c"), ("none", None)):
        make_node(api, name=name, shard=shard)
    r = api.get("/v1/nodes", params={"shard": "a,c"})
    assert {n["name"] for n in r.json()["nodes"]} == {"a1", "c1"}
    r = api.get("/v1/nodes", params={"sharded": "true"})
    assert {n["name"] for n in r.json()["nodes"]} == {"a1", "b1", "c1"}


def test_disable_power_off_refuses_power_off(api):
    """Behaviour at every version (Ironic's PowerStateFailure, 409) once the 1.95 field is set."""
    node = make_node(api, disable_power_off=True)
    for target in ("power off", "soft power off"):
        r = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": target})
        assert r.status_code == 409, r.text
        assert fault(r)["faultstring"] == f"Failed to set node power state to {target}."


def test_instance_name_follows_display_name_when_empty(service, api):
    """Ironic, at every version: a changed instance_info's display_name fills an empty instance_name."""
    node = make_node(api)
    with service.client("1.1") as c:
        r = c.patch(f"/v1/nodes/{node['uuid']}",
                    json=[{"op": "add", "path": "/instance_info/display_name", "value": "web-7"}])
        assert r.status_code == 200, r.text
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["instance_name"] == "web-7"
    api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": "/instance_info/display_name", "value": "x"}])
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["instance_name"] == "web-7"  # only an empty one is filled
