"""The ``vlan`` network interface through the real service and conductor, on a real ``linux-bridge`` switch.

Three fake-hardware nodes are cabled (veths) to a bridge in a namespace the test creates; their ports' "hosts"
are namespaces with addresses in one subnet, so a ping between two of them succeeds exactly when the switch
puts their ports in the same VLAN. The nodes go through cleaning, deploy, rescue/unrescue and teardown, and
the pings follow each move. A second test deploys the worked example of docs/networking.md (a bond trunk
carrying VLAN 100 and 200) and reads the config drive the conductor stored.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conductor.helpers import move
from tests.fixtures.servers import ServiceUnderTest, make_settings
from tests.networking.test_linux_bridge_switch import Fabric

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces")

SWITCH_ID = "52:54:00:ff:00:01"


@pytest.fixture
def fabric() -> Iterator[Fabric]:
    fab = Fabric()
    try:
        yield fab.create()
    finally:
        fab.destroy()


@pytest.fixture
def lab_api(tmp_path: Path, fabric: Fabric) -> Iterator[httpx.Client]:
    switches = tmp_path / "switches.toml"
    switches.write_text(
        f'[switches.lab-tor]\ndriver = "linux-bridge"\nbridge = "br0"\nnetns = "{fabric.switch}"\n'
        'mode = "per-vlan-bridges"\n'
        '[switches.tor-2]\ndriver = "noop"\n'
    )
    settings = make_settings(
        str(tmp_path),
        f"sqlite:///{tmp_path}/iw.sqlite",
        switches_file=str(switches),
        provisioning_network="prov",
        cleaning_network="prov",
    )
    svc = ServiceUnderTest(settings).start()
    try:
        with svc.client("latest") as client:
            client.service = svc  # type: ignore[attr-defined]
            yield client
    finally:
        svc.stop()


def _ok(r: httpx.Response, status: int = 201) -> dict:
    assert r.status_code == status, r.text
    return r.json() if r.content else {}


def _networks(api: httpx.Client) -> None:
    _ok(api.post("/v1/networks", json={"name": "prov", "vlan_id": 10, "roles": ["provisioning", "cleaning", "rescue"]}))
    _ok(
        api.post(
            "/v1/networks",
            json={
                "name": "web",
                "vlan_id": 100,
                "cidr": "10.100.0.0/24",
                "gateway": "10.100.0.1",
                "dns_nameservers": ["10.100.0.2"],
                "allocation_pool": {"start": "10.100.0.10", "end": "10.100.0.99"},
            },
        )
    )
    _ok(
        api.post(
            "/v1/networks",
            json={
                "name": "db",
                "vlan_id": 200,
                "cidr": "10.200.0.0/24",
                "routes": [{"destination": "172.16.0.0/12", "nexthop": "10.200.0.1"}],
            },
        )
    )


def test_ports_follow_the_node_between_networks(lab_api, fabric):
    api = lab_api
    _networks(api)
    assert fabric.pings("a", "b")  # all on br0 before Ironworks touches the switch
    nodes = {}
    for name, vif in (("a", "web"), ("b", "web"), ("c", "db")):
        node = _ok(
            api.post("/v1/nodes", json={"driver": "fake-hardware", "name": f"node-{name}", "network_interface": "vlan"})
        )
        _ok(
            api.post(
                "/v1/ports",
                json={
                    "node_uuid": node["uuid"],
                    "address": f"52:54:00:00:0a:0{ord(name) - 96}",
                    "local_link_connection": {
                        "switch_id": SWITCH_ID,
                        "port_id": f"swp{name}",
                        "switch_info": "lab-tor",
                    },
                },
            )
        )
        assert move(api, node["uuid"], "manage")["provision_state"] == "manageable"
        cleaned = move(api, node["uuid"], "provide")
        assert cleaned["provision_state"] == "available", cleaned["last_error"]
        assert cleaned["driver_internal_info"]["switch_ports"]["phase"] == "off"
        _ok(api.post(f"/v1/nodes/{node['uuid']}/vifs", json={"id": f"vif-{name}", "network": vif}), 204)
        nodes[name] = node["uuid"]
    assert not fabric.pings("a", "b")  # available nodes are isolated
    for name in "abc":
        done = move(api, nodes[name], "active")
        assert done["provision_state"] == "active", done["last_error"]
        assert done["driver_internal_info"]["switch_ports"] == {
            "phase": "tenant",
            "ports": [
                {
                    "switch": "lab-tor",
                    "port": f"swp{name}",
                    "mac": f"52:54:00:00:0a:0{ord(name) - 96}",
                    "action": "access",
                    "vlans": [200 if name == "c" else 100],
                }
            ],
        }
    assert fabric.pings("a", "b")
    assert not fabric.pings("a", "c") and not fabric.pings("b", "c")
    # VIF changes on an active node reach the switch at once: c moves from db to web
    _ok(api.delete(f"/v1/nodes/{nodes['c']}/vifs/vif-c"), 204)
    assert (
        api.get(f"/v1/nodes/{nodes['c']}").json()["driver_internal_info"]["switch_ports"]["ports"][0]["action"]
        == "isolate"
    )
    _ok(api.post(f"/v1/nodes/{nodes['c']}/vifs", json={"id": "vif-c2", "network": "web"}), 204)
    assert fabric.pings("a", "c")
    _ok(api.delete(f"/v1/nodes/{nodes['c']}/vifs/vif-c2"), 204)
    _ok(api.post(f"/v1/nodes/{nodes['c']}/vifs", json={"id": "vif-c", "network": "db"}), 204)
    assert not fabric.pings("a", "c")
    # a switch that refuses (a tagged trunk on per-VLAN bridges) leaves no VIF behind
    _ok(api.delete(f"/v1/nodes/{nodes['b']}/vifs/vif-b"), 204)
    r = api.post(f"/v1/nodes/{nodes['b']}/vifs", json={"id": "vif-t", "networks": ["web", "db"]})
    assert r.status_code == 500 and "no VLAN filtering" in r.json()["error_message"]
    assert api.get(f"/v1/nodes/{nodes['b']}/vifs").json()["vifs"] == []
    _ok(api.post(f"/v1/nodes/{nodes['b']}/vifs", json={"id": "vif-b", "network": "web"}), 204)
    assert fabric.pings("a", "b")
    # rescue moves b to the rescue network (VLAN 10), unrescue brings it back
    rescued = move(api, nodes["b"], "rescue", rescue_password="rescue-me-please")
    assert rescued["provision_state"] == "rescue", rescued["last_error"]
    assert not fabric.pings("a", "b")
    assert move(api, nodes["b"], "unrescue")["provision_state"] == "active"
    assert fabric.pings("a", "b")
    # teardown cleans on VLAN 10 and leaves the port isolated
    deleted = move(api, nodes["a"], "deleted")
    assert deleted["provision_state"] == "available", deleted["last_error"]
    assert not fabric.pings("a", "b") and fabric.master("swpa") is None


def test_unknown_switch_fails_visibly(lab_api):
    api = lab_api
    _networks(api)
    node = _ok(
        api.post("/v1/nodes", json={"driver": "fake-hardware", "network_interface": "vlan", "automated_clean": False})
    )
    _ok(
        api.post(
            "/v1/ports",
            json={
                "node_uuid": node["uuid"],
                "address": "52:54:00:00:0b:01",
                "local_link_connection": {
                    "switch_id": "aa:bb:cc:dd:ee:ff",
                    "port_id": "xe-0/0/1",
                    "switch_info": "nowhere",
                },
            },
        )
    )
    move(api, node["uuid"], "manage")
    failed = move(api, node["uuid"], "provide")
    assert failed["provision_state"] == "clean failed"
    assert "No switch is configured for nowhere port xe-0/0/1" in failed["last_error"]


def _read_drive(encoded: str, tmp: Path) -> dict[str, dict]:
    image = tmp / "drive.iso"
    image.write_bytes(gzip.decompress(base64.b64decode(encoded)))
    out = tmp / "drive"
    done = subprocess.run(
        ["osirrox", "-indev", str(image), "-extract", "/", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    latest = out / "openstack" / "latest"
    return {name: json.loads((latest / name).read_text()) for name in ("meta_data.json", "network_data.json")}


def test_deploy_builds_the_config_drive_from_vifs(lab_api, tmp_path):
    """The worked example: eno1 PXE/management (DHCP), bond0 (802.3ad) carrying VLAN 100 and 200."""
    api = lab_api
    _networks(api)
    _ok(api.post("/v1/networks", json={"name": "mgmt", "physical_network": "provisioning"}))
    node = _ok(
        api.post(
            "/v1/nodes",
            json={"driver": "fake-hardware", "name": "web-01", "network_interface": "vlan", "automated_clean": False},
        )
    )
    bond = _ok(
        api.post(
            "/v1/portgroups",
            json={
                "node_uuid": node["uuid"],
                "name": "bond0",
                "address": "52:54:00:12:00:02",
                "mode": "802.3ad",
                "properties": {"miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast"},
                "extra": {"segmentation_id": [100, 200]},
            },
        )
    )
    llc = {"switch_id": "52:54:00:ff:00:02", "switch_info": "tor-2"}
    for i, extra in (
        (1, {"physical_network": "provisioning"}),
        (2, {"portgroup_uuid": bond["uuid"], "pxe_enabled": False, "physical_network": "fabric"}),
        (3, {"portgroup_uuid": bond["uuid"], "pxe_enabled": False, "physical_network": "fabric"}),
        (4, {"pxe_enabled": False}),
    ):
        _ok(
            api.post(
                "/v1/ports",
                json={
                    "node_uuid": node["uuid"],
                    "address": f"52:54:00:12:00:0{i}",
                    "local_link_connection": dict(llc, port_id=f"swp{i}"),
                    **extra,
                },
            )
        )
    _ok(
        api.post(
            "/v1/nodes/web-01/vifs",
            json={"id": "vif-business", "networks": ["web", {"network": "db", "fixed_ip": "10.200.0.10"}]},
        ),
        204,
    )
    _ok(api.post("/v1/nodes/web-01/vifs", json={"id": "vif-mgmt", "network": "mgmt"}), 204)
    move(api, "web-01", "manage")
    move(api, "web-01", "provide")
    done = move(
        api,
        "web-01",
        "active",
        configdrive={"meta_data": {"availability_zone": "zone-a"}, "user_data": "#!/bin/sh\necho hi\n"},
    )
    assert done["provision_state"] == "active", done["last_error"]
    assert done["instance_info"]["configdrive"] == "******"  # the API never shows it; the database keeps it
    stored = api.service.services.nodes.get(node["uuid"])["instance_info"]["configdrive"]
    files = _read_drive(stored, tmp_path)
    meta, net = files["meta_data.json"], files["network_data.json"]
    assert meta["uuid"] == node["uuid"] and meta["hostname"] == "web-01" and meta["availability_zone"] == "zone-a"
    links = {link["id"]: link for link in net["links"]}
    assert links["bond0"]["type"] == "bond" and links["bond0"]["bond_mode"] == "802.3ad"
    assert links["bond0"]["bond_xmit_hash_policy"] == "layer3+4" and len(links["bond0"]["bond_links"]) == 2
    assert {(link["vlan_link"], link["vlan_id"]) for link in net["links"] if link["type"] == "vlan"} == {
        ("bond0", 100),
        ("bond0", 200),
    }
    by_link = {n["link"]: n for n in net["networks"]}
    assert by_link["bond0.100"]["ip_address"] == "10.100.0.10" and by_link["bond0.100"]["type"] == "ipv4"
    assert by_link["bond0.100"]["routes"] == [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.100.0.1"}]
    assert by_link["bond0.200"]["ip_address"] == "10.200.0.10"
    assert by_link["bond0.200"]["routes"] == [
        {"network": "172.16.0.0", "netmask": "255.240.0.0", "gateway": "10.200.0.1"}
    ]
    eno1 = next(p["uuid"] for p in api.get("/v1/ports/detail").json()["ports"] if p["address"].endswith(":01"))
    assert by_link[eno1]["type"] == "ipv4_dhcp"
    assert net["services"] == [{"type": "dns", "address": "10.100.0.2"}]
