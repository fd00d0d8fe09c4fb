"""OpenStack ``network_data.json`` from a description of a server's NICs, bonds, VLANs and addresses (pure).

The output follows the format Nova writes and cloud-init's ConfigDrive/OpenStack datasources read:

- ``links``: ``phy`` links (``ethernet_mac_address``, ``mtu``), ``bond`` links (``bond_links`` naming member
  link ids, ``bond_mode``, ``bond_miimon``, ``bond_xmit_hash_policy``, ``bond_lacp_rate``) and ``vlan`` links
  (``vlan_link``, ``vlan_id``, ``vlan_mac_address``, which cloud-init requires);
- ``networks``: one entry per address on a link: ``ipv4``/``ipv6`` with ``ip_address``, ``netmask`` and
  ``routes`` (the gateway is the default route, as Nova writes it), or ``ipv4_dhcp``, ``ipv6_dhcpv6-stateful``,
  ``ipv6_slaac``; each may carry its own ``services`` (dns);
- ``services``: the DNS servers for the whole host, followed by each network's own (cloud-init 22.4 reads
  only these).

Links are referred to by their ``id``; a phy link carries ``name`` only when the NIC should be renamed (cloud-init
otherwise finds it by MAC). Inconsistent layouts (a MAC in two bonds, a VLAN on an unknown link, an address on a
bond member…) raise ``errors.InvalidParameterValue``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ironworks import errors

_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


class BondMode(StrEnum):
    BALANCE_RR = "balance-rr"
    ACTIVE_BACKUP = "active-backup"
    BALANCE_XOR = "balance-xor"
    BROADCAST = "broadcast"
    LACP = "802.3ad"
    BALANCE_TLB = "balance-tlb"
    BALANCE_ALB = "balance-alb"


class AddressMode(StrEnum):
    STATIC = "static"
    DHCP = "dhcp"
    SLAAC = "slaac"


@dataclass(frozen=True)
class Nic:
    id: str
    mac: str
    mtu: int | None = None
    #: the interface name to give the NIC; None lets the OS keep its own name (cloud-init matches by MAC)
    name: str | None = None


@dataclass(frozen=True)
class Bond:
    id: str
    #: MAC addresses of the member NICs
    members: tuple[str, ...]
    mode: BondMode = BondMode.ACTIVE_BACKUP
    mac: str | None = None
    miimon: int | None = 100
    xmit_hash_policy: str | None = None
    lacp_rate: str | None = None
    mtu: int | None = None


@dataclass(frozen=True)
class Vlan:
    #: id of the NIC or bond link that carries the VLAN
    parent: str
    vlan_id: int
    mac: str | None = None
    mtu: int | None = None

    @property
    def id(self) -> str:
        return f"{self.parent}.{self.vlan_id}"


@dataclass(frozen=True)
class Route:
    #: destination in CIDR notation
    network: str
    gateway: str


@dataclass(frozen=True)
class Address:
    """One address (or address method) on a link."""

    link: str
    mode: AddressMode = AddressMode.STATIC
    #: static address in interface notation, e.g. ``10.0.100.10/24``
    address: str | None = None
    gateway: str | None = None
    routes: tuple[Route, ...] = ()
    dns: tuple[str, ...] = ()
    #: 4 or 6, for dhcp/slaac; derived from ``address`` when static
    ip_version: int = 4
    network_id: str | None = None


@dataclass(frozen=True)
class Layout:
    nics: tuple[Nic, ...]
    bonds: tuple[Bond, ...] = ()
    vlans: tuple[Vlan, ...] = ()
    addresses: tuple[Address, ...] = ()
    dns: tuple[str, ...] = ()


def _invalid(msg: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"network_data: {msg}")


def normalize_mac(mac: str) -> str:
    value = mac.strip().lower().replace("-", ":")
    if not _MAC.match(value):
        raise errors.InvalidMAC(mac=mac)
    return value


def _mtu(mtu: int | None, where: str) -> dict[str, Any]:
    if mtu is None:
        return {}
    if not 68 <= mtu <= 65535:
        raise _invalid(f"{where}: MTU {mtu} is out of range (68-65535)")
    return {"mtu": mtu}


def _ip(value: str, where: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise _invalid(f"{where}: {value!r} is not an IP address") from None


def _route(dest: str, gateway: str, version: int, where: str) -> dict[str, str]:
    try:
        net = ipaddress.ip_network(dest, strict=False)
    except ValueError:
        raise _invalid(f"{where}: route destination {dest!r} is not a network") from None
    gw = _ip(gateway, where)
    if net.version != version or gw.version != version:
        raise _invalid(f"{where}: route {dest} via {gateway} mixes IP versions")
    return {"network": str(net.network_address), "netmask": str(net.netmask), "gateway": str(gw)}


def _dns_services(servers: Sequence[str], where: str) -> list[dict[str, str]]:
    return [{"type": "dns", "address": str(_ip(s, where))} for s in servers]


def _links(layout: Layout) -> tuple[list[dict[str, Any]], dict[str, str], set[str]]:
    """The ``links`` list, each link id's MAC, and the ids of bond members."""
    links: list[dict[str, Any]] = []
    macs: dict[str, str] = {}
    by_mac: dict[str, str] = {}
    for nic in layout.nics:
        if nic.id in macs:
            raise _invalid(f"link id {nic.id!r} is used twice")
        mac = normalize_mac(nic.mac)
        if mac in by_mac:
            raise _invalid(f"MAC {mac} belongs to two NICs ({by_mac[mac]}, {nic.id})")
        macs[nic.id], by_mac[mac] = mac, nic.id
        link: dict[str, Any] = {"id": nic.id, "type": "phy", "ethernet_mac_address": mac, **_mtu(nic.mtu, nic.id)}
        if nic.name:
            link["name"] = nic.name
        links.append(link)

    members: set[str] = set()
    for bond in layout.bonds:
        if bond.id in macs:
            raise _invalid(f"link id {bond.id!r} is used twice")
        if not bond.members:
            raise _invalid(f"bond {bond.id} has no members")
        ids = []
        for member in bond.members:
            nic_id = by_mac.get(normalize_mac(member))
            if nic_id is None:
                raise _invalid(f"bond {bond.id}: member {member} is not one of the NICs")
            if nic_id in members:
                raise _invalid(f"bond {bond.id}: NIC {nic_id} is already a member of a bond")
            members.add(nic_id)
            ids.append(nic_id)
        mac = normalize_mac(bond.mac) if bond.mac else macs[ids[0]]
        macs[bond.id] = mac
        link = {
            "id": bond.id,
            "type": "bond",
            "bond_links": ids,
            "bond_mode": BondMode(bond.mode).value,
            "ethernet_mac_address": mac,
            **_mtu(bond.mtu, bond.id),
        }
        if bond.miimon is not None:
            link["bond_miimon"] = int(bond.miimon)
        if bond.xmit_hash_policy:
            link["bond_xmit_hash_policy"] = bond.xmit_hash_policy
        if bond.lacp_rate:
            if BondMode(bond.mode) is not BondMode.LACP:
                raise _invalid(f"bond {bond.id}: lacp_rate applies to 802.3ad bonds only")
            link["bond_lacp_rate"] = bond.lacp_rate
        links.append(link)

    for vlan in layout.vlans:
        if vlan.parent not in macs:
            raise _invalid(f"VLAN {vlan.vlan_id} is on link {vlan.parent!r}, which is not a NIC or bond")
        if vlan.parent in members:
            raise _invalid(f"VLAN {vlan.vlan_id} is on {vlan.parent}, a bond member; put it on the bond")
        if not 1 <= vlan.vlan_id <= 4094:
            raise _invalid(f"VLAN id {vlan.vlan_id} is out of range (1-4094)")
        if vlan.id in macs:
            raise _invalid(f"VLAN {vlan.vlan_id} appears twice on {vlan.parent}")
        mac = normalize_mac(vlan.mac) if vlan.mac else macs[vlan.parent]
        macs[vlan.id] = mac
        links.append(
            {
                "id": vlan.id,
                "type": "vlan",
                "vlan_link": vlan.parent,
                "vlan_id": vlan.vlan_id,
                "vlan_mac_address": mac,
                **_mtu(vlan.mtu, vlan.id),
            }
        )
    return links, macs, members


