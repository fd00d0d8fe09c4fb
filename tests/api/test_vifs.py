"""/v1/nodes/{node}/vifs through HTTP: NIC choice as a table of cases, address allocation, refusals, clients.

Each table case enrolls ports/portgroups (in the order given), creates the networks, attaches VIFs one by one
and checks where each landed (by MAC or portgroup name) or how it was refused.
"""

from __future__ import annotations

import json
import os
import subprocess

import openstack
import pytest

from tests.api.helpers import fault, make_node, openstack_cli
from tests.api.test_networks import WEB, make_network
from tests.api.test_ports import make_pg, make_port, set_node

NETS = {
    "web": {
        "vlan_id": 100,
        "physical_network": "fabric",
        "cidr": "10.100.0.0/24",
        "allocation_pool": {"start": "10.100.0.10", "end": "10.100.0.12"},
    },
    "db": {"vlan_id": 200, "physical_network": "fabric", "cidr": "10.200.0.0/24"},
    "mgmt": {"physical_network": "provisioning"},
    "stor": {"vlan_id": 300, "physical_network": "storage"},
}

M1, M2, M3, M4 = (f"52:54:00:00:00:0{i}" for i in range(1, 5))


def _setup(api, nics):
    node = make_node(api, name="n1")
    groups = {}
    for nic in nics:
        nic = dict(nic)
        if nic.pop("kind", "port") == "portgroup":
            groups[nic["name"]] = make_pg(api, node, **nic)
        else:
            member = nic.pop("member_of", None)
            if member:
                nic["portgroup_uuid"] = groups[member]["uuid"]
            make_port(api, node, **nic)
    for name, fields in NETS.items():
        make_network(api, name=name, **fields)
    return node


def _where(vif):
    nic = vif.get("port_uuid") or vif.get("portgroup_uuid")
    return nic


CASES = [
    # (id, nics, attaches [(body, expected MAC / portgroup name / http status)])
    (
        "enrollment order breaks ties",
        [dict(address=M1), dict(address=M2)],
        [({"id": "web"}, M1), ({"id": "db"}, M2), ({"id": "mgmt"}, 400)],
    ),
    (
        "segmentation id beats enrollment order",
        [dict(address=M1), dict(address=M2, extra={"segmentation_id": 100})],
        [({"id": "web"}, M2), ({"id": "db"}, M1)],
    ),
    (
        "a port declaring VLANs carries only those",
        [dict(address=M1, extra={"segmentation_id": [100]})],
        [({"id": "db"}, 400)],
    ),
    (
        "physical network match beats order",
        [dict(address=M1, physical_network="provisioning"), dict(address=M2, physical_network="fabric")],
        [({"id": "web"}, M2), ({"id": "mgmt"}, M1)],
    ),
    ("a NIC on another physnet is refused", [dict(address=M1, physical_network="fabric")], [({"id": "stor"}, 400)]),
    (
        "portgroups before ports, members never NICs of their own",
        [
            dict(address=M1),
            dict(kind="portgroup", name="bond0", address=M2, mode="802.3ad"),
            dict(address=M2, member_of="bond0", pxe_enabled=False),
            dict(address=M3, member_of="bond0", pxe_enabled=False),
        ],
        [({"id": "web"}, "bond0"), ({"id": "db"}, M1), ({"id": "mgmt"}, 400)],
    ),
    ("pxe_enabled before order", [dict(address=M1, pxe_enabled=False), dict(address=M2)], [({"id": "web"}, M2)]),
    (
        "a trunk VIF takes one NIC carrying both VLANs",
        [dict(address=M1), dict(address=M2, extra={"segmentation_id": [100, 200]})],
        [({"id": "biz", "networks": ["web", "db"]}, M2), ({"id": "m", "network": "mgmt"}, M1)],
    ),
    (
        "pinned by port_uuid",
        [dict(address=M1), dict(address=M2)],
        [
            ({"id": "v", "network": "web", "port_uuid": "@" + M2}, M2),
            ({"id": "w", "network": "db", "port_uuid": "@" + M2}, 400),
        ],
    ),
    ("pinned by MAC", [dict(address=M1), dict(address=M2)], [({"id": "v", "network": "web", "mac": M2}, M2)]),
    ("no ports at all", [], [({"id": "web"}, 400)]),
    (
        "two VIFs never share a NIC",
        [dict(address=M1)],
        [({"id": "a", "network": "web"}, M1), ({"id": "b", "network": "web"}, 400)],
    ),
    (
        "a VIF id is attached once",
        [dict(address=M1), dict(address=M2)],
        [({"id": "a", "network": "web"}, M1), ({"id": "a", "network": "db"}, 409)],
    ),
]


