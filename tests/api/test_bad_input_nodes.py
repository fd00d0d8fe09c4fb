"""Bad input to the node endpoints: always a 4xx in Ironic's error format, never a 500, never a write."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import fault, make_node, snapshot

GOOD = {"driver": "fake-hardware"}

CREATE_CASES = [
    ("not json", b"{driver: fake", 400),
    ("array body", b'["driver"]', 400),
    ("empty body", b"", 400),
    ("null body", b"null", 400),
    ("missing driver", b"{}", 400),
    ("driver wrong type", {"driver": 5}, 400),
    ("unknown field", {**GOOD, "colour": "red"}, 400),
    ("read-only field", {**GOOD, "provision_state": "active"}, 400),
    ("read-only reservation", {**GOOD, "reservation": "me"}, 400),
    ("name wrong type", {**GOOD, "name": ["a"]}, 400),
    ("name too long", {**GOOD, "name": "n" * 256}, 400),
    ("name bad characters", {**GOOD, "name": "has space"}, 400),
    ("name like a uuid", {**GOOD, "name": str(uuid.uuid4())}, 400),
    ("name reserved", {**GOOD, "name": "detail"}, 400),
    ("uuid invalid", {**GOOD, "uuid": "1234"}, 400),
    ("uuid wrong type", {**GOOD, "uuid": 1234}, 400),
    ("instance_uuid invalid", {**GOOD, "instance_uuid": "xyz"}, 400),
    ("chassis unknown", {**GOOD, "chassis_uuid": str(uuid.uuid4())}, 400),
    ("chassis invalid", {**GOOD, "chassis_uuid": "zzz"}, 400),
    ("driver_info not object", {**GOOD, "driver_info": "ipmi_address=1"}, 400),
    ("properties list", {**GOOD, "properties": [1, 2]}, 400),
    ("extra number", {**GOOD, "extra": 3}, 400),
    ("resource_class too long", {**GOOD, "resource_class": "r" * 81}, 400),
    ("description too long", {**GOOD, "description": "d" * 4097}, 400),
    ("owner too long", {**GOOD, "owner": "o" * 256}, 400),
    ("maintenance not bool", {**GOOD, "maintenance": "maybe"}, 400),
    ("automated_clean wrong type", {**GOOD, "automated_clean": 3}, 400),
    ("conductor_group bad chars", {**GOOD, "conductor_group": "a b"}, 400),
    ("interface unknown", {**GOOD, "deploy_interface": "ansible"}, 400),
    ("interface wrong type", {**GOOD, "boot_interface": 1}, 400),
    ("unknown driver", {"driver": "cisco-ucs"}, 400),
    ("retired_reason without retired", {**GOOD, "retired_reason": "old"}, 400),
    ("boot_mode not bios or uefi", {**GOOD, "boot_mode": "legacy"}, 400),
]


@pytest.mark.parametrize(("label", "body", "status"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_refused(api, label, body, status):
    make_node(api, name="existing")
    before = snapshot(api)
    if isinstance(body, bytes):
        r = api.post("/v1/nodes", content=body, headers={"Content-Type": "application/json"})
    else:
        r = api.post("/v1/nodes", json=body)
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/nodes/{bad}", None),
    ("PATCH", "/v1/nodes/{bad}", [{"op": "add", "path": "/extra/a", "value": 1}]),
    ("DELETE", "/v1/nodes/{bad}", None),
    ("GET", "/v1/nodes/{bad}/states", None),
    ("GET", "/v1/nodes/{bad}/validate", None),
    ("PUT", "/v1/nodes/{bad}/maintenance", None),
    ("GET", "/v1/nodes/{bad}/traits", None),
    ("PUT", "/v1/nodes/{bad}/traits/CUSTOM_A", None),
])
def test_unknown_node_is_404_everywhere(api, method, path, body):
    make_node(api)
    before = snapshot(api)
    for bad in (str(uuid.uuid4()), "no-such-name"):
        r = api.request(method, path.format(bad=bad), json=body)
        assert r.status_code == 404, r.text
        assert bad in fault(r)["faultstring"]
    assert snapshot(api) == before


def test_patch_body_not_json(api):
    node = make_node(api)
    before = snapshot(api)
    r = api.patch(f"/v1/nodes/{node['uuid']}", content=b"[{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    fault(r)
    assert snapshot(api) == before


def test_oversized_trait_list_and_trait_names(api):
    node = make_node(api)
    before = snapshot(api)
    url = f"/v1/nodes/{node['uuid']}/traits"
    assert api.put(url, json={"traits": [f"CUSTOM_T{i}" for i in range(51)]}).status_code == 400
    assert api.put(url, json={"traits": ["CUSTOM_" + "A" * 300]}).status_code == 400
    assert api.put(url, json={"traits": [5]}).status_code == 400
    assert api.put(url, json={}).status_code == 400
    assert snapshot(api) == before