def _network(addr: Address, index: int) -> dict[str, Any]:
    where = f"address on {addr.link}"
    entry: dict[str, Any] = {"id": f"network{index}", "link": addr.link}
    mode = AddressMode(addr.mode)
    if mode is AddressMode.STATIC:
        if not addr.address:
            raise _invalid(f"{where}: a static address needs 'address' (e.g. 10.0.0.5/24)")
        try:
            iface = ipaddress.ip_interface(addr.address)
        except ValueError:
            raise _invalid(f"{where}: {addr.address!r} is not an address with a prefix") from None
        if "/" not in addr.address:
            raise _invalid(f"{where}: {addr.address!r} needs a prefix length (e.g. /24)")
        version = iface.version
        entry.update(
            type=f"ipv{version}",
            ip_address=str(iface.ip),
            netmask=str(iface.network.netmask),
        )
        routes = []
        if addr.gateway:
            gw = _ip(addr.gateway, where)
            if gw not in iface.network:
                raise _invalid(f"{where}: gateway {gw} is outside {iface.network}")
            routes.append(_route("0.0.0.0/0" if version == 4 else "::/0", str(gw), version, where))
        routes += [_route(r.network, r.gateway, version, where) for r in addr.routes]
        entry["routes"] = routes
    else:
        if addr.address or addr.gateway or addr.routes:
            raise _invalid(f"{where}: {mode.value} takes no address, gateway or routes")
        if addr.ip_version not in (4, 6):
            raise _invalid(f"{where}: ip_version must be 4 or 6")
        if mode is AddressMode.SLAAC:
            if addr.ip_version != 6:
                raise _invalid(f"{where}: SLAAC is IPv6 only")
            entry["type"] = "ipv6_slaac"
        else:
            entry["type"] = "ipv4_dhcp" if addr.ip_version == 4 else "ipv6_dhcpv6-stateful"
    if addr.network_id:
        entry["network_id"] = addr.network_id
    if addr.dns:
        entry["services"] = _dns_services(addr.dns, where)
    return entry


