"""Which NIC of a node carries each VIF: a pure, deterministic choice.

A *NIC* is a port that is not a member of a portgroup, or a portgroup with at least one member port. Each VIF
request needs one NIC of its own; the NIC carries the request's networks (one network: untagged, as on an access
switch port; several networks: a trunk, each network tagged with its VLAN).

1. **Eligibility.** A NIC already carrying another VIF is taken (a portgroup is taken too when one of its member
   ports carries a VIF). A NIC declaring VLANs in ``extra.segmentation_id`` (an int, a numeric string or a list)
   carries only those VLANs; without it, ``vlan_map`` may declare them for the NIC's switch port
   (``local_link_connection``), switch or physical network (for a bond: the VLANs all its links reach). A NIC
   on a physical network carries only networks of that physical network; a NIC without one may carry any
   network. A fixed ``port_uuid`` narrows the candidates to that NIC.
2. **Preference**, best first: declared VLANs (``segmentation_id`` or ``vlan_map``) matching the VIF's; then a
   physical network match; then portgroups before ports; then PXE-enabled; then enrollment order (the record's
   ``id``), then uuid.
3. **Assignment.** Requests with a fixed NIC go first, the others in the order given. Each request takes its most
   preferred free NIC. Only when none is free may an earlier request move to its next acceptable NIC (an
   augmenting path, as in Kuhn's matching), so every request is placed whenever any placement exists, and an
   earlier VIF keeps its best NIC whenever that is possible.
4. A request that cannot be placed raises ``errors.VifNotPlaceable`` (400) naming, NIC by NIC, why each was
   refused; a VIF that is already attached raises ``errors.VifAlreadyAttached`` (409).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ironworks import errors


class NicKind(StrEnum):
    PORT = "port"
    PORTGROUP = "portgroup"


@dataclass(frozen=True)
class Port:
    """A port as NIC selection sees it (see ``ports_from_records``)."""

    uuid: str
    address: str
    order: int
    pxe_enabled: bool = True
    physical_network: str | None = None
    segmentation_ids: frozenset[int] = frozenset()
    portgroup_uuid: str | None = None
    local_link_connection: Mapping[str, Any] = field(default_factory=dict)
    vif: str | None = None


@dataclass(frozen=True)
class Portgroup:
    uuid: str
    address: str | None
    order: int
    name: str | None = None
    physical_network: str | None = None
    segmentation_ids: frozenset[int] = frozenset()
    vif: str | None = None
    #: bond settings, unused by selection; carried for network_data generation
    mode: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkRef:
    """What placement needs to know of a network: its VLAN (segmentation id) and physical network."""

    name: str
    vlan_id: int | None = None
    physical_network: str | None = None


@dataclass(frozen=True)
class VifRequest:
    vif_id: str
    networks: tuple[NetworkRef, ...]
    #: a port or portgroup uuid the VIF must use
    port_uuid: str | None = None


@dataclass(frozen=True)
class Placement:
    vif_id: str
    kind: NicKind
    uuid: str
    address: str | None
    #: why this NIC was preferred, for logs and the API
    reason: str


@dataclass(frozen=True)
class _Nic:
    kind: NicKind
    uuid: str
    address: str | None
    label: str
    order: int
    pxe: bool
    physnet: str | None
    #: the VLANs the NIC is declared to carry; None when nothing is declared
    vlans: frozenset[int] | None
    vif: str | None
    empty: bool = False
    member_of: str | None = None


def parse_segmentation_ids(extra: Mapping[str, Any] | None) -> frozenset[int]:
    """The VLANs a port/portgroup's ``extra.segmentation_id`` declares (int, numeric string or a list of them)."""
    raw = (extra or {}).get("segmentation_id")
    if raw is None or raw == "":
        return frozenset()
    items = raw if isinstance(raw, list | tuple) else [raw]
    found: set[int] = set()
    for item in items:
        try:
            vlan = int(item)
        except (TypeError, ValueError):
            raise errors.InvalidParameterValue(
                f"extra.segmentation_id must be a VLAN id or a list of them, not {raw!r}"
            ) from None
        if not 1 <= vlan <= 4094:
            raise errors.InvalidParameterValue(f"extra.segmentation_id {vlan} is not a VLAN id (1-4094)")
        found.add(vlan)
    return frozenset(found)


