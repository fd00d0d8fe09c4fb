"""One module per flow. Each ``run(task, args)`` starts with the node locked in the flow's first transient state
(moved there by the API request, together with the durable intent) and ends by moving it on with
``release=True``: to the next stable state, a wait state, or (through the runner) the matching failed state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ironworks import errors, states

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def validate(task: Task, *kinds: str) -> None:
    """Driver validation (no I/O) of the interfaces a flow needs; a missing implementation is an error."""
    for kind in kinds:
        impl = task.driver.get(kind)
        if impl is None:
            raise errors.DriverError(
                reason=f"the {kind} interface {task.node.get(f'{kind}_interface')!r} of hardware type "
                       f"{task.node['driver']!r} is not available in this conductor")
        impl.validate(task)


def set_power(task: Task, target: str) -> str:
    """Power the node on/off as part of a flow; the caller records the state reached with its next write."""
    iface = task.driver.power
    return iface.reboot(task) if target == states.REBOOT else iface.set_power_state(task, target)
