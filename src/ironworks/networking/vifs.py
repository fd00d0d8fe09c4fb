"""VIF attach, list and detach (``/v1/nodes/{node}/vifs``), as Ironic's API and clients expect.

A VIF attaches a node to one network (an access port) or to several (a trunk: each network tagged with its VLAN).
The POST body is Ironic's ``{"id": ...}`` plus optional fields:

* ``{"id": "web"}``: ``id`` names a network (name or uuid): a VIF on it is created, with a new uuid as its id;
* ``{"id": "vif-1", "network": "web", "fixed_ip": "10.100.0.10"}``: a VIF with the caller's id;
* ``{"id": "vif-2", "networks": ["web", {"network": "db", "fixed_ip": "10.200.0.10"}]}``: a trunk VIF;
* ``port_uuid`` / ``portgroup_uuid`` (what ``openstack baremetal node vif attach --port-uuid`` sends) or ``mac``
  pin the VIF to one NIC.

One write transaction, so a refused request changes nothing:

1. The node exists and is not locked (409); the VIF id is new (409); every network exists, may be used by the
   caller (its project's or shared: ``scope``; any other network is answered exactly like a missing one, 400
   "Network X could not be found.") and has the ``tenant`` role (400).
2. Each network gives the VIF an address: the ``fixed_ip`` asked for (inside the CIDR, free: else 400/409), or
   the lowest free address of its allocation pool, or none (DHCP) when it has no pool. The unique (network,
   address) row makes a double allocation impossible; detaching releases the address.
3. The NIC is chosen by ``nic_selection.choose_nics`` among the node's ports and portgroups, the NICs already
   carrying a VIF excluded (two VIFs never share a NIC); unplaceable: 400 naming each NIC's reason.
4. The VIF id is written to the chosen port's or portgroup's ``internal_info.tenant_vif_port_id``, as Ironic
   does, so Ironic-era tools that read it keep working.

DELETE takes the VIF id or, when exactly one of the node's VIFs uses it, a network name or uuid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.db.repos.networks import NetLookup, NetworkNotFound, visible
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_mac
from ironworks.networking import addressing, live, plain_vifs, trait_networking
from ironworks.networking.networks import repo
from ironworks.networking.nic_selection import (
    NetworkRef,
    VifRequest,
    choose_nics,
    portgroups_from_records,
    ports_from_records,
)
from ironworks.resources import microversion as mv

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

_BODY_KEYS = frozenset({"id", "network", "networks", "fixed_ip", "mac", "port_uuid", "portgroup_uuid"})


@dataclass(frozen=True)
class AttachedNetwork:
    network: Record
    ip_address: str | None


@dataclass(frozen=True)
class AttachedVif:
    vif_id: str
    kind: str
    nic_uuid: str
    reason: str | None
    networks: tuple[AttachedNetwork, ...]


def ref(network: Record) -> NetworkRef:
    return NetworkRef(network["name"], vlan_id=network["vlan_id"], physical_network=network["physical_network"])


def usable(lk: NetLookup, ident: str, scope: str | None, *, lock: bool = False) -> Record | None:
    """The network ``ident`` if the caller confined to ``scope`` (None: an admin) may use it, else None: a
    foreign network is exactly as absent as a missing one."""
    network = lk.network(ident, lock=lock)
    return network if network is not None and visible(network, scope) else None


def _wanted(body: dict[str, Any], lk: NetLookup, scope: str | None) -> tuple[str, list[tuple[Record, Any]]]:
    """The VIF id and its (network, fixed_ip) list from the request body."""
    vif_id = body.get("id")
    if not isinstance(vif_id, str) or not 1 <= len(vif_id) <= 255:
        raise errors.Invalid("'id' is a required property: the VIF id, or a network name or uuid")
    specs: list[Any]
    if "networks" in body:
        if "network" in body or "fixed_ip" in body:
            raise errors.Invalid("Give either 'networks' or 'network' (with 'fixed_ip'), not both.")
        specs = body["networks"]
        if not isinstance(specs, list) or not specs:
            raise errors.Invalid("'networks' must be a non-empty list of network names or objects.")
    elif "network" in body:
        specs = [{"network": body["network"], "fixed_ip": body.get("fixed_ip")}]
    else:
        specs = [{"network": vif_id, "fixed_ip": body.get("fixed_ip")}]
        if usable(lk, vif_id, scope) is None:
            raise errors.InvalidParameterValue(
                f"VIF {vif_id} names no network: 'id' is not a network name or uuid and neither 'network' nor "
                "'networks' was given."
            )
        vif_id = new_uuid()
    wanted = []
    for spec in specs:
        spec = {"network": spec} if isinstance(spec, str) else spec
        if (
            not isinstance(spec, dict)
            or set(spec) - {"network", "fixed_ip"}
            or not isinstance(spec.get("network"), str)
        ):
            raise errors.Invalid(f"Invalid network entry {spec!r}: use a name or {{'network': …, 'fixed_ip': …}}.")
        network = usable(lk, spec["network"], scope, lock=True)
        if network is None:
            raise errors.InvalidParameterValue(f"Network {spec['network']} could not be found.")
        if "tenant" not in (network["roles"] or []):
            raise errors.InvalidParameterValue(
                f"Network {network['name']} does not have the 'tenant' role; VIFs attach to tenant networks only."
            )
        wanted.append((network, spec.get("fixed_ip")))
    if len({n["id"] for n, _ in wanted}) != len(wanted):
        raise errors.InvalidParameterValue(f"VIF {vif_id} names one network twice.")
    return vif_id, wanted


def _pinned_nic(body: dict[str, Any], ports: list[Record], groups: list[Record]) -> str | None:
    pins = [k for k in ("port_uuid", "portgroup_uuid", "mac") if body.get(k) is not None]
    if len(pins) > 1:
        raise errors.Invalid(f"Give only one of {', '.join(pins)}.")
    if not pins:
        return None
    value = body[pins[0]]
    if not isinstance(value, str):
        raise errors.Invalid(f"{pins[0]} must be a string.")
    if pins[0] == "mac":
        mac = normalize_mac(value)
        for rec in groups + ports:
            if rec.get("address") == mac and not rec.get("portgroup_uuid"):
                return str(rec["uuid"])
        raise errors.InvalidParameterValue(f"No port or portgroup of this node has MAC address {mac}.")
    if not is_uuid_like(value):
        raise errors.InvalidUUID(uuid=value)
    return value.lower()


def attach(
    svc: Services, node_ident: str, body: dict[str, Any], scope: str | None = None, version: int = mv.MAX_MINOR
) -> AttachedVif:
    """Attach a VIF (see the module docstring); on an active node, live (``live.py``). ``scope``: the caller's
    project (None: an admin, any network). ``version``: the request's API version (1.67 rule below)."""
    unknown = sorted(set(body) - _BODY_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_BODY_KEYS))
        raise errors.Invalid(f"Unknown VIF attribute(s): {', '.join(unknown)}; allowed: {allowed}")
    if "port_uuid" in body and "portgroup_uuid" in body:
        if version >= mv.VIF_ATTACH_PORT:  # Ironic's API check, from 1.67 on
            raise errors.Invalid("Cannot specify both port_uuid and portgroup_uuid")
        # below 1.67 Ironic's conductor takes port_uuid and ignores portgroup_uuid
        body = {k: v for k, v in body.items() if k != "portgroup_uuid"}
    with live.held(svc, repo(svc).read(lambda lk: lk.node(node_ident))) as task:
        result = _attach(svc, node_ident, body, task.ctx.name if task else None, scope)
        if task is not None:
            try:
                live.apply(task)
            except errors.IronworksError:
                _detach(svc, node_ident, result.vif_id, task.ctx.name)
                raise
    return result


