"""Port inventory operations: create, update (JSON Patch) and delete with Ironic's rules.

Every rule is checked inside the write transaction that makes the change (see db/repos/ports.py), so a refused
request leaves the database as it was:

1. the body or patch is validated (shape, types, MAC, UUIDs, microversion gates);
2. the node (and the portgroup, if any) must exist: 400 when named in the body, as Ironic answers;
3. the node must not be locked; an address change is refused on an active or instance-bearing node that is
   not in maintenance; connectivity fields (portgroup, pxe_enabled, local_link_connection,
   physical_network) and the node itself change only in enroll/inspecting/inspect wait/manageable or in
   maintenance (409);
4. a portgroup without standalone-port support takes no pxe_enabled member; member ports share one
   physical_network; a MAC belongs to one port (409).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.db.repos.base import Record
from ironworks.db.repos.ports import Lookup
from ironworks.identifiers import is_uuid_like, new_uuid
from ironworks.resources import microversion as mv
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import ports as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: provision states in which a port's connectivity may change without maintenance (Ironic's list)
CONNECTIVITY_UPDATE_STATES = (states.ENROLL, states.INSPECTING, states.INSPECTWAIT, states.MANAGEABLE)

_GATED_PATCH_FIELDS = (
    "pxe_enabled",
    "local_link_connection",
    "portgroup_uuid",
    "physical_network",
    "is_smartnic",
)


def check_uuid(ident: str) -> str:
    if not is_uuid_like(ident):
        raise errors.InvalidUUID(uuid=ident)
    return ident.lower()


def find(svc: Services, ident: str, version: int = 1) -> Record:
    """A port by UUID, or from API 1.88 on also by name (as Ironic; DELETE stays UUID-only there)."""
    if not is_uuid_like(ident) and version >= mv.PORT_NAME:
        named = svc.ports.list(filters={"name": ident}, limit=1)
        if not named:
            raise errors.PortNotFound(port=ident)
        return named[0]
    return svc.ports.get(check_uuid(ident))


def node_for_body(lk: Lookup, ident: str, *, lock: bool = False) -> Record:
    """The node a request body names; a missing one is the request's fault (400), as in Ironic."""
    try:
        return lk.node(ident, lock=lock)
    except errors.NodeNotFound:
        raise errors.InvalidParameterValue(f"Node {ident} could not be found.") from None


def _portgroup_for_body(lk: Lookup, ident: str) -> Record:
    try:
        return lk.portgroup(ident)
    except errors.PortgroupNotFound:
        raise errors.InvalidParameterValue(f"Portgroup {ident} could not be found.") from None


def check_not_locked(node: Record) -> None:
    if node["reservation"]:
        raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])


def _vif(port: Record) -> str | None:
    return (port.get("internal_info") or {}).get("tenant_vif_port_id") or (port.get("extra") or {}).get("vif_port_id")


def _check_physnet(lk: Lookup, port_id: int | None, pg: Record, physnet: str | None) -> None:
    members = {p["physical_network"] for p in lk.ports_in_portgroup(pg["id"]) if p["id"] != port_id}
    if not members:
        if pg.get("physical_network") is None:
            return
        members = {pg["physical_network"]}
    pg_physnet = members.pop()
    if physnet != pg_physnet:
        raise errors.Conflict(
            f"Port with physical network {physnet} cannot become a member of port group {pg['uuid']} "
            "which has "
            f"ports in physical network {pg_physnet}."
        )


def _check_unique_mac(lk: Lookup, address: str, port_id: int | None) -> None:
    other = lk.port_by_address(address)
    if other is not None and other["id"] != port_id:
        raise errors.MACAlreadyExists(mac=address)


def _check_unique_name(lk: Lookup, name: str | None, port: Record | None, new_uuid: str = "") -> None:
    """Port names are unique (Ironic's ``uniq_ports0name``). Ironic words a clash on create as a clash of the
    *new* port's UUID; the other port's UUID is never named (it may belong to another project)."""
    if name is None:
        return
    other = lk.port_by_name(name)
    if other is not None and (port is None or other["id"] != port["id"]):
        if port is None:
            raise errors.PortAlreadyExists(uuid=new_uuid)
        raise errors.PortDuplicateName(name=name)