def render(layout: Layout) -> dict[str, Any]:
    """The network_data.json document for ``layout``; raises InvalidParameterValue for inconsistent layouts."""
    links, macs, members = _links(layout)
    networks = []
    for index, addr in enumerate(layout.addresses):
        if addr.link not in macs:
            raise _invalid(f"an address names link {addr.link!r}, which is not a NIC, bond or VLAN")
        if addr.link in members:
            raise _invalid(f"an address is on {addr.link}, a bond member; put it on the bond")
        networks.append(_network(addr, index))
    # cloud-init (22.4 at least) reads DNS servers only from the top-level services: list each network's too
    servers = list(dict.fromkeys([*layout.dns, *(d for a in layout.addresses for d in a.dns)]))
    return {"links": links, "networks": networks, "services": _dns_services(servers, "services")}


def validate_document(doc: Any) -> dict[str, Any]:
    """Check a user-given network_data document has the shape cloud-init needs; returns it unchanged."""
    if not isinstance(doc, dict):
        raise _invalid("must be a JSON object with links, networks and services")
    for key in ("links", "networks", "services"):
        if not isinstance(doc.get(key, []), list):
            raise _invalid(f"'{key}' must be a list")
    ids = set()
    for link in doc.get("links", []):
        if not isinstance(link, dict) or "id" not in link or "type" not in link:
            raise _invalid("each link needs an 'id' and a 'type'")
        if link["type"] == "vlan" and not {"vlan_link", "vlan_id", "vlan_mac_address"} <= link.keys():
            raise _invalid(f"VLAN link {link['id']} needs vlan_link, vlan_id and vlan_mac_address")
        if link["type"] == "bond" and not isinstance(link.get("bond_links"), list):
            raise _invalid(f"bond link {link['id']} needs a bond_links list")
        ids.add(link["id"])
    for net in doc.get("networks", []):
        if not isinstance(net, dict) or "type" not in net or net.get("link") not in ids:
            raise _invalid("each network needs a 'type' and a 'link' naming one of the links")
    return doc