def _attach(svc: Services, node_ident: str, body: dict[str, Any], holder: str | None, scope: str | None) -> AttachedVif:
    def work(lk: NetLookup) -> AttachedVif:
        node = lk.node(node_ident, lock=True)
        live.check_lock(node, holder)
        if plain_vifs.is_plain(body, node, lambda ident: usable(lk, ident, scope) is not None):
            # noop/flat: a plain VIF id, recorded on a free NIC as Ironic does (plain_vifs.py)
            pinned_nic = _pinned_nic(body, lk.ports(node["id"]), lk.portgroups(node["id"]))
            kind, nic = plain_vifs.attach(lk, node, body["id"], pinned_nic)
            return AttachedVif(body["id"], kind, nic, None, ())
        vif_id, wanted = _wanted(body, lk, scope)
        if lk.vif_exists(vif_id):
            raise errors.VifAlreadyAttached(vif=vif_id, object_type="node", object_uuid="(another VIF)")
        port_records, group_records = lk.ports(node["id"]), lk.portgroups(node["id"])
        pinned = _pinned_nic(body, port_records, group_records)
        rows: list[tuple[int, str | None]] = []
        attached = []
        for network, fixed in wanted:
            used = lk.used_ips(network["id"])
            ip = (
                addressing.check_fixed(network, fixed, used)
                if fixed is not None
                else addressing.allocate(network, used)
            )
            rows.append((network["id"], ip))
            attached.append(AttachedNetwork(network, ip))
        request = VifRequest(vif_id, tuple(ref(n) for n, _ in wanted), port_uuid=pinned)
        taken = {v["attached_uuid"] for v in lk.vifs(node["id"])}
        placement: Any = trait_networking.place(svc.settings, lk, node, vif_id, wanted[0][0], taken)
        if placement is None:
            placement = choose_nics(
                ports_from_records(port_records), portgroups_from_records(group_records), [request]
            )[0]
        kind = placement.kind if isinstance(placement, trait_networking.Placement) else placement.kind.value
        lk.insert_vif(
            {
                "vif_id": vif_id,
                "node_id": node["id"],
                "port_uuid": pinned,
                "mac": body.get("mac"),
                "attached_kind": kind,
                "attached_uuid": placement.uuid,
                "reason": placement.reason,
            },
            rows,
        )
        lk.set_nic_vif(kind, placement.uuid, vif_id)
        LOG.info(
            "Attached VIF %s of node %s to %s %s (%s)", vif_id, node["uuid"], kind, placement.uuid, placement.reason
        )
        return AttachedVif(vif_id, kind, placement.uuid, placement.reason, tuple(attached))

    result: AttachedVif = repo(svc).transact(work)
    return result


