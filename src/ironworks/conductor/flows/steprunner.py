"""Running a persisted list of clean or deploy steps, one at a time, resumable after a wait.

The plan and the index of the next step live in ``driver_internal_info`` (``<kind>_steps``,
``<kind>_step_index``); the running step is shown in the node's ``clean_step`` / ``deploy_step``. A step that
returns ``WAIT`` parks the node in the wait state; the agent's call back resumes at the next index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks.conductor import steps
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


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
        result = steps.execute(task, step)  # the step may change driver_internal_info itself
        index += 1
        if result == WAIT:
            info = {**(task.node["driver_internal_info"] or {}), f"{kind}_step_index": index}
            task.write(driver_internal_info=info)
            task.process_event("wait", target=task.node["target_provision_state"], release=True)
            return False
    return True


def cleared_info(task: Task, kind: str) -> dict[str, Any]:
    """driver_internal_info without the step bookkeeping of ``kind``."""
    info = dict(task.node["driver_internal_info"] or {})
    info.pop(f"{kind}_steps", None)
    info.pop(f"{kind}_step_index", None)
    return info
