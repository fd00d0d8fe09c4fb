"""Deploy and rebuild: ``available`` (or ``deploy failed``) → ``deploying`` → ``active``.

1. The API moved the node to ``deploying`` (target ``active``), stored the configdrive in instance_info and
   recorded the intent; a rebuild also comes from ``active`` / ``error``.
2. power, deploy and boot validate the node (no I/O); ``instance_info.image_type`` and
   ``driver_internal_info.is_whole_disk_image`` are recorded, as Ironic does.
3. A rebuild first cleans up the old instance's boot configuration.
4. The deploy interface prepares, and the provisioning network is plugged. A config drive given as a dict is
   built now, its network_data generated from the node's VIFs unless given (networking/drive.py).
5. The plan is the driver's deploy steps with priority > 0 merged with the steps of the deploy templates named by
   ``instance_info.traits`` and the user's ``deploy_steps`` (user over template over driver; priority 0
   disables one); each runs in turn, shown in ``deploy_step``. A step may park the node in ``wait call-back``
   until the agent calls back (or the callback timeout fails it).
6. The instance is made bootable, tenant networks configured, the node powered on, and ``done`` → ``active``.
   Any failure: ``deploy failed`` with ``last_error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks import states
from ironworks.conductor import flows, steps
from ironworks.conductor.flows import steprunner
from ironworks.networking import drive

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "deploy", "boot")
    record_image_type(task)
    if args.get("rebuild"):
        task.driver.boot.clean_up_instance(task)
    task.driver.deploy.prepare(task)
    task.driver.network.add_provisioning_network(task)
    drive.store_configdrive(task)
    plan = steps.deploy_plan(task.driver, args.get("deploy_steps"), args.get("template_steps"))
    steprunner.store_plan(task, "deploy", plan)
    resume(task)


def record_image_type(task: Task) -> None:
    """As Ironic: ``instance_info.image_type`` and ``driver_internal_info.is_whole_disk_image``, which tools read.

    Ironworks deploys whole-disk images (the image checks refuse others before a deploy starts).
    """
    info = dict(task.node["instance_info"] or {})
    image_type = info.setdefault("image_type", "whole-disk")
    task.write(instance_info=info)
    task.set_internal(is_whole_disk_image=image_type == "whole-disk")


def resume(task: Task) -> None:
    """Run the remaining deploy steps (also the continuation after ``wait call-back``)."""
    if not steprunner.run(task, "deploy"):
        return
    task.driver.network.remove_provisioning_network(task)
    task.driver.network.configure_tenant_networks(task)
    task.driver.boot.prepare_instance(task)
    reached = flows.set_power(task, states.POWER_ON)
    task.process_event("done", release=True, deploy_step={}, power_state=reached, target_power_state=None,
                       driver_internal_info=steprunner.cleared_info(task, "deploy"), last_error=None)
