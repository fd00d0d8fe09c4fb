"""``fake`` implementations of every interface: the ``fake-hardware`` type that runs every flow without hardware.

They are instant by default, so scale benchmarks measure Ironworks rather than hardware. Tests steer them
through the node's ``driver_info`` (the only channel an operator has too):

* ``fake_sleep_<op>``: seconds to sleep in that operation (op: power, power_get, deploy, clean (preparing
  cleaning), clean_step (the automated clean step), inspect, rescue, unrescue, adopt, teardown, boot_device,
  boot_mode, secure_boot, health, vmedia, firmware);
* ``fake_fail_<op>``: a message; the operation raises ``DriverError`` with it;
* ``fake_wait_<op>``: true to return ``WAIT`` (deploy, clean, inspect, rescue): the node parks in the wait
  state as if a ramdisk were booting and never called back;
* ``fake_power_file``: a file holding the "BMC" power state (``power on`` / ``power off``). Whatever writes
  it plays the part of someone pressing the power button, which is how power sync is tested. It must lie under
  ``<state_dir>/fake/`` (images/local.py): the driver writes it, and it must never be a file the service owns.

``fake-hardware`` is not enabled by default: tests, benchmarks and demos name it in ``enabled_hardware_types``.

* ``fake_health``: the health the simulated BMC reports (``OK`` / ``Warning`` / ``Critical``; API 1.109).

Without a power file the simulated BMC state lives in memory, starting from the node's recorded state. The
simulated firmware's boot mode (default UEFI), secure boot (default off) and virtual media slots live in
``driver_internal_info`` (``fake_boot_mode``, ``fake_secure_boot``, ``fake_vmedia``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from ironworks import errors, states
from ironworks.drivers import base
from ironworks.drivers.base import WAIT, TaskView, clean_step, deploy_step
from ironworks.drivers.bios.fake import FakeBios
from ironworks.drivers.bmc import bootmode
from ironworks.drivers.firmware.fake import FakeFirmware
from ironworks.images import local


def _behave(task: TaskView, op: str) -> bool:
    """Apply the injected sleep / failure of ``op``; return True when the op should report ``WAIT``."""
    info = task.node["driver_info"]
    delay = info.get(f"fake_sleep_{op}")
    if delay:
        try:
            time.sleep(float(delay))
        except (TypeError, ValueError) as exc:
            raise errors.DriverError(reason=f"fake_sleep_{op} is not a number: {delay!r}") from exc
    failure = info.get(f"fake_fail_{op}")
    if failure:
        raise errors.DriverError(reason=str(failure))
    return str(info.get(f"fake_wait_{op}", "")).lower() in ("1", "true", "yes")


class FakePower(base.PowerInterface):
    name = "fake"
    properties = {"fake_power_file": "File under <state_dir>/fake/ holding the simulated BMC power state. Optional."}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, str] = {}

    def validate(self, task: TaskView) -> None:
        self._power_file(task)

    def _power_file(self, task: TaskView) -> Path | None:
        ref = task.node["driver_info"].get(local.FAKE_POWER_KEY)
        return local.check_fake_power_file(ref, task.settings) if ref else None

    def _read(self, task: TaskView) -> str:
        path = self._power_file(task)
        if path:
            try:
                text = path.read_text().strip()
            except OSError as exc:
                raise errors.DriverError(reason=f"cannot read the fake BMC file {path}: {exc}") from exc
            return text if text in (states.POWER_ON, states.POWER_OFF) else states.POWER_ERROR
        with self._lock:
            return self._state.get(task.node["uuid"]) or task.node.get("power_state") or states.POWER_OFF

    def _write(self, task: TaskView, state: str) -> None:
        path = self._power_file(task)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(state + "\n")
        else:
            with self._lock:
                self._state[task.node["uuid"]] = state

    def get_power_state(self, task: TaskView) -> str:
        _behave(task, "power_get")
        return self._read(task)

    def set_power_state(self, task: TaskView, state: str, timeout: float | None = None) -> str:
        _behave(task, "power")
        reached = states.POWER_OFF if state == states.SOFT_POWER_OFF else state
        self._write(task, reached)
        return reached

    def reboot(self, task: TaskView, soft: bool = False, timeout: float | None = None) -> str:
        _behave(task, "power")
        self._write(task, states.POWER_ON)
        return states.POWER_ON

    def supported_power_states(self, task: TaskView) -> tuple[str, ...]:
        return (states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT, states.SOFT_POWER_OFF)


class FakeManagement(base.ManagementInterface):
    name = "fake"

    def supported_boot_devices(self, task: TaskView) -> list[str]:
        return ["pxe", "disk"]

    def set_boot_device(self, task: TaskView, device: str, persistent: bool = False) -> None:
        _behave(task, "boot_device")
        if device not in self.supported_boot_devices(task):
            raise errors.InvalidParameterValue(f"Invalid boot device {device} specified.")
        task.set_internal(fake_boot_device=device, fake_boot_persistent=persistent)

    def get_boot_device(self, task: TaskView) -> dict[str, Any]:
        internal = task.node["driver_internal_info"]
        return {"boot_device": internal.get("fake_boot_device", "pxe"),
                "persistent": internal.get("fake_boot_persistent", False)}

    def inject_nmi(self, task: TaskView) -> None:
        """Recorded as ``driver_internal_info.fake_nmi_count`` (how many NMIs the fake server received)."""
        _behave(task, "inject_nmi")
        task.set_internal(fake_nmi_count=int(task.node["driver_internal_info"].get("fake_nmi_count", 0)) + 1)

    #: Ironic's fake indicators: a read-only chassis LED and a system LED that can be set
    INDICATORS = {
        "chassis": {"led-0": {"readonly": True, "states": ["OFF", "ON"]}},
        "system": {"led": {"readonly": False, "states": ["BLINKING", "OFF", "ON"]}},
    }

    def get_supported_indicators(self, task: TaskView) -> dict[str, dict[str, dict[str, Any]]]:
        return {component: {name: dict(info) for name, info in names.items()}
                for component, names in self.INDICATORS.items()}

    def _indicator(self, component: str, indicator: str) -> dict[str, Any]:
        info = self.INDICATORS.get(component, {}).get(indicator)
        if info is None:
            raise errors.InvalidParameterValue(f"Indicator {indicator}@{component} is not supported by this node.")
        return info

    def get_indicator_state(self, task: TaskView, component: str, indicator: str) -> str:
        """The state last set (``driver_internal_info.fake_indicators``), OFF before."""
        self._indicator(component, indicator)
        saved = task.node["driver_internal_info"].get("fake_indicators") or {}
        return str(saved.get(f"{indicator}@{component}", "OFF"))

    def set_indicator_state(self, task: TaskView, component: str, indicator: str, state: str) -> None:
        info = self._indicator(component, indicator)
        if info["readonly"]:
            raise errors.InvalidParameterValue(f"Indicator {indicator}@{component} is read-only.")
        if state not in info["states"]:
            raise errors.InvalidParameterValue(
                f"Indicator {indicator}@{component} cannot be set to {state!r}: use {', '.join(info['states'])}.")
        saved = dict(task.node["driver_internal_info"].get("fake_indicators") or {})
        saved[f"{indicator}@{component}"] = state
        task.set_internal(fake_indicators=saved)


    # boot mode / secure boot (API 1.76): the simulated firmware's settings in driver_internal_info
    def get_boot_mode(self, task: TaskView) -> str | None:
        _behave(task, "boot_mode")
        return str(task.node["driver_internal_info"].get("fake_boot_mode") or bootmode.DEFAULT_BOOT_MODE)

    def set_boot_mode(self, task: TaskView, mode: str) -> None:
        _behave(task, "boot_mode")
        bootmode.check_boot_mode(mode)
        if mode == "bios" and task.node["driver_internal_info"].get("fake_secure_boot"):
            raise errors.DriverError(reason="Secure boot is enabled: it needs UEFI; disable it first")
        task.set_internal(fake_boot_mode=mode)

    def get_secure_boot_state(self, task: TaskView) -> bool | None:
        _behave(task, "secure_boot")
        return bool(task.node["driver_internal_info"].get("fake_secure_boot", False))

    def set_secure_boot_state(self, task: TaskView, state: bool) -> None:
        """As Redfish: secure boot can only be switched on in UEFI mode."""
        _behave(task, "secure_boot")
        if state and self.get_boot_mode(task) != "uefi":
            raise errors.DriverError(reason=f"Configuring secure boot requires UEFI for node {task.node['uuid']}")
        task.set_internal(fake_secure_boot=bool(state))

    def get_node_health(self, task: TaskView) -> str | None:
        """``driver_info.fake_health`` (OK / Warning / Critical) plays the BMC's health; absent: unknown."""
        _behave(task, "health")
        value = task.node["driver_info"].get("fake_health")
        return None if value is None else str(value)  # as a BMC would say it; the conductor checks it

    # virtual media (API 1.89 / 1.93): one simulated slot per device type in driver_internal_info.fake_vmedia
    VMEDIA_TYPES = {"cdrom": ["CD", "DVD"], "disk": ["USBStick"], "floppy": ["Floppy"]}

    def get_virtual_media(self, task: TaskView) -> list[dict[str, Any]]:
        slots = task.node["driver_internal_info"].get("fake_vmedia") or {}
        return [{"media_types": list(types), "inserted": device in slots,
                 "image": (slots.get(device) or {}).get("image")} for device, types in self.VMEDIA_TYPES.items()]

    def attach_virtual_media(self, task: TaskView, device_type: str, image_url: str) -> None:
        _behave(task, "vmedia")
        if device_type not in self.VMEDIA_TYPES:
            raise errors.InvalidParameterValue(f"Boot device {device_type} is not a valid value ")
        slots = dict(task.node["driver_internal_info"].get("fake_vmedia") or {})
        slots[device_type] = {"image": image_url}
        task.set_internal(fake_vmedia=slots)

    def detach_virtual_media(self, task: TaskView, device_types: list[str] | None = None) -> None:
        _behave(task, "vmedia")
        slots = dict(task.node["driver_internal_info"].get("fake_vmedia") or {})
        for device in list(slots) if device_types is None else device_types:
            slots.pop(device, None)
        task.set_internal(fake_vmedia=slots)


