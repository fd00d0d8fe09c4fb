"""Refused server creates: each answers Ironic's error body with the right code and writes nothing.

Nothing means: no instance, no allocation, the node untouched (state, instance_uuid, instance_info), no VIF,
no address taken. Secrets in a refused body are never quoted back.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, snapshot
from tests.instances.helpers import KEY, PASSWORD, ok, server_node, world

GOOD = {"name": "web-1", "flavor": "small", "image": "debian-12", "networks": ["web"]}
INLINE = {"url": "http://127.0.0.1:9/x.raw", "checksum": "c" * 32, "disk_format": "raw"}

CASES = [
    # (id, changes to GOOD (None removes the key), status, words in the message)
    ("unknown flavor", {"flavor": "huge"}, 400, "Flavor huge could not be found"),
    ("unknown image", {"image": "windows"}, 400, "Image windows could not be found"),
    ("unknown network", {"networks": ["nope"]}, 400, "Network nope could not be found"),
    ("network without tenant role", {"networks": ["prov"]}, 400, "does not have the 'tenant' role"),
    ("network twice", {"networks": ["web", "web"]}, 400, "named twice"),
    ("fixed ip outside the cidr", {"networks": [{"network": "web", "fixed_ip": "10.9.0.5"}]}, 400, "outside"),
    ("no image", {"image": None}, 400, "'image' is a required property"),
    ("image of the wrong type", {"image": 7}, 400, "'image' must be"),
    ("inline image without checksum", {"image": {"url": INLINE["url"]}}, 400, "needs a checksum"),
    ("inline image, bad scheme", {"image": {**INLINE, "url": "ftp://x/y"}}, 400, "must start with"),
    ("inline image, bad format", {"image": {**INLINE, "disk_format": "vmdk"}}, 400, "disk_format"),
    ("inline image, partition", {"image": {**INLINE, "image_type": "partition"}}, 400, "whole-disk"),
    (
        "inline image, short sha256",
        {"image": {**INLINE, "checksum": None, "os_hash_algo": "sha256", "os_hash_value": "ab"}},
        400,
        "sha256 hex digest",
    ),
    ("no flavor nor resource class", {"flavor": None}, 400, "Give a flavor"),
    ("unknown field", {"colour": "red"}, 400, "'colour' was unexpected"),
    ("name is not a hostname", {"name": "Web_1"}, 400, "not a valid hostname"),
    ("bad hostname", {"hostname": "-bad-"}, 400, "Invalid hostname"),
    ("name is a uuid", {"name": "6f1c2e0e-1111-4222-8333-944445555666"}, 400, "Invalid instance name"),
    ("bad ssh key", {"ssh_keys": ["not a key"]}, 400, "is not an OpenSSH public key"),
    ("password of the wrong type", {"root_password": 123456789}, 400, "root_password must be"),
    ("password on two lines", {"root_password": PASSWORD + "\nx"}, 400, "one non-empty line"),
    ("user_data of the wrong type", {"user_data": 42}, 400, "user_data must be"),
    ("unknown candidate node", {"candidate_nodes": ["ghost"]}, 400, "ghost"),
    ("owner and project differ", {"owner": "a", "project": "b"}, 400, "differ"),
    ("bad trait", {"traits": ["lowercase"]}, 400, "lowercase"),
]


@pytest.mark.parametrize(("changes", "status", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_and_nothing_written(api, changes, status, words):
    world(api)
    ok(api.post("/v1/networks", json={"name": "prov", "roles": ["provisioning"]}))
    node = server_node(api, "gold-1", "52:54:00:00:01:01")
    before = snapshot(api)
    body = {**GOOD, "ssh_keys": [KEY], "root_password": PASSWORD, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post("/v1/instances", json=body)
    assert r.status_code == status, r.text
    assert words in fault(r)["faultstring"]
    assert PASSWORD not in r.text and "123456789" not in r.text
    assert snapshot(api) == before
    assert api.get("/v1/instances").json()["instances"] == []
    assert api.get("/v1/allocations").json()["allocations"] == []
    assert api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []


def test_not_json_and_duplicate_name(api):
    world(api)
    server_node(api, "gold-1", "52:54:00:00:01:01")
    server_node(api, "gold-2", "52:54:00:00:01:02")
    assert fault(api.post("/v1/instances", content=b"[1]"))["faultstring"].startswith("The request body must be")
    first = ok(api.post("/v1/instances", json=GOOD), 202)
    r = api.post("/v1/instances", json=GOOD)
    assert r.status_code == 409 and "already exists" in fault(r)["faultstring"]
    assert len(api.get("/v1/allocations").json()["allocations"]) == 1
    other = next(n for n in api.get("/v1/nodes").json()["nodes"] if n["uuid"] != first["node_uuid"])
    assert api.get(f"/v1/nodes/{other['uuid']}").json()["instance_uuid"] is None
    assert fault(api.get("/v1/instances/nope")).get("faultstring") == "Instance nope could not be found."
    assert api.delete("/v1/instances/nope").status_code == 404
    assert api.get("/v1/instances", params={"colour": "red"}).status_code == 400
