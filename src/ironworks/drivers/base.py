"""The driver interfaces: one abstract class per interface kind, and the step decorators.

A hardware type (``hardware_types.py``) is composed of one implementation of each kind; ``registry.py`` maps
``(kind, implementation name)`` to the class. The conductor builds a ``Driver`` (one instance per interface)
for the node it has locked and calls it with a ``TaskView``:

* ``task.node``         the node record (a dict of columns), fresh from the database
* ``task.settings``     the service ``Settings``
* ``task.set_internal(**values)``  merge values into ``driver_internal_info`` (persisted at once)
* ``task.update(**columns)``       persist other node columns a driver owns (``power_state`` is *not* one:
                                   the conductor records it from what ``set_power_state`` returns)

Rules every implementation follows:

* ``validate(task)`` is fast and does no hardware I/O: it checks ``driver_info`` and raises
  ``errors.InvalidParameterValue`` / ``errors.MissingParameterValue``.
* hardware and library failures are translated at the boundary into ``errors.DriverError`` (``raise … from``).
* interfaces never ``isinstance`` their siblings; they reach them through ``task.driver.<kind>`` if they must.
* long operations that wait for the ramdisk return a wait marker (``WAIT``) instead of sleeping; the conductor
  then persists the matching wait state (``wait call-back``, ``clean wait``…).
* clean and deploy steps are methods decorated once with ``@clean_step`` / ``@deploy_step``.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from ironworks import errors

if TYPE_CHECKING:
    from ironworks.settings import Settings

#: returned by deploy / clean / inspect / rescue operations that continue when the ramdisk calls back
WAIT = "wait"

#: indicator states (Ironic's ``indicator_states``)
INDICATOR_STATES = ("OFF", "ON", "BLINKING", "UNKNOWN")

#: boot devices (Ironic's names)
BOOT_DEVICES = ("pxe", "disk", "cdrom", "bios", "safe", "wanboot", "uefi", "floppy")
#: devices a virtual medium can be attached as (Ironic's ``boot_devices.VMEDIA_DEVICES``)
VMEDIA_DEVICES = ("disk", "cdrom", "floppy")
#: the node health values of API 1.109 (Ironic's ``health_states.HealthState``)
HEALTH_STATES = ("OK", "Warning", "Critical")

F = TypeVar("F", bound=Callable[..., Any])


# --- steps ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StepInfo:
    """What a ``@clean_step`` / ``@deploy_step`` decorator attaches to a method."""

    kind: str  # "clean", "deploy" or "service"
    priority: int
    abortable: bool = False
    argsinfo: dict[str, dict[str, Any]] | None = None
    requires_ramdisk: bool = True


def _step(kind: str, priority: int, abortable: bool, argsinfo: dict[str, dict[str, Any]] | None,
          requires_ramdisk: bool) -> Callable[[F], F]:
    if not isinstance(priority, int) or priority < 0:
        raise ValueError(f"{kind} step priority must be a non-negative integer, not {priority!r}")
    for name, info in (argsinfo or {}).items():
        if not isinstance(info, dict) or "description" not in info:
            raise ValueError(f"argsinfo of {name!r} needs a 'description'")

    def decorate(func: F) -> F:
        infos = dict(getattr(func, "_ironworks_steps", {}))
        infos[kind] = StepInfo(kind, priority, abortable, argsinfo, requires_ramdisk)
        func._ironworks_steps = infos  # type: ignore[attr-defined]
        return func

    return decorate


def clean_step(priority: int, abortable: bool = False, argsinfo: dict[str, dict[str, Any]] | None = None,
               requires_ramdisk: bool = True) -> Callable[[F], F]:
    """Declare a method a clean step. ``priority`` 0 means "manual cleaning only"."""
    return _step("clean", priority, abortable, argsinfo, requires_ramdisk)


def deploy_step(priority: int, argsinfo: dict[str, dict[str, Any]] | None = None,
                requires_ramdisk: bool = True) -> Callable[[F], F]:
    """Declare a method a deploy step. ``priority`` 0 means "only when requested by the user"."""
    return _step("deploy", priority, False, argsinfo, requires_ramdisk)


def service_step(priority: int = 0, abortable: bool = False, argsinfo: dict[str, dict[str, Any]] | None = None,
                 requires_ramdisk: bool = True) -> Callable[[F], F]:
    """Declare a method a service step (API 1.87): run on an ``active`` node only when a user asks for it."""
    return _step("service", priority, abortable, argsinfo, requires_ramdisk)


def unsupported(task: TaskView, extension: str) -> errors.InvalidParameterValue:
    """Ironic's ``UnsupportedDriverExtension`` (an Invalid: 400) for ``extension`` of the node's driver."""
    return errors.InvalidParameterValue(
        f"Driver {task.node.get('driver')} does not support {extension} (disabled or not implemented).")


# --- what a driver sees of the conductor's task ---------------------------------------------------------------
class TaskView(Protocol):
    node: dict[str, Any]
    settings: Settings

    @property
    def driver(self) -> Driver: ...

    def set_internal(self, **values: Any) -> None: ...

    def update(self, **columns: Any) -> None: ...


class BaseInterface(abc.ABC):  # noqa: B024 - kinds declare the abstract methods
    """Common base: ``kind`` and ``name`` identify the implementation, ``driver_info`` documents its keys."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    #: driver_info keys that must be present
    required_info: ClassVar[tuple[str, ...]] = ()
    #: driver_info key -> description (``GET /v1/drivers/{name}/properties``)
    properties: ClassVar[dict[str, str]] = {}

    def validate(self, task: TaskView) -> None:
        """Check ``driver_info`` without I/O. The default checks ``required_info``."""
        missing = [key for key in self.required_info if not task.node["driver_info"].get(key)]
        if missing:
            raise errors.MissingParameterValue(
                f"The following driver_info fields are missing for the {self.name} {self.kind} interface: "
                f"{', '.join(missing)}"
            )


