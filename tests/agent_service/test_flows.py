"""Whole flows through the real service, with the test playing the ramdisk agent over HTTP."""

from __future__ import annotations

import httpx

from ironworks.configdrive import iso
from tests.agent_service.client import PlayedAgent
from tests.agent_service.conftest import IMAGE, agent_node, set_columns
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest

RAID = {"logical_disks": [
    {"raid_level": "1", "size_gb": 10, "controller": "software", "is_root_volume": True, "volume_name": "root"},
    {"raid_level": "0", "size_gb": "MAX", "controller": "software", "volume_name": "scratch"},
]}
RAID_STEPS = [{"interface": "raid", "step": "delete_configuration"},
              {"interface": "deploy", "step": "erase_devices_metadata"},
              {"interface": "raid", "step": "create_configuration"}]


def _created(target: dict) -> dict:
    disks = [{**d, "device": f"/dev/md/{d['volume_name']}"} for d in target["logical_disks"]]
    return {"raid_config": {"logical_disks": disks}, "partitions": []}


def _boot_agent(agent: PlayedAgent) -> None:
    r = agent.lookup()
    assert r.status_code == 200, r.text
    assert agent.token
    assert agent.heartbeat().status_code == 202


def test_manual_clean_runs_the_raid_sequence(service: ServiceUnderTest, api: httpx.Client,
                                             agent: PlayedAgent) -> None:
    node = agent_node(api)
    move(api, node, "manage")
    assert api.put(f"/v1/nodes/{node}/states/raid", json=RAID).status_code == 204
    assert provision(api, node, "clean", clean_steps=RAID_STEPS).status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"
    _boot_agent(agent)
    seen = agent.run({"delete_configuration": {"result": {"deleted": [], "zeroed": [], "disks_cleared": []}},
                      "create_configuration": {"result": _created(RAID)}}, until=3)
    assert [c["name"] for c in seen] == ["delete_configuration", "erase_devices_metadata", "create_configuration"]
    assert seen[2]["params"]["target_raid_config"]["logical_disks"] == RAID["logical_disks"]
    body = settle(api, node)
    assert body["provision_state"] == "manageable", body["last_error"]
    assert body["raid_config"]["logical_disks"][0]["device"] == "/dev/md/root"
    assert body["power_state"] == "power off"
    # the token is no longer valid once the node left cleaning
    assert agent.http.get(f"/v1/agent/{node}/commands/next?wait=1",
                          headers={"X-Ironworks-Agent-Token": str(agent.token)}).status_code == 401


def test_failed_agent_command_fails_the_clean(service: ServiceUnderTest, api: httpx.Client,
                                              agent: PlayedAgent) -> None:
    node = agent_node(api)
    move(api, node, "manage")
    assert api.put(f"/v1/nodes/{node}/states/raid", json=RAID).status_code == 204
    provision(api, node, "clean", clean_steps=RAID_STEPS)
    settle(api, node)
    _boot_agent(agent)
    agent.run({"delete_configuration": {"error": {"type": "DeviceRefused", "message": "/dev/vda is not allowed"}}},
              until=1)
    body = settle(api, node)
    assert body["provision_state"] == "clean failed"
    assert "DeviceRefused" in body["last_error"] and "delete_configuration" in body["last_error"]


def test_deploy_writes_image_and_configdrive(service: ServiceUnderTest, api: httpx.Client,
                                             agent: PlayedAgent) -> None:
    node = agent_node(api, instance_info=IMAGE)
    move(api, node, "manage")
    move(api, node, "provide")
    assert provision(api, node, "active", configdrive={"meta_data": {"hostname": "n1"}}).status_code == 202
    body = settle(api, node)
    assert body["provision_state"] == "wait call-back", body["last_error"]
    _boot_agent(agent)
    seen = agent.run({"write_image": {"result": {"device": "/dev/vda", "checksum": "ab" * 32}}}, until=2)
    assert [c["name"] for c in seen] == ["write_image", "write_configdrive"]
    assert seen[0]["params"] == {"url": IMAGE["image_source"], "checksum": "sha256:" + "ab" * 32}
    image = iso.decode(seen[1]["params"]["configdrive"])  # built by the service: gzip+base64 ISO9660
    assert iso.volume_label(image) == "config-2" and b'"hostname": "n1"' in image
    body = settle(api, node)
    assert body["provision_state"] == "active", body["last_error"]
    assert body["power_state"] == "power on"
    r = api.get(f"/v1/nodes/{node}/management/boot_device")
    assert r.json()["boot_device"] == "disk"
    assert agent.heartbeat().status_code == 401  # the node left the ramdisk states


