"""The ``redfish`` power and management interfaces of the ``redfish`` hardware type (spoken through sushy).

Power: ``On`` / ``ForceOff`` / ``GracefulShutdown`` / ``ForceRestart`` / ``GracefulRestart`` reset actions, each
verified by polling the system's ``PowerState`` until it shows the target (``BMCPolicy.power_timeout`` or the
caller's ``timeout``). A reboot of a server that is off is a plain power on. Management: boot source override
(``Once`` or ``Continuous``) with the node's boot mode, the boot mode alone, and the allowed boot sources;
the indicator LEDs of the system and its chassis (API 1.63); secure boot through the system's ``SecureBoot``
resource and the system's ``Status.Health`` (API 1.76, 1.109).
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
from ironworks.drivers.redfish.client import BOOT_TARGETS, NO_SECURE_BOOT, RedfishClient, SushyPool
from ironworks.drivers.redfish.info import parse_driver_info

_REQUIRED, _PROPERTIES = DRIVER_INFO["redfish"]
#: as Ironic reports them; verification waits for the exact "on" / "off"
_STATE = {"on": states.POWER_ON, "powering on": states.POWER_ON, "off": states.POWER_OFF,
          "powering off": states.POWER_OFF}


@dataclasses.dataclass
class RedfishConnections:
    policy: BMCPolicy = dataclasses.field(default_factory=BMCPolicy)
    limiter: BMCLimiter | None = None
    pool: SushyPool | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = BMCLimiter(self.policy.per_bmc_limit, self.policy.slot_timeout)
        if self.pool is None:
            self.pool = SushyPool(self.policy)

    def client(self, task: TaskView) -> RedfishClient:
        assert self.limiter is not None and self.pool is not None
        return RedfishClient(parse_driver_info(task.node["driver_info"]), self.policy, self.limiter, self.pool)


class _RedfishBase:
    name = "redfish"
    required_info = _REQUIRED
    properties = _PROPERTIES

    def __init__(self, connections: RedfishConnections | None = None) -> None:
        self.connections = connections or RedfishConnections()

    def validate(self, task: TaskView) -> None:
        parse_driver_info(task.node["driver_info"])


class RedfishPower(_RedfishBase, base.PowerInterface):
    def get_power_state(self, task: TaskView) -> str:
        return _STATE.get(self.connections.client(task).power_state(), states.POWER_ERROR)

    def _act(self, client: RedfishClient, reset: str, target: str, timeout: float | None) -> str:
        policy = self.connections.policy
        client.reset(reset)
        reached = wait_for_power(client.power_state, target, bmc=client.access.bmc, action=f"reset {reset}",
                                 timeout=policy.power_timeout if timeout is None else timeout,
                                 interval=policy.poll_interval)
        return _STATE[reached]

    def set_power_state(self, task: TaskView, state: str, timeout: float | None = None) -> str:
        if state in (states.REBOOT, states.SOFT_REBOOT):
            return self.reboot(task, soft=state == states.SOFT_REBOOT, timeout=timeout)
        client = self.connections.client(task)
        current = client.power_state()
        if state == states.POWER_ON:
            return states.POWER_ON if current == "on" else self._act(client, "on", "on", timeout)
        if state in (states.POWER_OFF, states.SOFT_POWER_OFF):
            if current == "off":
                return states.POWER_OFF
            return self._act(client, "off" if state == states.POWER_OFF else "soft", "off", timeout)
        raise errors.InvalidParameterValue(f"The redfish power interface cannot set power state {state!r}.")

    def reboot(self, task: TaskView, soft: bool = False, timeout: float | None = None) -> str:
        client = self.connections.client(task)
        if client.power_state() == "off":
            return self._act(client, "on", "on", timeout)
        return self._act(client, "soft-restart" if soft else "restart", "on", timeout)

    def supported_power_states(self, task: TaskView) -> tuple[str, ...]:
        return (states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT, states.SOFT_POWER_OFF)


class RedfishManagement(_RedfishBase, base.ManagementInterface):
    def supported_boot_devices(self, task: TaskView) -> list[str]:
        return self.connections.client(task).supported_boot_devices()

    def set_boot_device(self, task: TaskView, device: str, persistent: bool = False) -> None:
        if device not in BOOT_TARGETS:
            raise errors.InvalidParameterValue(f"Invalid boot device {device} specified; the redfish "
                                               f"management interface supports {', '.join(BOOT_TARGETS)}.")
        self.connections.client(task).set_boot(device, persistent, bootmode.desired_boot_mode(task.node))

    def get_boot_device(self, task: TaskView) -> dict[str, Any]:
        boot = self.connections.client(task).boot()
        return {"boot_device": boot["boot_device"], "persistent": boot["persistent"]}

    def get_supported_boot_modes(self, task: TaskView) -> list[str]:
        return list(bootmode.BOOT_MODES)

    def get_boot_mode(self, task: TaskView) -> str | None:
        mode: str | None = self.connections.client(task).boot()["boot_mode"]
        return mode

    def set_boot_mode(self, task: TaskView, mode: str) -> None:
        bootmode.check_boot_mode(mode)
        self.connections.client(task).set_boot_mode(mode)
        task.set_internal(**{bootmode.INTERNAL_KEY: mode})

    def get_secure_boot_state(self, task: TaskView) -> bool | None:
        state = self.connections.client(task).secure_boot()
        if state == NO_SECURE_BOOT:
            raise base.unsupported(task, "get_secure_boot_state")
        return state

    def set_secure_boot_state(self, task: TaskView, state: bool) -> None:
        """As Ironic: nothing to do when already so; UEFI required; the BMC's state read back afterwards."""
        client = self.connections.client(task)
        refused = client.set_secure_boot(state)
        if refused == NO_SECURE_BOOT:
            raise base.unsupported(task, "set_secure_boot_state")
        if refused == "bios":
            raise errors.DriverError(reason=f"Configuring secure boot requires UEFI for node {task.node['uuid']}")
        if client.secure_boot() != state:
            raise errors.DriverError(reason=f"The BMC did not apply secure boot {state} on node {task.node['uuid']}")

    def get_node_health(self, task: TaskView) -> str | None:
        return self.connections.client(task).health()

    def inject_nmi(self, task: TaskView) -> None:
        self.connections.client(task).reset("nmi")

    # indicators: the system's and its chassis' IndicatorLED, identified by the resource id as Ironic does; drive
    # LEDs are not offered (the lab's sushy-emulator has no storage on its fake systems to test them against)
    _LED_STATES = ["BLINKING", "OFF", "ON"]

    def get_supported_indicators(self, task: TaskView) -> dict[str, dict[str, dict[str, Any]]]:
        found = self.connections.client(task).indicators()
        return {component: {ident: {"readonly": False, "states": list(self._LED_STATES)} for ident in idents}
                for component, idents in found.items()}

    def get_indicator_state(self, task: TaskView, component: str, indicator: str) -> str:
        return self.connections.client(task).indicator(component, indicator)

    def set_indicator_state(self, task: TaskView, component: str, indicator: str, state: str) -> None:
        if state not in self._LED_STATES:
            raise errors.InvalidParameterValue(
                f"Indicator {indicator}@{component} cannot be set to {state!r}: use {', '.join(self._LED_STATES)}.")
        self.connections.client(task).set_indicator(component, indicator, state)
