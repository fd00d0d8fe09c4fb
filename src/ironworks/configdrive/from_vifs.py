"""A network_data ``Layout`` from a node's ports, portgroups and placed VIFs (pure).

1. Every port becomes a ``phy`` link named by its uuid, so cloud-init finds each NIC by its MAC.
2. Every portgroup with member ports becomes a ``bond`` over its members: mode from the portgroup's ``mode`` (a
   name or Linux's number 0-6; Ironic's default ``active-backup`` when unset), ``miimon``, ``xmit_hash_policy``
   and ``lacp_rate`` from its ``properties`` (``bond_`` prefixed spellings too); its MAC is the portgroup's.
3. Each placed VIF puts its networks on its NIC: a VIF with one network is untagged on the NIC (an access
   port); a VIF with several is a trunk: each network with a VLAN becomes a ``vlan`` link on the NIC, and the one
   network without a VLAN, if any, stays untagged.
4. Each network's ``Attachment`` gives the address: static (from the network's pool, with gateway, routes and
   DNS) or DHCP/SLAAC. DNS servers of all attachments also become the host-wide ``services``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks import errors
from ironworks.configdrive import network_data as nd
from ironworks.networking.nic_selection import NetworkRef, NicKind, Placement, Port, Portgroup

DEFAULT_BOND_MODE = nd.BondMode.ACTIVE_BACKUP


@dataclass(frozen=True)
class Attachment:
    """How the host is addressed on one network of a VIF."""

    network: NetworkRef
    mode: nd.AddressMode = nd.AddressMode.DHCP
    address: str | None = None
    gateway: str | None = None
    routes: tuple[nd.Route, ...] = ()
    dns: tuple[str, ...] = ()
    ip_version: int = 4
    network_id: str | None = None
    mtu: int | None = None


def _prop(props: Mapping[str, Any], name: str) -> Any:
    return props.get(name, props.get(f"bond_{name}"))


def _bond(group: Portgroup, members: Sequence[Port]) -> nd.Bond:
    props = group.properties or {}
    raw = str(group.mode or _prop(props, "mode") or DEFAULT_BOND_MODE)
    modes = list(nd.BondMode)
    try:
        # Linux numbers the modes 0-6 in the order BondMode lists them; the API accepts both spellings
        mode = modes[int(raw)] if raw.isdigit() and int(raw) < len(modes) else nd.BondMode(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in nd.BondMode)
        raise errors.InvalidParameterValue(
            f"portgroup {group.name or group.uuid}: bond mode {group.mode!r} is not one of {allowed}"
        ) from None
    miimon = _prop(props, "miimon")
    return nd.Bond(
        id=group.name or group.uuid,
        members=tuple(p.address for p in members),
        mode=mode,
        mac=group.address,
        miimon=int(miimon) if miimon is not None else 100,
        xmit_hash_policy=_prop(props, "xmit_hash_policy"),
        lacp_rate=_prop(props, "lacp_rate"),
    )


def layout(
    ports: Sequence[Port],
    portgroups: Sequence[Portgroup],
    placements: Sequence[Placement],
    attachments: Mapping[str, Sequence[Attachment]],
) -> nd.Layout:
    """The Layout for these placements; ``attachments`` maps each VIF id to its networks' addressing."""
    ports = sorted(ports, key=lambda p: (p.order, p.uuid))
    nics = tuple(nd.Nic(id=p.uuid, mac=p.address) for p in ports)
    bonds = []
    link_of: dict[str, str] = {p.uuid: p.uuid for p in ports}
    for group in sorted(portgroups, key=lambda g: (g.order, g.uuid)):
        members = [p for p in ports if p.portgroup_uuid == group.uuid]
        if members:
            bond = _bond(group, members)
            bonds.append(bond)
            link_of[group.uuid] = bond.id

    vlans: list[nd.Vlan] = []
    addresses: list[nd.Address] = []
    dns: list[str] = []
    for placement in placements:
        link = link_of.get(placement.uuid)
        if link is None:
            kind = "portgroup" if placement.kind is NicKind.PORTGROUP else "port"
            raise errors.InvalidParameterValue(f"VIF {placement.vif_id} is placed on an unknown {kind}")
        attached = list(attachments.get(placement.vif_id, ()))
        if not attached:
            raise errors.InvalidParameterValue(f"VIF {placement.vif_id} has no network addressing")
        trunk = len(attached) > 1
        for att in attached:
            target = link
            if trunk and att.network.vlan_id is not None:
                vlan = nd.Vlan(parent=link, vlan_id=att.network.vlan_id, mtu=att.mtu)
                vlans.append(vlan)
                target = vlan.id
            addresses.append(
                nd.Address(
                    link=target,
                    mode=att.mode,
                    address=att.address,
                    gateway=att.gateway,
                    routes=att.routes,
                    dns=att.dns,
                    ip_version=att.ip_version,
                    network_id=att.network_id,
                )
            )
            dns += [d for d in att.dns if d not in dns]
    return nd.Layout(nics=nics, bonds=tuple(bonds), vlans=tuple(vlans), addresses=tuple(addresses), dns=tuple(dns))
