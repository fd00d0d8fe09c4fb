"""network_data.json generation, checked by cloud-init itself: its OpenStack converter and its renderers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ironworks import errors
from ironworks.configdrive import network_data as nd
from tests.configdrive import cloudinit, example
from tests.configdrive.example import KERNEL_NAMES, MAC_BOND_A, MAC_BOND_B, MAC_PROV, MAC_SPARE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "networking.md"


@pytest.fixture(scope="module")
def example_doc() -> dict[str, Any]:
    return example.network_data()


def _by_name(v1: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in v1["config"] if "name" in c}


def test_example_places_vifs_by_vlan_and_physnet() -> None:
    placed = {p.vif_id: p for p in example.placements()}
    assert placed["vif-business"].uuid == example.PG_UUID
    assert placed["vif-mgmt"].address == MAC_PROV


def test_example_cloud_init_network_config_v1(example_doc: dict[str, Any], tmp_path: Path) -> None:
    v1 = cloudinit.to_v1(example_doc, KERNEL_NAMES, tmp_path)
    assert v1["version"] == 1
    cfg = _by_name(v1)
    for mac, name in KERNEL_NAMES.items():
        assert cfg[name]["type"] == "physical" and cfg[name]["mac_address"] == mac
    bond = cfg["bond0"]
    assert bond["type"] == "bond"
    assert bond["bond_interfaces"] == ["eno2", "eno3"]
    assert bond["params"]["bond_mode"] == "802.3ad"
    assert bond["params"]["bond_xmit_hash_policy"] == "layer3+4"
    assert bond["params"]["bond_lacp_rate"] == "fast"
    assert bond["subnets"] == []
    for vid, ip in ((100, "10.100.0.10"), (200, "10.200.0.10")):
        vlan = cfg[f"bond0.{vid}"]
        assert (vlan["type"], vlan["vlan_link"], vlan["vlan_id"]) == ("vlan", "bond0", vid)
        [subnet] = vlan["subnets"]
        assert (subnet["type"], subnet["address"], subnet["netmask"]) == ("static", ip, "255.255.255.0")
    assert cfg["eno1"]["subnets"] == [{"type": "dhcp4"}]
    assert cfg["eno4"]["subnets"] == []
    assert {"type": "nameserver", "address": "10.100.0.2"} in v1["config"]


def test_example_rendered_as_netplan(example_doc: dict[str, Any], tmp_path: Path) -> None:
    files = cloudinit.render(example_doc, KERNEL_NAMES, "netplan", tmp_path)
    net = yaml.safe_load(files["etc/netplan/50-cloud-init.yaml"])["network"]
    eths = net["ethernets"]
    assert {name: e["match"]["macaddress"] for name, e in eths.items()} == {v: k for k, v in KERNEL_NAMES.items()}
    assert eths["eno1"].get("dhcp4") is True
    assert "addresses" not in eths["eno2"] and "addresses" not in eths["eno4"]
    bond = net["bonds"]["bond0"]
    assert bond["interfaces"] == ["eno2", "eno3"]
    assert bond["parameters"] == {
        "mode": "802.3ad", "mii-monitor-interval": 100, "transmit-hash-policy": "layer3+4", "lacp-rate": "fast"
    }
    assert "addresses" not in bond
    vlans = net["vlans"]
    assert (vlans["bond0.100"]["id"], vlans["bond0.100"]["link"]) == (100, "bond0")
    assert vlans["bond0.100"]["addresses"] == ["10.100.0.10/24"]
    assert {"to": "0.0.0.0/0", "via": "10.100.0.1"} in vlans["bond0.100"]["routes"]
    assert (vlans["bond0.200"]["id"], vlans["bond0.200"]["link"]) == (200, "bond0")
    assert vlans["bond0.200"]["addresses"] == ["10.200.0.10/24"]
    assert vlans["bond0.200"]["routes"] == [{"to": "172.16.0.0/12", "via": "10.200.0.1"}]


def _eni_stanzas(text: str) -> dict[str, list[str]]:
    stanzas: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("iface "):
            current = stanzas.setdefault(" ".join(line.split()[1:3]), [])
        elif line.startswith(("auto ", "#")) or not line.strip():
            current = None if not line.strip() else current
        elif current is not None:
            current.append(line.strip())
    return stanzas


def test_example_rendered_as_eni(example_doc: dict[str, Any], tmp_path: Path) -> None:
    files = cloudinit.render(example_doc, KERNEL_NAMES, "eni", tmp_path)
    stanzas = _eni_stanzas(files["etc/network/interfaces.d/50-cloud-init"])
    assert "bond-master bond0" in stanzas["eno2 inet"] and "bond-master bond0" in stanzas["eno3 inet"]
    assert "bond_mode 802.3ad" in stanzas["bond0 inet"]
    assert "vlan-raw-device bond0" in stanzas["bond0.100 inet"]
    assert "address 10.100.0.10/24" in stanzas["bond0.100 inet"]
    assert "address 10.200.0.10/24" in stanzas["bond0.200 inet"]
    assert stanzas["eno1 inet"] == []  # "iface eno1 inet dhcp" has no options
    assert "iface eno1 inet dhcp" in files["etc/network/interfaces.d/50-cloud-init"]
    # the kernel names are pinned to the MACs
    rules = files["etc/udev/rules.d/70-persistent-net.rules"]
    for mac, name in KERNEL_NAMES.items():
        assert re.search(rf'ATTR{{address}}=="{mac}".*NAME="{name}"', rules)


def test_example_rendered_as_sysconfig(example_doc: dict[str, Any], tmp_path: Path) -> None:
    files = cloudinit.render(example_doc, KERNEL_NAMES, "sysconfig", tmp_path)
    scripts = "etc/sysconfig/network-scripts/"

    def cfg(name: str) -> dict[str, str]:
        lines = [ln for ln in files[scripts + "ifcfg-" + name].splitlines() if "=" in ln and not ln.startswith("#")]
        return {k: v.strip('"') for k, v in (ln.split("=", 1) for ln in lines)}

    for name, mac in (("eno2", MAC_BOND_A), ("eno3", MAC_BOND_B)):
        member = cfg(name)
        assert (member["MASTER"], member["SLAVE"], member["HWADDR"]) == ("bond0", "yes", mac)
    assert "mode=802.3ad" in cfg("bond0")["BONDING_OPTS"]
    for vid, ip in ((100, "10.100.0.10"), (200, "10.200.0.10")):
        vlan = cfg(f"bond0.{vid}")
        assert (vlan["VLAN"], vlan["PHYSDEV"], vlan["IPADDR"]) == ("yes", "bond0", ip)
    assert cfg("eno1")["BOOTPROTO"] == "dhcp" and cfg("eno1")["HWADDR"] == MAC_PROV
    assert cfg("eno4")["HWADDR"] == MAC_SPARE and "IPADDR" not in cfg("eno4")


def test_ipv6_static_slaac_names_and_mtu(tmp_path: Path) -> None:
    layout = nd.Layout(
        nics=(nd.Nic("a", "52:54:00:00:00:0a", mtu=9000, name="data0"), nd.Nic("b", "52:54:00:00:00:0b")),
        addresses=(
            nd.Address("a", address="2001:db8:1::10/64", gateway="2001:db8:1::1", dns=("2001:db8:1::53",)),
            nd.Address("b", mode=nd.AddressMode.SLAAC, ip_version=6),
        ),
    )
    doc = nd.render(layout)
    assert doc["networks"][0]["netmask"] == "ffff:ffff:ffff:ffff::"
    assert doc["networks"][1]["type"] == "ipv6_slaac"
    files = cloudinit.render(doc, {"52:54:00:00:00:0b": "eth1"}, "netplan", tmp_path)
    eths = yaml.safe_load(files["etc/netplan/50-cloud-init.yaml"])["network"]["ethernets"]
    assert eths["data0"]["set-name"] == "data0" and eths["data0"]["mtu"] == 9000
    assert eths["data0"]["addresses"] == ["2001:db8:1::10/64"]
    assert {"to": "::/0", "via": "2001:db8:1::1"} in eths["data0"]["routes"]
    assert eths["data0"]["nameservers"]["addresses"] == ["2001:db8:1::53"]
    assert eths["eth1"].get("dhcp6") is True


def test_active_backup_bond_with_untagged_address(tmp_path: Path) -> None:
    layout = nd.Layout(
        nics=(nd.Nic("a", "52:54:00:00:00:0a"), nd.Nic("b", "52:54:00:00:00:0b")),
        bonds=(nd.Bond("bond-x", ("52:54:00:00:00:0b", "52:54:00:00:00:0a"), nd.BondMode.ACTIVE_BACKUP, miimon=50),),
        addresses=(nd.Address("bond-x", address="192.0.2.5/28", gateway="192.0.2.1"),),
    )
    v1 = cloudinit.to_v1(nd.render(layout), {"52:54:00:00:00:0a": "ens1", "52:54:00:00:00:0b": "ens2"}, tmp_path)
    bond = _by_name(v1)["bond0"]
    assert bond["bond_interfaces"] == ["ens2", "ens1"]
    assert bond["mac_address"] == "52:54:00:00:00:0b"
    assert bond["params"] == {"bond_mode": "active-backup", "bond_miimon": 50}
    [subnet] = bond["subnets"]
    assert (subnet["address"], subnet["netmask"]) == ("192.0.2.5", "255.255.255.240")


NICS = (nd.Nic("a", "52:54:00:00:00:0a"), nd.Nic("b", "52:54:00:00:00:0b"), nd.Nic("c", "52:54:00:00:00:0c"))
BOND = nd.Bond("bond0", ("52:54:00:00:00:0a", "52:54:00:00:00:0b"), nd.BondMode.LACP)

BAD_LAYOUTS = [
    ("unknown bond member", nd.Layout(NICS, bonds=(nd.Bond("x", ("52:54:00:00:00:ff",)),)), "is not one of the NICs"),
    ("NIC in two bonds", nd.Layout(NICS, bonds=(BOND, nd.Bond("b2", ("52:54:00:00:00:0a",)))), "already a member"),
    ("bond without members", nd.Layout(NICS, bonds=(nd.Bond("x", ()),)), "has no members"),
    ("VLAN on a bond member", nd.Layout(NICS, bonds=(BOND,), vlans=(nd.Vlan("a", 100),)), "a bond member"),
    ("VLAN on an unknown link", nd.Layout(NICS, vlans=(nd.Vlan("zz", 100),)), "not a NIC or bond"),
    ("VLAN id out of range", nd.Layout(NICS, vlans=(nd.Vlan("c", 4095),)), "out of range"),
    ("same VLAN twice", nd.Layout(NICS, vlans=(nd.Vlan("c", 7), nd.Vlan("c", 7))), "appears twice"),
    ("address on a bond member", nd.Layout(NICS, bonds=(BOND,), addresses=(nd.Address("b", nd.AddressMode.DHCP),)),
     "a bond member"),
    ("address on an unknown link", nd.Layout(NICS, addresses=(nd.Address("q", nd.AddressMode.DHCP),)), "not a NIC"),
    ("gateway outside the subnet", nd.Layout(NICS, addresses=(nd.Address("c", address="10.0.0.5/24",
                                                                         gateway="10.0.1.1"),)), "outside"),
    ("static without prefix", nd.Layout(NICS, addresses=(nd.Address("c", address="10.0.0.5"),)), "prefix length"),
    ("static without address", nd.Layout(NICS, addresses=(nd.Address("c"),)), "needs 'address'"),
    ("dhcp with an address", nd.Layout(NICS, addresses=(nd.Address("c", nd.AddressMode.DHCP, address="10.0.0.5/24"),)),
     "takes no address"),
    ("route mixing IP versions", nd.Layout(NICS, addresses=(nd.Address("c", address="10.0.0.5/24",
                                                                       routes=(nd.Route("::/0", "10.0.0.1"),)),)),
     "mixes IP versions"),
    ("SLAAC on IPv4", nd.Layout(NICS, addresses=(nd.Address("c", nd.AddressMode.SLAAC, ip_version=4),)), "IPv6 only"),
    ("lacp_rate on active-backup", nd.Layout(NICS, bonds=(nd.Bond("x", ("52:54:00:00:00:0c",), lacp_rate="fast"),)),
     "802.3ad bonds only"),
    ("duplicate MAC", nd.Layout((*NICS, nd.Nic("d", "52:54:00:00:00:0A")),), "belongs to two NICs"),
    ("duplicate link id", nd.Layout((*NICS, nd.Nic("a", "52:54:00:00:00:0d")),), "used twice"),
    ("MTU out of range", nd.Layout((nd.Nic("m", "52:54:00:00:00:0d", mtu=20),)), "MTU 20"),
    ("bad DNS server", nd.Layout(NICS, dns=("dns.example.com",)), "not an IP address"),
]


@pytest.mark.parametrize(("layout", "text"), [(b[1], b[2]) for b in BAD_LAYOUTS], ids=[b[0] for b in BAD_LAYOUTS])
def test_inconsistent_layout_is_a_400(layout: nd.Layout, text: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as caught:
        nd.render(layout)
    assert text in str(caught.value)
    assert caught.value.http_status == 400


def test_bad_mac_is_invalid_mac() -> None:
    with pytest.raises(errors.InvalidMAC):
        nd.render(nd.Layout((nd.Nic("a", "52:54:00:00:00"),)))


@pytest.mark.parametrize(
    ("doc", "text"),
    [
        ([], "must be a JSON object"),
        ({"links": {}}, "'links' must be a list"),
        ({"links": [{"id": "a"}]}, "needs an 'id' and a 'type'"),
        ({"links": [{"id": "v", "type": "vlan", "vlan_id": 5}]}, "needs vlan_link"),
        ({"links": [{"id": "b", "type": "bond"}]}, "bond_links"),
        ({"links": [], "networks": [{"type": "ipv4", "link": "x"}]}, "naming one of the links"),
    ],
)
def test_user_given_network_data_is_checked(doc: Any, text: str) -> None:
    with pytest.raises(errors.InvalidParameterValue, match=re.escape(text)):
        nd.validate_document(doc)


def test_docs_show_the_generated_document(example_doc: dict[str, Any]) -> None:
    """docs/networking.md shows exactly what the code generates for the worked example."""
    text = DOCS.read_text()
    block = text.split("<!-- network_data.json -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == example_doc
