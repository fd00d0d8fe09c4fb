"""/v1/images (the catalogue) through HTTP: create, show by name or uuid, list, delete, and refusals."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault
from tests.instances.helpers import DEBIAN, SHA256, ok, server_node, wait_instance, world


def test_create_show_list_delete(api):
    image = ok(api.post("/v1/images", json={**DEBIAN, "description": "bookworm", "extra": {"os": "debian"}}))
    assert image["name"] == "debian-12" and image["os_hash_value"] == SHA256 and image["checksum"] is None
    assert (
        image["disk_format"] == "qcow2" and image["image_type"] == "whole-disk" and image["description"] == "bookworm"
    )
    assert image["links"][0]["href"].endswith(f"/v1/images/{image['uuid']}")
    assert ok(api.get("/v1/images/debian-12"), 200) == image
    assert ok(api.get(f"/v1/images/{image['uuid']}"), 200) == image
    tiny = ok(api.post("/v1/images", json={"name": "tiny", "url": "file:///srv/tiny.raw", "checksum": "D" * 32}))
    assert tiny["checksum"] == "d" * 32 and tiny["disk_format"] == "raw"
    listed = ok(api.get("/v1/images"), 200)["images"]
    assert [i["name"] for i in listed] == ["debian-12", "tiny"]
    page = ok(api.get("/v1/images", params={"limit": 1, "fields": "name,url"}), 200)
    assert [set(i) for i in page["images"]] == [{"name", "url", "links"}] and "marker=" in page["next"]
    assert api.delete("/v1/images/tiny").status_code == 204
    assert fault(api.get("/v1/images/tiny"))["faultstring"] == "Image tiny could not be found."
    assert api.delete("/v1/images/tiny").status_code == 404
    assert [i["name"] for i in ok(api.get("/v1/images"), 200)["images"]] == ["debian-12"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**DEBIAN, "name": "6f1c2e0e-1111-4222-8333-944445555666"}, 400, "Invalid image name"),
        ({**DEBIAN, "url": "/local/path"}, 400, "must start with"),
        ({**DEBIAN, "os_hash_algo": "crc32"}, 400, "os_hash_algo"),
        ({**DEBIAN, "os_hash_value": None}, 400, "go together"),
        ({**DEBIAN, "checksum": "e" * 32}, 400, "not both"),
        ({**DEBIAN, "disk_format": "iso"}, 400, "disk_format"),
        ({**DEBIAN, "size": 3}, 400, "'size' was unexpected"),
        ({"url": DEBIAN["url"], "checksum": "e" * 32}, 400, "'name' is a required property"),
    ],
)
def test_refusals(api, body, status, words):
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post("/v1/images", json=body)
    assert r.status_code == status, r.text
    assert words in fault(r)["faultstring"]
    assert ok(api.get("/v1/images"), 200)["images"] == []


def test_duplicate_name_and_instances_keep_their_source(api):
    world(api)
    r = api.post("/v1/images", json=DEBIAN)
    assert r.status_code == 409 and "already exists" in fault(r)["faultstring"]
    server_node(api, "gold-1", "52:54:00:00:01:01")
    made = ok(api.post("/v1/instances", json={"name": "w", "flavor": "small", "image": "debian-12"}), 202)
    assert api.delete("/v1/images/debian-12").status_code == 204
    shown = wait_instance(api, made["uuid"], ("active",))
    assert shown["image"]["name"] == "debian-12" and shown["image"]["url"] == DEBIAN["url"]
