"""Inspection: ``manageable`` (or ``inspect failed``) → ``inspecting`` → ``manageable``.

1. The API moved the node to ``inspecting`` and stamped ``inspection_started_at``.
2. The inspect interface validates, then discovers the hardware. Out-of-band inspection returns at once with
   updated properties; in-band inspection boots a ramdisk and parks the node in ``inspect wait`` until the
   data arrives (or the inspect callback timeout fails it).
3. ``done`` → ``manageable`` with ``inspection_finished_at``. Any failure: ``inspect failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks.conductor import flows
from ironworks.db.models import utcnow
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task


def run(task: Task, args: dict[str, Any]) -> None:
    flows.validate(task, "power", "inspect")
    if task.driver.inspect.inspect_hardware(task) == WAIT:
        task.process_event("wait", release=True)
        return
    task.process_event("done", release=True, inspection_finished_at=utcnow(), last_error=None)
