"""The driver registry: which hardware types are enabled, and resolving a node's interfaces.

Hardware types are discovered through the ``ironworks.hardware_types`` entry point group and filtered by the
``enabled_hardware_types`` setting. Built in the composition root; nothing here is global.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.drivers.base import BaseInterface, Driver, TaskView
from ironworks.drivers.hardware_types import FAKE_HARDWARE, INTERFACE_KINDS, IPMI, REDFISH, HardwareType
from ironworks.images import local

if TYPE_CHECKING:
    from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ironworks.hardware_types"
#: entry point group of interface implementations: each entry point loads a ``BaseInterface`` subclass
INTERFACE_ENTRY_POINT_GROUP = "ironworks.interfaces"
_BUILTIN = {hw.name: hw for hw in (FAKE_HARDWARE, IPMI, REDFISH)}


def discover() -> dict[str, HardwareType]:
    found = dict(_BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        hw = ep.load()
        if isinstance(hw, HardwareType):
            found[hw.name] = hw
    return found


def discover_implementations() -> dict[tuple[str, str], type[BaseInterface]]:
    """Built-in implementations (``drivers/fake.py``) plus those published under ``ironworks.interfaces``."""
    from ironworks.drivers import fake

    found: dict[tuple[str, str], type[BaseInterface]] = {(c.kind, c.name): c for c in fake.IMPLEMENTATIONS}
    for ep in entry_points(group=INTERFACE_ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - one broken plug-in must not stop the service
            LOG.warning("Cannot load interface implementation %s (%s): %s", ep.name, ep.value, exc)
            continue
        if isinstance(cls, type) and issubclass(cls, BaseInterface) and cls.kind and cls.name:
            found[(cls.kind, cls.name)] = cls
        else:
            LOG.warning("Entry point %s (%s) is not a BaseInterface implementation", ep.name, ep.value)
    return found


class DriverRegistry:
    def __init__(self, enabled: Iterable[str], available: Mapping[str, HardwareType] | None = None) -> None:
        available = dict(available) if available is not None else discover()
        missing = [name for name in enabled if name not in available]
        if missing:
            raise ValueError(f"enabled_hardware_types names unknown hardware types: {', '.join(missing)}")
        self.hardware_types: dict[str, HardwareType] = {name: available[name] for name in enabled}
        #: (interface kind, implementation name) -> one shared instance
        self.implementations: dict[tuple[str, str], BaseInterface] = {
            key: cls() for key, cls in discover_implementations().items()
        }

    def register(self, impl: BaseInterface) -> None:
        """Add (or replace) an implementation instance, e.g. one a plug-in builds with its own clients."""
        self.implementations[(impl.kind, impl.name)] = impl

    def implementation(self, kind: str, name: str | None) -> BaseInterface | None:
        return self.implementations.get((kind, name or ""))

    def driver_for(self, node: Mapping[str, Any]) -> Driver:
        """The node's interfaces; a kind whose implementation is not (yet) available is left out."""
        interfaces: dict[str, BaseInterface] = {}
        for kind in INTERFACE_KINDS:
            impl = self.implementation(kind, node.get(f"{kind}_interface"))
            if impl is not None:
                interfaces[kind] = impl
        return Driver(node["driver"], interfaces)

    def get(self, name: str) -> HardwareType:
        try:
            return self.hardware_types[name]
        except KeyError:
            raise errors.DriverNotFound(driver_name=name) from None

    def check_driver(self, name: Any) -> HardwareType:
        """400 for a driver name that is not an enabled hardware type (node create/update)."""
        if not isinstance(name, str) or name not in self.hardware_types:
            raise errors.InvalidParameterValue(
                f"The driver {name!r} is unknown or not enabled. Enabled hardware types: "
                f"{', '.join(sorted(self.hardware_types))}."
            )
        return self.hardware_types[name]

    def validate(self, task: TaskView) -> dict[str, dict[str, Any]]:
        """``GET /v1/nodes/{node}/validate`` in Ironic's shape: ``{"power": {"result": true}, "rescue": {"result":
        false, "reason": "..."}, ...}`` for every interface but vendor, each by its implementation's own
        ``validate`` (no I/O). An implementation this service does not have, or one its hardware type does not
        offer (any more), is false with the reason: nothing is reported true that the conductor would refuse.
        """
        node = task.node
        hw = self.hardware_types.get(node.get("driver") or "")
        result: dict[str, dict[str, Any]] = {}
        for kind in INTERFACE_KINDS:
            if kind == "vendor":
                continue  # as Ironic: vendor passthru is not validated here
            name = node.get(f"{kind}_interface")
            impl = self.implementation(kind, name)
            if hw is None:
                reason = (f"Hardware type {node.get('driver')!r} is not enabled in this conductor "
                          f"(enabled_hardware_types).")
            elif name not in hw.supported(kind):
                reason = (f"The {kind} interface {name!r} is not supported by hardware type {hw.name!r}. Supported: "
                          f"{', '.join(hw.supported(kind))}.")
            elif impl is None:
                reason = f"The {kind} interface {name!r} is not implemented in this conductor."
            else:
                try:
                    impl.validate(task)
                except errors.IronworksError as exc:
                    result[kind] = {"result": False, "reason": exc.message}
                except Exception as exc:  # noqa: BLE001 - one broken interface must not turn validate into a 500
                    LOG.exception("Node %s: validating the %s interface %s failed", node.get("uuid"), kind, name)
                    result[kind] = {"result": False, "reason": f"Unexpected error: {type(exc).__name__}"}
                else:
                    result[kind] = {"result": True}
                continue
            result[kind] = {"result": False, "reason": reason}
        return result

    def check_driver_info(self, driver_info: Any, settings: Settings) -> None:
        """Enrollment and PATCH: 400 for a local path in ``driver_info`` outside its allowed directory
        (deploy kernel/ramdisk: ``local_image_dirs``; the fake power file: ``<state_dir>/fake/``)."""
        if isinstance(driver_info, Mapping):
            local.check_driver_info(driver_info, settings)

    def resolve_interfaces(self, driver: str, requested: Mapping[str, Any]) -> dict[str, str]:
        """Fill every ``<kind>_interface`` with the requested implementation or the type's default.

        Raises Invalid (400) when an implementation is not supported by the hardware type.
        """
        hw = self.check_driver(driver)
        resolved: dict[str, str] = {}
        for kind in INTERFACE_KINDS:
            field = f"{kind}_interface"
            value = requested.get(field)
            if value is None:
                resolved[field] = hw.default(kind)
                continue
            if value not in hw.supported(kind):
                raise errors.InvalidParameterValue(
                    f"Could not find a suitable {kind} interface for hardware type {hw.name!r}: {value!r} is "
                    f"not supported. Supported: {', '.join(hw.supported(kind))}."
                )
            resolved[field] = value
        return resolved