class PowerInterface(BaseInterface):
    kind = "power"

    @abc.abstractmethod
    def get_power_state(self, task: TaskView) -> str:
        """The node's current power state: ``states.POWER_ON`` / ``POWER_OFF`` / ``POWER_ERROR``."""

    @abc.abstractmethod
    def set_power_state(self, task: TaskView, state: str, timeout: float | None = None) -> str:
        """Move to ``state`` (power on, power off, soft power off); return the state reached."""

    @abc.abstractmethod
    def reboot(self, task: TaskView, soft: bool = False, timeout: float | None = None) -> str:
        """Power cycle (or soft reboot); return the state reached (normally power on)."""

    def supported_power_states(self, task: TaskView) -> tuple[str, ...]:
        return ("power on", "power off", "rebooting")


class ManagementInterface(BaseInterface):
    kind = "management"

    @abc.abstractmethod
    def supported_boot_devices(self, task: TaskView) -> list[str]: ...

    @abc.abstractmethod
    def set_boot_device(self, task: TaskView, device: str, persistent: bool = False) -> None: ...

    @abc.abstractmethod
    def get_boot_device(self, task: TaskView) -> dict[str, Any]:
        """``{"boot_device": name or None, "persistent": bool or None}``."""

    def inject_nmi(self, task: TaskView) -> None:
        """Send a non-maskable interrupt to the server (API 1.29); Ironic's answer when a driver cannot."""
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support inject_nmi (disabled or not implemented).")

    # --- indicators (API 1.63): components "system", "chassis", "disk", "power", "nic"; states in INDICATOR_STATES
    def get_supported_indicators(self, task: TaskView) -> dict[str, dict[str, dict[str, Any]]]:
        """``{component: {indicator id: {"readonly": bool, "states": [...]}}}``; Ironic's answer when unsupported."""
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support indicators (disabled or not implemented).")

    def get_indicator_state(self, task: TaskView, component: str, indicator: str) -> str:
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support indicators (disabled or not implemented).")

    def set_indicator_state(self, task: TaskView, component: str, indicator: str, state: str) -> None:
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support indicators (disabled or not implemented).")

    # --- boot mode and secure boot (API 1.76), health (API 1.109), virtual media (API 1.89 / 1.93) -----------
    # Each default is Ironic's ``UnsupportedDriverExtension`` (400) naming the method, as Ironic's base class.
    def get_boot_mode(self, task: TaskView) -> str | None:
        """``bios`` / ``uefi``, or None when the BMC does not say."""
        raise unsupported(task, "get_boot_mode")

    def set_boot_mode(self, task: TaskView, mode: str) -> None:
        raise unsupported(task, "set_boot_mode")

    def get_secure_boot_state(self, task: TaskView) -> bool | None:
        raise unsupported(task, "get_secure_boot_state")

    def set_secure_boot_state(self, task: TaskView, state: bool) -> None:
        raise unsupported(task, "set_secure_boot_state")

    def get_node_health(self, task: TaskView) -> str | None:
        """One of :data:`HEALTH_STATES` (Ironic's ``OK`` / ``Warning`` / ``Critical``) or None (unknown)."""
        raise unsupported(task, "get_node_health")

    def get_virtual_media(self, task: TaskView) -> list[dict[str, Any]]:
        """``[{"media_types": [...], "inserted": bool, "image": url or None}, ...]`` (Ironic's redfish shape)."""
        raise unsupported(task, "get_virtual_media")

    def attach_virtual_media(self, task: TaskView, device_type: str, image_url: str) -> None:
        raise unsupported(task, "attach_virtual_media")

    def detach_virtual_media(self, task: TaskView, device_types: list[str] | None = None) -> None:
        raise unsupported(task, "detach_virtual_media")


