"""Teardown (target ``deleted`` / ``undeploy``): ``active`` and friends → ``deleting`` → ``cleaning`` → ``available``.

1. The API moved the node to ``deleting`` (target ``available``) and recorded the intent.
2. The deploy interface tears the instance down; the node is powered off; tenant networks are unconfigured;
   boot and rescue configuration are removed.
3. ``instance_info`` and ``instance_uuid`` are cleared and its allocation deleted: the node no longer belongs
   to anyone.
4. ``clean`` → ``cleaning``, and automated cleaning runs as after ``provide`` (see ``clean.py``), ending in
   ``available``. A failure while deleting: ``error``; while cleaning: ``clean failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks import states
from ironworks.conductor import flows
from ironworks.conductor.flows import clean
from ironworks.db.repos.allocations import AllocationRepo

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "deploy")
    task.driver.deploy.tear_down(task)
    reached = flows.set_power(task, states.POWER_OFF)
    if task.driver.get("network") is not None:
        task.driver.network.unconfigure_tenant_networks(task)
    if task.driver.get("boot") is not None:
        task.driver.boot.clean_up_instance(task)
    if task.driver.get("rescue") is not None:
        task.driver.rescue.clean_up(task)
    info = dict(task.node["driver_internal_info"] or {})
    for key in ("deploy_steps", "deploy_step_index", "clean_steps", "clean_step_index"):
        info.pop(key, None)
    allocation_id = task.node.get("allocation_id")
    task.process_event("clean", instance_info={}, instance_uuid=None, allocation_id=None, deploy_step={},
                       driver_internal_info=info, power_state=reached, target_power_state=None)
    if allocation_id:
        AllocationRepo(task.ctx.db).forget(allocation_id)  # the allocation ends with the instance, as in Ironic
    clean.run(task, {})
