"""Portgroup inventory operations: create, update (JSON Patch) and delete with Ironic's rules.

Rules are checked inside the write transaction that makes the change, so a refused request changes nothing:

1. the body or patch is validated (logical name, MAC, bond mode, microversion gates; ``mode`` is mandatory);
2. the node must exist (400 when named in the body) and not be locked (409);
3. moving a portgroup to another node needs the node in enroll/inspecting/inspect wait/manageable or in
   maintenance, and an empty portgroup (PortgroupNotEmpty);
4. standalone_ports_supported cannot become false while a member port is pxe_enabled or has a VIF (409);
5. names and MAC addresses are unique (409); a portgroup with ports cannot be deleted (PortgroupNotEmpty).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.db.repos.base import Record
from ironworks.db.repos.ports import Lookup
from ironworks.identifiers import is_uuid_like, is_valid_logical_name, new_uuid
from ironworks.inventory.ports import (
    CONNECTIVITY_UPDATE_STATES,
    check_not_locked,
    first_op_touches,
    node_for_body,
)
from ironworks.resources import microversion as mv
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import portgroups as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)


def check_ident(ident: str) -> str:
    if is_uuid_like(ident):
        return ident.lower()
    if not is_valid_logical_name(ident):
        raise errors.InvalidUuidOrName(name=ident)
    return ident


def find(svc: Services, ident: str) -> Record:
    return svc.portgroups.get(check_ident(ident))


def default_mode(svc: Services) -> str:
    return svc.settings.default_portgroup_mode


def _check_unique(lk: Lookup, values: dict[str, Any], pg_id: int | None) -> None:
    if values.get("name") is not None:
        other = lk.portgroup_by("name", values["name"])
        if other is not None and other["id"] != pg_id:
            raise errors.PortgroupDuplicateName(name=values["name"])
    if values.get("address") is not None:
        other = lk.portgroup_by("address", values["address"])
        if other is not None and other["id"] != pg_id:
            raise errors.PortgroupMACAlreadyExists(mac=values["address"])


def create(svc: Services, body: dict[str, Any], version: int) -> Record:
    schema.reject_newer_fields(body, version)
    model = parse_model(schema.PortgroupCreate, body)
    values = schema.normalize(model, default_mode(svc))

    def build(lk: Lookup) -> dict[str, Any]:
        node = node_for_body(lk, values["node_uuid"])
        _check_unique(lk, values, None)
        return {
            "uuid": values["uuid"] or new_uuid(),
            "name": values["name"],
            "node_id": node["id"],
            "address": values["address"],
            "mode": values["mode"],
            "properties": values["properties"],
            "standalone_ports_supported": values["standalone_ports_supported"],
            "physical_network": values["physical_network"],
            "category": values["category"],
            "extra": values["extra"],
            "internal_info": {},
        }

    pg = svc.portgroups.create(build)
    LOG.info("Created portgroup %s (%s) on node %s", pg["uuid"], pg["name"], pg["node_uuid"])
    return pg


def update(svc: Services, ident: str, patch: Any, version: int) -> Record:
    ident = check_ident(ident)
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL, escapes=version >= mv.PATCH_SPECIAL_CHARS)
    # Ironic gives a patched physical_network to the member ports when the patch's first operation sets it
    physnet_patched = first_op_touches(ops, "physical_network")
    for op in ops:
        field = op["segments"][0]
        since = mv.PORTGROUP_FIELDS_REFUSED.get(field) if field in ("mode", "properties") else None
        if since is not None and version < since:
            raise errors.NotAcceptable(f"Patching '{field}' requires API version 1.{since} or newer.")
        if field == "mode" and op["op"] == "remove" and len(op["segments"]) == 1:
            raise errors.Invalid("'mode' is a mandatory attribute and can not be removed")

    def mutate(pg: Record, lk: Lookup) -> dict[str, Any]:
        node = lk.node_by_id(pg["node_id"], lock=True)
        before = {f: pg[f] for f in schema.PATCHABLE}
        after = jsonpatch.apply_patch(before, ops)
        changed = set(jsonpatch.changed_fields(before, after))
        if not changed and not physnet_patched:
            return {}
        doc = {k: v for k, v in after.items() if v is not None}
        values = schema.normalize(parse_model(schema.PortgroupCreate, doc), default_mode(svc))
        cols = {
            f: values[f]
            for f in (
                "name",
                "address",
                "mode",
                "properties",
                "standalone_ports_supported",
                "physical_network",
                "category",
                "extra",
            )
            if values[f] != pg[f]
        }
        check_not_locked(node)
        if node["provision_state"] == states.INSPECTING and version >= mv.INSPECT_WAIT:
            raise errors.Conflict(
                f'Cannot update portgroup "{pg["uuid"]}" on node "{node["uuid"]}" while it is '
                f'in state "{states.INSPECTING}".'
            )
        members = lk.ports_in_portgroup(pg["id"])
        if values["node_uuid"] != pg["node_uuid"]:
            new_node = node_for_body(lk, values["node_uuid"], lock=True)
            check_not_locked(new_node)
            for n in (node, new_node):
                if n["provision_state"] not in CONNECTIVITY_UPDATE_STATES and not n["maintenance"]:
                    raise errors.InvalidState(
                        f"Portgroup {pg['uuid']} can not be associated to node {n['uuid']} unless the "
                        f"node is in a "
                        f"{', '.join(CONNECTIVITY_UPDATE_STATES)} state or in maintenance mode. "
                        f"Current state is "
                        f"'{n['provision_state']}'."
                    )
            if members:
                raise errors.PortgroupNotEmpty(
                    f"Portgroup {pg['uuid']} can not be associated with node {new_node['uuid']} because "
                    "there are "
                    "ports associated with this portgroup."
                )
            cols["node_id"] = new_node["id"]
        if cols.get("standalone_ports_supported") is False:
            for port in members:
                vif = (port["internal_info"] or {}).get("tenant_vif_port_id") or (port["extra"] or {}).get(
                    "vif_port_id"
                )
                reasons = (["'pxe_enabled' is set to True"] if port["pxe_enabled"] else []) + (
                    [f"VIF {vif} is attached to this port"] if vif else []
                )
                if reasons:
                    raise errors.Conflict(
                        f"standalone_ports_supported can not be set to False, because the port "
                        f"group {pg['uuid']} "
                        f"contains port with {', '.join(reasons)}"
                    )
        _check_unique(lk, {k: cols.get(k) for k in ("name", "address")}, pg["id"])
        if physnet_patched:
            lk.set_member_physnets(pg["id"], values["physical_network"])
        return cols

    return svc.portgroups.update(ident, mutate)


def delete(svc: Services, ident: str) -> None:
    ident = check_ident(ident)

    def check(pg: Record, lk: Lookup) -> None:
        check_not_locked(lk.node_by_id(pg["node_id"], lock=True))
        if lk.ports_in_portgroup(pg["id"]):
            raise errors.PortgroupNotEmpty(portgroup=pg["uuid"])

    svc.portgroups.delete(ident, check)
    LOG.info("Deleted portgroup %s", ident)
