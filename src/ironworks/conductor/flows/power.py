"""Power actions (``PUT /v1/nodes/{node}/states/power``): power on / off, reboot, soft power off / reboot.

1. The API checked the target, set ``target_power_state`` and recorded the intent, holding the lock.
2. The power interface validates and performs the action (with the optional timeout).
3. ``power_state`` is set to what the BMC reports, ``target_power_state`` cleared, the lock released.
   On failure ``last_error`` says why, the failure is recorded in the node history, and the recorded power
   state is left as it was. Provision state never changes here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks import states
from ironworks.conductor import flows
from ironworks.db.repos import history

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    target = args["target"]
    timeout = args.get("timeout")
    try:
        flows.validate(task, "power")
        iface = task.driver.power
        if target in (states.REBOOT, states.SOFT_REBOOT):
            reached = iface.reboot(task, soft=target == states.SOFT_REBOOT, timeout=timeout)
        else:
            reached = iface.set_power_state(task, target, timeout=timeout)
    except Exception as exc:
        message = f"Failed to change power state to '{target}'. Error: {exc}"
        task.write(target_power_state=None, last_error=message)
        task.record(message, "power", history.ERROR)
        task.release(error=message)
        return
    task.write(power_state=reached, target_power_state=None, last_error=None)
    task.release()
