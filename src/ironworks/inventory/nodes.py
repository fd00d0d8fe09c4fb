"""Node inventory operations: enroll, update, delete, maintenance and traits.

Each function validates everything before it writes, and writes in one transaction, so a refused request
leaves the database as it was. Long-running work (power, provisioning) is not here: it is the conductor's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ironworks import errors, states
from ironworks.db.models import Chassis
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_uuid, validate_trait
from ironworks.resources import microversion as mv
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import nodes as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

MAX_TRAITS = 50


def _chassis_id(svc: Services, chassis_uuid: str | None) -> int | None:
    if chassis_uuid is None:
        return None
    chassis_uuid = normalize_uuid(chassis_uuid, "chassis_uuid")
    with svc.db.read() as session:
        chassis_id = session.execute(
            select(Chassis.__table__.c.id).where(Chassis.__table__.c.uuid == chassis_uuid)
        ).scalar_one_or_none()
    if chassis_id is None:
        raise errors.InvalidParameterValue(f"Chassis {chassis_uuid} could not be found.")
    return int(chassis_id)


def find(svc: Services, ident: str, version: int) -> Record:
    """Look a node up by UUID, or by name from API 1.5 on."""
    if not is_uuid_like(ident) and version < mv.NODE_NAME:
        raise errors.InvalidUUID(uuid=ident)
    return svc.nodes.get(ident)


def create(svc: Services, body: dict[str, Any], version: int) -> Record:
    schema.reject_newer_fields(body, version)
    model = parse_model(schema.NodeCreate, body)
    raw = model.model_dump(exclude_unset=True)
    if raw.get("parent_node") is not None:
        raw["parent_node"] = _parent_uuid(svc, raw["parent_node"], raw.get("owner"))
    values = schema.normalize_common(raw, version)
    # an empty or malformed uuid is refused (400), as Ironic's schema does; only an absent or null one is generated
    values["uuid"] = normalize_uuid(values["uuid"]) if values.get("uuid") is not None else new_uuid()
    values.update(svc.drivers.resolve_interfaces(values["driver"], values))
    svc.drivers.check_driver_info(values.get("driver_info") or {}, svc.settings)  # local paths (images/local.py)
    values["chassis_id"] = _chassis_id(svc, values.pop("chassis_uuid", None))
    values.setdefault("conductor_group", "")
    if values.get("retired_reason") and not values.get("retired"):
        raise errors.InvalidParameterValue("retired_reason can only be set on a retired node.")
    if values.get("console_enabled"):
        raise errors.InvalidParameterValue("console_enabled cannot be set at creation; use the console API.")
    # API < 1.11 enrolls straight into "available", as Ironic does
    values["provision_state"] = states.ENROLL if version >= mv.ENROLL_STATE else states.AVAILABLE
    values["power_state"] = None
    node = svc.nodes.create(values)
    LOG.info("Enrolled node %s (%s) with driver %s", node["uuid"], node["name"], node["driver"])
    return node


def _parent_uuid(svc: Services, ident: str, owner: str | None) -> str:
    """``parent_node`` (API 1.83) by UUID or name → the parent's UUID; it must exist and have the same owner.

    Ironic's words, the same for a missing parent and a foreign one (whether a node exists is not disclosed).
    """
    refused = errors.Invalid(f"Unable to apply the requested parent_node '{ident}'. Requested value was invalid.")
    try:
        parent = svc.nodes.get(ident)
    except errors.NodeNotFound:
        raise refused from None
    if parent["owner"] != owner:
        raise refused
    return str(parent["uuid"])


def _resolve_parent_ops(svc: Services, ident: str, ops: list[dict[str, Any]]) -> None:
    """Patch ops setting ``/parent_node`` get the parent's UUID as their value (names resolved, as Ironic)."""
    setting = [op for op in ops if op["segments"] == ["parent_node"] and op["op"] in ("add", "replace")
               and isinstance(op.get("value"), str)]
    if setting:
        owner = svc.nodes.get(ident)["owner"]
        for op in setting:
            op["value"] = _parent_uuid(svc, op["value"], owner)


def _editable_doc(node: Record) -> dict[str, Any]:
    doc = {field: node.get(field) for field in schema.PATCHABLE}
    doc["chassis_uuid"] = node.get("chassis_uuid")
    return doc


