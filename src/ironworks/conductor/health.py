"""Node health (API 1.109), as Ironic's ``node_cache_health``: power sync reads each node's health from its BMC
through the management interface's ``get_node_health``; when the value differs from the recorded one the node
is locked, ``health`` follows, and the change is recorded in the node history (severity WARNING for
``Warning`` / ``Critical``). A driver without health support is skipped silently; a failed read is logged and
changes nothing.
"""

from __future__ import annotations

import logging

from ironworks import errors
from ironworks.conductor.task import Task, TaskContext, acquire
from ironworks.db.repos import history
from ironworks.drivers.base import HEALTH_STATES, ManagementInterface

LOG = logging.getLogger(__name__)


def read(view: Task) -> tuple[bool, str | None]:
    """``(known, value)``: what the BMC reports; ``known`` is False when the driver cannot tell (then the
    recorded value is left alone, as Ironic skips drivers without health support) or the read failed."""
    impl = view.driver.get("management")
    if not isinstance(impl, ManagementInterface):
        return False, None
    try:
        value = impl.get_node_health(view)
    except errors.Invalid:
        return False, None  # UnsupportedDriverExtension: skipped silently
    except Exception as exc:  # noqa: BLE001 - as Ironic: logged, never fatal for the power sync
        LOG.warning("Could not retrieve health status for node %s: %s", view.uuid, exc)
        return False, None
    if value is not None and value not in HEALTH_STATES:
        LOG.warning("Node %s reports invalid health value %r, ignoring.", view.uuid, value)
        return False, None
    return True, value


def record(task: Task, value: str | None) -> bool:
    """Record ``value`` as the node's health (the lock held); True when it changed."""
    old = task.node.get("health")
    if value == old:
        return False
    task.write(health=value)
    event = f"Node health status changed: health='{value or 'None'}' (previously '{old or 'None'}')"
    task.record(event, "monitoring", history.WARNING if value in ("Warning", "Critical") else history.INFO)
    if value in ("Warning", "Critical"):
        LOG.warning("Node %s health status indicates a problem: health=%s", task.uuid, value)
    return True


def sync(ctx: TaskContext, view: Task) -> bool:
    """Power sync's health step for one node read without the lock: lock only when the value changed."""
    known, value = read(view)
    if not known or value == view.node.get("health"):
        return False
    try:
        with acquire(ctx, view.node["id"], "caching health status", wait=False) as task:
            return record(task, value)
    except errors.NodeLocked:
        return False
