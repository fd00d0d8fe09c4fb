"""Which boot mode (``bios`` / ``uefi``) a node should boot in, read from the node as Ironic does.

Order: ``instance_info.capabilities.boot_mode``, ``properties.capabilities`` (``"boot_mode:uefi,…"`` or a
dict), the mode last set through the management interface (``driver_internal_info.boot_mode_requested``),
the node's recorded ``boot_mode``, then UEFI (Ironic's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ironworks import errors

BOOT_MODES = ("bios", "uefi")
DEFAULT_BOOT_MODE = "uefi"
INTERNAL_KEY = "boot_mode_requested"


def _capability(capabilities: Any, name: str) -> str | None:
    if isinstance(capabilities, Mapping):
        value = capabilities.get(name)
        return str(value) if value is not None else None
    if isinstance(capabilities, str):
        for item in capabilities.split(","):
            key, _, value = item.partition(":")
            if key.strip() == name and value.strip():
                return value.strip()
    return None


def check_boot_mode(mode: Any) -> str:
    if mode not in BOOT_MODES:
        raise errors.InvalidParameterValue(f"Invalid boot mode {mode!r}: use one of {', '.join(BOOT_MODES)}.")
    return str(mode)


def desired_boot_mode(node: Mapping[str, Any]) -> str:
    instance_caps = (node.get("instance_info") or {}).get("capabilities")
    candidates = (
        _capability(instance_caps, "boot_mode"),
        _capability((node.get("properties") or {}).get("capabilities"), "boot_mode"),
        (node.get("driver_internal_info") or {}).get(INTERNAL_KEY),
        node.get("boot_mode"),
    )
    for candidate in candidates:
        if candidate:
            return check_boot_mode(str(candidate).lower())
    return DEFAULT_BOOT_MODE