def _views(lk: NetLookup, node_id: int) -> list[AttachedVif]:
    vifs = lk.vifs(node_id)
    nets = lk.networks_by_id(sorted({ln["network_id"] for v in vifs for ln in v["networks"]}))
    return [
        AttachedVif(
            v["vif_id"],
            v["attached_kind"],
            v["attached_uuid"],
            v["reason"],
            tuple(AttachedNetwork(nets[ln["network_id"]], ln["ip_address"]) for ln in v["networks"]),
        )
        for v in vifs
    ]


def attached(lk: NetLookup, node_id: int) -> list[AttachedVif]:
    """The node's VIFs with their networks and addresses, in attachment order."""
    return _views(lk, node_id)


def list_vifs(svc: Services, node_ident: str) -> list[AttachedVif]:
    def work(lk: NetLookup) -> list[AttachedVif]:
        return _views(lk, lk.node(node_ident)["id"])

    found: list[AttachedVif] = repo(svc).read(work)
    return found


def detach(svc: Services, node_ident: str, vif_ident: str, scope: str | None = None) -> None:
    """Detach a VIF and release its addresses; on an active node, live (``live.py``)."""
    if len(vif_ident) > 255:  # no VIF id or network name is longer; Ironic validates it as a UUID or name (400)
        raise errors.InvalidUuidOrName(name=vif_ident[:64] + "…")
    with live.held(svc, repo(svc).read(lambda lk: lk.node(node_ident))) as task:
        undo = _detach(svc, node_ident, vif_ident, task.ctx.name if task else None, scope)
        if task is not None:
            try:
                live.apply(task)
            except errors.IronworksError:
                repo(svc).transact(undo)
                raise


def _detach(
    svc: Services, node_ident: str, vif_ident: str, holder: str | None, scope: str | None = None
) -> Callable[[NetLookup], None]:
    """Delete the VIF; returns the work that puts it back exactly as it was."""

    def work(lk: NetLookup) -> Callable[[NetLookup], None]:
        node = lk.node(node_ident, lock=True)
        live.check_lock(node, holder)
        rows = lk.vifs(node["id"])
        match = [v for v in rows if v["vif_id"] == vif_ident]
        if not match:
            network = usable(lk, vif_ident, scope)
            if network is not None:
                match = [v for v in rows if any(ln["network_id"] == network["id"] for ln in v["networks"])]
                if len(match) > 1:
                    raise errors.Conflict(
                        f"Several VIFs of node {node['uuid']} use network {vif_ident}: "
                        f"detach one by its id ({', '.join(v['vif_id'] for v in match)})."
                    )
        if not match:
            if node.get("network_interface") == "noop":  # Ironic's noop interface detaches anything (204)
                return lambda _lk: None
            raise errors.VifNotAttached(vif=vif_ident, node=node["uuid"])  # 400, in Ironic's words
        vif = match[0]
        lk.delete_vif(vif["id"])
        lk.set_nic_vif(vif["attached_kind"], vif["attached_uuid"], None)
        restore_group = trait_networking.teardown(lk, vif["attached_kind"], vif["attached_uuid"])
        LOG.info("Detached VIF %s from node %s", vif["vif_id"], node["uuid"])
        row = {k: vif[k] for k in ("vif_id", "node_id", "port_uuid", "mac", "attached_kind", "attached_uuid", "reason")}
        links = [(ln["network_id"], ln["ip_address"]) for ln in vif["networks"]]

        def undo(lk2: NetLookup) -> None:
            restore_group(lk2)
            lk2.insert_vif(row, links)
            lk2.set_nic_vif(row["attached_kind"], row["attached_uuid"], row["vif_id"])

        return undo

    undo: Callable[[NetLookup], None] = repo(svc).transact(work)
    return undo


__all__ = ["AttachedNetwork", "AttachedVif", "NetworkNotFound", "attach", "attached", "detach", "list_vifs"]