class FakeBoot(base.BootInterface):
    name = "fake"

    def prepare_ramdisk(self, task: TaskView, params: dict[str, Any]) -> None: ...
    def clean_up_ramdisk(self, task: TaskView) -> None: ...
    def prepare_instance(self, task: TaskView) -> None: ...
    def clean_up_instance(self, task: TaskView) -> None: ...


class FakeDeploy(base.DeployInterface):
    name = "fake"

    @deploy_step(priority=100)
    def deploy(self, task: TaskView) -> str | None:
        return WAIT if _behave(task, "deploy") else None

    def tear_down(self, task: TaskView) -> None:
        _behave(task, "teardown")

    def take_over(self, task: TaskView) -> None:
        _behave(task, "adopt")

    def prepare_cleaning(self, task: TaskView) -> str | None:
        return WAIT if _behave(task, "clean") else None

    @clean_step(priority=99, abortable=True, requires_ramdisk=False)
    def erase_devices_metadata(self, task: TaskView) -> None:
        """Remove partition tables and signatures (instant on fake hardware; leaves a mark tests can see)."""
        _behave(task, "clean_step")
        task.set_internal(fake_metadata_erased=True)

    @clean_step(priority=0, abortable=True, requires_ramdisk=False)
    def erase_devices(self, task: TaskView) -> None:
        """Overwrite every disk (manual only on fake hardware)."""

    @clean_step(priority=0, abortable=True, requires_ramdisk=False,
                argsinfo={"seconds": {"description": "how long to sleep", "required": True}})
    @deploy_step(priority=0, requires_ramdisk=False,
                 argsinfo={"seconds": {"description": "how long to sleep", "required": True}})
    def sleep(self, task: TaskView, seconds: Any) -> None:
        """Sleep for a while: a step whose progress can be watched."""
        try:
            time.sleep(float(seconds))
        except (TypeError, ValueError) as exc:
            raise errors.InvalidParameterValue(f"seconds must be a number, not {seconds!r}") from exc