def create(svc: Services, body: dict[str, Any], version: int) -> Record:
    if isinstance(body, dict):
        schema.check_node_keys(body)
    schema.reject_newer_fields(body, version)
    model = parse_model(schema.PortCreate, body)
    values = schema.normalize(model, version)

    def build(lk: Lookup) -> dict[str, Any]:
        node = node_for_body(lk, values["node_uuid"] or values["node_ident"])
        pg = None
        if values["portgroup_uuid"] is not None:
            pg = _portgroup_for_body(lk, values["portgroup_uuid"])
            if pg["node_id"] != node["id"]:
                raise errors.Invalid("Port can not be added to a portgroup belonging to a different node.")
            # Ironic refuses only an explicit pxe_enabled=true here
            if model.pxe_enabled is not None and values["pxe_enabled"] and not pg["standalone_ports_supported"]:
                raise errors.Conflict(
                    f"Port group {pg['uuid']} doesn't support standalone ports. This port cannot be "
                    "created as a "
                    "member of that portgroup as the port's 'pxe_enabled' field was set to True."
                )
            _check_physnet(lk, None, pg, values["physical_network"])
        _check_unique_mac(lk, values["address"], None)
        port_uuid = values["uuid"] or new_uuid()
        _check_unique_name(lk, values["name"], None, port_uuid)
        return {
            "uuid": port_uuid,
            "address": values["address"],
            "node_id": node["id"],
            "portgroup_id": pg["id"] if pg else None,
            "local_link_connection": values["local_link_connection"],
            "pxe_enabled": values["pxe_enabled"],
            "physical_network": values["physical_network"],
            "is_smartnic": values["is_smartnic"],
            "extra": values["extra"],
            "internal_info": {},
            "name": values["name"],  # API 1.88
            "description": values["description"],  # API 1.97
            "vendor": values["vendor"],  # API 1.100
            "category": values["category"],  # API 1.101
            "available_for_dynamic_portgroup": values["available_for_dynamic_portgroup"],  # API 1.111
        }

    port = svc.ports.create(build)
    LOG.info("Created port %s (%s) on node %s", port["uuid"], port["address"], port["node_uuid"])
    return port


def _check_patch_versions(ops: list[dict[str, Any]], version: int) -> None:
    touched = {op["segments"][0] for op in ops}
    schema.reject_newer_fields(touched & set(_GATED_PATCH_FIELDS), version)
    for op in ops:
        if op["segments"][:2] == ["local_link_connection", "network_type"] and version < mv.NETWORK_TYPE:
            raise errors.NotAcceptable(
                f"local_link_connection/network_type requires API version 1.{mv.NETWORK_TYPE} or newer."
            )


def first_op_touches(ops: list[dict[str, Any]], field: str) -> bool:
    """Ironic's ``is_path_updated``: it looks at the first operation of the patch only (an upstream quirk that
    decides when the portgroup physical_network rules of API 1.102 apply; matched here)."""
    return bool(ops) and ops[0]["segments"][0] == field


