"""Creating a server in one call: what metalsmith does client-side, done by the service.

``create(svc, plan, request_id)`` runs on a ``Plan`` that request.py checked completely, so what can still
fail is what depends on the moment (no free node, a network pool running dry, the node taken, no conductor
worker). Step by step, each step pushing its undo:

1. **Allocate** through the scheduler (scheduler/allocation.py) with the instance's uuid as the allocation's:
   the node's ``instance_uuid`` then names the instance. A flavor nothing can serve is a 409 with the
   scheduler's shortage message; any other allocation that ends in ``error`` is deleted and its
   ``last_error`` answered as a 409.
2. **instance_info**: image_source, image_checksum or image_os_hash_*, image_disk_format, image_type,
   root_gb (the node's ``local_gb``) and display_name, written while the node is not locked.
3. **VIFs**: one per requested network (networking/vifs.py), named ``<instance uuid>-<i>`` so that the
   instance's VIFs can always be told from others on the node, even after a crash.
4. **Record the instance** (name unique: a race loses with 409), as late as possible: once the row exists a
   DELETE may act on it, and before the deploy is requested it would find the node merely allocated.
5. **Deploy**: ``provision target active`` through the conductor's intake, with a configdrive dict
   (meta_data uuid/name/hostname/public_keys, the composed user_data); the conductor builds the drive when the
   deploy starts, with network_data generated from the VIFs (networking/drive.py).

If any step fails, the undos run in reverse (the row removed, VIFs detached, instance_info restored, the
allocation released) and the step's error is answered: a failed create leaves the node as it found it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.conductor import intake
from ironworks.db.repos.base import Record
from ironworks.db.repos.instances import InstanceRepo
from ironworks.instances.request import Plan
from ironworks.networking import vifs
from ironworks.resources import microversion as mv
from ironworks.scheduler import allocation

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: instance_info keys a server create writes (and a rollback removes)
INFO_KEYS = (
    "image_source",
    "image_checksum",
    "image_os_hash_algo",
    "image_os_hash_value",
    "image_disk_format",
    "image_type",
    "root_gb",
    "display_name",
)


class NoNodeAvailable(errors.Conflict):
    template = "%(err)s"


def vif_id(instance_uuid: str, index: int) -> str:
    return f"{instance_uuid}-{index}"


def _allocate(svc: Services, plan: Plan) -> Record:
    request = allocation.AllocationRequest(
        resource_class=plan.resource_class,
        traits=plan.traits,
        candidate_nodes=plan.candidate_nodes,
        uuid=plan.uuid,
        owner=plan.owner,
        extra={"instance_name": plan.name},
        flavor=plan.flavor,
        caller_project=plan.caller_project,
    )
    record = allocation.allocate(svc, request, immediate=True)  # the server create needs its node now
    if record["state"] != "active" or not record.get("node_uuid"):
        _quietly(lambda: allocation.release(svc, record["uuid"]), "delete failed allocation")
        raise NoNodeAvailable(err=record.get("last_error") or "No node could be allocated.")
    return record


def _set_instance_info(svc: Services, node_uuid: str, plan: Plan) -> Callable[[], None]:
    before: dict[str, Any] = {}

    def mutate(node: Record) -> dict[str, Any]:
        if node["reservation"]:
            raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])
        if node["instance_uuid"] != plan.uuid:
            raise errors.NodeAssociated(node=node["uuid"], instance=node["instance_uuid"])
        current = dict(node["instance_info"] or {})
        before.update(current)
        info = {k: v for k, v in current.items() if k not in INFO_KEYS}
        info.update(plan.image.instance_info())
        local_gb = (node["properties"] or {}).get("local_gb")
        if local_gb is not None:
            info["root_gb"] = local_gb
        info["display_name"] = plan.name
        return {"instance_info": info}

    svc.nodes.update(node_uuid, mutate)

    def undo() -> None:
        svc.nodes.update(node_uuid, lambda node: {"instance_info": before})

    return undo


def _attach(svc: Services, node_uuid: str, plan: Plan, undo: list[Callable[[], Any]]) -> None:
    for index, (network, fixed_ip) in enumerate(plan.networks):
        vif = vif_id(plan.uuid, index)
        body: dict[str, Any] = {"id": vif, "network": network}
        if fixed_ip is not None:
            body["fixed_ip"] = fixed_ip
        vifs.attach(svc, node_uuid, body, plan.caller_project)
        undo.append(functools.partial(vifs.detach, svc, node_uuid, vif))


def _quietly(action: Callable[[], Any], what: str) -> None:
    try:
        action()
    except Exception:  # noqa: BLE001 - a rollback step must not hide the error being answered
        LOG.exception("Rollback: could not %s", what)


def create(svc: Services, plan: Plan, request_id: str) -> Record:
    """Allocate, record, configure, attach and deploy (see the module docstring). Returns the instance row."""
    alloc = _allocate(svc, plan)
    node_uuid = str(alloc["node_uuid"])
    repo = InstanceRepo(svc.db)
    undo: list[Callable[[], Any]] = [lambda: allocation.release(svc, alloc["uuid"])]
    try:
        undo.append(_set_instance_info(svc, node_uuid, plan))
        _attach(svc, node_uuid, plan, undo)
        record = repo.create(
            {
                "uuid": plan.uuid,
                "name": plan.name,
                "hostname": plan.hostname,
                "owner": plan.owner,
                "node_uuid": node_uuid,
                "allocation_uuid": alloc["uuid"],
                "flavor": plan.flavor,
                "resource_class": alloc.get("resource_class") or plan.resource_class,
                "traits": list(alloc.get("traits") or plan.traits),
                "image": plan.image.as_record(),
                "networks": [{"network": n, "fixed_ip": ip} for n, ip in plan.networks],
                "ssh_keys": list(plan.ssh_keys),
                "has_root_password": plan.has_root_password,
                "has_user_data": plan.has_user_data,
                "delete_requested_at": None,
                "last_error": None,
            }
        )
        undo.append(lambda: repo.remove(plan.uuid))
        node = intake.find(svc, node_uuid, mv.MAX_MINOR)
        intake.provision(svc, node, {"target": "active", "configdrive": plan.configdrive()}, mv.MAX_MINOR, request_id)
    except BaseException as exc:
        LOG.warning("Creating instance %s on node %s failed, rolling back: %s", plan.name, node_uuid, exc)
        for step in reversed(undo):
            _quietly(step, "undo a server create step")
        raise
    LOG.info("Instance %s (%s): deploying node %s", plan.name, plan.uuid, node_uuid)
    return record
