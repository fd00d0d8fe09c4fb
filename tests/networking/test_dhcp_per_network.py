"""DHCP per network with real dnsmasq: two Ironworks provisioning networks on two per-VLAN segments of a lab
namespace, one client on each; each client gets an address from its own network's allocation pool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ironworks import errors
from ironworks.lab.network import LabNetwork
from ironworks.netboot.dnsmasq import DnsmasqConfig
from ironworks.netboot.supervisor import DnsmasqService
from ironworks.networking.dhcp import dhcp_network, dhcp_networks, host_entry
from tests.netboot.conftest import lab_net  # noqa: F401 - the fixture
from tests.netboot.test_dhcp import IPXE_USER_CLASS, dhcp

pytestmark = pytest.mark.skipif(
    shutil.which("busybox") is None or shutil.which("dnsmasq") is None, reason="busybox (udhcpc) and dnsmasq are needed"
)


def _record(id_: int, name: str, vlan: int | None, cidr: str, pool: tuple[str, str] | None, **extra: object) -> dict:
    return {
        "id": id_,
        "name": name,
        "vlan_id": vlan,
        "cidr": cidr,
        "gateway": None,
        "allocation_start": pool[0] if pool else None,
        "allocation_end": pool[1] if pool else None,
        "roles": ["provisioning", "cleaning"],
        "dhcp_interface": None,
        "extra": {},
        **extra,
    }


PROV_100 = _record(1, "prov-100", 100, "10.100.0.0/24", ("10.100.0.50", "10.100.0.59"), dhcp_interface="brv100")
PROV_200 = _record(2, "Prov 200", 200, "10.200.0.0/24", ("10.200.0.150", "10.200.0.159"), dhcp_interface="brv200")
TENANT = dict(_record(3, "web", 300, "10.30.0.0/24", None), roles=["tenant"])


def test_one_range_per_network_each_client_from_its_own(lab_net: LabNetwork, tmp_path: Path) -> None:  # noqa: F811
    lab_net.add_segment(100, "10.100.0.1/24")
    lab_net.add_segment(200, "10.200.0.1/24")
    networks = dhcp_networks([PROV_200, TENANT, PROV_100], trunk=None, http_port=8080)
    assert [(n.name, n.interface, str(n.address)) for n in networks] == [
        ("prov_100_1", "brv100", "10.100.0.1/24"),
        ("prov_200_2", "brv200", "10.200.0.1/24"),
    ]
    config = DnsmasqConfig(
        networks=networks, state_dir=tmp_path / "dnsmasq", tftp_root=tmp_path / "tftp", ping_check=False
    )
    with DnsmasqService(config, netns=lab_net.name).start() as service:
        a = lab_net.add_client("ca", "52:54:00:3c:01:01", vlan=100)
        b = lab_net.add_client("cb", "52:54:00:3c:02:01", vlan=200)
        service.add_host(host_entry("52:54:00:3c:01:01", PROV_100))
        service.add_host(host_entry("52:54:00:3c:02:01", PROV_200))
        lease_a = dhcp(lab_net, a, tmp_path, IPXE_USER_CLASS)
        lease_b = dhcp(lab_net, b, tmp_path, IPXE_USER_CLASS)
        hosts = service.hosts()
    assert lease_a is not None and 50 <= int(lease_a["ip"].rsplit(".", 1)[1]) <= 59, lease_a
    assert lease_a["ip"].startswith("10.100.0.") and lease_a["boot_file"] == "http://10.100.0.1:8080/boot.ipxe"
    assert lease_b is not None and lease_b["ip"].startswith("10.200.0.1"), lease_b
    assert 150 <= int(lease_b["ip"].rsplit(".", 1)[1]) <= 159
    assert lease_b["boot_file"] == "http://10.200.0.1:8080/boot.ipxe"
    assert hosts["52-54-00-3c-01-01"] == "52:54:00:3c:01:01,set:iwknown,set:iwnet-prov_100_1"
    conf = config.conf_file.read_text()
    assert "dhcp-range=set:iwnet-prov_100_1,10.100.0.50,10.100.0.59" in conf
    assert "dhcp-range=set:iwnet-prov_200_2,10.200.0.150,10.200.0.159" in conf


def test_interface_naming() -> None:
    flat = dict(_record(4, "flat", None, "10.9.0.0/24", None), gateway="10.9.0.1")
    assert dhcp_network(dict(PROV_100, dhcp_interface=None), trunk="bond0", http_port=80).interface == "bond0.100"
    served = dhcp_network(flat, trunk="eth1", http_port=80)
    assert served.interface == "eth1" and str(served.address) == "10.9.0.2/24" and str(served.router) == "10.9.0.1"
    assert (
        str(dhcp_network(dict(flat, extra={"dhcp_server_address": "10.9.0.9"}), trunk="eth1", http_port=80).address)
        == "10.9.0.9/24"
    )
    with pytest.raises(errors.InvalidParameterValue, match="dhcp_interface"):
        dhcp_network(dict(PROV_100, dhcp_interface=None), trunk=None, http_port=80)
    with pytest.raises(errors.InvalidParameterValue, match="longer than 15"):
        dhcp_network(dict(PROV_100, dhcp_interface=None), trunk="averylongtrunk0", http_port=80)
    with pytest.raises(errors.InvalidParameterValue, match="needs a cidr"):
        dhcp_network(dict(PROV_100, cidr=None), trunk=None, http_port=80)
