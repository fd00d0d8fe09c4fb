"""Rescue and unrescue of a deployed node.

Rescue: ``active`` (or ``rescue``, ``rescue failed``, ``unrescue failed``) → ``rescuing`` → ``rescue``.

1. The API stored the (masked) ``rescue_password`` in instance_info and moved the node to ``rescuing``.
2. The rescue interface validates; tenant networks are unplugged, the rescuing network is plugged and the
   rescue ramdisk booted. A ramdisk that must call back parks the node in ``rescue wait`` (failed by the
   rescue callback timeout).
3. ``done`` → ``rescue``. Any failure: ``rescue failed``.

Unrescue: ``rescue`` (or a failed rescue) → ``unrescuing`` → ``active``.

1. The rescue interface boots the instance again, removes the rescue network and plugs tenant networks back.
2. The rescue password is forgotten and ``done`` → ``active``. Any failure: ``unrescue failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks.conductor import flows
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "rescue")
    task.driver.network.unconfigure_tenant_networks(task)
    task.driver.network.add_rescuing_network(task)
    if task.driver.rescue.rescue(task) == WAIT:
        task.process_event("wait", release=True)
        return
    task.process_event("done", release=True, last_error=None)


def run_unrescue(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "rescue")
    task.driver.rescue.unrescue(task)
    task.driver.network.remove_rescuing_network(task)
    task.driver.network.configure_tenant_networks(task)
    info = {k: v for k, v in (task.node["instance_info"] or {}).items() if k != "rescue_password"}
    task.process_event("done", release=True, instance_info=info, last_error=None)