def ports_from_records(records: Iterable[Mapping[str, Any]]) -> list[Port]:
    """Ports from the dict records of db/repos/ports.py (``id`` is the enrollment order)."""
    return [
        Port(
            uuid=r["uuid"],
            address=r["address"],
            order=int(r.get("id") or 0),
            pxe_enabled=bool(r.get("pxe_enabled", True)),
            physical_network=r.get("physical_network"),
            segmentation_ids=parse_segmentation_ids(r.get("extra")),
            portgroup_uuid=r.get("portgroup_uuid"),
            local_link_connection=dict(r.get("local_link_connection") or {}),
            vif=_attached_vif(r),
        )
        for r in records
    ]


def portgroups_from_records(records: Iterable[Mapping[str, Any]]) -> list[Portgroup]:
    return [
        Portgroup(
            uuid=r["uuid"],
            address=r.get("address"),
            order=int(r.get("id") or 0),
            name=r.get("name"),
            physical_network=r.get("physical_network"),
            segmentation_ids=parse_segmentation_ids(r.get("extra")),
            vif=_attached_vif(r),
            mode=r.get("mode"),
            properties=dict(r.get("properties") or {}),
        )
        for r in records
    ]


def _attached_vif(record: Mapping[str, Any]) -> str | None:
    vif = (record.get("internal_info") or {}).get("tenant_vif_port_id") or (record.get("extra") or {}).get(
        "vif_port_id"
    )
    return str(vif) if vif else None


def _mapped_vlans(port: Port, vlan_map: Mapping[str, Iterable[int]]) -> frozenset[int] | None:
    """The VLANs ``vlan_map`` gives this port's switch port, switch or physical network (most specific first)."""
    llc = port.local_link_connection or {}
    keys = []
    if llc.get("switch_id") and llc.get("port_id"):
        keys.append(f"{llc['switch_id']}/{llc['port_id']}".lower())
    keys += [str(llc[k]).lower() for k in ("switch_info", "switch_id") if llc.get(k)]
    if port.physical_network:
        keys.append(port.physical_network)
    lowered = {str(k).lower(): v for k, v in vlan_map.items()}
    for key in keys:
        if key in lowered:
            return frozenset(int(v) for v in lowered[key])
    return None


def _declared(own: frozenset[int], mapped: Sequence[frozenset[int] | None]) -> frozenset[int] | None:
    """Explicit segmentation ids win; else what every link reaches by the mapping (a bond needs all its links).
    None: nothing declared, the NIC may carry any VLAN."""
    if own:
        return own
    found = [m for m in mapped if m is not None]
    if not found or len(found) != len(mapped):
        return None
    return frozenset.intersection(*found)


def _nics(
    ports: Sequence[Port], portgroups: Sequence[Portgroup], vlan_map: Mapping[str, Iterable[int]]
) -> list[_Nic]:
    members: dict[str, list[Port]] = {}
    for p in ports:
        if p.portgroup_uuid:
            members.setdefault(p.portgroup_uuid, []).append(p)
    nics = []
    for pg in portgroups:
        mine = members.get(pg.uuid, [])
        physnets = {p.physical_network for p in mine if p.physical_network}
        member_vif = next((p.vif for p in mine if p.vif), None)
        nics.append(
            _Nic(
                kind=NicKind.PORTGROUP,
                uuid=pg.uuid,
                address=pg.address,
                label=f"portgroup {pg.name or pg.uuid}",
                order=pg.order,
                pxe=any(p.pxe_enabled for p in mine),
                physnet=pg.physical_network or (min(physnets) if physnets else None),
                vlans=_declared(pg.segmentation_ids, [_mapped_vlans(p, vlan_map) for p in mine]),
                vif=pg.vif or member_vif,
                empty=not mine,
            )
        )
    known_groups = {pg.uuid for pg in portgroups}
    for p in ports:
        nics.append(
            _Nic(
                kind=NicKind.PORT,
                uuid=p.uuid,
                address=p.address,
                label=f"port {p.address} ({p.uuid})",
                order=p.order,
                pxe=p.pxe_enabled,
                physnet=p.physical_network,
                vlans=_declared(p.segmentation_ids, [_mapped_vlans(p, vlan_map)]),
                vif=p.vif,
                member_of=p.portgroup_uuid if p.portgroup_uuid in known_groups else None,
            )
        )
    return nics