def update(svc: Services, ident: str, patch: Any, version: int) -> Record:
    uuid = check_uuid(ident)
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL, escapes=version >= mv.PATCH_SPECIAL_CHARS)
    _check_patch_versions(ops, version)
    physnet_patched = first_op_touches(ops, "physical_network")

    def mutate(port: Record, lk: Lookup) -> dict[str, Any]:
        node = lk.node_by_id(port["node_id"], lock=True)
        before = {f: port[f] for f in schema.PATCHABLE}
        after = jsonpatch.apply_patch(before, ops)
        if physnet_patched and port["portgroup_id"] is not None and version >= mv.PORTGROUP_PHYSICAL_NETWORK:
            raise errors.Invalid("physical_network cannot be changed while the port belongs to a portgroup.")
        changed = set(jsonpatch.changed_fields(before, after))
        if not changed:
            return {}
        doc = {k: v for k, v in after.items() if v is not None}
        if "local_link_connection" not in changed:
            doc.pop("local_link_connection", None)  # validated when it was set, possibly at a newer version
        values = schema.normalize(parse_model(schema.PortCreate, doc), version)
        if "local_link_connection" not in changed:
            values["local_link_connection"] = port["local_link_connection"]
        cols: dict[str, Any] = {}
        for field in (
            "address",
            "extra",
            "local_link_connection",
            "pxe_enabled",
            "physical_network",
            "is_smartnic",
            "name",  # not version-checked on PATCH, as Ironic (nor the four below)
            "description",
            "vendor",
            "category",
            "available_for_dynamic_portgroup",
        ):
            if values[field] != port[field]:
                cols[field] = values[field]
        new_node = node
        if values["node_uuid"] != port["node_uuid"]:
            new_node = node_for_body(lk, values["node_uuid"], lock=True)
            cols["node_id"] = new_node["id"]
        pg = None
        if values["portgroup_uuid"] is not None:
            pg = (
                _portgroup_for_body(lk, values["portgroup_uuid"])
                if "portgroup_uuid" in changed
                else lk.portgroup_by_id(port["portgroup_id"])
            )
            if pg["node_id"] != new_node["id"]:
                raise errors.Invalid("Port can not be added to a portgroup belonging to a different node.")
        if (pg["id"] if pg else None) != port["portgroup_id"]:
            cols["portgroup_id"] = pg["id"] if pg else None
        if not cols:
            return {}
        _check_node_rules(port, node, new_node, cols, version)
        if pg is not None and {"pxe_enabled", "portgroup_id"} & set(cols) and not pg["standalone_ports_supported"]:
            reasons = []
            if values["pxe_enabled"]:
                reasons.append("'pxe_enabled' was set to True")
            if _vif(port):
                reasons.append(f"VIF {_vif(port)} is attached to the port")
            if reasons:
                raise errors.Conflict(
                    f"Port group {pg['uuid']} doesn't support standalone ports. This port "
                    f"{port['uuid']} cannot be "
                    f"a member of that port group because of: {', '.join(reasons)}"
                )
        if pg is not None and {"portgroup_id", "physical_network"} & set(cols):
            _check_physnet(lk, port["id"], pg, values["physical_network"])
        if "address" in cols:
            _check_unique_mac(lk, cols["address"], port["id"])
        if "name" in cols:
            _check_unique_name(lk, cols["name"], port)
        return cols

    return svc.ports.update(uuid, mutate)


def _check_node_rules(port: Record, node: Record, new_node: Record, cols: dict[str, Any], version: int) -> None:
    check_not_locked(node)
    check_not_locked(new_node)
    if node["provision_state"] == states.INSPECTING and version >= mv.INSPECT_WAIT:
        raise errors.Conflict(
            f'Cannot update port "{port["uuid"]}" on "{node["uuid"]}" while it is in state "{states.INSPECTING}".'
        )
    if (
        "address" in cols
        and (node["provision_state"] == states.ACTIVE or node["instance_uuid"])
        and not node["maintenance"]
    ):
        raise errors.InvalidState(
            f"Cannot update hardware address for port {port['uuid']} as node {node['uuid']} is active or has "
            "instance UUID assigned"
        )
    guarded = set(schema.CONNECTIVITY) | {"node_id"}
    if guarded & set(cols):
        for n in {node["id"]: node, new_node["id"]: new_node}.values():
            if n["provision_state"] not in CONNECTIVITY_UPDATE_STATES and not n["maintenance"]:
                raise errors.InvalidState(
                    f"Port {port['uuid']} can not have any connectivity attributes "
                    f"({', '.join(sorted(guarded))}) updated unless node {n['uuid']} is in a "
                    f"{', '.join(CONNECTIVITY_UPDATE_STATES)} state or in maintenance mode. "
                    f"The current state is "
                    f"{n['provision_state']}."
                )


def delete(svc: Services, ident: str) -> None:
    uuid = check_uuid(ident)

    def check(port: Record, lk: Lookup) -> None:
        node = lk.node_by_id(port["node_id"], lock=True)
        check_not_locked(node)
        vif = _vif(port)
        if vif and not node["maintenance"]:
            raise errors.InvalidState(f"Cannot delete the port {port['uuid']} as it is bound to VIF {vif} for use.")

    svc.ports.delete(uuid, check)
    LOG.info("Deleted port %s", uuid)
