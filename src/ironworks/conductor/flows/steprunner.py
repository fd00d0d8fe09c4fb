"""Running a persisted list of clean, deploy or service steps, one at a time, resumable after a wait.

The plan and the index of the next step live in ``driver_internal_info`` (``<kind>_steps``,
``<kind>_step_index``); the running step is shown in the node's ``clean_step`` / ``deploy_step`` /
``service_step``. A step that returns ``WAIT`` parks the node in the wait state; the agent's call back resumes
at the next index.

Reserved steps (``steps.RESERVED``) run here, not in a driver: ``hold`` parks the node in ``<kind> hold`` (the
``unhold`` verb goes on with the next step), ``wait`` parks it in the wait state (or, with ``args.seconds``,
sleeps and goes on), ``power_on`` / ``power_off`` / ``reboot`` act on the power and record the state reached.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.conductor import flows, steps
from ironworks.db.repos import history
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
        # the step may change driver_internal_info itself
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


def cleared_info(task: Task, kind: str) -> dict[str, Any]:
    """driver_internal_info without the step bookkeeping of ``kind``."""
    info = dict(task.node["driver_internal_info"] or {})
    info.pop(f"{kind}_steps", None)
    info.pop(f"{kind}_step_index", None)
    return info
