"""Running a persisted list of clean, deploy or service steps, one at a time, resumable after a wait.

The plan and the index of the next step live in ``driver_internal_info`` (``<kind>_steps``,
``<kind>_step_index``); the running step is shown in the node's ``clean_step`` / ``deploy_step`` /
``service_step``. A step that returns ``WAIT`` parks the node in the wait state; the agent's call back resumes
at the next index.

Reserved steps (``steps.RESERVED``) run here, not in a driver: ``hold`` parks the node in ``<kind> hold`` (the
``unhold`` verb goes on with the next step), ``wait`` parks it in the wait state (or, with ``args.seconds``,
sleeps and goes on), ``power_on`` / ``power_off`` / ``reboot`` act on the power and record the state reached.

A step with ``execute_on_child_nodes`` (API 1.83) runs instead on each child node of this node (those listed in
``limit_child_node_execution`` only, if given; listed nodes that are not children are skipped, as Ironic), one
after the other, each under the child's own lock (a locked child: ``NodeLocked`` after the usual retries) and
with the child's driver, where it must be a declared step of its kind (or a power reserved step). A child's
step may not wait or hold (Ironic's ``permit_child_node_step_async_result`` is off); any failure fails the
parent's operation, naming the child.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ironworks import errors, states
from ironworks.conductor import flows, steps
from ironworks.conductor.task import NODES, acquire
from ironworks.db.repos import history
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

LOG = logging.getLogger(__name__)


def store_plan(task: Task, kind: str, plan: list[dict[str, Any]]) -> None:
    """Remember the plan; it is persisted with the first step (or the flow's next write)."""
    task.node["driver_internal_info"] = {**(task.node["driver_internal_info"] or {}), f"{kind}_steps": plan,
                                         f"{kind}_step_index": 0}


def run(task: Task, kind: str) -> bool:
    """Run the remaining steps. True when all ran; False when a step asked to wait (node now in wait state)."""
    info = dict(task.node["driver_internal_info"] or {})
    plan: list[dict[str, Any]] = info.get(f"{kind}_steps") or []
    index = int(info.get(f"{kind}_step_index") or 0)
    while index < len(plan):
        step = plan[index]
        info = {**(task.node["driver_internal_info"] or {}), f"{kind}_step_index": index}
        task.write(**{f"{kind}_step": step, "driver_internal_info": info})
        # the step may change driver_internal_info itself
        result: Any = None
        if step.get("execute_on_child_nodes"):
            _on_children(task, kind, step)
        else:
            result = _reserved(task, step) if step["step"] in steps.RESERVED else steps.execute(task, step)
        index += 1
        if result in (WAIT, "hold"):
            info = {**(task.node["driver_internal_info"] or {}), f"{kind}_step_index": index}
            task.write(driver_internal_info=info)
            task.process_event(result, target=task.node["target_provision_state"], release=True)
            return False
    return True


_POWER_STEPS = {"power_on": states.POWER_ON, "power_off": states.POWER_OFF, "reboot": states.REBOOT}


def _reserved(task: Task, step: dict[str, Any]) -> str | None:
    """Ironic's ``use_reserved_step_handler``: "hold" or ``WAIT`` to park the node, None to go on."""
    name = step["step"]
    if name in _POWER_STEPS:
        task.write(power_state=flows.set_power(task, _POWER_STEPS[name]), target_power_state=None)
        return None
    if name == "hold":
        return "hold"
    seconds = (step.get("args") or {}).get("seconds")
    if seconds is None:
        return WAIT  # as Ironic: the node waits (for the agent's heartbeat, or the callback timeout)
    try:
        delay = float(seconds)
    except (TypeError, ValueError):
        raise errors.InvalidParameterValue(f"The seconds of a wait step must be a number, not {seconds!r}.") from None
    if delay > steps.MAX_WAIT_STEP_SECONDS:
        warning = (f"A wait time exceeding the configured maximum has been requested. Holding for "
                   f"{steps.MAX_WAIT_STEP_SECONDS}, got {seconds}.")
        task.record(warning, task.node["provision_state"], history.WARNING)
        delay = steps.MAX_WAIT_STEP_SECONDS
    time.sleep(max(delay, 0.0))
    return None


def _children(task: Task, limit: list[str]) -> list[str]:
    """The uuids of this node's child nodes, restricted to ``limit`` when it names any."""
    query = select(NODES.c.uuid).where(NODES.c.parent_node == task.uuid).order_by(NODES.c.id)
    if limit:
        query = query.where(NODES.c.uuid.in_(limit))
    with task.ctx.write() as session:
        return [str(u) for u in session.execute(query).scalars()]


def _on_children(task: Task, kind: str, step: dict[str, Any]) -> None:
    name = f"{step['interface']}.{step['step']}"
    for uuid in _children(task, step.get("limit_child_node_execution") or []):
        LOG.info("Node %s: running %s step %s on child node %s", task.uuid, kind, name, uuid)
        try:
            with acquire(task.ctx, uuid, purpose="execute step") as child:
                if step["step"] in _POWER_STEPS:
                    result = _reserved(child, step)
                elif step["step"] in steps.RESERVED:
                    raise errors.InvalidParameterValue(f"The {step['step']} step cannot run on a child node.")
                else:
                    result = steps.execute(child, steps.resolve_one(child.driver, kind, step))
        except errors.IronworksError as exc:
            raise errors.ChildNodeStepFailed(step=name, node=uuid, reason=exc.message) from exc
        if result is not None:
            raise errors.ChildNodeStepFailed(step=name, node=uuid, reason=f"the step returned {result!r}; a step "
                                             "on a child node must finish without waiting")


def cleared_info(task: Task, kind: str) -> dict[str, Any]:
    """driver_internal_info without the step bookkeeping of ``kind``."""
    info = dict(task.node["driver_internal_info"] or {})
    info.pop(f"{kind}_steps", None)
    info.pop(f"{kind}_step_index", None)
    return info
