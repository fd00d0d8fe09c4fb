"""Variables in rule arguments, as Ironic's ``Base.interpolate_variables``: ``str.format`` over ``node``,
``inventory``, ``plugin_data`` and, in a loop, ``item``.

Ironic formats with Python's own ``str.format``, which also walks attributes (``{node.__class__…}``) and
accepts any width (``{inventory:>999999999}``). Here a formatter allows attribute access only on the node view
(fields by name, never ``_``-prefixed) and widths/precisions up to ``MAX_WIDTH``; anything else fails the
variable, which (as in Ironic) leaves the text as it was. Secrets: ``masked`` replaces Ironic's
``ShallowMaskDict`` (keys ``password``, ``auth_token``, ``bmc_password`` read ``***``), and the node view shows
``driver_info`` and ``instance_info`` with Ironworks' own secret masking.
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # the field-name splitter str.format itself uses
import logging
import re
import string
from collections.abc import Mapping
from typing import Any

from ironworks.logs import mask_secrets

LOG = logging.getLogger(__name__)

SENSITIVE_FIELDS = frozenset({"password", "auth_token", "bmc_password"})
MASK = "***"
MAX_WIDTH = 4096
_SPEC_NUMBERS = re.compile(r"\d+")
#: node fields a rule may read as ``{node.<field>}``
NODE_FIELDS = (
    "uuid",
    "name",
    "driver",
    "properties",
    "extra",
    "driver_info",
    "instance_info",
    "resource_class",
    "provision_state",
    "power_state",
    "conductor_group",
    "owner",
    "lessee",
    "description",
    "traits",
    "driver_internal_info",
    "shard",
    "boot_mode",
    "secure_boot",
)
_SECRET_FIELDS = ("driver_info", "instance_info", "driver_internal_info")


class NodeView:
    """What ``{node.…}`` reads: the node's fields by name (secrets masked), nothing else."""

    __slots__ = ("_fields",)

    def __init__(self, node: Mapping[str, Any]) -> None:
        fields = {k: node.get(k) for k in NODE_FIELDS}
        for key in _SECRET_FIELDS:
            if isinstance(fields.get(key), dict):
                fields[key] = mask_secrets(fields[key])
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        if name.startswith("_") or name not in fields:
            raise AttributeError(name)
        return fields[name]

    def __format__(self, spec: str) -> str:
        return format(str(object.__getattribute__(self, "_fields")), spec)


class _Formatter(string.Formatter):
    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            if is_attr:
                if not isinstance(obj, NodeView) or str(key).startswith("_"):
                    raise AttributeError(key)
                obj = getattr(obj, key)
            else:
                obj = obj[key]
        return obj, first

    def format_field(self, value: Any, format_spec: str) -> str:
        if any(int(n) > MAX_WIDTH for n in _SPEC_NUMBERS.findall(format_spec)):
            raise ValueError(f"format width above {MAX_WIDTH}")
        return super().format_field(value, format_spec)

    def check_unused_args(self, used_args: Any, args: Any, kwargs: Any) -> None:
        return None


_FORMATTER = _Formatter()


def safe_format(value: Any, context: dict[str, Any], op: str | None = None) -> Any:
    """``value.format(**context)`` for a string; on failure the string unchanged (``None`` for a missing key
    under ``is-empty``), as Ironic."""
    if not isinstance(value, str):
        return value
    try:
        return _FORMATTER.vformat(value, (), context)
    except KeyError:
        if op == "is-empty":
            return None
        LOG.warning("Interpolation failed (missing field): %s", value)
        return value
    except (AttributeError, ValueError, IndexError, TypeError, RecursionError) as exc:
        LOG.warning("Interpolation failed: %s: %s, %s", value, type(exc).__name__, exc)
        return value


def interpolate(value: Any, context: dict[str, Any], *, looping: bool = False, op: str | None = None) -> Any:
    """Ironic's recursive interpolation: strings formatted, dict keys and values, list items."""
    if looping:
        value = safe_format(value, context, op)
    if isinstance(value, str):
        return safe_format(value, context, op)
    if isinstance(value, dict):
        return {safe_format(k, context, op): interpolate(v, context, op=op) for k, v in value.items()}
    if isinstance(value, list):
        return [safe_format(v, context, op) if isinstance(v, str) else interpolate(v, context, op=op) for v in value]
    return value


def masked(data: Any, enabled: bool = True) -> Any:
    """A copy of ``data`` whose sensitive keys read ``***`` (the input itself when masking is off)."""
    if not enabled:
        return data
    if isinstance(data, dict):
        return {k: MASK if k in SENSITIVE_FIELDS else masked(v) for k, v in data.items()}
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data