class FakeInspect(base.InspectInterface):
    name = "fake"

    def inspect_hardware(self, task: TaskView) -> str | None:
        if _behave(task, "inspect"):
            return WAIT
        props = dict(task.node["properties"])
        props.setdefault("cpu_arch", "x86_64")
        props.setdefault("memory_mb", 4096)
        props.setdefault("local_gb", 40)
        task.update(properties=props)
        return None


class FakeRaid(base.RaidInterface):
    name = "fake"

    @clean_step(priority=0, requires_ramdisk=False, argsinfo={
        "create_root_volume": {"description": "create the root volume (default true)", "required": False},
        "create_nonroot_volumes": {"description": "create the other volumes (default true)", "required": False},
    })
    def create_configuration(self, task: TaskView, create_root_volume: bool = True,
                             create_nonroot_volumes: bool = True) -> None:
        target = task.node["target_raid_config"] or {}
        disks = [d for d in target.get("logical_disks", [])
                 if (d.get("is_root_volume") and create_root_volume)
                 or (not d.get("is_root_volume") and create_nonroot_volumes)]
        task.update(raid_config={"logical_disks": disks})

    @clean_step(priority=0, requires_ramdisk=False)
    def delete_configuration(self, task: TaskView) -> None:
        task.update(raid_config={})

    @deploy_step(priority=0, requires_ramdisk=False,
                 argsinfo={"raid_config": {"description": "the RAID configuration to apply", "required": True}})
    def apply_configuration(self, task: TaskView, raid_config: Any) -> None:
        self.validate_raid_config(task, raid_config)
        task.update(raid_config=raid_config)


