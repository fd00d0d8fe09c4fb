"""The config drive of a deploy, built by the conductor with ``network_data`` from the node's VIFs.

When a deploy (or rebuild) starts, ``store_configdrive(task)`` turns a ``configdrive`` given as a dict into the
config-2 image, as Ironic's conductor does, and stores it gzipped and base64-encoded in ``instance_info`` for
the deploy interface to write (the agent's ``write_configdrive``):

1. The user's ``network_data`` wins; else the node's ``network_data`` field (Ironic's, API 1.66); else the
   document generated from the node's VIFs (``network_data_for``): every port a ``phy`` link by MAC, every
   portgroup a ``bond`` (mode and properties), each VIF's networks on its NIC (untagged for one network, ``vlan``
   links for a trunk) with the address allocated at attach time, the network's gateway, routes and DNS; a
   network without an allocated address is DHCP. A node without VIFs gets none.
2. A ``configdrive`` that is already an image (a string) is left as it is.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ironworks.configdrive import builder, from_vifs
from ironworks.configdrive import network_data as nd
from ironworks.db.repos.networks import NetLookup, NetworkRepo
from ironworks.networking import addressing, vifs
from ironworks.networking.nic_selection import NicKind, Placement, portgroups_from_records, ports_from_records

if TYPE_CHECKING:
    from ironworks.conductor.task import Task
    from ironworks.db.engine import Database


def _attachment(att: vifs.AttachedNetwork) -> from_vifs.Attachment:
    net = att.network
    common: dict[str, Any] = {
        "network": vifs.ref(net),
        "dns": tuple(net["dns_nameservers"] or ()),
        "network_id": net["uuid"],
        "mtu": net["mtu"],
    }
    if att.ip_address is None:
        version = ipaddress.ip_network(net["cidr"]).version if net["cidr"] else 4
        return from_vifs.Attachment(mode=nd.AddressMode.DHCP, ip_version=version, **common)
    routes = tuple(nd.Route(r["destination"], r["nexthop"]) for r in net["routes"] or ())
    return from_vifs.Attachment(
        mode=nd.AddressMode.STATIC,
        address=addressing.prefix(net, att.ip_address),
        gateway=net["gateway"],
        routes=routes,
        ip_version=ipaddress.ip_address(att.ip_address).version,
        **common,
    )


def layout_for(lk: NetLookup, node_id: int) -> nd.Layout | None:
    """The node's network layout from its ports, portgroups and VIFs; None without VIFs."""
    attached = [v for v in vifs.attached(lk, node_id) if v.networks]  # plain VIFs (plain_vifs.py) carry none
    if not attached:
        return None
    placements = [Placement(v.vif_id, NicKind(v.kind), v.nic_uuid, None, v.reason or "") for v in attached]
    attachments = {v.vif_id: [_attachment(a) for a in v.networks] for v in attached}
    return from_vifs.layout(
        ports_from_records(lk.ports(node_id)), portgroups_from_records(lk.portgroups(node_id)), placements, attachments
    )


def network_data_for(db: Database, node: dict[str, Any]) -> dict[str, Any] | None:
    """network_data.json for the node: its own ``network_data`` field if set, else generated from its VIFs."""
    if node.get("network_data"):
        return dict(node["network_data"])
    layout = NetworkRepo(db).read(lambda lk: layout_for(lk, node["id"]))
    return nd.render(layout) if layout is not None else None


def store_configdrive(task: Task) -> None:
    """Build a dict ``configdrive`` into the image now and keep it in ``instance_info`` (see the docstring)."""
    info = dict(task.node.get("instance_info") or {})
    requested = info.get("configdrive")
    if not isinstance(requested, dict):
        return
    generated = None if requested.get("network_data") is not None else network_data_for(task.ctx.db, task.node)
    drive = builder.from_request(
        requested, node_uuid=task.node["uuid"], node_name=task.node.get("name"), generated_network_data=generated
    )
    info["configdrive"] = drive.encoded
    task.update(instance_info=info)
