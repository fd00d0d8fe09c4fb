"""Adoption: ``manageable`` (or ``adopt failed``) → ``adopting`` → ``active``, for a server already running.

1. The API moved the node to ``adopting`` and recorded the intent.
2. power, deploy and boot validate the node: an instance must be described well enough to manage it later.
3. The deploy interface takes the running instance over, without any power action.
4. The current power state is recorded and ``done`` → ``active``. Any failure: ``adopt failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks.conductor import flows

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "deploy", "boot")
    task.driver.deploy.take_over(task)
    state = task.driver.power.get_power_state(task)
    task.process_event("done", release=True, power_state=state, last_error=None)
