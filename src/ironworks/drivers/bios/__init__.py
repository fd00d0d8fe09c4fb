"""BIOS settings: the cache Ironic keeps of what the BMC reported, and the ``fake`` BIOS's simulated firmware.

The cache lives in the node's ``driver_internal_info`` under :data:`CACHE_KEY` (no table of its own): a mapping
``name -> {"value", "created_at", "updated_at", <registry fields>}``. :func:`record` replaces it with what a
BIOS interface just read from the BMC, keeping ``created_at`` of settings that existed and moving
``updated_at`` only when a value changed, as Ironic's ``BIOSSettingList.sync_node_setting`` does.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ironworks import errors
from ironworks.drivers.base import TaskView

#: driver_internal_info key of the cached settings
CACHE_KEY = "bios_settings"
#: registry fields of API 1.74, in Ironic's order
REGISTRY_FIELDS = (
    "attribute_type",
    "allowable_values",
    "lower_bound",
    "max_length",
    "min_length",
    "read_only",
    "reset_required",
    "unique",
    "upper_bound",
)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def cached(node: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    settings = (node.get("driver_internal_info") or {}).get(CACHE_KEY)
    return dict(settings) if isinstance(settings, dict) else {}


def record(task: TaskView, read: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the cache with ``read`` (name -> {"value": …, registry fields…}) as read from the BMC."""
    old = cached(task.node)
    now = _now()
    new: dict[str, dict[str, Any]] = {}
    for name, setting in read.items():
        value = setting.get("value")
        value = None if value is None else str(value)
        before = old.get(name) or {}
        entry: dict[str, Any] = {
            "value": value,
            "created_at": before.get("created_at") or now,
            "updated_at": before.get("updated_at"),
        }
        if before and before.get("value") != value:
            entry["updated_at"] = now
        for field in REGISTRY_FIELDS:
            entry[field] = setting.get(field)
        new[str(name)] = entry
    task.set_internal(**{CACHE_KEY: new})


def parse_settings(settings: Any) -> dict[str, Any]:
    """The ``settings`` argument of ``apply_configuration``: a non-empty list of ``{"name", "value"}``."""
    if not isinstance(settings, list) or not settings:
        raise errors.InvalidParameterValue(
            "The 'settings' argument must be a non-empty list of objects with 'name' and 'value'."
        )
    out: dict[str, Any] = {}
    for item in settings:
        if (
            not isinstance(item, dict)
            or set(item) != {"name", "value"}
            or not isinstance(item["name"], str)
            or not item["name"]
            or len(item["name"]) > 255
        ):
            raise errors.InvalidParameterValue(
                "Each BIOS setting must be an object with exactly 'name' (a string) and 'value'."
            )
        if not isinstance(item["value"], str | int | float | bool | None):
            raise errors.InvalidParameterValue(f"The value of BIOS setting {item['name']!r} must be a scalar.")
        out[item["name"]] = item["value"]
    return out