class BootInterface(BaseInterface):
    kind = "boot"

    @abc.abstractmethod
    def prepare_ramdisk(self, task: TaskView, params: dict[str, Any]) -> None:
        """Make the next boot load the deploy/rescue ramdisk."""

    @abc.abstractmethod
    def clean_up_ramdisk(self, task: TaskView) -> None: ...

    @abc.abstractmethod
    def prepare_instance(self, task: TaskView) -> None:
        """Make the next boot load the deployed instance."""

    @abc.abstractmethod
    def clean_up_instance(self, task: TaskView) -> None: ...


class DeployInterface(BaseInterface):
    kind = "deploy"

    @abc.abstractmethod
    def deploy(self, task: TaskView) -> str | None:
        """Write the image (the core deploy step). Return ``WAIT`` to wait for the agent, else None."""

    @abc.abstractmethod
    def tear_down(self, task: TaskView) -> None:
        """Undo the deployment: power off and forget the instance."""

    def prepare(self, task: TaskView) -> None:
        """Prepare the environment before deploying (networks, boot)."""

    def clean_up(self, task: TaskView) -> None:
        """Remove what ``prepare`` set up."""

    def take_over(self, task: TaskView) -> None:
        """Adopt an already running instance; no power change."""

    def prepare_cleaning(self, task: TaskView) -> str | None:
        """Boot the cleaning environment; ``WAIT`` to wait for the agent."""
        return None

    def tear_down_cleaning(self, task: TaskView) -> None: ...

    def prepare_service(self, task: TaskView) -> str | None:
        """Boot the servicing environment (API 1.87); ``WAIT`` to wait for the agent."""
        return None

    def tear_down_service(self, task: TaskView) -> None:
        """Undo ``prepare_service``: the instance boots again."""


class InspectInterface(BaseInterface):
    kind = "inspect"

    @abc.abstractmethod
    def inspect_hardware(self, task: TaskView) -> str | None:
        """Discover properties. Return ``WAIT`` when the result arrives later (``inspect wait``)."""

    def abort(self, task: TaskView) -> None: ...


class RaidInterface(BaseInterface):
    kind = "raid"

    def get_logical_disk_properties(self) -> dict[str, str]:
        """``GET /v1/drivers/{driver}/raid/logical_disk_properties``: each logical disk key and its meaning."""
        from ironworks.drivers import raid_config as schema

        return dict(schema.LOGICAL_DISK_PROPERTIES)

    def validate_raid_config(self, task: TaskView, raid_config: dict[str, Any]) -> None:
        from ironworks.drivers import raid_config as schema

        schema.validate(raid_config)


class ConsoleInterface(BaseInterface):
    kind = "console"

    @abc.abstractmethod
    def start_console(self, task: TaskView) -> None: ...

    @abc.abstractmethod
    def stop_console(self, task: TaskView) -> None: ...

    @abc.abstractmethod
    def get_console(self, task: TaskView) -> dict[str, Any]: ...


class RescueInterface(BaseInterface):
    kind = "rescue"

    @abc.abstractmethod
    def rescue(self, task: TaskView) -> str | None:
        """Boot the rescue ramdisk; ``WAIT`` while waiting for it (``rescue wait``)."""

    @abc.abstractmethod
    def unrescue(self, task: TaskView) -> None: ...

    def clean_up(self, task: TaskView) -> None: ...


