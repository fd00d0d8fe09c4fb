"""POST/GET/DELETE /v1/instances through HTTP on SQLite and PostgreSQL, with fake-hardware nodes.

A server create allocates a node, writes instance_info, attaches VIFs, builds the config drive and deploys;
its state follows the node. A delete tears the node down and, once it is available again, releases the
allocation and the VIFs.
"""

from __future__ import annotations

import logging

from ironworks import errors
from ironworks.instances import create as creator
from tests.api.helpers import fault
from tests.instances.helpers import (
    KEY,
    PASSWORD,
    SHA256,
    meta,
    ok,
    read_drive,
    server_node,
    wait_instance,
    world,
)


def _create(api, **fields):
    body = {"name": "web-1", "flavor": "small", "image": "debian-12", "networks": [{"network": "web"}], **fields}
    return api.post("/v1/instances", json=body)


def test_create_deploys_and_delete_releases(api, service, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    world(api)
    node = server_node(api, "gold-1", "52:54:00:00:01:01")
    r = _create(api, ssh_keys=[KEY], root_password=PASSWORD, user_data="#!/bin/sh\necho hello\n", owner="acme")
    body = ok(r, 202)
    assert r.headers["Location"].endswith(f"/v1/instances/{body['uuid']}")
    assert body["node_uuid"] == node["uuid"] and body["allocation_uuid"] == body["uuid"]
    assert body["state"] in ("building", "active") and body["owner"] == "acme"
    assert body["root_password"] == "******" and body["user_data"] == "******"
    assert PASSWORD not in r.text
    assert body["image"] == {
        "name": "debian-12",
        "url": "http://127.0.0.1:9/images/debian-12.qcow2",
        "os_hash_algo": "sha256",
        "os_hash_value": SHA256,
        "disk_format": "qcow2",
        "image_type": "whole-disk",
    }

    active = wait_instance(api, "web-1", ("active", "error"))
    assert active["state"] == "active", active["last_error"]
    assert active["networks"] == [
        {"network": "web", "fixed_ip": None, "vif_id": f"{body['uuid']}-0", "ip_address": "10.100.0.10"}
    ]
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["provision_state"] == "active" and shown["instance_uuid"] == body["uuid"]
    assert shown["allocation_uuid"] == body["uuid"]
    info = shown["instance_info"]
    assert info["image_source"] == "http://127.0.0.1:9/images/debian-12.qcow2"
    assert (info["image_os_hash_algo"], info["image_os_hash_value"]) == ("sha256", SHA256)
    assert info["image_disk_format"] == "qcow2" and info["image_type"] == "whole-disk" and info["root_gb"] == 100
    assert info["configdrive"] == "******"
    vifs = api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"]
    assert [(v["id"], v["networks"][0]["ip_address"]) for v in vifs] == [(f"{body['uuid']}-0", "10.100.0.10")]

    # the stored config drive: hostname, keys, the password only as a SHA-512 crypt hash, the user's script
    stored = service.services.nodes.get(node["uuid"])["instance_info"]["configdrive"]
    files = read_drive(stored, tmp_path)
    md = meta(files)
    assert md["hostname"] == "web-1" and md["uuid"] == body["uuid"] and md["public_keys"] == {"key-0": KEY}
    user_data = files["user_data"].decode()
    assert PASSWORD not in user_data and "$6$" in user_data and '"disable_root": false' in user_data
    assert "echo hello" in user_data
    network = files["network_data.json"].decode()
    assert "10.100.0.10" in network

    listed = ok(api.get("/v1/instances"), 200)["instances"]
    assert [(i["name"], i["state"]) for i in listed] == [("web-1", "active")]

    r = api.delete("/v1/instances/web-1")
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "deleting"
    assert wait_instance(api, body["uuid"], ("gone",)) == {}
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["provision_state"] == "available" and shown["instance_uuid"] is None
    assert shown["allocation_uuid"] is None
    assert api.get(f"/v1/allocations/{body['uuid']}").status_code == 404
    assert api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []
    assert fault(api.get("/v1/instances/web-1"))["faultstring"] == "Instance web-1 could not be found."
    assert PASSWORD not in caplog.text and "Instance web-1" in caplog.text  # logged, never the password
    # the address went back to the pool: the next server gets it again
    ok(_create(api, name="web-2"), 202)
    assert wait_instance(api, "web-2", ("active",))["networks"][0]["ip_address"] == "10.100.0.10"


def test_inline_image_resource_class_and_fixed_ip(api):
    world(api)
    server_node(api, "gold-1", "52:54:00:00:01:01", traits=("CUSTOM_FAST",))
    image = {"url": "https://127.0.0.1:9/x.raw", "os_hash_algo": "sha512", "os_hash_value": "b" * 128,
             "disk_format": "raw"}
    r = api.post(
        "/v1/instances",
        json={
            "name": "db-1",
            "resource_class": "gold",
            "traits": ["CUSTOM_FAST"],
            "image": image,
            "networks": [{"network": "web", "fixed_ip": "10.100.0.99"}],
        },
    )
    body = ok(r, 202)
    done = wait_instance(api, body["uuid"], ("active",))
    assert done["networks"][0]["ip_address"] == "10.100.0.99" and done["traits"] == ["CUSTOM_FAST"]
    info = api.get(f"/v1/nodes/{body['node_uuid']}").json()["instance_info"]
    assert info["image_os_hash_value"] == "b" * 128 and "image_checksum" not in info
    assert info["image_disk_format"] == "raw"


def test_shortage_is_409_with_the_schedulers_message_and_writes_nothing(api):
    world(api)
    server_node(api, "big-1", "52:54:00:00:02:01", properties={"cpus": 32, "memory_mb": 131072, "local_gb": 100})
    r = _create(api)
    assert r.status_code == 409, r.text
    message = fault(r)["faultstring"]
    assert "small" in message and "32" in message  # what was asked and what is free
    assert api.get("/v1/instances").json()["instances"] == []
    assert api.get("/v1/allocations").json()["allocations"] == []
    node = api.get("/v1/nodes/big-1").json()
    assert node["instance_uuid"] is None and node["provision_state"] == "available"


def test_vif_attach_failure_rolls_back(api):
    world(api, pool_end="10.100.0.10")  # a one-address pool
    ok(api.post("/v1/networks", json={"name": "db", "vlan_id": 200, "cidr": "10.200.0.0/24"}))
    first = server_node(api, "gold-1", "52:54:00:00:01:01")
    ok(_create(api), 202)  # takes the pool's only address
    wait_instance(api, "web-1", ("active",))
    second = server_node(api, "gold-2", "52:54:00:00:01:02")
    ok(api.post("/v1/ports", json={"node_uuid": second["uuid"], "address": "52:54:00:00:01:03"}))
    before = api.get(f"/v1/nodes/{second['uuid']}").json()
    # db attaches first (VIF 0), then web has no address left: everything is undone
    r = _create(api, name="web-2", networks=["db", "web"])
    assert r.status_code == 409, r.text
    assert "No free address" in fault(r)["faultstring"]
    after = api.get(f"/v1/nodes/{second['uuid']}").json()
    assert after["instance_uuid"] is None and after["allocation_uuid"] is None
    assert after["provision_state"] == "available"
    # (the scheduler's release leaves the allocation's ``traits`` in instance_info, as its own DELETE does)
    assert {k: v for k, v in after["instance_info"].items() if k != "traits"} == before["instance_info"]
    assert api.get(f"/v1/nodes/{second['uuid']}/vifs").json()["vifs"] == []
    assert [i["name"] for i in api.get("/v1/instances").json()["instances"]] == ["web-1"]
    assert [a["node_uuid"] for a in api.get("/v1/allocations").json()["allocations"]] == [first["uuid"]]


def test_refused_deploy_rolls_back_everything(api, monkeypatch):
    """An injected fault: the conductor has no free worker when the deploy is requested (503)."""

    def no_worker(*_args, **_kwargs):
        raise errors.NoFreeWorker()

    world(api)
    node = server_node(api, "gold-1", "52:54:00:00:01:01")
    monkeypatch.setattr(creator.intake, "provision", no_worker)
    r = _create(api)
    assert r.status_code == 503, r.text
    assert "lack of free conductor workers" in fault(r)["faultstring"]
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["instance_uuid"] is None and shown["allocation_uuid"] is None
    assert "image_source" not in shown["instance_info"] and shown["provision_state"] == "available"
    assert api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []
    assert api.get("/v1/instances").json()["instances"] == []
    assert api.get("/v1/allocations").json()["allocations"] == []
    monkeypatch.undo()
    ok(_create(api), 202)  # the address and the node are free again
    assert wait_instance(api, "web-1", ("active",))["networks"][0]["ip_address"] == "10.100.0.10"
