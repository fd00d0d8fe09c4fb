"""Moving a waiting flow on when the agent calls back.

On every heartbeat (and after every accepted result) ``on_callback`` takes the node lock and looks at the
node's wait state:

* ``inspect wait`` with nothing queued yet: queue ``get_inventory`` (the node stays in ``inspect wait``);
* ``wait call-back`` / ``clean wait`` / ``inspect wait`` whose awaited commands all have results (or that
  awaited only the ramdisk's boot): reserve a worker, move the node back to its transient state (``resume``,
  keeping its target), and hand the locked task to the conductor's worker pool with the ``agent resume`` flow;
* otherwise (commands still running): nothing; the next heartbeat asks again.

The ``agent resume`` flow (``run``) applies the awaited results (a failed command fails the flow with the
agent's error) and continues the deploy or clean steps, or finishes the inspection.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.conductor.task import acquire
from ironworks.db.repos import agent_commands as repo
from ironworks.drivers.agent import fasttrack
from ironworks.drivers.agent.channel import WAITING, AgentChannel
from ironworks.drivers.agent.interfaces import power_off

if TYPE_CHECKING:
    from ironworks.conductor.service import Conductor
    from ironworks.conductor.task import Task

LOG = logging.getLogger(__name__)

ACTION = "agent resume"
#: wait state -> what continues it
RESUMABLE = {states.DEPLOYWAIT: "deploy", states.CLEANWAIT: "clean", states.INSPECTWAIT: "inspect",
             states.SERVICEWAIT: "service"}
GIB = 1024 ** 3


def on_callback(conductor: Conductor, channel: AgentChannel, node_uuid: str,
                record: dict[str, Any] | None = None) -> bool:
    """Record heartbeat facts and continue the flow when it can. True when a worker was handed the flow.

    Raises ``NodeLocked`` (409) when the node is busy; the agent tries again at its next heartbeat.
    """
    with acquire(conductor.ctx, node_uuid, "agent callback") as task:
        if record:
            task.set_internal(**record)
        state = task.node["provision_state"]
        if state not in RESUMABLE or task.node["maintenance"]:
            return False
        if record:
            task.touch_provisioning()  # a live agent restarts the callback timeout, as in Ironic
        waiting = (task.node["driver_internal_info"] or {}).get(WAITING)
        if state == states.INSPECTWAIT and waiting is None:
            channel.send(task, [("get_inventory", {})])
            return False
        if waiting:
            done = [c for c in channel.commands(task.node["id"], list(waiting)) if c["status"] in repo.FINISHED]
            if len(done) < len(waiting):
                return False
        try:
            slot = conductor.reserve_worker()
        except errors.NoFreeWorker:
            LOG.warning("Node %s: no free worker to resume %s; waiting for the next heartbeat", task.uuid, state)
            return False
        try:
            task.process_event("resume", target=task.node["target_provision_state"])
        except Exception:
            slot.cancel()
            raise
        conductor.run(slot, task, ACTION, {"kind": RESUMABLE[state]})
        return True


def _failure(command: dict[str, Any]) -> str:
    error = command.get("error") or {}
    return (f"Agent command {command['name']} failed: {error.get('type', 'UnknownError')}: "
            f"{error.get('message', 'no message')}")


def run(task: Task, args: dict[str, Any]) -> None:
    """The ``agent resume`` flow: apply the awaited results, then continue the interrupted flow."""
    from ironworks.conductor.flows import clean, deploy, inspect, service  # the conductor imports this module

    waiting = list((task.node["driver_internal_info"] or {}).get(WAITING) or [])
    with task.ctx.db.read() as session:
        commands = repo.get_many(session, task.node["id"], waiting)
    task.set_internal(**{WAITING: None})
    if len(commands) < len(waiting):
        raise errors.DriverError(reason="commands queued for the agent were lost (the ramdisk was rebooted?)")
    for command in commands:
        if command["status"] != repo.SUCCEEDED:
            raise errors.DriverError(reason=_failure(command))
        apply_result(task, command)
    kind = args.get("kind")
    if kind == "deploy":
        deploy.resume(task)
    elif kind == "clean":
        clean.resume(task)
    elif kind == "service":
        service.resume(task)
    elif kind == "inspect":
        inspect.finish_agent_inspection(task)  # inspection rules, power off, ``done``
    else:
        raise errors.DriverError(reason=f"unknown agent continuation {kind!r}")


def apply_result(task: Task, command: dict[str, Any]) -> None:
    result = command.get("result") or {}
    name = command["name"]
    if name == "get_inventory":
        inventory = result.get("inventory") or {}
        with task.ctx.write() as session:
            repo.store_inventory(session, task.node["id"], inventory, {"root_disk": result.get("root_disk")})
        task.update(properties={**(task.node["properties"] or {}),
                                **properties_from(inventory, result.get("root_disk"))})
    elif name == "create_configuration":
        task.update(raid_config=result.get("raid_config") or {})
    elif name == "delete_configuration":
        task.update(raid_config={})
    elif name == "kexec":
        if not fasttrack.apply_kexec_result(task, result):
            power_off(task)  # no kernel to jump into: the deploy flow powers the node on into its disk
        fasttrack.forget_agent(task)
    elif name == "write_image":
        task.set_internal(agent_image={k: result.get(k) for k in ("device", "checksum", "bytes_written",
                                                                  "disk_format")})


def properties_from(inventory: dict[str, Any], root_disk: dict[str, Any] | None) -> dict[str, Any]:
    """Ironic's scheduling properties from an inventory: cpus, cpu_arch, memory_mb, local_gb."""
    props: dict[str, Any] = {}
    cpu = inventory.get("cpu") or {}
    if cpu.get("count"):
        props["cpus"] = int(cpu["count"])
    if cpu.get("architecture"):
        props["cpu_arch"] = str(cpu["architecture"])
    memory = inventory.get("memory") or {}
    if memory.get("physical_mb"):
        props["memory_mb"] = int(memory["physical_mb"])
    elif memory.get("total"):
        props["memory_mb"] = int(memory["total"]) // (1024 * 1024)
    if root_disk and root_disk.get("size"):
        # like Ironic: one GiB less than the disk, for the partition table and friends
        props["local_gb"] = max(int(root_disk["size"]) // GIB - 1, 0)
    return props
