"""Verify: ``enroll`` → ``verifying`` → ``manageable`` (target ``manage`` from enroll).

1. The API moved the node to ``verifying`` and recorded the intent.
2. The power and management interfaces validate the node's driver_info (no I/O).
3. The power state is read from the BMC and recorded.
4. ``done`` → ``manageable``. Any failure goes back to ``enroll`` with ``last_error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks.conductor import flows

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "management")
    state = task.driver.power.get_power_state(task)
    task.process_event("done", release=True, power_state=state, last_error=None)
