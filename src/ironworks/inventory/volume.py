"""Volume connectors and targets (API 1.32): create, update (JSON Patch), delete, with Ironic's rules.

1. The body or the patched document is checked as Ironic's schema checks it (resources/schemas/volume.py).
2. Create: the node named by ``node_uuid`` must exist (400 ``Invalid input for field/attribute node_uuid``);
   no state is required (Ironic creates without the conductor).
3. Update: ``/node_uuid`` must be a UUID; moving the object to another node needs a node the caller may see
   and with the same owner, else 400 without telling which (Ironic's ``authorize_node_link``). The node the
   object ends on must be powered off (400 ``InvalidStateRequested``) and not locked (409).
4. Delete: the node must be powered off or in enroll/manageable/adopt failed, and not locked.
5. Uniqueness: a connector's (type, connector_id) and a target's (node, boot_index) (409).

The checks of 3–4 run inside the write transaction (db/repos/volume.py), on the node row it locks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.db.repos.base import Record
from ironworks.db.repos.volume import VolumeConnectorRepo, VolumeTargetRepo, repo_for
from ironworks.identifiers import is_uuid_like, new_uuid
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import volume as schema

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: provision states in which a powered-on node's volume objects may still be deleted (Ironic's list)
DELETE_ALLOWED_STATES = (states.MANAGEABLE, states.ENROLL, states.ADOPTFAIL)


class InvalidInput(errors.Invalid):
    template = "Invalid input for field/attribute %(fieldname)s. Value: '%(value)s'. "


def repo(svc: Services, *, target: bool) -> VolumeConnectorRepo | VolumeTargetRepo:
    return repo_for(svc.db, target=target)


def _kind(target: bool) -> str:
    return "volume target" if target else "volume connector"


def find(svc: Services, ident: str, *, target: bool) -> Record:
    """By UUID; anything else is simply not found (Ironic's controllers take UUIDs only)."""
    return repo(svc, target=target).get(ident)


def create(svc: Services, body: Any, *, target: bool) -> Record:
    values = schema.validate(body, target=target)
    node_uuid = values.pop("node_uuid")
    try:
        node = svc.nodes.get(node_uuid)
    except errors.NodeNotFound:
        raise InvalidInput(fieldname="node_uuid", value=node_uuid) from None
    values.update(uuid=values["uuid"] or new_uuid(), node_id=node["id"])
    record = repo(svc, target=target).create(values)
    LOG.info("Created %s %s on node %s", _kind(target), record["uuid"], node["uuid"])
    return record


def _check_unlocked(node: Record) -> None:
    if node["reservation"]:
        raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])


def update(svc: Services, ident: str, patch: Any, *, target: bool, may_link: Callable[[Record], bool]) -> Record:
    """``may_link(node)``: may the caller see ``node`` (the new node of a ``/node_uuid`` change)?"""
    allowed = schema.TARGET_PATCHABLE if target else schema.CONNECTOR_PATCHABLE
    ops = jsonpatch.validate_patch(patch, allowed, schema.INTERNAL)
    for op in ops:
        if (
            op["segments"][0] == "node_uuid"
            and op["op"] != "remove"
            and not (isinstance(op["value"], str) and is_uuid_like(op["value"]))
        ):
            raise errors.InvalidUUID(f"Expected a UUID for node_uuid, but received {op['value']}.")
    new_node_uuid = next(
        (op["value"] for op in reversed(ops) if op["segments"][0] == "node_uuid" and op["op"] != "remove"), None
    )
    action = f"{_kind(target)} update"

    def mutate(record: Record) -> dict[str, Any]:
        node = {"uuid": record["node_uuid"], "owner": record["node_owner"], "id": record["node_id"]}
        if new_node_uuid is not None and new_node_uuid.lower() != record["node_uuid"]:
            refused = errors.Invalid(
                f"Unable to apply the requested node_uuid '{new_node_uuid}'. Requested value was invalid."
            )
            try:
                new = svc.nodes.get(new_node_uuid.lower())
            except errors.NodeNotFound:
                raise refused from None
            if not may_link(new) or new["owner"] != node["owner"]:
                raise refused
            node = new
        before = {f: record[f] for f in allowed if f != "node_uuid"}
        after = jsonpatch.apply_patch({**before, "node_uuid": None}, ops)
        after["node_uuid"] = node["uuid"]
        values = schema.validate({k: v for k, v in after.items() if v is not None}, target=target)
        values.pop("uuid", None)
        values.pop("node_uuid")
        changes = {k: v for k, v in values.items() if v != record[k]}
        if node["id"] != record["node_id"]:
            changes["node_id"] = node["id"]
        return changes

    def check(node: Record) -> None:
        _check_unlocked(node)
        if node["power_state"] != states.POWER_OFF:
            raise errors.InvalidStateRequested(action=action, node=node["uuid"], state=node["power_state"])

    record = repo(svc, target=target).update_checked(ident, mutate, check)
    LOG.info("Updated %s %s", _kind(target), record["uuid"])
    return record


def delete(svc: Services, ident: str, *, target: bool) -> None:
    action = f"{_kind(target)} deletion"

    def check(node: Record) -> None:
        _check_unlocked(node)
        if node["provision_state"] not in DELETE_ALLOWED_STATES and node["power_state"] != states.POWER_OFF:
            raise errors.InvalidStateRequested(action=action, node=node["uuid"], state=node["power_state"])

    record = repo(svc, target=target).delete_checked(ident, check)
    LOG.info("Deleted %s %s of node %s", _kind(target), record["uuid"], record["node_uuid"])