def update(svc: Services, ident: str, patch: Any, version: int, reset_interfaces: bool | None = None) -> Record:
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL, escapes=version >= mv.PATCH_SPECIAL_CHARS)
    for op in ops:
        field = op["segments"][0]
        since = mv.NODE_FIELDS.get(field)
        # as Ironic's reject_patch_in_newer_versions: a non-empty add/replace of the field itself
        if (since is not None and version < since and len(op["segments"]) == 1 and op["op"] in ("add", "replace")
                and op["value"]):
            raise errors.NotAcceptable(f"Patching '{field}' requires API version 1.{since} or newer.")
        if field == "chassis_uuid" and op["op"] == "remove" and version < mv.UNSET_CHASSIS:
            raise errors.NotAcceptable("Removing chassis_uuid requires API version 1.25 or newer.")
    if reset_interfaces is not None:
        mv.require(version, mv.RESET_INTERFACES, "reset_interfaces")
        if not any(op["segments"][0] == "driver" for op in ops):
            raise errors.InvalidParameterValue("The reset_interfaces parameter can only be used with a driver change.")
    if ident != "" and not is_uuid_like(ident) and version < mv.NODE_NAME:
        raise errors.InvalidUUID(uuid=ident)
    _resolve_parent_ops(svc, ident, ops)

    def mutate(node: Record) -> dict[str, Any]:
        _check_updatable(node)
        before = _editable_doc(node)
        after = jsonpatch.apply_patch(before, ops)
        changed = jsonpatch.changed_fields(before, after)
        if not changed:
            return {}
        # validate the whole changed document with the create rules
        parse_model(schema.NodePatched, {k: v for k, v in after.items() if v is not None or k in changed})
        values = schema.normalize_common({k: after[k] for k in changed}, version)
        values = _apply_update_rules(svc, node, values, reset_interfaces)
        _sync_instance_name(node, values)
        if _releases_allocation(node, values):
            released.append(node["allocation_id"])
        return values

    released: list[int] = []
    updated = svc.nodes.update(ident, mutate)
    for allocation_id in released:
        svc.allocations.forget(allocation_id)  # as Ironic: removing instance_uuid deletes the allocation
    return updated


#: states in which a node's instance_uuid may be removed although it has an allocation (Ironic's list)
_ALLOCATION_RELEASE_STATES = (states.ENROLL, states.INSPECTING, states.INSPECTWAIT, states.MANAGEABLE,
                              states.AVAILABLE)


def _sync_instance_name(node: Record, values: dict[str, Any]) -> None:
    """As Ironic (every version): a changed instance_info's ``display_name`` fills an empty instance_name."""
    info = values.get("instance_info")
    name = values.get("instance_name", node.get("instance_name"))
    if info is not None and not name and isinstance(info.get("display_name"), str) and info["display_name"]:
        values["instance_name"] = info["display_name"][:255]


def _releases_allocation(node: Record, values: dict[str, Any]) -> bool:
    if not node["allocation_id"] or "instance_uuid" not in values or values["instance_uuid"] is not None:
        return False
    if not node["maintenance"] and node["provision_state"] not in _ALLOCATION_RELEASE_STATES:
        raise errors.InvalidState(
            f"Node {node['uuid']} with an allocation can not have instance_uuid removed unless it is in one of "
            f"allowed ({', '.join(_ALLOCATION_RELEASE_STATES)}) states or in maintenance mode. "
            f"Current state is '{node['provision_state']}'.")
    values["allocation_id"] = None
    return True


def _check_updatable(node: Record) -> None:
    state = node["provision_state"]
    if state not in states.STABLE_STATES and state not in states.UPDATE_ALLOWED_STATES:
        raise errors.InvalidState(
            f"Node {node['uuid']} can not be updated while a state transition is in progress "
            f"(provision state {state!r})."
        )
    if node["reservation"]:
        raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])


