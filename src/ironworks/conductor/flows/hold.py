"""Unhold (API 1.85): ``deploy hold`` / ``clean hold`` / ``service hold`` → the wait state → on with the next step.

1. A ``hold`` step parked the node in its hold state (flows/steprunner.py), the index already past it.
2. The API's ``unhold`` moved the node to the matching wait state (``wait call-back`` / ``clean wait`` /
   ``service wait``), keeping its target, and recorded the intent, holding the lock.
3. Here the node is resumed at once and the interrupted flow goes on with its next step. (Ironic leaves the node
   in the wait state for the agent's next heartbeat, servicing excepted; going on at once gives the same
   result with an agent and lets nodes without one, such as fake hardware, finish.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks import states
from ironworks.conductor.flows import clean, deploy, service

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

#: hold state -> the wait state unhold leads to
WAIT_OF_HOLD = {
    states.DEPLOYHOLD: states.DEPLOYWAIT,
    states.CLEANHOLD: states.CLEANWAIT,
    states.SERVICEHOLD: states.SERVICEWAIT,
}


def run(task: Task, args: dict[str, Any]) -> None:
    state = task.node["provision_state"]
    task.process_event("resume", target=task.node["target_provision_state"])
    if state == states.DEPLOYWAIT:
        deploy.resume(task)
    elif state == states.CLEANWAIT:
        clean.resume(task)
    else:
        service.resume(task)