class FakeConsole(base.ConsoleInterface):
    name = "fake"

    def start_console(self, task: TaskView) -> None: ...
    def stop_console(self, task: TaskView) -> None: ...

    def get_console(self, task: TaskView) -> dict[str, Any]:
        return {"type": "fake", "url": None}


class FakeRescue(base.RescueInterface):
    name = "fake"

    def rescue(self, task: TaskView) -> str | None:
        return WAIT if _behave(task, "rescue") else None

    def unrescue(self, task: TaskView) -> None:
        _behave(task, "unrescue")


class NoopNetwork(base.NetworkInterface):
    name = "noop"


class FlatNetwork(base.NetworkInterface):
    """Flat networking needs nothing on fake hardware; the real one belongs to networking/."""

    name = "flat"


class NoopStorage(base.StorageInterface):
    name = "noop"


class FakeStorage(base.StorageInterface):
    name = "fake"


class FakeVendor(base.VendorInterface):
    """Ironic's ``fake`` vendor interface (``FakeVendorB``): methods that answer whether ``bar`` is their word."""

    name = "fake"

    def validate_call(self, task: TaskView | None, method: str, args: dict[str, Any]) -> None:
        if method in ("second_method", "third_method_sync", "fourth_method_shared_lock") and not args.get("bar"):
            raise errors.MissingParameterValue(f"Parameter 'bar' not passed to method '{method}'.")

    @base.passthru(("POST",), description="Test if the value of bar is kazoo")
    def second_method(self, task: TaskView, http_method: str, args: dict[str, Any]) -> bool:
        return bool(args.get("bar") == "kazoo")

    @base.passthru(("POST",), is_async=False, description="Test if the value of bar is meow")
    def third_method_sync(self, task: TaskView, http_method: str, args: dict[str, Any]) -> bool:
        return bool(args.get("bar") == "meow")

    @base.passthru(("POST",), require_exclusive_lock=False, description="Test if the value of bar is woof")
    def fourth_method_shared_lock(self, task: TaskView, http_method: str, args: dict[str, Any]) -> bool:
        return bool(args.get("bar") == "woof")

    @base.service_step(requires_ramdisk=False)
    @base.passthru(("POST",), description="Test pass-through to wait.")
    def log_passthrough(self, task: TaskView, http_method: str = "POST", args: dict[str, Any] | None = None) -> None:
        """Counted in ``driver_internal_info.fake_vendor_calls`` (also Ironic's fake service step)."""
        calls = int((task.node.get("driver_internal_info") or {}).get("fake_vendor_calls", 0))
        task.set_internal(fake_vendor_calls=calls + 1)

    @base.service_step()
    def trigger_servicewait(self, task: TaskView) -> str:
        """Ironic's fake service step that parks the node in ``service wait`` (nothing calls back)."""
        return WAIT


def _no(kind: str) -> type[base.BaseInterface]:
    return type(f"No{kind.title()}", (base.NoInterface,), {"kind": kind, "name": f"no-{kind}"})


#: every implementation this module provides
IMPLEMENTATIONS: tuple[type[base.BaseInterface], ...] = (
    FakePower, FakeManagement, FakeBoot, FakeDeploy, FakeInspect, FakeRaid, FakeConsole, FakeRescue,
    NoopNetwork, FlatNetwork, NoopStorage, FakeStorage, FakeBios, FakeVendor, FakeFirmware,
    *(_no(kind) for kind in ("bios", "console", "firmware", "inspect", "raid", "rescue", "vendor")),
)
