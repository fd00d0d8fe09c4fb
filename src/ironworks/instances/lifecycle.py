"""An instance's state, read from its node, and its deletion, finished by whoever looks next.

**State** is never stored: each read derives it from the node (``derive``):

- ``building``: the node is being deployed for the instance (available with target active, deploying,
  wait call-back, deploy hold…);
- ``active``: the node is active;
- ``error``: the deploy failed (``deploy failed``/``error``: the node's ``last_error``), the node is gone, or it
  no longer carries the instance (undeployed or released behind the instance's back);
- ``deleting``: a delete was requested and is not finished; ``error`` if the teardown failed (the node's
  ``last_error``; fixing the node lets the delete finish).

**Delete** is a durable intent: ``DELETE /v1/instances/{id}`` writes ``delete_requested_at`` in the instance
row and answers 202; ``settle`` then moves the delete forward as far as the node allows, and is idempotent:

1. while the node still carries the instance and is in a state where ``deleted`` is accepted (active,
   deploy failed, error, wait call-back…), request provision target ``deleted`` (the conductor tears down,
   clears instance_uuid, deletes the allocation and cleans);
2. while it is busy (deploying, deleting, cleaning), do nothing;
3. once the node is back in a stable state without a target (``available``, or ``manageable`` if an operator
   took it there), or when it never left ``available``: detach the instance's VIFs (``<uuid>-<i>``), release
   the allocation if the teardown did not, and remove the row. A node that no longer exists: just the rest.

**Why "the next read"**, and not a conductor hook: the intent lives in the database, so a restart loses
nothing, and every path that cares about the outcome reads the instance: ``DELETE`` itself settles once, the
CLI's ``--wait`` and any client polling ``GET /v1/instances/{id}`` settle on each poll, and ``GET
/v1/instances`` settles every pending delete on the page. The conductor's flows stay unaware of instances
(they are an API-level composition of allocations, VIFs and deploys, as metalsmith is). The cost: VIFs and
their addresses stay reserved until someone looks; concurrent settles are harmless (each step tolerates
having been done by another).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.conductor import fsm, intake
from ironworks.db.repos.base import Record
from ironworks.db.repos.instances import InstanceRepo
from ironworks.networking import vifs
from ironworks.resources import microversion as mv
from ironworks.scheduler import allocation

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

BUILDING, ACTIVE, ERROR, DELETING = "building", "active", "error", "deleting"
#: node states from which a finished delete may release the node's VIFs
_BACK = (states.AVAILABLE, states.MANAGEABLE)
_DELETE_FAILED = (states.ERROR, states.CLEANFAIL)


def node_of(svc: Services, record: Record) -> Record | None:
    if not record["node_uuid"]:
        return None
    try:
        return svc.nodes.get(record["node_uuid"])
    except errors.NodeNotFound:
        return None


def derive(record: Record, node: Record | None) -> tuple[str, str | None]:
    """(state, last_error) of an instance on ``node`` (see the module docstring)."""
    if record["delete_requested_at"] is not None:
        if node is not None and node["provision_state"] in _DELETE_FAILED:
            return ERROR, node["last_error"] or record["last_error"]
        return DELETING, record["last_error"]
    if node is None:
        return ERROR, f"Node {record['node_uuid']} of this instance no longer exists."
    if node["instance_uuid"] != record["uuid"]:
        return ERROR, f"Node {node['uuid']} no longer carries this instance (undeployed or released directly)."
    state = node["provision_state"]
    if state == states.ACTIVE:
        return ACTIVE, None
    if state in (states.DEPLOYFAIL, states.ERROR):
        return ERROR, node["last_error"]
    if state == states.DELETING:
        return DELETING, None
    return BUILDING, None


def networks(svc: Services, record: Record, node: Record | None) -> list[dict[str, Any]]:
    """The requested networks with each VIF's id and the address it got (while attached)."""
    attached: dict[str, vifs.AttachedVif] = {}
    if node is not None:
        attached = {v.vif_id: v for v in vifs.list_vifs(svc, node["uuid"])}
    out = []
    for index, wanted in enumerate(record["networks"] or ()):
        vif_id = f"{record['uuid']}-{index}"
        vif = attached.get(vif_id)
        address = vif.networks[0].ip_address if vif is not None and vif.networks else None
        out.append(
            {
                "network": wanted["network"],
                "fixed_ip": wanted.get("fixed_ip"),
                "vif_id": vif_id if vif is not None else None,
                "ip_address": address,
            }
        )
    return out


def request_delete(svc: Services, record: Record, request_id: str) -> Record:
    """Record the delete intent and move it forward once (the caller answers 202)."""
    record = InstanceRepo(svc.db).request_delete(record["uuid"])
    LOG.info("Instance %s (%s): delete requested", record["name"], record["uuid"])
    return settle(svc, record, request_id) or record


def _detach_all(svc: Services, record: Record, node: Record) -> None:
    prefix = f"{record['uuid']}-"
    for vif in vifs.list_vifs(svc, node["uuid"]):
        if vif.vif_id.startswith(prefix):
            with contextlib.suppress(errors.NotFound):  # another settle got there first
                vifs.detach(svc, node["uuid"], vif.vif_id)


def _release(svc: Services, record: Record) -> None:
    if not record["allocation_uuid"]:
        return
    with contextlib.suppress(errors.NotFound):  # the teardown deleted it, as Ironic's does
        allocation.release(svc, record["allocation_uuid"])


def _finish(svc: Services, record: Record, node: Record | None) -> None:
    if node is not None:
        _detach_all(svc, record, node)
    _release(svc, record)
    InstanceRepo(svc.db).remove(record["uuid"])
    LOG.info("Instance %s (%s) deleted; node %s released", record["name"], record["uuid"], record["node_uuid"])


def settle(svc: Services, record: Record, request_id: str | None = None) -> Record | None:
    """Move a requested delete forward (see the module docstring). Returns the row, or None once removed."""
    if record["delete_requested_at"] is None:
        return record
    node = node_of(svc, record)
    try:
        if node is None:
            _finish(svc, record, None)
            return None
        locked = node["reservation"] is not None
        ours = node["instance_uuid"] == record["uuid"]
        state = node["provision_state"]
        back = state in _BACK and node["target_provision_state"] is None and (not ours or state == states.AVAILABLE)
        if back and not locked:
            _finish(svc, record, node)
            return None
        if ours and not locked and fsm.is_actionable(state, states.VERBS["deleted"]):
            fresh = intake.find(svc, node["uuid"], mv.MAX_MINOR)
            intake.provision(svc, fresh, {"target": "deleted"}, mv.MAX_MINOR, request_id or "instance-delete")
            LOG.info("Instance %s (%s): tearing down node %s", record["name"], record["uuid"], node["uuid"])
    except (errors.Conflict, errors.InvalidStateRequested, errors.NoFreeWorker) as exc:
        # the node moved meanwhile, or another settle acted first: the next read tries again
        LOG.info("Instance %s: delete not moved forward yet: %s", record["uuid"], exc.message)
    return record
