"""The node API over HTTP: enroll, show, list, patch, delete, traits, maintenance, validate, states."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import fault, make_node

V = {"X-OpenStack-Ironic-API-Version": "1.65"}


def test_enroll_shows_all_ironic_fields_and_masks_secrets(api):
    node = make_node(api, name="rack1-u01", driver_info={"ipmi_address": "10.1.2.3", "ipmi_password": "s3cret"},
                     properties={"cpus": 16, "memory_mb": 32768}, resource_class="baremetal.gold",
                     owner="projA", lessee="projB", description="first", conductor_group="Zone-B")
    assert node["provision_state"] == "enroll"
    assert node["driver_info"] == {"ipmi_address": "10.1.2.3", "ipmi_password": "******"}
    assert node["conductor_group"] == "zone-b"
    for field in ("uuid", "name", "driver", "properties", "extra", "instance_info", "instance_uuid",
                  "target_provision_state", "power_state", "target_power_state", "maintenance",
                  "maintenance_reason", "last_error", "reservation", "resource_class", "traits", "owner", "lessee",
                  "description", "conductor", "conductor_group", "created_at", "updated_at", "links",
                  "power_interface", "deploy_interface", "automated_clean", "protected", "fault", "retired",
                  "allocation_uuid", "chassis_uuid", "driver_internal_info", "clean_step", "deploy_step"):
        assert field in node, field
    # the secret is stored, only hidden
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["driver_info"]["ipmi_password"] == "******"
    assert "s3cret" not in api.get("/v1/nodes/detail").text


def test_show_by_name_and_uuid(api):
    node = make_node(api, name="n-by-name")
    assert api.get("/v1/nodes/n-by-name").json()["uuid"] == node["uuid"]
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["name"] == "n-by-name"
    r = api.get("/v1/nodes/does-not-exist")
    assert r.status_code == 404
    assert "does-not-exist" in fault(r)["faultstring"]


def test_create_with_given_uuid_and_duplicates(api):
    given = str(uuid.uuid4())
    make_node(api, uuid=given, name="dup")
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", "uuid": given})
    assert r.status_code == 409
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", "name": "dup"})
    assert r.status_code == 409
    assert "dup" in fault(r)["faultstring"] or "name" in fault(r)["faultstring"]
    assert len(api.get("/v1/nodes").json()["nodes"]) == 1


def test_interfaces_default_and_are_checked(api):
    node = make_node(api)
    assert node["power_interface"] == "fake"
    assert node["network_interface"] == "noop"
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", "power_interface": "ipmitool"})
    assert r.status_code == 400
    assert "power" in fault(r)["faultstring"]
    r = api.post("/v1/nodes", json={"driver": "no-such-driver"})
    assert r.status_code == 400
    ipmi = make_node(api, driver="ipmi")
    assert ipmi["power_interface"] == "ipmitool"
    assert ipmi["boot_interface"] == "ipxe"


def test_list_default_detail_and_fields(api):
    for i in range(3):
        make_node(api, name=f"list-{i}", extra={"i": i})
    plain = api.get("/v1/nodes").json()["nodes"]
    assert len(plain) == 3
    assert set(plain[0]) == {"uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance",
                             "links"}
    detail = api.get("/v1/nodes/detail").json()["nodes"]
    assert detail[0]["extra"] == {"i": 0}
    assert api.get("/v1/nodes", params={"detail": "true"}).json()["nodes"] == detail
    fields = api.get("/v1/nodes", params={"fields": "uuid,extra"}).json()["nodes"]
    assert set(fields[1]) == {"uuid", "extra", "links"}
    assert api.get("/v1/nodes", params={"fields": "uuid,bogus"}).status_code == 400
    assert api.get("/v1/nodes", params={"fields": "uuid", "detail": "true"}).status_code == 400
    assert api.get(f"/v1/nodes/{detail[0]['uuid']}", params={"fields": "name"}).json()["name"] == "list-0"


def test_pagination_follows_next_links(api):
    created = [make_node(api, name=f"page-{i:02d}")["uuid"] for i in range(7)]
    seen, url, pages = [], "/v1/nodes?limit=3", 0
    while url:
        body = api.get(url).json()
        seen += [n["uuid"] for n in body["nodes"]]
        url = body.get("next")
        pages += 1
        assert pages < 10
    assert seen == created
    assert pages == 3
    # sorting, both directions
    names = [n["name"] for n in api.get("/v1/nodes", params={"sort_key": "name", "sort_dir": "desc"}).json()["nodes"]]
    assert names == sorted(names, reverse=True)
    assert api.get("/v1/nodes", params={"sort_key": "driver_info"}).status_code == 400
    assert api.get("/v1/nodes", params={"sort_dir": "sideways"}).status_code == 400
    assert api.get("/v1/nodes", params={"limit": "0"}).status_code == 400
    assert api.get("/v1/nodes", params={"limit": "x"}).status_code == 400
    assert api.get("/v1/nodes", params={"marker": str(uuid.uuid4())}).status_code == 404


def test_pagination_by_nullable_key(api):
    for name in ("b", None, "a", None, "c"):
        make_node(api, **({"name": name} if name else {}))
    for direction in ("asc", "desc"):
        seen, url = [], f"/v1/nodes?limit=2&sort_key=name&sort_dir={direction}"
        while url:
            body = api.get(url).json()
            seen += [n["uuid"] for n in body["nodes"]]
            url = body.get("next")
        everything = [n["uuid"] for n in api.get(f"/v1/nodes?sort_key=name&sort_dir={direction}").json()["nodes"]]
        assert seen == everything and len(seen) == 5


@pytest.mark.parametrize(("query", "expected"), [
    ({"provision_state": "enroll"}, {"a", "b", "c"}),
    ({"provision_state": "active"}, set()),
    ({"maintenance": "true"}, {"b"}),
    ({"maintenance": "false"}, {"a", "c"}),
    ({"driver": "ipmi"}, {"c"}),
    ({"resource_class": "gold"}, {"a"}),
    ({"owner": "p1"}, {"a", "b"}),
    ({"lessee": "p2"}, {"b"}),
    ({"conductor_group": "west"}, {"c"}),
    ({"associated": "true"}, {"a"}),
    ({"associated": "false"}, {"b", "c"}),
    ({"description_contains": "rack"}, {"b"}),
])
def test_list_filters(api, query, expected):
    make_node(api, name="a", resource_class="gold", owner="p1", instance_uuid=str(uuid.uuid4()))
    b = make_node(api, name="b", owner="p1", lessee="p2", description="in rack 7")
    make_node(api, name="c", driver="ipmi", conductor_group="west")
    assert api.put(f"/v1/nodes/{b['uuid']}/maintenance", json={"reason": "disk"}).status_code == 202
    names = {n["name"] for n in api.get("/v1/nodes", params=query).json()["nodes"]}
    assert names == expected


def test_list_filter_errors(api):
    assert api.get("/v1/nodes", params={"provision_state": "flying"}).status_code == 400
    assert api.get("/v1/nodes", params={"maintenance": "perhaps"}).status_code == 400
    assert api.get("/v1/nodes", params={"fault": "bad"}).status_code == 400
    assert api.get("/v1/nodes", params={"no_such_filter": "1"}).status_code == 400
    assert api.get("/v1/nodes", params={"fault": "power failure"}).status_code == 200


def test_patch_nested_and_top_level(api):
    node = make_node(api, driver_info={"ipmi_address": "10.0.0.1"}, properties={"cpus": 8})
    patch = [
        {"op": "replace", "path": "/driver_info/ipmi_address", "value": "10.0.0.2"},
        {"op": "add", "path": "/driver_info/ipmi_password", "value": "pw"},
        {"op": "add", "path": "/properties/capabilities", "value": "boot_mode:uefi"},
        {"op": "add", "path": "/extra/rack~1slot", "value": "r1/s2"},
        {"op": "replace", "path": "/name", "value": "patched"},
        {"op": "remove", "path": "/properties/cpus"},
    ]
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=patch)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["driver_info"] == {"ipmi_address": "10.0.0.2", "ipmi_password": "******"}
    assert got["properties"] == {"capabilities": "boot_mode:uefi"}
    assert got["extra"] == {"rack/slot": "r1/s2"}
    assert got["name"] == "patched"
    assert got["updated_at"] is not None
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/name"}])
    assert r.json()["name"] is None


@pytest.mark.parametrize("patch", [
    [{"op": "replace", "path": "/provision_state", "value": "active"}],
    [{"op": "replace", "path": "/uuid", "value": str(uuid.uuid4())}],
    [{"op": "add", "path": "/traits", "value": ["CUSTOM_X"]}],
    [{"op": "replace", "path": "/reservation", "value": "me"}],
    [{"op": "add", "path": "/brand_new", "value": 1}],
    [{"op": "remove", "path": "/driver"}],
    [{"op": "move", "path": "/name", "from": "/extra"}],
    [{"op": "replace", "path": "/driver_info/missing", "value": 1}],
    [{"op": "remove", "path": "/extra/missing"}],
    [{"op": "replace", "path": "/name", "value": 42}],
    [{"op": "replace", "path": "/name"}],
    [{"op": "replace", "path": "name", "value": "x"}],
    [{"op": "replace", "path": "/maintenance", "value": "sometimes"}],
    [{"op": "replace", "path": "/driver", "value": "unknown-driver"}],
    [{"op": "replace", "path": "/instance_uuid", "value": "not-a-uuid"}],
    [{"op": "replace", "path": "/resource_class", "value": "x" * 81}],
    [{"op": "replace", "path": "/description", "value": "x" * 4097}],
    [{"op": "replace", "path": "/protected", "value": True}],
    {"op": "replace", "path": "/name", "value": "not-a-list"},
    [],
])
def test_patch_refused_changes_nothing(api, patch):
    node = make_node(api, name="keep", extra={"k": "v"})
    before = api.get(f"/v1/nodes/{node['uuid']}").json()
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=patch)
    assert 400 <= r.status_code < 500, r.text
    fault(r)
    assert api.get(f"/v1/nodes/{node['uuid']}").json() == before


def test_patch_instance_uuid_conflict(api):
    node = make_node(api, instance_uuid=str(uuid.uuid4()))
    r = api.patch(f"/v1/nodes/{node['uuid']}",
                  json=[{"op": "replace", "path": "/instance_uuid", "value": str(uuid.uuid4())}])
    assert r.status_code == 409
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/instance_uuid"}])
    assert r.status_code == 200 and r.json()["instance_uuid"] is None


def test_change_driver_resets_unsupported_interfaces(api):
    node = make_node(api)
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "replace", "path": "/driver", "value": "ipmi"}])
    assert r.status_code == 200, r.text
    assert r.json()["power_interface"] == "ipmitool"
    assert r.json()["deploy_interface"] == "direct"


def test_delete_rules(api):
    node = make_node(api)
    assert api.delete(f"/v1/nodes/{node['uuid']}").status_code == 204
    assert api.get(f"/v1/nodes/{node['uuid']}").status_code == 404
    assert api.delete(f"/v1/nodes/{node['uuid']}").status_code == 404
    # associated with an instance: refused unless in maintenance
    bound = make_node(api, instance_uuid=str(uuid.uuid4()))
    r = api.delete(f"/v1/nodes/{bound['uuid']}")
    assert r.status_code == 409
    assert bound["uuid"] in fault(r)["faultstring"]
    api.put(f"/v1/nodes/{bound['uuid']}/maintenance")
    assert api.delete(f"/v1/nodes/{bound['uuid']}").status_code == 204


def test_maintenance_set_and_unset(api):
    node = make_node(api)
    assert api.put(f"/v1/nodes/{node['uuid']}/maintenance", json={"reason": "fan broken"}).status_code == 202
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["maintenance"] is True and shown["maintenance_reason"] == "fan broken"
    assert api.delete(f"/v1/nodes/{node['uuid']}/maintenance").status_code == 202
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["maintenance"] is False and shown["maintenance_reason"] is None
    assert api.put(f"/v1/nodes/{node['uuid']}/maintenance", json={"reason": 5}).status_code == 400
    assert api.put("/v1/nodes/nope/maintenance").status_code == 404


def test_traits(api):
    node = make_node(api)
    url = f"/v1/nodes/{node['uuid']}/traits"
    assert api.put(url, json={"traits": ["CUSTOM_GOLD", "HW_CPU_X86_AVX2"]}).status_code == 204
    assert api.get(url).json() == {"traits": ["CUSTOM_GOLD", "HW_CPU_X86_AVX2"]}
    assert api.put(f"{url}/CUSTOM_RAID").status_code == 204
    assert "CUSTOM_RAID" in api.get(url).json()["traits"]
    assert api.delete(f"{url}/CUSTOM_GOLD").status_code == 204
    assert api.delete(f"{url}/CUSTOM_GOLD").status_code == 404
    assert api.put(f"{url}/lowercase_bad").status_code == 400
    assert api.put(url, json={"traits": "CUSTOM_X"}).status_code == 400
    assert api.put(url, json={"traits": ["CUSTOM_X"], "more": 1}).status_code == 400
    assert sorted(api.get(f"/v1/nodes/{node['uuid']}").json()["traits"]) == ["CUSTOM_RAID", "HW_CPU_X86_AVX2"]
    assert api.delete(url).status_code == 204
    assert api.get(url).json() == {"traits": []}


def test_validate_and_states(api):
    node = make_node(api, driver="ipmi", driver_info={"ipmi_address": "127.0.0.1"})
    result = api.get(f"/v1/nodes/{node['uuid']}/validate").json()
    assert result["power"]["result"] is True
    assert result["deploy"]["result"] is False and "deploy_kernel" in result["deploy"]["reason"]
    states = api.get(f"/v1/nodes/{node['uuid']}/states").json()
    assert states["provision_state"] == "enroll"
    assert "target_provision_state" in states and "power_state" in states


def test_unknown_path_and_method(api):
    r = api.get("/v1/no-such-thing")
    assert r.status_code == 404
    fault(r)
    r = api.post("/v1/nodes/detail", json={})
    assert r.status_code == 405
    fault(r)