def _wants(req: VifRequest) -> tuple[frozenset[int], str | None]:
    if not req.networks:
        raise errors.InvalidParameterValue(f"VIF {req.vif_id} names no network")
    physnets = {n.physical_network for n in req.networks if n.physical_network}
    if len(physnets) > 1:
        raise errors.VifNotPlaceable(
            vif=req.vif_id,
            reason=f"its networks are on several physical networks ({', '.join(sorted(physnets))}); one NIC "
            "reaches one physical network",
        )
    vlans = [n.vlan_id for n in req.networks if n.vlan_id is not None]
    if len(vlans) != len(set(vlans)):
        raise errors.InvalidParameterValue(f"VIF {req.vif_id} names one VLAN twice")
    untagged = [n for n in req.networks if n.vlan_id is None]
    if len(untagged) > 1:
        raise errors.InvalidParameterValue(f"VIF {req.vif_id} names more than one network without a VLAN")
    return frozenset(vlans), (physnets.pop() if physnets else None)


def _refusal(nic: _Nic, vlans: frozenset[int], physnet: str | None) -> str | None:
    """Why ``nic`` cannot carry these networks (ignoring other requests), or None when it can."""
    if nic.member_of:
        return f"{nic.label} is a member of portgroup {nic.member_of}"
    if nic.empty:
        return f"{nic.label} has no member ports"
    if nic.vif:
        return f"{nic.label} already carries VIF {nic.vif}"
    if physnet and nic.physnet and nic.physnet != physnet:
        return f"{nic.label} is on physical network {nic.physnet!r}, not {physnet!r}"
    if nic.vlans is not None and not (vlans and vlans <= nic.vlans):
        wanted = ", ".join(str(v) for v in sorted(vlans)) or "untagged traffic"
        if not nic.vlans:
            return f"{nic.label} reaches no VLAN on all its links"
        return f"{nic.label} carries only VLAN {', '.join(str(v) for v in sorted(nic.vlans))}, not {wanted}"
    return None


def _rank(nic: _Nic, vlans: frozenset[int], physnet: str | None) -> tuple[int, int, int, int, int, str]:
    return (
        0 if nic.vlans and vlans else 1,
        0 if physnet and nic.physnet == physnet else 1,
        0 if nic.kind is NicKind.PORTGROUP else 1,
        0 if nic.pxe else 1,
        nic.order,
        nic.uuid,
    )


def _key(nic: _Nic, *, vlans: frozenset[int], physnet: str | None) -> tuple[int, int, int, int, int, str]:
    return _rank(nic, vlans, physnet)


def _reason(nic: _Nic, vlans: frozenset[int], physnet: str | None) -> str:
    rank = _rank(nic, vlans, physnet)
    parts = []
    if rank[0] == 0:
        parts.append(f"segmentation_id matches VLAN {', '.join(str(v) for v in sorted(vlans))}")
    if rank[1] == 0:
        parts.append(f"physical network {physnet!r} matches")
    parts.append("a portgroup" if rank[2] == 0 else "a port")
    if rank[3] == 0:
        parts.append("PXE-enabled")
    parts.append(f"enrollment order {nic.order}")
    return "; ".join(parts)