@pytest.mark.parametrize(("nics", "attaches"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_nic_choice_table(api, nics, attaches):
    node = _setup(api, nics)
    ports = {p["address"]: p for p in api.get("/v1/ports/detail").json()["ports"]}
    groups = {g["name"]: g for g in api.get("/v1/portgroups/detail").json()["portgroups"]}
    for body, expected in attaches:
        if str(body.get("port_uuid", "")).startswith("@"):
            body = dict(body, port_uuid=ports[body["port_uuid"][1:]]["uuid"])
        before = api.get("/v1/nodes/n1/vifs").json()["vifs"]
        r = api.post(f"/v1/nodes/{node['uuid']}/vifs", json=body)
        if isinstance(expected, int):
            assert r.status_code == expected, (body, r.text)
            assert fault(r)["faultstring"]
            assert api.get("/v1/nodes/n1/vifs").json()["vifs"] == before
            continue
        assert r.status_code == 204, (body, r.text)
        vif = api.get("/v1/nodes/n1/vifs").json()["vifs"][-1]
        want = groups[expected]["uuid"] if expected in groups else ports[expected]["uuid"]
        assert _where(vif) == want, (body, vif)
        table = "portgroups" if expected in groups else "ports"
        shown = api.get(f"/v1/{table}/{want}").json()
        assert shown["internal_info"]["tenant_vif_port_id"] == vif["id"]


def test_refusal_message_names_each_nic(api):
    _setup(api, [dict(address=M1, extra={"segmentation_id": 200}), dict(address=M2)])
    assert api.post("/v1/nodes/n1/vifs", json={"id": "a", "network": "web"}).status_code == 204
    r = api.post("/v1/nodes/n1/vifs", json={"id": "b", "network": "web"})
    assert r.status_code == 400
    msg = fault(r)["faultstring"]
    assert msg.startswith("Unable to attach VIF b: no free port or portgroup can carry it")
    assert f"port {M1}" in msg and "carries only VLAN 200, not 100" in msg
    assert f"port {M2}" in msg and "already carries VIF a" in msg


def test_addresses_are_allocated_once_and_released(api):
    node = _setup(api, [dict(address=m) for m in (M1, M2, M3, M4)])
    for vif in ("a", "b", "c"):
        assert api.post("/v1/nodes/n1/vifs", json={"id": vif, "network": "web"}).status_code == 204
    ips = {v["id"]: v["networks"][0]["ip_address"] for v in api.get("/v1/nodes/n1/vifs").json()["vifs"]}
    assert ips == {"a": "10.100.0.10", "b": "10.100.0.11", "c": "10.100.0.12"}
    r = api.post("/v1/nodes/n1/vifs", json={"id": "d", "network": "web"})
    assert r.status_code == 409 and "No free address" in fault(r)["faultstring"]
    assert api.delete(f"/v1/nodes/{node['uuid']}/vifs/b").status_code == 204
    assert api.post("/v1/nodes/n1/vifs", json={"id": "d", "network": "web"}).status_code == 204
    vifs = {v["id"]: v for v in api.get("/v1/nodes/n1/vifs").json()["vifs"]}
    assert vifs["d"]["networks"][0]["ip_address"] == "10.100.0.11" and "b" not in vifs
    # a fixed address: inside the CIDR, not the gateway, not taken
    for body, status, words in (
        ({"id": "e", "network": "db", "fixed_ip": "10.200.0.7"}, 204, None),
        ({"id": "f", "network": "db", "fixed_ip": "10.200.0.7"}, 409, "already in use"),
        ({"id": "f", "network": "db", "fixed_ip": "10.9.0.7"}, 400, "outside"),
        ({"id": "f", "network": "db", "fixed_ip": "nope"}, 400, "not an IP address"),
    ):
        r = api.post("/v1/nodes/n1/vifs", json=body)
        assert r.status_code == status, (body, r.text)
        if words:
            assert words in fault(r)["faultstring"]
    # a network without a pool and no fixed_ip: DHCP, no address held
    assert api.delete("/v1/nodes/n1/vifs/a").status_code == 204
    assert api.post("/v1/nodes/n1/vifs", json={"id": "g", "network": "mgmt"}).status_code == 204
    vifs = {v["id"]: v for v in api.get("/v1/nodes/n1/vifs").json()["vifs"]}
    assert vifs["g"]["networks"] == [
        {
            "network": "mgmt",
            "network_uuid": vifs["g"]["networks"][0]["network_uuid"],
            "vlan_id": None,
            "ip_address": None,
        }
    ]


def test_refusals_change_nothing(service, api):
    node = _setup(api, [dict(address=M1)])
    make_network(api, name="prov-only", roles=["provisioning"])
    for body, status in (
        ({}, 400),
        ({"id": 5}, 400),
        ({"id": "x", "network": "nope"}, 400),
        ({"id": "x", "network": "prov-only"}, 400),
        ({"id": "x", "network": "web", "colour": 1}, 400),
        ({"id": "x", "networks": []}, 400),
        ({"id": "x", "networks": ["web", "web"]}, 400),
        ({"id": "x", "network": "web", "port_uuid": "not-a-uuid"}, 400),
        ({"id": "x", "network": "web", "mac": "zz"}, 400),
        ({"id": "x", "network": "web", "mac": M4}, 400),
    ):
        r = api.post("/v1/nodes/n1/vifs", json=body)
        assert r.status_code == status, (body, r.text)
        fault(r)
    assert api.get("/v1/nodes/n1/vifs").json()["vifs"] == []
    assert api.post("/v1/nodes/nope/vifs", json={"id": "web"}).status_code == 404
    assert api.delete("/v1/nodes/n1/vifs/nope").status_code == 204  # network_interface noop: Ironic's noop detach
    with service.client("1.27") as old:
        assert old.get("/v1/nodes/n1/vifs").status_code == 404
    set_node(service, node, reservation=service.settings.conductor_name)  # held; a stranger's is broken as stale
    r = api.post("/v1/nodes/n1/vifs", json={"id": "web"})
    assert r.status_code == 409 and "locked" in fault(r)["faultstring"]
    set_node(service, node, reservation=None)
    assert api.post("/v1/nodes/n1/vifs", json={"id": "v", "network": "web"}).status_code == 204
    r = api.delete("/v1/networks/web")
    assert r.status_code == 409 and "in use" in fault(r)["faultstring"]
    r = api.patch("/v1/networks/web", json=[{"op": "replace", "path": "/vlan_id", "value": 5}])
    assert r.status_code == 409
    assert api.get("/v1/networks/web").json()["vlan_id"] == 100


def test_openstacksdk_and_cli_vif_commands(service, api):
    _setup(api, [dict(address=M1), dict(address=M2)])
    make_network(api, **dict(WEB, name="web2", vlan_id=101))
    conn = openstack.connect(
        auth_type="none", baremetal_endpoint_override=service.url + "/", load_yaml_config=False, load_envvars=False
    )
    try:
        conn.baremetal.attach_vif_to_node("n1", "web")
        assert len(conn.baremetal.list_node_vifs("n1")) == 1
    finally:
        conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    base = [
        openstack_cli(),
        "--os-auth-type",
        "none",
        "--os-endpoint",
        service.url,
        "--os-baremetal-api-version",
        "1.28",
    ]

    def cli(*args: str) -> str:
        proc = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    cli("baremetal", "node", "vif", "attach", "n1", "vif-cli", "--vif-info", "network=web2")
    listed = [v["id"] for v in json.loads(cli("baremetal", "node", "vif", "list", "n1", "-f", "json"))]
    assert len(listed) == 2 and "vif-cli" in listed
    cli("baremetal", "node", "vif", "detach", "n1", "vif-cli")
    cli("baremetal", "node", "vif", "detach", "n1", "web")
    assert json.loads(cli("baremetal", "node", "vif", "list", "n1", "-f", "json")) == []


def test_concurrent_attaches_never_share_an_address(service, api):
    """Eight nodes attach to one network at the same time: eight different addresses (the pool has ten)."""
    from concurrent.futures import ThreadPoolExecutor

    make_network(api, name="busy", cidr="10.8.0.0/24", allocation_pool={"start": "10.8.0.1", "end": "10.8.0.10"})
    names = [f"c{i}" for i in range(8)]
    for i, name in enumerate(names):
        node = make_node(api, name=name)
        make_port(api, node, f"52:54:00:08:00:{i:02x}")

    def attach(name):
        with service.client("latest") as client:
            return client.post(f"/v1/nodes/{name}/vifs", json={"id": "busy"}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(attach, names)) == [204] * 8
    ips = [api.get(f"/v1/nodes/{n}/vifs").json()["vifs"][0]["networks"][0]["ip_address"] for n in names]
    assert len(set(ips)) == 8 and all(ip.startswith("10.8.0.") for ip in ips)