def test_rebuild_writes_the_new_config_drive(service: ServiceUnderTest, api: httpx.Client,
                                            agent: PlayedAgent) -> None:
    """API 1.35: a config drive given with ``rebuild`` reaches the disk (refused below 1.35, as Ironic)."""
    node = agent_node(api, instance_info=IMAGE)
    move(api, node, "manage")
    move(api, node, "provide")
    assert provision(api, node, "active", configdrive={"meta_data": {"hostname": "n1"}}).status_code == 202
    settle(api, node)
    _boot_agent(agent)
    agent.run({"write_image": {"result": {"device": "/dev/vda", "checksum": "ab" * 32}}}, until=2)
    assert settle(api, node)["provision_state"] == "active"
    with service.client("1.34") as old:
        r = old.put(f"/v1/nodes/{node}/states/provision", json={"target": "rebuild", "configdrive": "x"})
        assert r.status_code == 400, r.text
    assert provision(api, node, "rebuild", configdrive={"meta_data": {"hostname": "n2"}}).status_code == 202
    assert settle(api, node)["provision_state"] == "wait call-back"
    _boot_agent(agent)  # the rebuild boots the ramdisk again: a new token for the new boot
    seen = agent.run({"write_image": {"result": {"device": "/dev/vda", "checksum": "ab" * 32}}}, until=2)
    assert [c["name"] for c in seen] == ["write_image", "write_configdrive"]
    image = iso.decode(seen[1]["params"]["configdrive"])
    assert b'"hostname": "n2"' in image and b'"hostname": "n1"' not in image
    assert settle(api, node)["provision_state"] == "active"


def test_deploy_on_software_raid_installs_the_bootloader(service: ServiceUnderTest, api: httpx.Client,
                                                         agent: PlayedAgent) -> None:
    node = agent_node(api, instance_info=IMAGE)
    move(api, node, "manage")
    set_columns(service, node, raid_config=_created(RAID)["raid_config"])
    move(api, node, "provide")
    provision(api, node, "active")
    settle(api, node)
    _boot_agent(agent)
    seen = agent.run({}, until=2)
    assert [c["name"] for c in seen] == ["write_image", "install_bootloader"]
    assert settle(api, node)["provision_state"] == "active"


def test_checksum_mismatch_fails_the_deploy(service: ServiceUnderTest, api: httpx.Client,
                                            agent: PlayedAgent) -> None:
    node = agent_node(api, instance_info=IMAGE)
    move(api, node, "manage")
    move(api, node, "provide")
    provision(api, node, "active")
    settle(api, node)
    _boot_agent(agent)
    agent.run({"write_image": {"error": {"type": "ChecksumMismatch", "message": "expected sha256 ab…, got cd…"}}},
              until=1)
    body = settle(api, node)
    assert body["provision_state"] == "deploy failed"
    assert "ChecksumMismatch" in body["last_error"]


def test_deploy_without_image_is_refused(api: httpx.Client) -> None:
    node = agent_node(api)
    move(api, node, "manage")
    move(api, node, "provide")
    r = provision(api, node, "active")
    assert r.status_code == 400
    assert "image_source" in r.text
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == "available"


def test_inspection_stores_inventory_and_properties(service: ServiceUnderTest, api: httpx.Client,
                                                    agent: PlayedAgent) -> None:
    node = agent_node(api)
    move(api, node, "manage")
    assert api.get(f"/v1/nodes/{node}/inventory").status_code == 404
    provision(api, node, "inspect")
    assert settle(api, node)["provision_state"] == "inspect wait"
    _boot_agent(agent)
    inventory = {"cpu": {"count": 4, "architecture": "x86_64", "model_name": "QEMU"},
                 "memory": {"total": 2 * 1024 ** 3, "physical_mb": 2048},
                 "disks": [{"name": "/dev/vda", "size": 20 * 1024 ** 3}], "interfaces": []}
    seen = agent.run({"get_inventory": {"result": {"inventory": inventory,
                                                   "root_disk": {"name": "/dev/vda", "size": 20 * 1024 ** 3}}}},
                     until=1)
    assert seen[0]["name"] == "get_inventory"
    body = settle(api, node)
    assert body["provision_state"] == "manageable", body["last_error"]
    assert body["inspection_finished_at"] is not None
    props = body["properties"]
    assert (props["cpus"], props["cpu_arch"], props["memory_mb"], props["local_gb"]) == (4, "x86_64", 2048, 19)
    # served from 1.81 as Ironic's node inventory; below it the endpoint does not exist (404)
    below = api.get(f"/v1/nodes/{node}/inventory", headers={"X-OpenStack-Ironic-API-Version": "1.80"})
    assert below.status_code == 404
    r = api.get(f"/v1/nodes/{node}/inventory", headers={"X-OpenStack-Ironic-API-Version": "1.81"})
    assert r.status_code == 200
    assert r.json()["inventory"]["cpu"]["count"] == 4
    assert api.delete(f"/v1/nodes/{node}").status_code == 204  # commands and inventory go with the node
    assert api.get(f"/v1/nodes/{node}/inventory").status_code == 404


def test_new_ramdisk_boot_gets_a_new_token(service: ServiceUnderTest, api: httpx.Client,
                                           agent: PlayedAgent) -> None:
    node = agent_node(api)
    move(api, node, "manage")
    provision(api, node, "inspect")
    settle(api, node)
    assert agent.lookup().status_code == 200
    first = agent.token
    assert api.put(f"/v1/nodes/{node}/states/provision", json={"target": "abort"}).status_code == 202
    assert settle(api, node)["provision_state"] == "inspect failed"
    assert agent.heartbeat().status_code == 401  # the node left the ramdisk states
    provision(api, node, "inspect")
    assert settle(api, node)["provision_state"] == "inspect wait"
    assert agent.lookup().status_code == 200
    assert agent.token and agent.token != first
    assert agent.heartbeat().status_code == 202
