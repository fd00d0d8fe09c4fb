"""/v1/images (the catalogue) through HTTP: create, show by name or uuid, list, delete, and refusals."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.conftest import FileServer, MiB, files, make_loop, sh  # noqa: F401 - fixtures used below
from tests.agent_service.conftest import drop_leases, seed_lease
from tests.api.helpers import fault
from tests.conductor.helpers import move, settle
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
    tiny = ok(api.post("/v1/images", json={"name": "tiny", "url": "https://images.example/tiny.raw",
                                           "os_hash_algo": "SHA512", "os_hash_value": "D" * 128}))
    assert tiny["os_hash_algo"] == "sha512" and tiny["os_hash_value"] == "d" * 128 and tiny["disk_format"] == "raw"
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
        # what the deploy agent would refuse minutes into a deploy is refused here (images/sources.py)
        ({**DEBIAN, "url": "file:///srv/tiny.raw"}, 400, "file:// URLs are not supported"),
        ({**DEBIAN, "url": "file:///var/lib/ironworks/ironworks.sqlite"}, 400, "over http(s) only"),
        ({**DEBIAN, "os_hash_algo": None, "os_hash_value": None, "checksum": "e" * 32}, 400, "MD5 image checksums"),
        ({**DEBIAN, "os_hash_algo": "md5", "os_hash_value": "e" * 32}, 400, "MD5 image checksums are disabled"),
        ({**DEBIAN, "os_hash_algo": "sha1", "os_hash_value": "e" * 40}, 400, "not supported by the deploy agent"),
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


@pytest.mark.parametrize(
    ("image", "words"),
    [
        ({"url": "file:///srv/x.raw", "os_hash_algo": "sha256", "os_hash_value": SHA256}, "file:// URLs"),
        ({"url": "http://127.0.0.1:9/x.raw", "checksum": "c" * 32}, "MD5 image checksums are disabled"),
    ],
)
def test_instances_refuse_sources_the_agent_cannot_take(api, image, words):
    world(api)
    node = server_node(api, "gold-1", "52:54:00:00:01:01")
    r = api.post("/v1/instances", json={"name": "w", "flavor": "small", "image": {**image, "disk_format": "raw"}})
    assert r.status_code == 400 and words in fault(r)["faultstring"], r.text
    assert ok(api.get("/v1/instances"), 200)["instances"] == []
    shown = ok(api.get(f"/v1/nodes/{node['uuid']}"), 200)
    assert shown["instance_uuid"] is None and shown["provision_state"] == "available"


@pytest.mark.parametrize(
    ("info", "words"),
    [
        ({"image_source": "file:///var/lib/ironworks/ironworks.sqlite", "image_os_hash_algo": "sha256",
          "image_os_hash_value": SHA256}, "file:// URLs are not supported"),
        ({"image_source": "http://127.0.0.1:9/x.raw", "image_checksum": "c" * 32}, "MD5 image checksums"),
        ({"image_source": "http://127.0.0.1:9/x.raw", "image_checksum": "md5:" + "c" * 32}, "MD5 image checksums"),
        ({"image_source": "http://127.0.0.1:9/x.raw", "image_os_hash_algo": "md5", "image_os_hash_value": "c" * 32},
         "MD5 image checksums"),
        ({"image_source": "http://127.0.0.1:9/x.raw", "image_checksum": "http://127.0.0.1:9/x.raw.sha256"},
         "checksum URL is not supported"),
    ],
)
def test_deploy_request_refuses_what_the_agent_would(api, info, words):
    """A direct deploy whose instance_info the agent would refuse answers 400 at the request, not a deploy failed
    minutes later; the node stays available, unlocked, with no last_error."""
    node = server_node(api, "gold-1", "52:54:00:00:01:01")  # cleaned by the fake deploy, then direct
    patch = [{"op": "replace", "path": "/deploy_interface", "value": "direct"},
             {"op": "add", "path": "/driver_info/deploy_kernel", "value": "http://127.0.0.1:9/k"},
             {"op": "add", "path": "/driver_info/deploy_ramdisk", "value": "http://127.0.0.1:9/r"}]
    patch += [{"op": "add", "path": f"/instance_info/{k}", "value": v} for k, v in info.items()]
    assert api.patch(f"/v1/nodes/{node['uuid']}", json=patch).status_code == 200
    r = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "active"})
    assert r.status_code == 400, r.text
    assert words in fault(r)["faultstring"]
    shown = ok(api.get(f"/v1/nodes/{node['uuid']}"), 200)
    assert (shown["provision_state"], shown["target_provision_state"]) == ("available", None)
    assert shown["reservation"] is None and shown["last_error"] is None


# --- a catalogue image deployed by the real agent -------------------------------------------------------------
AGENT = str(Path(sys.executable).with_name("ironworks-agent"))
AGENT_MAC = "52:54:00:12:34:56"


def _gpt_image(path: Path) -> bytes:
    """A small whole-disk image: a GPT with one partition (1 MiB..5 MiB) filled with random bytes."""
    with open(path, "wb") as fh:
        fh.truncate(8 * MiB)
    sh("sgdisk", "-n", "1:2048:+4M", "-t", "1:8300", str(path))
    payload = os.urandom(4 * MiB)
    with open(path, "r+b") as fh:
        fh.seek(MiB)
        fh.write(payload)
    return payload


def test_server_from_a_catalogue_image_is_written_by_the_real_agent(service, api, request, tmp_path: Path) -> None:
    """/v1/images (sha256) → /v1/instances → direct deploy → the real ironworks-agent (a process on this host,
    allowed only the test's loop device) downloads, verifies and writes the image: the bytes are on the disk."""
    disk = request.getfixturevalue("make_loop")(4 * 1024 * MiB)  # sparse; the smallest root disk is 4 GiB
    www: FileServer = request.getfixturevalue("files")
    image = tmp_path / "www" / "disk.raw"
    payload = _gpt_image(image)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    ok(api.post("/v1/images", json={"name": "gpt-raw", "url": www.url("disk.raw"), "disk_format": "raw",
                                    "os_hash_algo": "sha256", "os_hash_value": digest}))
    body = {"driver": "fake-hardware", "deploy_interface": "direct", "automated_clean": False,
            "resource_class": "gold", "properties": {"root_device": {"name": disk}},
            "driver_info": {"deploy_kernel": "http://127.0.0.1:9/k", "deploy_ramdisk": "http://127.0.0.1:9/r"}}
    node = ok(api.post("/v1/nodes", json=body))["uuid"]
    ok(api.post("/v1/ports", json={"node_uuid": node, "address": AGENT_MAC}))
    move(api, node, "manage")
    assert move(api, node, "provide")["provision_state"] == "available"
    drop_leases(service)
    seed_lease(service, AGENT_MAC)  # play dnsmasq: the agent's address is the one leased to its MAC
    made = ok(api.post("/v1/instances", json={"name": "web-1", "resource_class": "gold", "image": "gpt-raw"}), 202)
    assert settle(api, node)["provision_state"] == "wait call-back"
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        agent = subprocess.Popen(
            [AGENT, "--cmdline", "/dev/null", "--api-url", service.url, "--mac", AGENT_MAC, "--allow-device", disk,
             "--include-loop", "--tmpdir", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT)
    try:
        shown = wait_instance(api, made["uuid"], ("active", "error"), timeout=120)
        assert shown["state"] == "active", (shown["last_error"], log.read_text()[-3000:])
    finally:
        agent.kill()
        agent.wait(timeout=30)
    written = api.get(f"/v1/nodes/{node}").json()["driver_internal_info"]["agent_image"]
    assert written["device"] == disk and written["checksum"] == f"sha256:{digest}"
    with open(disk, "rb") as dev:
        head = dev.read(1024)
        dev.seek(MiB)
        assert dev.read(4 * MiB) == payload  # the partition's bytes are on the disk
    # the image's GPT is there too (the agent moved its backup to the disk's end and added the config drive)
    assert head[510:512] == b"\x55\xaa" and head[512:520] == b"EFI PART"
