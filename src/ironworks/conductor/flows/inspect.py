"""Inspection: ``manageable`` (or ``inspect failed``) → ``inspecting`` → ``manageable``.

1. The API moved the node to ``inspecting`` and stamped ``inspection_started_at``.
2. The inspect interface validates, then discovers the hardware. Out-of-band inspection returns at once with
   updated properties; in-band inspection boots a ramdisk and parks the node in ``inspect wait`` until the
   data arrives (or the inspect callback timeout fails it).
3. The data arrives one of two ways, and both end in ``finish``:
   * Ironworks' agent answers ``get_inventory`` (``drivers/agent/resume.py`` stores the inventory and the
     scheduling properties, then calls ``finish_agent_inspection``);
   * a ramdisk posts to ``/v1/continue_inspection`` (Ironic's endpoint; ``api/routes/inspection.py`` checked
     who it is and moved the node back to ``inspecting``): ``continue_inspection`` runs Ironic's default
     hooks (``conductor/flows/inspect_data.py``: ramdisk error, interfaces, ports, architecture, properties).
4. ``finish``: the ``main`` inspection rules run over the data (their effects written to the node, its traits
   and ports), the inventory and plugin data are stored, the ramdisk is powered off and its boot files removed
   (unless fast track keeps it), and ``done`` → ``manageable`` with ``inspection_finished_at``.
   Any failure: ``inspect failed`` with ``last_error`` "Failed to finish inspection: …", as Ironic.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.conductor import flows
from ironworks.conductor.flows import inspect_data
from ironworks.db.models import utcnow
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

LOG = logging.getLogger(__name__)

#: the conductor action that processes data posted to /v1/continue_inspection
CONTINUE = "continue inspection"


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "inspect")
    if task.driver.inspect.inspect_hardware(task) == WAIT:
        task.process_event("wait", release=True)
        return
    task.process_event("done", release=True, inspection_finished_at=utcnow(), last_error=None)


def continue_inspection(task: Task, args: dict[str, Any]) -> None:
    """Data posted to ``/v1/continue_inspection``: hooks, then ``finish``."""
    inventory: dict[str, Any] = args["inventory"]
    plugin_data: dict[str, Any] = args.get("plugin_data") or {}
    task.set_internal(agent_last_heartbeat=utcnow().isoformat() + "Z")
    try:
        inspect_data.run_hooks(task, inventory, plugin_data)
    except errors.IronworksError as exc:
        _failed(task, f"Failed to finish inspection: failed to run inspection hooks: {exc.message}")
        return
    finish(task, inventory, plugin_data)


def finish_agent_inspection(task: Task) -> None:
    """Ironworks' agent answered ``get_inventory`` (already stored): rules, then the end of the inspection."""
    inventory, plugin_data = inspect_data.stored(task)
    finish(task, inventory, plugin_data)


def finish(task: Task, inventory: dict[str, Any], plugin_data: dict[str, Any]) -> None:
    try:
        inspect_data.apply_rules(task, inventory, plugin_data)
    except errors.IronworksError as exc:
        _failed(task, f"Failed to finish inspection: {exc.message}")
        return
    inspect_data.store(task, inventory, plugin_data)
    _leave_ramdisk(task)
    task.process_event("done", release=True, inspection_finished_at=utcnow(), last_error=None)


def _leave_ramdisk(task: Task) -> None:
    from ironworks.drivers import base
    from ironworks.drivers.agent import fasttrack
    from ironworks.drivers.agent.interfaces import power_off

    if fasttrack.usable(task):  # fast track: the agent stays up for what comes next
        return
    power_off(task)
    boot = task.driver.get("boot")
    if isinstance(boot, base.BootInterface):
        boot.clean_up_ramdisk(task)  # DHCP ignores the node again, its iPXE script is gone


def _failed(task: Task, message: str) -> None:
    try:
        _leave_ramdisk(task)
    except Exception:  # noqa: BLE001 - the failure to record matters more than the clean-up
        LOG.exception("Node %s: could not power off after the inspection failed", task.uuid)
    task.fail(message)
