"""openstacksdk and the ``openstack baremetal`` CLI at their own newest versions (python-ironicclient: 1.115,
openstacksdk nodes: 1.109) against Ironworks, with the options of API 1.66–1.115 Ironworks implements."""

from __future__ import annotations

import json
from pathlib import Path

import openstack

from ironworks.db.repos import agent_commands
from ironworks.db.repos.history import HistoryRepo
from tests.api.helpers import baremetal_cli

NETWORK_DATA = {"links": [{"id": "eth0", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:01"}],
                "networks": [], "services": []}


def test_openstack_baremetal_cli_newer_options(service, tmp_path: Path):
    cli = baremetal_cli(service.url)

    nd_file = tmp_path / "network_data.json"
    nd_file.write_text(json.dumps(NETWORK_DATA))
    parent = json.loads(cli("node", "create", "--driver", "fake-hardware", "--name", "parent", "--shard", "s1",
                            "--network-data", str(nd_file), "-f", "json"))
    assert parent["shard"] == "s1" and parent["network_data"] == NETWORK_DATA
    assert "health" in parent and "instance_name" in parent  # the client negotiated 1.109+ (here 1.115)
    child = json.loads(cli("node", "create", "--driver", "fake-hardware", "--name", "child", "--parent-node",
                           "parent", "-f", "json"))
    assert child["parent_node"] == parent["uuid"]
    children = json.loads(cli("node", "children", "list", "parent", "-f", "json"))
    assert children == {"children": [child["uuid"]]}
    shards = json.loads(cli("shard", "list", "-f", "json"))
    assert {(s.get("Name", s.get("name")), s.get("Count", s.get("count"))) for s in shards} == {("s1", 1), ("None", 1)}
    listed = json.loads(cli("node", "list", "--shards", "s1", "s3", "-f", "json"))
    assert [n.get("Name", n.get("name")) for n in listed] == ["parent"], listed
    cli("node", "set", "parent", "--shard", "s2", "--instance-name", "web-1")
    with service.client("1.115") as api:
        shown = api.get("/v1/nodes/parent").json()
        assert (shown["shard"], shown["instance_name"]) == ("s2", "web-1")
        port = json.loads(cli("port", "create", "52:54:00:00:00:01", "--node", parent["uuid"], "--name", "eth0",
                              "-f", "json"))
        assert port["name"] == "eth0"
        assert api.get("/v1/ports/eth0").json()["uuid"] == port["uuid"]

    node_id = service.services.nodes.get(parent["uuid"])["id"]
    HistoryRepo(service.services.db).record(node_id, "Deploy failed: injected", "deploy")
    history = json.loads(cli("node", "history", "list", "parent", "-f", "json"))
    assert [h.get("Event", h.get("event")) for h in history] == ["Deploy failed: injected"], history
    with service.services.db.write() as session:
        agent_commands.store_inventory(session, node_id, {"cpu": {"count": 4}}, {"root_disk": "sda"})
    saved = tmp_path / "inventory.json"
    cli("node", "inventory", "save", "parent", "--file", str(saved))
    assert json.loads(saved.read_text()) == {"inventory": {"cpu": {"count": 4}}, "plugin_data": {"root_disk": "sda"}}


def test_openstacksdk_negotiates_and_uses_newer_fields(service):
    conn = openstack.connect(auth_type="none", baremetal_endpoint_override=service.url + "/",
                             load_yaml_config=False, load_envvars=False)
    try:
        assert conn.baremetal.get_endpoint_data().max_microversion == (1, 115)
        parent = conn.baremetal.create_node(driver="fake-hardware", name="parent", shard="s1",
                                            network_data=NETWORK_DATA)
        child = conn.baremetal.create_node(driver="fake-hardware", name="child", parent_node="parent")
        found = conn.baremetal.get_node("parent")
        assert (found.shard, found.health) == ("s1", None)
        assert conn.baremetal.get_node(child.id).parent_node == parent.id
        assert [n.name for n in conn.baremetal.nodes(shard="s1")] == ["parent"]
    finally:
        conn.close()
