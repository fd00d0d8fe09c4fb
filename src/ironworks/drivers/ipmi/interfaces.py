"""The ``ipmitool`` power and management interfaces of the ``ipmi`` hardware type (spoken through pyghmi).

Power actions are verified: after a chassis control command the BMC is polled until it reports the target
state (``BMCPolicy.power_timeout``, or the caller's ``timeout``), else ``PowerStateTimeout``. A reboot is power
off, verified, then power on, verified (as Ironic's ipmitool driver does; "cycle" is refused by many BMCs when
the server is off). With ``ipmi_force_boot_device`` the last boot device set through Ironworks is written again
before every power on, for BMCs that forget it.

Both interfaces share one :class:`IPMIConnections` (policy and per-BMC limiter) when the composition root
builds them with the same one; default-constructed they each get their own.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ironworks import errors, states
from ironworks.drivers import base
from ironworks.drivers.base import TaskView
from ironworks.drivers.bmc import bootmode
from ironworks.drivers.bmc.policy import BMCLimiter, BMCPolicy, wait_for_power
from ironworks.drivers.hardware_types import DRIVER_INFO
from ironworks.drivers.ipmi.client import BOOT_SELECTORS, IPMIClient
from ironworks.drivers.ipmi.info import parse_driver_info

_REQUIRED, _PROPERTIES = DRIVER_INFO["ipmitool"]
_FORCED_BOOT_KEY = "ipmi_boot_device"
_STATE = {"on": states.POWER_ON, "off": states.POWER_OFF}


@dataclasses.dataclass
class IPMIConnections:
    policy: BMCPolicy = dataclasses.field(default_factory=BMCPolicy)
    limiter: BMCLimiter | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = BMCLimiter(self.policy.per_bmc_limit, self.policy.slot_timeout)

    def client(self, task: TaskView) -> IPMIClient:
        assert self.limiter is not None
        return IPMIClient(parse_driver_info(task.node["driver_info"]), self.policy, self.limiter)


class _IPMIBase:
    name = "ipmitool"
    required_info = _REQUIRED
    properties = _PROPERTIES

    def __init__(self, connections: IPMIConnections | None = None) -> None:
        self.connections = connections or IPMIConnections()

    def validate(self, task: TaskView) -> None:
        parse_driver_info(task.node["driver_info"])


def _apply_forced_boot_device(task: TaskView, client: IPMIClient) -> None:
    if not client.access.force_boot_device:
        return
    wanted = (task.node.get("driver_internal_info") or {}).get(_FORCED_BOOT_KEY)
    if isinstance(wanted, dict) and wanted.get("device") in BOOT_SELECTORS:
        client.set_boot(wanted["device"], bool(wanted.get("persistent")),
                        bootmode.desired_boot_mode(task.node) == "uefi")


class IPMIPower(_IPMIBase, base.PowerInterface):
    def get_power_state(self, task: TaskView) -> str:
        return _STATE[self.connections.client(task).power_state()]

    def _act(self, task: TaskView, client: IPMIClient, action: str, target: str,
             timeout: float | None) -> str:
        policy = self.connections.policy
        if action == "on":
            _apply_forced_boot_device(task, client)
        client.power(action)  # type: ignore[arg-type]
        reached = wait_for_power(client.power_state, target, bmc=client.access.bmc, action=f"power {action}",
                                 timeout=policy.power_timeout if timeout is None else timeout,
                                 interval=policy.poll_interval)
        return _STATE[reached]

    def set_power_state(self, task: TaskView, state: str, timeout: float | None = None) -> str:
        client = self.connections.client(task)
        if state in (states.REBOOT, states.SOFT_REBOOT):
            return self.reboot(task, soft=state == states.SOFT_REBOOT, timeout=timeout)
        if state == states.POWER_ON:
            return self._act(task, client, "on", "on", timeout)
        if state == states.POWER_OFF:
            return self._act(task, client, "off", "off", timeout)
        if state == states.SOFT_POWER_OFF:
            if client.power_state() == "off":
                return states.POWER_OFF
            return self._act(task, client, "soft", "off", timeout)
        raise errors.InvalidParameterValue(f"The ipmitool power interface cannot set power state {state!r}.")

    def reboot(self, task: TaskView, soft: bool = False, timeout: float | None = None) -> str:
        client = self.connections.client(task)
        if client.power_state() == "on":
            self._act(task, client, "soft" if soft else "off", "off", timeout)
        return self._act(task, client, "on", "on", timeout)

    def supported_power_states(self, task: TaskView) -> tuple[str, ...]:
        return (states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT, states.SOFT_POWER_OFF)


class IPMIManagement(_IPMIBase, base.ManagementInterface):
    def supported_boot_devices(self, task: TaskView) -> list[str]:
        return ["pxe", "disk", "cdrom", "bios", "safe"]

    def set_boot_device(self, task: TaskView, device: str, persistent: bool = False) -> None:
        if device not in self.supported_boot_devices(task):
            raise errors.InvalidParameterValue(f"Invalid boot device {device} specified; the ipmitool "
                                               f"management interface supports "
                                               f"{', '.join(self.supported_boot_devices(task))}.")
        client = self.connections.client(task)
        client.set_boot(device, persistent, bootmode.desired_boot_mode(task.node) == "uefi")
        task.set_internal(**{_FORCED_BOOT_KEY: {"device": device, "persistent": bool(persistent)}})

    def get_boot_device(self, task: TaskView) -> dict[str, Any]:
        setting = self.connections.client(task).boot_setting()
        return {"boot_device": setting.device, "persistent": setting.persistent}

    def get_supported_boot_modes(self, task: TaskView) -> list[str]:
        return list(bootmode.BOOT_MODES)

    def get_boot_mode(self, task: TaskView) -> str:
        return "uefi" if self.connections.client(task).boot_setting().uefi else "bios"

    def set_boot_mode(self, task: TaskView, mode: str) -> None:
        """Rewrite the boot flags with the mode bit changed, keeping device and persistence."""
        bootmode.check_boot_mode(mode)
        client = self.connections.client(task)
        current = client.boot_setting()
        client.set_boot(current.device, current.persistent, mode == "uefi")
        task.set_internal(**{bootmode.INTERNAL_KEY: mode})

    def get_sensors_data(self, task: TaskView) -> dict[str, dict[str, dict[str, Any]]]:
        return self.connections.client(task).sensors()

    def inject_nmi(self, task: TaskView) -> None:
        self.connections.client(task).diagnostic_interrupt()
