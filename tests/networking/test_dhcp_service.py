"""DHCP per network in the running service: networks created through the API are served by its dnsmasq.

Fast (no VMs): the service runs netboot in a lab namespace with two extra per-VLAN segments (``brv100``,
``brv200``: this host kernel has no 802.1Q, so the networks name them as ``dhcp_interface``). Two provisioning
networks created with ``POST /v1/networks`` each get their own DHCP range and file server: a client on each
segment gets a lease from its network's pool with a boot file on its network's address, and the node script
chained from there carries URLs (and the agent API URL) of that network. Host entries never restart dnsmasq; a
network change does, and deleting a network stops its DHCP and file server. A network the conductor cannot
serve is still created (the API call does not fail).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.db.repos.networks import NetworkRepo
from ironworks.lab.bmc.process import BMCLab
from ironworks.lab.network import LabNetwork
from ironworks.netboot.dnsmasq import mac_hexhyp
from ironworks.networking.dhcp import NodeNetwork, dhcp_name, node_network
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest, make_settings
from tests.netboot.conftest import lab_net  # noqa: F401 - the fixture
from tests.netboot.test_agent_trust import fetch_as
from tests.netboot.test_dhcp import IPXE_USER_CLASS, dhcp

pytestmark = pytest.mark.skipif(
    shutil.which("busybox") is None or shutil.which("dnsmasq") is None, reason="busybox (udhcpc) and dnsmasq are needed"
)

MAC_A, MAC_B = "52:54:00:3e:01:01", "52:54:00:3e:02:01"
AGENT_100 = "http://10.100.0.1:6385"


@pytest.fixture
def running(lab_net: LabNetwork, tmp_path: Path) -> Iterator[ServiceUnderTest]:  # noqa: F811
    lab_net.add_segment(100, "10.100.0.1/24")
    lab_net.add_segment(200, "10.200.0.1/24")
    settings = make_settings(
        str(tmp_path),
        f"sqlite:///{tmp_path / 'iw.sqlite'}",
        netboot_interface=lab_net.main.bridge,
        netboot_address=str(lab_net.main.ipv4),
        netboot_netns=lab_net.name,
        netboot_api_url="http://10.213.0.1:6385",
        netboot_ping_check=False,
    )
    service = ServiceUnderTest(settings).start()
    try:
        yield service
    finally:
        service.stop()


def _fetch(net: LabNetwork, url: str) -> bytes:
    """GET ``url`` from inside the namespace (where the file servers listen)."""
    code = f"import sys,urllib.request; sys.stdout.buffer.write(urllib.request.urlopen({url!r}, timeout=5).read())"
    return subprocess.run(net.argv([sys.executable, "-c", code]), capture_output=True, check=True, timeout=30).stdout


def _network(name: str, vlan: int, pool: tuple[str, str], **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "vlan_id": vlan,
        "cidr": f"10.{vlan}.0.0/24",
        "allocation_pool": {"start": pool[0], "end": pool[1]},
        "roles": ["provisioning", "cleaning"],
        "dhcp_interface": f"brv{vlan}",
        **extra,
    }


def test_networks_created_through_the_api_are_served_on_their_own_segments(
    running: ServiceUnderTest,
    lab_net: LabNetwork,  # noqa: F811
    tmp_path: Path,
) -> None:
    netboot = running.services.netboot
    assert netboot is not None and netboot.started
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd.img"
    kernel.write_bytes(b"kernel-bytes")
    initrd.write_bytes(b"initrd-bytes")
    a = lab_net.add_client("ca", MAC_A, vlan=100)
    b = lab_net.add_client("cb", MAC_B, vlan=200)
    with running.client() as api:
        pid = netboot.dnsmasq.pid
        r100 = api.post(
            "/v1/networks",
            json=_network("prov-100", 100, ("10.100.0.50", "10.100.0.59"), extra={"api_url": AGENT_100}),
        )
        assert r100.status_code == 201, r100.text
        r200 = api.post("/v1/networks", json=_network("prov-200", 200, ("10.200.0.150", "10.200.0.159")))
        assert r200.status_code == 201, r200.text
        assert netboot.dnsmasq.pid not in (None, pid)  # the set of networks changed: dnsmasq restarted
        net100, net200 = (dhcp_name(NetworkRepo(running.services.db).get(n)) for n in ("prov-100", "prov-200"))
        assert set(netboot.networks) == {net100, net200}

        # a network the conductor cannot serve (no such interface) is still created; DHCP is unchanged
        pid = netboot.dnsmasq.pid
        r = api.post("/v1/networks", json=_network("prov-30", 30, ("10.30.0.5", "10.30.0.9")))
        assert r.status_code == 201, r.text
        assert set(netboot.networks) == {net100, net200} and netboot.dnsmasq.pid == pid

        # nodes' host entries and scripts: no restart
        netboot.boot_ramdisk("node-a", [MAC_A], str(kernel), str(initrd), network=net100, api_url=AGENT_100)
        netboot.boot_ramdisk("node-b", [MAC_B], str(kernel), str(initrd), network=net200)
        assert netboot.dnsmasq.pid == pid
        assert netboot.hosts()[mac_hexhyp(MAC_A)] == f"{MAC_A},set:iwknown,set:iwprov,set:iwnet-{net100}"

        lease_a = dhcp(lab_net, a, tmp_path, IPXE_USER_CLASS)
        lease_b = dhcp(lab_net, b, tmp_path, IPXE_USER_CLASS)
        assert lease_a is not None, netboot.dnsmasq.process.log_tail()
        assert lease_a["ip"].startswith("10.100.0.") and 50 <= int(lease_a["ip"].rsplit(".", 1)[1]) <= 59
        assert lease_a["boot_file"] == "http://10.100.0.1:8080/boot.ipxe"
        assert lease_b is not None and lease_b["ip"].startswith("10.200.0.1"), lease_b
        assert 150 <= int(lease_b["ip"].rsplit(".", 1)[1]) <= 159
        assert lease_b["boot_file"] == "http://10.200.0.1:8080/boot.ipxe"

        # what iPXE on VLAN 100 fetches: all from 10.100.0.1, the agent told the network's own API URL
        boot = _fetch(lab_net, lease_a["boot_file"]).decode()
        assert "http://10.100.0.1:8080/nodes/${netX/mac:hexhyp}.ipxe" in boot
        # node scripts go only to the address leased to that node's MAC (docs/agent-protocol.md §9)
        status, body = fetch_as(lab_net, a, lease_a["ip"], f"http://10.100.0.1:8080/nodes/{mac_hexhyp(MAC_A)}.ipxe")
        assert status == 200, body
        script = body.decode()
        assert f"ironworks.api_url={AGENT_100}" in script and "10.213.0.1" not in script
        kernel_url = next(w for w in script.split() if w.startswith("http://10.100.0.1:8080/shared/kernel-"))
        assert _fetch(lab_net, kernel_url) == b"kernel-bytes"
        status, body = fetch_as(lab_net, b, lease_b["ip"], f"http://10.200.0.1:8080/nodes/{mac_hexhyp(MAC_B)}.ipxe")
        assert status == 200, body
        script_b = body.decode()
        assert "http://10.200.0.1:8080/shared/ramdisk-" in script_b
        assert "ironworks.api_url=http://10.213.0.1:6385" in script_b  # no extra.api_url: the configured one

        # deleting a network removes its range and its file server
        assert api.delete("/v1/networks/prov-200").status_code == 204
        assert netboot.dnsmasq.pid != pid and set(netboot.networks) == {net100}
        assert dhcp(lab_net, b, tmp_path, IPXE_USER_CLASS) is None
        with pytest.raises(subprocess.CalledProcessError):
            _fetch(lab_net, "http://10.200.0.1:8080/boot.ipxe")
        assert dhcp(lab_net, a, tmp_path, IPXE_USER_CLASS) is not None  # the other network still served


def test_a_node_boots_on_the_network_of_its_current_work(running: ServiceUnderTest) -> None:
    with running.client() as api:
        for body in (
            _network("prov-100", 100, ("10.100.0.50", "10.100.0.59"), extra={"api_url": AGENT_100}),
            dict(_network("clean-200", 200, ("10.200.0.150", "10.200.0.159")), roles=["cleaning"]),
        ):
            assert api.post("/v1/networks", json=body).status_code == 201
    db, settings = running.services.db, running.services.settings
    prov = dhcp_name(NetworkRepo(running.services.db).get("prov-100"))
    clean = dhcp_name(NetworkRepo(running.services.db).get("clean-200"))
    node = {"uuid": "n1", "network_interface": "vlan", "driver_info": {"cleaning_network": "clean-200"}}
    assert node_network(db, {**node, "provision_state": "deploying"}, settings) == NodeNetwork(prov, AGENT_100)
    assert node_network(db, {**node, "provision_state": "clean wait"}, settings) == NodeNetwork(clean, None)
    # flat cabling: only a network named in driver_info counts
    flat = {**node, "network_interface": "flat", "provision_state": "deploying"}
    assert node_network(db, flat, settings) is None
    assert node_network(db, {**flat, "provision_state": "cleaning"}, settings) == NodeNetwork(clean, None)


def test_cleaning_a_node_netboots_it_on_its_cleaning_network(
    running: ServiceUnderTest,
    lab_net: LabNetwork,  # noqa: F811
    tmp_path: Path,
) -> None:
    netboot = running.services.netboot
    assert netboot is not None
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd.img"
    kernel.write_bytes(b"kernel-bytes")
    initrd.write_bytes(b"initrd-bytes")
    client = lab_net.add_client("ca", MAC_A, vlan=100)
    with BMCLab(count=1) as bmcs, running.client() as api:
        body = _network("prov-100", 100, ("10.100.0.50", "10.100.0.59"), extra={"api_url": AGENT_100})
        assert api.post("/v1/networks", json=body).status_code == 201
        assert api.post("/v1/networks", json=_network("prov-200", 200, ("10.200.0.5", "10.200.0.9"))).status_code == 201
        pid = netboot.dnsmasq.pid
        r = api.post(
            "/v1/nodes",
            json={
                "driver": "ipmi",
                "boot_interface": "ipxe",
                "deploy_interface": "direct",
                "network_interface": "vlan",
                "driver_info": {
                    **bmcs.ipmi[0].ipmi_driver_info(),
                    "deploy_kernel": str(kernel),
                    "deploy_ramdisk": str(initrd),
                    "provisioning_network": "prov-200",
                    "cleaning_network": "prov-100",
                },
            },
        )
        assert r.status_code == 201, r.text
        node = r.json()["uuid"]
        assert api.post("/v1/ports", json={"address": MAC_A, "node_uuid": node}).status_code == 201
        move(api, node, "manage")
        assert provision(api, node, "provide").status_code == 202
        state = settle(api, node)
        assert state["provision_state"] == "clean wait", state["last_error"]

        lease = dhcp(lab_net, client, tmp_path, IPXE_USER_CLASS)
        assert lease is not None, netboot.dnsmasq.process.log_tail()
        assert lease["ip"].startswith("10.100.0.") and lease["boot_file"] == "http://10.100.0.1:8080/boot.ipxe"
        status, body = fetch_as(lab_net, client, lease["ip"], f"http://10.100.0.1:8080/nodes/{mac_hexhyp(MAC_A)}.ipxe")
        assert status == 200, body
        script = body.decode()
        assert f"node {node}" in script and f"ironworks.api_url={AGENT_100}" in script
        assert "http://10.100.0.1:8080/shared/kernel-" in script
    assert netboot.dnsmasq.pid == pid  # the node's entries never restarted dnsmasq
