"""Firmware components: what a firmware interface read from the hardware, cached per node.

A firmware interface reads the components (``{"component", "current_version", "vendor", "model",
"serial_number"}``) and hands them to :func:`record`, which replaces the node's rows in the
``firmware_information`` table (db/repos/firmware.py) as Ironic's ``sync_firmware_components`` does. The cache is
refreshed when cleaning starts (conductor/flows/clean.py, like the BIOS settings) and by the ``update`` step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ironworks import errors
from ironworks.drivers.base import TaskView


def record(task: TaskView, components: Sequence[Mapping[str, Any]]) -> None:
    """Replace the node's cached components with ``components``, in the task's own write transaction."""
    ctx = getattr(task, "ctx", None)  # the conductor's Task (conductor/task.py) carries its TaskContext
    if ctx is None:
        raise errors.DriverError(reason="firmware components can only be cached inside a conductor task")
    from ironworks.db.repos import firmware

    with ctx.write() as session:
        firmware.sync(session, task.node["id"], components)


def parse_settings(settings: Any) -> list[dict[str, Any]]:
    """The ``settings`` argument of the ``update`` step: a non-empty list of ``{"component", "url", …}``
    (Ironic's redfish firmware update shape); the URL must be http(s) (images/sources.py)."""
    from ironworks.images.sources import check_url

    if not isinstance(settings, list) or not settings:
        raise errors.InvalidParameterValue(
            "The 'settings' argument must be a non-empty list of objects with 'component' and 'url'."
        )
    out: list[dict[str, Any]] = []
    for item in settings:
        if not isinstance(item, dict) or not isinstance(item.get("component"), str) or not item["component"]:
            raise errors.InvalidParameterValue("Each firmware setting must be an object with a 'component' string.")
        unknown = set(item) - {"component", "url", "checksum", "wait", "version"}
        if unknown:
            raise errors.InvalidParameterValue(
                f"Unknown key(s) {', '.join(sorted(unknown))} in the firmware setting of {item['component']!r}."
            )
        check_url(item.get("url"), f"Firmware URL of {item['component']!r}")
        if len(item["url"]) > 2048:
            raise errors.InvalidParameterValue(f"Firmware URL of {item['component']!r} is longer than 2048.")
        out.append(dict(item))
    return out