def choose_nics(
    ports: Sequence[Port],
    portgroups: Sequence[Portgroup],
    requests: Sequence[VifRequest],
    vlan_map: Mapping[str, Iterable[int]] | None = None,
) -> list[Placement]:
    """Place every request on its own NIC (see the module docstring); placements come in request order.

    ``vlan_map`` declares, for NICs without ``extra.segmentation_id``, which VLANs a switch port
    (``"<switch_id>/<port_id>"``), a switch (``switch_info`` or ``switch_id``) or a physical network carries.
    """
    nics = _nics(ports, portgroups, vlan_map or {})
    by_uuid = {n.uuid: n for n in nics}
    seen: set[str] = set()
    for req in requests:
        if req.vif_id in seen:
            raise errors.InvalidParameterValue(f"VIF {req.vif_id} is requested twice")
        seen.add(req.vif_id)
        holder = next((n for n in nics if n.vif == req.vif_id), None)
        if holder is not None:
            raise errors.VifAlreadyAttached(vif=req.vif_id, object_type=holder.kind.value, object_uuid=holder.uuid)

    wants = {r.vif_id: _wants(r) for r in requests}
    candidates: dict[str, list[_Nic]] = {}
    for req in requests:
        vlans, physnet = wants[req.vif_id]
        pool = nics
        if req.port_uuid:
            fixed = by_uuid.get(req.port_uuid.lower())
            if fixed is None:
                raise errors.VifNotPlaceable(
                    vif=req.vif_id, reason=f"{req.port_uuid} is not a port or portgroup of this node"
                )
            refusal = _refusal(fixed, vlans, physnet)
            if refusal:
                raise errors.VifNotPlaceable(vif=req.vif_id, reason=refusal)
            pool = [fixed]
        ok = [n for n in pool if _refusal(n, vlans, physnet) is None]
        candidates[req.vif_id] = sorted(ok, key=functools.partial(_key, vlans=vlans, physnet=physnet))

    owner: dict[str, str] = {}  # nic uuid -> vif id
    placed: dict[str, _Nic] = {}  # vif id -> nic
    order = [r for r in requests if r.port_uuid] + [r for r in requests if not r.port_uuid]

    def assign(vif_id: str, visited: set[str]) -> bool:
        for nic in candidates[vif_id]:
            if nic.uuid not in owner:
                owner[nic.uuid] = vif_id
                placed[vif_id] = nic
                return True
        for nic in candidates[vif_id]:
            if nic.uuid in visited:
                continue
            visited.add(nic.uuid)
            other = owner[nic.uuid]
            owner[nic.uuid] = vif_id  # hold it while the other request looks elsewhere
            if assign(other, visited):
                owner[nic.uuid] = vif_id
                placed[vif_id] = nic
                return True
            owner[nic.uuid] = other
        return False

    for req in order:
        if not assign(req.vif_id, set()):
            raise errors.VifNotPlaceable(vif=req.vif_id, reason=_explain(req, nics, wants[req.vif_id], owner))

    result = []
    for req in requests:
        nic = placed[req.vif_id]
        vlans, physnet = wants[req.vif_id]
        result.append(Placement(req.vif_id, nic.kind, nic.uuid, nic.address, _reason(nic, vlans, physnet)))
    return result


def _explain(
    req: VifRequest, nics: Sequence[_Nic], want: tuple[frozenset[int], str | None], owner: Mapping[str, str]
) -> str:
    vlans, physnet = want
    pool = [n for n in nics if n.uuid == (req.port_uuid or "").lower()] if req.port_uuid else nics
    why = []
    for nic in pool:
        refusal = _refusal(nic, vlans, physnet)
        if refusal is None and nic.uuid in owner:
            refusal = f"{nic.label} is needed for VIF {owner[nic.uuid]}"
        if refusal:
            why.append(refusal)
    if not why:
        return "the node has no ports"
    return "no free port or portgroup can carry it: " + "; ".join(why)
