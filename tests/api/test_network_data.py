"""The node's ``network_data`` (API 1.66) is checked against Ironic's network-data schema on create and PATCH.

Valid documents (every link kind, IPv4 and IPv6 networks with routes, DNS services) are stored and shown back
unchanged; each kind of invalid document is refused with 400 in Ironic's error format ("Invalid network_data: …",
naming the offending path) and nothing is stored. One service per test, the cases in a table (SQLite and
PostgreSQL through the ``service`` fixture).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.api.helpers import fault, make_node, snapshot

MAC = "52:54:00:12:34:56"


def _doc(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "links": [{"id": "eth0", "type": "phy", "ethernet_mac_address": MAC, "mtu": 1500}],
        "networks": [
            {
                "id": "net0",
                "type": "ipv4",
                "link": "eth0",
                "network_id": "n-0",
                "ip_address": "192.0.2.10",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}],
            }
        ],
        "services": [{"type": "dns", "address": "192.0.2.53"}],
    }
    base.update(over)
    return base


FULL = {
    "links": [
        {"id": "if0", "type": "phy", "ethernet_mac_address": "A0-36-9F-2C-E8-80", "mtu": 9000},
        {"id": "if1", "type": "ovs", "ethernet_mac_address": "a0:36:9f:2c:e8:81", "mtu": None, "vif_id": "v-1"},
        {
            "id": "bond0",
            "type": "bond",
            "ethernet_mac_address": "a0:36:9f:2c:e8:82",
            "bond_mode": "802.3ad",
            "bond_links": ["if0", "if1"],
            "bond_miimon": 100,
            "bond_xmit_hash_policy": "layer3+4",
        },
        {"id": "vlan7", "type": "vlan", "vlan_link": "bond0", "vlan_id": 7, "vlan_mac_address": "a0:36:9f:2c:e8:83"},
    ],
    "networks": [
        {
            "id": "v4",
            "type": "ipv4",
            "link": "vlan7",
            "network_id": "n-4",
            "ip_address": "010.184.0.244",
            "netmask": "255.255.240.0",
            "routes": [
                {
                    "network": "10.0.0.0",
                    "netmask": "255.0.0.0",
                    "gateway": "10.184.0.1",
                    "services": [{"type": "dns", "address": "10.0.0.53"}],
                }
            ],
        },
        {
            "id": "v6",
            "type": "ipv6",
            "link": "bond0",
            "network_id": "n-6",
            "ip_address": "2001:db8::3257:9652/64",
            "netmask": "ffff:ffff:ffff:ffff::",
            "routes": [{"network": "::", "netmask": "::", "gateway": "fe80::1%eth0"}],
        },
        {"id": "d4", "type": "ipv4_dhcp", "link": "if0", "network_id": "n-d4"},
        {"id": "d6", "type": "ipv6_slaac", "link": "if1", "network_id": "n-d6"},
    ],
    "services": [{"type": "dns", "address": "2001:4860:4860::8888"}, {"type": "dns", "address": "8.8.8.8"}],
    "something_else": {"kept": True},
}

VALID = {
    "minimal": _doc(links=[], networks=[], services=[]),
    "simple ipv4": _doc(),
    "every kind": FULL,
    "vlan id as integral number": _doc(
        links=[{"id": "v", "type": "vlan", "vlan_link": "eth0", "vlan_id": 7.0, "vlan_mac_address": MAC}]
    ),
}


def _link(**over: Any) -> dict[str, Any]:
    return _doc(links=[{"id": "eth0", "type": "phy", "ethernet_mac_address": MAC, **over}])


def _net(**over: Any) -> dict[str, Any]:
    doc = _doc()
    doc["networks"][0].update(over)
    return doc


def _route(**over: Any) -> dict[str, Any]:
    doc = _doc()
    doc["networks"][0]["routes"][0].update(over)
    return doc


def _without(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}


_V6 = {"id": "n6", "type": "ipv6", "link": "eth0", "network_id": "n-6"}
_BOND = {"id": "b", "type": "bond", "ethernet_mac_address": MAC, "bond_mode": "802.3ad", "bond_links": ["eth0"]}
_VLAN = {"id": "v", "type": "vlan", "vlan_link": "eth0", "vlan_id": 7, "vlan_mac_address": MAC}

#: case -> (document, a fragment the error message must contain)
INVALID: dict[str, tuple[Any, str]] = {
    "no links": (_without(_doc(), "links"), "'links' is a required property"),
    "no networks": (_without(_doc(), "networks"), "'networks' is a required property"),
    "no services": (_without(_doc(), "services"), "'services' is a required property"),
    "links not array": (_doc(links={"id": "eth0"}), "links:"),
    "link not object": (_doc(links=["eth0"]), "links[0]:"),
    "link without type": (_doc(links=[{"id": "eth0", "ethernet_mac_address": MAC}]), "'type' is a required"),
    "link unknown type": (_link(type="wifi"), "links[0].type:"),
    "phy without mac": (_doc(links=[{"id": "eth0", "type": "phy"}]), "'ethernet_mac_address' is a required"),
    "phy without id": (_doc(links=[{"type": "phy", "ethernet_mac_address": MAC}]), "'id' is a required"),
    "id not string": (_link(id=5), "links[0].id:"),
    "bad mac": (_link(ethernet_mac_address="52:54:00:12:34"), "links[0].ethernet_mac_address:"),
    "mac not hex": (_link(ethernet_mac_address="zz:54:00:12:34:56"), "links[0].ethernet_mac_address:"),
    "mtu zero": (_link(mtu=0), "links[0].mtu:"),
    "mtu too big": (_link(mtu=65536), "links[0].mtu:"),
    "mtu string": (_link(mtu="1500"), "links[0].mtu:"),
    "mtu boolean": (_link(mtu=True), "links[0].mtu:"),
    "bond without mode": (_doc(links=[_without(_BOND, "bond_mode")]), "'bond_mode' is a required"),
    "bond without links": (_doc(links=[_without(_BOND, "bond_links")]), "'bond_links' is a required"),
    "bond unknown mode": (_doc(links=[{**_BOND, "bond_mode": "lacp"}]), "links[0].bond_mode:"),
    "bond links not strings": (_doc(links=[{**_BOND, "bond_links": [1]}]), "links[0].bond_links[0]:"),
    "vlan without vlan_id": (_doc(links=[_without(_VLAN, "vlan_id")]), "'vlan_id' is a required"),
    "vlan without vlan_link": (_doc(links=[_without(_VLAN, "vlan_link")]), "'vlan_link' is a required"),
    "vlan with ethernet mac only": (
        _doc(links=[{**_without(_VLAN, "vlan_mac_address"), "ethernet_mac_address": MAC}]),
        "'vlan_mac_address' is a required",
    ),
    "vlan id string": (_doc(links=[{**_VLAN, "vlan_id": "7"}]), "links[0].vlan_id:"),
    "vlan id fraction": (_doc(links=[{**_VLAN, "vlan_id": 7.5}]), "links[0].vlan_id:"),
    "network unknown type": (_net(type="ipv6_dhcpv6-stateful"), "networks[0].type:"),
    "network without link": (
        _doc(networks=[{"id": "n", "type": "ipv4_dhcp", "network_id": "x"}]),
        "'link' is a required",
    ),
    "network without network_id": (
        _doc(networks=[{"id": "n", "type": "ipv4_dhcp", "link": "eth0"}]),
        "'network_id' is a required",
    ),
    "ipv4 address out of range": (_net(ip_address="192.0.2.256"), "networks[0].ip_address:"),
    "ipv4 address with prefix": (_net(ip_address="192.0.2.10/24"), "networks[0].ip_address:"),
    "ipv6 address on ipv4 network": (_net(ip_address="2001:db8::1"), "networks[0].ip_address:"),
    "ipv4 netmask not contiguous": (_net(netmask="255.0.255.0"), "networks[0].netmask:"),
    "ipv4 netmask all ones": (_net(netmask="255.255.255.255"), "networks[0].netmask:"),
    "ipv4 netmask as prefix": (_net(netmask="24"), "networks[0].netmask:"),
    "routes not array": (_net(routes={}), "networks[0].routes:"),
    "route without gateway": (_net(routes=[{"network": "0.0.0.0", "netmask": "0.0.0.0"}]), "'gateway' is a required"),
    "route network leading zero": (_route(network="010.0.0.0"), "networks[0].routes[0].network:"),
    "route gateway bad": (_route(gateway="192.0.2"), "networks[0].routes[0].gateway:"),
    "route ipv6 gateway on ipv4": (_route(gateway="fd00::1"), "networks[0].routes[0].gateway:"),
    "route service not dns": (
        _route(services=[{"type": "ntp", "address": "192.0.2.1"}]),
        "networks[0].routes[0].services[0].type:",
    ),
    "ipv6 address bad": (_doc(networks=[{**_V6, "ip_address": "2001:db8::g"}]), "networks[0].ip_address:"),
    "ipv4 address on ipv6 network": (_doc(networks=[{**_V6, "ip_address": "192.0.2.1"}]), "networks[0].ip_address:"),
    "ipv6 netmask with prefix": (_doc(networks=[{**_V6, "netmask": "ffff::/16"}]), "networks[0].netmask:"),
    "ipv6 route gateway with prefix": (
        _doc(networks=[{**_V6, "routes": [{"network": "::", "netmask": "::", "gateway": "fd00::1/64"}]}]),
        "networks[0].routes[0].gateway:",
    ),
    "services not array": (_doc(services={"type": "dns"}), "services:"),
    "service without address": (_doc(services=[{"type": "dns"}]), "'address' is a required"),
    "service unknown type": (_doc(services=[{"type": "ntp", "address": "192.0.2.1"}]), "services[0].type:"),
    "service bad address": (_doc(services=[{"type": "dns", "address": "dns.example.com"}]), "services[0].address:"),
}


def _refused(r: Any, fragment: str, case: str) -> None:
    assert r.status_code == 400, (case, r.text)
    message = fault(r)["faultstring"]
    assert message.startswith("Invalid network_data: ") and fragment in message, (case, message)


def test_valid_network_data_is_stored_and_shown_back(service, api):
    node = make_node(api, name="patched")
    for case, doc in VALID.items():
        created = api.post("/v1/nodes", json={"driver": "fake-hardware", "network_data": doc})
        assert created.status_code == 201, (case, created.text)
        shown = api.get(f"/v1/nodes/{created.json()['uuid']}").json()
        assert shown["network_data"] == doc, case
        r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "replace", "path": "/network_data", "value": doc}])
        assert r.status_code == 200, (case, r.text)
        assert api.get(f"/v1/nodes/{node['uuid']}").json()["network_data"] == doc, case
    # clearing it stays allowed (an empty document is "unset")
    r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/network_data"}])
    assert r.status_code == 200 and r.json()["network_data"] == {}, r.text
    with service.client("1.66") as first:
        r = first.post("/v1/nodes", json={"driver": "fake-hardware", "network_data": FULL})
        assert r.status_code == 201, r.text


def test_invalid_network_data_is_refused_on_create(service, api):
    before = snapshot(api)
    for case, (doc, fragment) in INVALID.items():
        _refused(api.post("/v1/nodes", json={"driver": "fake-hardware", "network_data": doc}), fragment, case)
    with service.client("1.66") as first:
        doc, fragment = INVALID["bad mac"]
        _refused(first.post("/v1/nodes", json={"driver": "fake-hardware", "network_data": doc}), fragment, "1.66")
    assert snapshot(api) == before


def test_invalid_network_data_is_refused_on_patch(service, api):
    valid = _doc()
    node = make_node(api, name="n1", network_data=valid)
    before = snapshot(api)
    url = f"/v1/nodes/{node['uuid']}"
    for case, (doc, fragment) in INVALID.items():
        _refused(api.patch(url, json=[{"op": "replace", "path": "/network_data", "value": doc}]), fragment, case)
    # a patch inside the document is checked on the result too
    broken = copy.deepcopy(valid["links"][0])
    broken["ethernet_mac_address"] = "not-a-mac"
    r = api.patch(url, json=[{"op": "replace", "path": "/network_data/links/0", "value": broken}])
    _refused(r, "links[0].ethernet_mac_address:", "nested patch")
    r = api.patch(url, json=[{"op": "remove", "path": "/network_data/services"}])
    _refused(r, "'services' is a required property", "nested remove")
    assert snapshot(api) == before
    assert api.get(url).json()["network_data"] == valid
