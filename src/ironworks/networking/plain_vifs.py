"""VIFs Ironworks does not place on its own networks: a plain VIF id with ``network_interface`` noop or flat.

Ironic's ``flat`` interface (and the Neutron-backed ones) records a VIF id, usually a Neutron port uuid, on a free
port or portgroup of the node (``internal_info.tenant_vif_port_id``), and ``vif list`` shows it. Ironworks does the
same for ``noop`` and ``flat`` nodes when the id names none of its networks and no ``network``/``networks`` is
given: nothing is plumbed or addressed, the id is only recorded where Ironic-era tools read it. (Ironic's own
``noop`` interface records nothing; recording keeps ``vif list`` truthful for clients that attach and then list.)

A free NIC is chosen as Ironic orders them: portgroups before standalone ports, PXE-enabled ports first, then
enrollment order; a ``port_uuid``/``portgroup_uuid`` (or ``mac``) in the body restricts the choice to that NIC.
None free: 400 ``NoFreePhysicalPorts``, in Ironic's words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.db.repos.networks import NetLookup
from ironworks.networking.nic_selection import portgroups_from_records, ports_from_records

LOG = logging.getLogger(__name__)

#: the node network interfaces whose VIFs may be plain ids
PLAIN_INTERFACES = frozenset({"noop", "flat"})


class NoFreePhysicalPorts(errors.Invalid):
    template = "Unable to attach VIF %(vif)s, not enough free physical ports."


def is_plain(body: dict[str, Any], node: Record, names_network: Callable[[str], bool]) -> bool:
    """A plain VIF: a noop/flat node, an id that names no (usable) network, and no network(s) asked for."""
    vif_id = body.get("id")
    return (
        node.get("network_interface") in PLAIN_INTERFACES
        and isinstance(vif_id, str)
        and 1 <= len(vif_id) <= 255
        and "network" not in body
        and "networks" not in body
        and "fixed_ip" not in body
        and not names_network(vif_id)
    )


def free_nic(ports: list[Record], groups: list[Record], vif_id: str, pinned: str | None) -> tuple[str, str]:
    """(kind, uuid) of the NIC the plain VIF goes on (see the module docstring)."""
    members = {p["portgroup_uuid"] for p in ports if p.get("portgroup_uuid")}
    candidates: list[tuple[tuple[int, int, int], str, str]] = []
    for g in portgroups_from_records(groups):
        if g.vif is None and g.uuid in members:
            candidates.append(((0, 0, g.order), "portgroup", g.uuid))
    for p in ports_from_records(ports):
        if p.vif is None and p.portgroup_uuid is None:
            candidates.append(((1, 0 if p.pxe_enabled else 1, p.order), "port", p.uuid))
    if pinned is not None:
        candidates = [c for c in candidates if c[2] == pinned]
    if not candidates:
        raise NoFreePhysicalPorts(vif=vif_id)
    _, kind, uuid = min(candidates)
    return kind, uuid


def attach(lk: NetLookup, node: Record, vif_id: str, pinned: str | None) -> tuple[str, str]:
    """Record the plain VIF on a free NIC in the caller's transaction; returns (kind, uuid)."""
    if lk.vif_exists(vif_id):
        raise errors.VifAlreadyAttached(vif=vif_id, object_type="node", object_uuid=node["uuid"])
    kind, uuid = free_nic(lk.ports(node["id"]), lk.portgroups(node["id"]), vif_id, pinned)
    reason = f"plain VIF on a free {kind} (network_interface {node.get('network_interface')})"
    lk.insert_vif({"vif_id": vif_id, "node_id": node["id"], "port_uuid": pinned, "mac": None,
                   "attached_kind": kind, "attached_uuid": uuid, "reason": reason}, [])
    lk.set_nic_vif(kind, uuid, vif_id)
    LOG.info("Recorded plain VIF %s of node %s on %s %s", vif_id, node["uuid"], kind, uuid)
    return kind, uuid
