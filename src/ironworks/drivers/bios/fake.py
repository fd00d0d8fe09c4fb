"""The ``fake`` BIOS interface of ``fake-hardware``: a simulated firmware with an attribute registry.

The firmware's current attributes live in ``driver_internal_info.fake_bios`` (what a BMC would hold; absent
means factory defaults, :data:`DEFAULTS`). ``apply_configuration`` checks each setting against the registry
(unknown name, read-only attribute, value not allowed, out of bounds → the step fails with Ironic's
``InvalidParameterValue`` and nothing changes), writes them and caches the result; ``factory_reset`` restores the
defaults and caches; ``cache_bios_settings`` (run when cleaning starts) reads the firmware into the cache.
"""

from __future__ import annotations

from typing import Any

from ironworks import errors
from ironworks.drivers import base
from ironworks.drivers.base import TaskView, clean_step, deploy_step, service_step
from ironworks.drivers.bios import parse_settings, record

FIRMWARE_KEY = "fake_bios"

#: name -> (default value, registry)
REGISTRY: dict[str, tuple[str, dict[str, Any]]] = {
    "BootMode": (
        "Uefi",
        {
            "attribute_type": "Enumeration",
            "allowable_values": ["Bios", "Uefi"],
            "read_only": False,
            "reset_required": True,
            "unique": False,
        },
    ),
    "ProcVirtualization": (
        "Enabled",
        {
            "attribute_type": "Enumeration",
            "allowable_values": ["Enabled", "Disabled"],
            "read_only": False,
            "reset_required": True,
            "unique": False,
        },
    ),
    "NumCores": (
        "8",
        {
            "attribute_type": "Integer",
            "lower_bound": 1,
            "upper_bound": 64,
            "read_only": False,
            "reset_required": True,
            "unique": False,
        },
    ),
    "AssetTag": (
        "",
        {
            "attribute_type": "String",
            "min_length": 0,
            "max_length": 32,
            "read_only": False,
            "reset_required": False,
            "unique": True,
        },
    ),
    "SerialNumber": (
        "FAKE-0001",
        {
            "attribute_type": "String",
            "min_length": 1,
            "max_length": 16,
            "read_only": True,
            "reset_required": False,
            "unique": True,
        },
    ),
}
DEFAULTS = {name: default for name, (default, _) in REGISTRY.items()}

_SETTINGS_ARG = {"settings": {"description": "a list of {name, value} BIOS settings to apply", "required": True}}


def check(name: str, value: Any) -> str:
    """The value as the firmware stores it (a string), or InvalidParameterValue as Ironic reports it."""
    if name not in REGISTRY:
        raise errors.InvalidParameterValue(f"BIOS setting {name!r} does not exist in the attribute registry.")
    reg = REGISTRY[name][1]
    if reg.get("read_only"):
        raise errors.InvalidParameterValue(f"BIOS setting {name!r} is read-only.")
    text = str(value).lower() if isinstance(value, bool) else "" if value is None else str(value)
    kind = reg["attribute_type"]
    if kind == "Enumeration" and text not in reg["allowable_values"]:
        raise errors.InvalidParameterValue(
            f"Value {text!r} of BIOS setting {name!r} is not one of {', '.join(reg['allowable_values'])}."
        )
    if kind == "Integer":
        try:
            number = int(text)
        except ValueError:
            raise errors.InvalidParameterValue(f"Value {text!r} of BIOS setting {name!r} is not an integer.") from None
        if not reg["lower_bound"] <= number <= reg["upper_bound"]:
            raise errors.InvalidParameterValue(
                f"Value {number} of BIOS setting {name!r} is outside [{reg['lower_bound']}, {reg['upper_bound']}]."
            )
        text = str(number)
    if kind == "String" and not reg["min_length"] <= len(text) <= reg["max_length"]:
        raise errors.InvalidParameterValue(
            f"Value of BIOS setting {name!r} must be {reg['min_length']} to {reg['max_length']} characters long."
        )
    return text


class FakeBios(base.BiosInterface):
    name = "fake"

    def _firmware(self, task: TaskView) -> dict[str, str]:
        current = task.node["driver_internal_info"].get(FIRMWARE_KEY)
        return dict(current) if isinstance(current, dict) else dict(DEFAULTS)

    def cache_bios_settings(self, task: TaskView) -> None:
        firmware = self._firmware(task)
        record(task, {name: {"value": firmware.get(name), **REGISTRY[name][1]} for name in REGISTRY})

    @service_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    @clean_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    @deploy_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    def apply_configuration(self, task: TaskView, settings: Any) -> None:
        """Apply BIOS settings (all or none) and cache the result."""
        wanted = {name: check(name, value) for name, value in parse_settings(settings).items()}
        task.set_internal(**{FIRMWARE_KEY: {**self._firmware(task), **wanted}})
        self.cache_bios_settings(task)

    @service_step(priority=0, requires_ramdisk=False)
    @clean_step(priority=0, requires_ramdisk=False)
    @deploy_step(priority=0, requires_ramdisk=False)
    def factory_reset(self, task: TaskView) -> None:
        """Restore the factory defaults and cache them."""
        task.set_internal(**{FIRMWARE_KEY: dict(DEFAULTS)})
        self.cache_bios_settings(task)