class NetworkInterface(BaseInterface):
    """Network plumbing around provisioning. Every hook defaults to doing nothing (``noop``)."""

    kind = "network"

    def add_provisioning_network(self, task: TaskView) -> None: ...
    def remove_provisioning_network(self, task: TaskView) -> None: ...
    def add_cleaning_network(self, task: TaskView) -> None: ...
    def remove_cleaning_network(self, task: TaskView) -> None: ...
    def add_rescuing_network(self, task: TaskView) -> None: ...
    def remove_rescuing_network(self, task: TaskView) -> None: ...
    def configure_tenant_networks(self, task: TaskView) -> None: ...
    def unconfigure_tenant_networks(self, task: TaskView) -> None: ...


class StorageInterface(BaseInterface):
    kind = "storage"

    def attach_volumes(self, task: TaskView) -> None: ...
    def detach_volumes(self, task: TaskView) -> None: ...

    def should_write_image(self, task: TaskView) -> bool:
        return True


class BiosInterface(BaseInterface):
    kind = "bios"

    def cache_bios_settings(self, task: TaskView) -> None: ...


@dataclasses.dataclass(frozen=True)
class Passthru:
    """One vendor passthru method's metadata, in Ironic's shape (``GET …/vendor_passthru/methods``)."""

    http_methods: tuple[str, ...]
    is_async: bool = True
    description: str = ""
    attach: bool = False
    require_exclusive_lock: bool = True

    def metadata(self) -> dict[str, Any]:
        return {"http_methods": list(self.http_methods), "async": self.is_async, "description": self.description,
                "attach": self.attach, "require_exclusive_lock": self.require_exclusive_lock}


def passthru(http_methods: tuple[str, ...], *, is_async: bool = True, description: str = "",
             require_exclusive_lock: bool = True, driver: bool = False) -> Callable[[F], F]:
    """Mark a vendor method ``(self, task, http_method, args) -> Any`` as node passthru (``driver=True``: driver
    passthru, ``(self, http_method, args)``), as Ironic's ``@base.passthru`` / ``@base.driver_passthru``."""

    def mark(func: F) -> F:
        meta = Passthru(tuple(http_methods), is_async, description, False, require_exclusive_lock)
        setattr(func, "_driver_passthru" if driver else "_passthru", meta)
        return func

    return mark


class VendorInterface(BaseInterface):
    kind = "vendor"

    def routes(self, driver: bool = False) -> dict[str, tuple[Passthru, Callable[..., Any]]]:
        """Method name -> (metadata, bound method) of the node (or driver) passthru methods."""
        attr = "_driver_passthru" if driver else "_passthru"
        found: dict[str, tuple[Passthru, Callable[..., Any]]] = {}
        for name in dir(type(self)):
            func = getattr(type(self), name, None)
            meta = getattr(func, attr, None)
            if isinstance(meta, Passthru):
                found[name] = (meta, getattr(self, name))
        return found

    def validate_call(self, task: TaskView | None, method: str, args: dict[str, Any]) -> None:
        """Check a call's arguments before it runs (Ironic's ``VendorInterface.validate(task, method, **kw)``)."""


class FirmwareInterface(BaseInterface):
    kind = "firmware"

    def cache_firmware_components(self, task: TaskView) -> None:
        """Read the firmware components from the hardware into the node's cache (drivers/firmware)."""


class NoInterface(BaseInterface):
    """The ``no-*`` implementations: validation fails for any use (e.g. ``no-raid``, ``no-rescue``), with the
    message of Ironic's ``UnsupportedDriverExtension``, so ``GET /v1/nodes/{node}/validate`` reports false."""

    def validate(self, task: TaskView) -> None:
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support {self.kind} (disabled or not implemented).")


#: interface kind -> its base class
INTERFACE_BASES: dict[str, type[BaseInterface]] = {
    cls.kind: cls
    for cls in (PowerInterface, ManagementInterface, BootInterface, DeployInterface, InspectInterface,
                RaidInterface, ConsoleInterface, RescueInterface, NetworkInterface, StorageInterface,
                BiosInterface, VendorInterface, FirmwareInterface)
}


@dataclasses.dataclass(frozen=True)
class Driver:
    """The interfaces of one node, composed from its ``*_interface`` fields. Missing kinds are ``None``."""

    hardware_type: str
    interfaces: dict[str, BaseInterface]

    def get(self, kind: str) -> BaseInterface | None:
        return self.interfaces.get(kind)

    def __getattr__(self, kind: str) -> Any:
        interfaces = self.__dict__.get("interfaces", {})
        if kind in interfaces:
            return interfaces[kind]
        raise AttributeError(kind)