def _apply_update_rules(
    svc: Services, node: Record, values: dict[str, Any], reset_interfaces: bool | None
) -> dict[str, Any]:
    if "chassis_uuid" in values:
        values["chassis_id"] = _chassis_id(svc, values.pop("chassis_uuid"))
    if "driver" in values or any(f in values for f in schema.INTERFACE_FIELDS):
        driver = str(values.get("driver") or node["driver"])
        requested = {f: node[f] for f in schema.INTERFACE_FIELDS}
        if "driver" in values and reset_interfaces is not False:
            # a new hardware type: keep only explicitly patched interfaces, default the rest
            requested = {f: None for f in schema.INTERFACE_FIELDS}
            if reset_interfaces is None:
                hw = svc.drivers.check_driver(driver)
                for f in schema.INTERFACE_FIELDS:
                    kind = f.removesuffix("_interface")
                    if node[f] in hw.supported(kind):
                        requested[f] = node[f]
        requested.update({f: values[f] for f in schema.INTERFACE_FIELDS if f in values})
        values.update(svc.drivers.resolve_interfaces(driver, requested))
    if "driver_info" in values:
        svc.drivers.check_driver_info(values["driver_info"] or {}, svc.settings)  # local paths (images/local.py)
    if "instance_uuid" in values:
        new, old = values["instance_uuid"], node["instance_uuid"]
        if new is not None and old is not None and new != old:
            raise errors.NodeAssociated(node=node["uuid"], instance=old)
    if "owner" in values and node["allocation_id"] and svc.allocations.owner_of(node["allocation_id"]):
        raise errors.Conflict(f'Cannot update owner of node "{node["uuid"]}" while it is allocated to an '
                              "allocation with an owner.")
    if "maintenance" in values and not values["maintenance"]:
        values["maintenance_reason"] = None
        values["fault"] = None
    if "protected" in values or "protected_reason" in values:
        protected = values.get("protected", node["protected"])
        if protected and node["provision_state"] not in (states.ACTIVE, states.RESCUE):
            raise errors.InvalidState(
                f"Node {node['uuid']} can only be protected in provision state active or rescue, "
                f"not {node['provision_state']!r}."
            )
        if not protected:
            if values.get("protected_reason"):
                raise errors.InvalidParameterValue("protected_reason can only be set on a protected node.")
            values["protected_reason"] = None
    if "retired" in values or "retired_reason" in values:
        retired = values.get("retired", node["retired"])
        if values.get("retired") and node["provision_state"] == states.AVAILABLE:  # Ironic's check and words
            raise errors.InvalidState(f"Node {node['uuid']} can not have 'retired' set in provision state "
                                      f"'available', the current state is '{node['provision_state']}'")
        if not retired:
            if values.get("retired_reason"):
                raise errors.InvalidParameterValue("The retired_reason field can only be set when retired is True")
            values["retired_reason"] = None
    return values


def delete(svc: Services, ident: str, version: int) -> None:
    if not is_uuid_like(ident) and version < mv.NODE_NAME:
        raise errors.InvalidUUID(uuid=ident)

    def check(node: Record) -> None:
        if node["reservation"]:
            raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])
        if not node["maintenance"] and node["instance_uuid"] is not None:
            raise errors.NodeAssociated(node=node["uuid"], instance=node["instance_uuid"])
        if node["protected"]:
            raise errors.NodeProtected(node=node["uuid"])
        if not node["maintenance"] and node["provision_state"] not in states.DELETE_ALLOWED_STATES:
            raise errors.InvalidState(
                f'Can not delete node "{node["uuid"]}" while it is in provision state '
                f'"{node["provision_state"]}". Valid provision states to perform deletion are: '
                f'{", ".join(states.DELETE_ALLOWED_STATES)}, or set the node into maintenance mode'
            )

    svc.nodes.delete(ident, check)
    LOG.info("Deleted node %s", ident)


def set_maintenance(svc: Services, ident: str, on: bool, reason: str | None) -> Record:
    def mutate(node: Record) -> dict[str, Any]:
        if on:
            return {"maintenance": True, "maintenance_reason": reason}
        return {"maintenance": False, "maintenance_reason": None, "fault": None}

    return svc.nodes.update(ident, mutate)


def _traits_check(node: Record) -> None:
    if node["reservation"]:
        raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])


def set_traits(svc: Services, ident: str, traits: Any) -> Record:
    if not isinstance(traits, list):
        raise errors.Invalid("'traits' must be a list of strings.")
    checked = [validate_trait(t) for t in traits]
    if len(set(checked)) > MAX_TRAITS:
        raise errors.InvalidParameterValue(f"A node can have at most {MAX_TRAITS} traits.")
    return svc.nodes.set_traits(ident, checked, _traits_check)


def add_trait(svc: Services, ident: str, trait: str) -> Record:
    validate_trait(trait)

    def check(node: Record) -> None:
        _traits_check(node)
        if trait not in node["traits"] and len(node["traits"]) >= MAX_TRAITS:
            raise errors.InvalidParameterValue(f"A node can have at most {MAX_TRAITS} traits.")

    return svc.nodes.add_trait(ident, trait, check)


def remove_trait(svc: Services, ident: str, trait: str) -> Record:
    return svc.nodes.remove_trait(ident, trait, _traits_check)
