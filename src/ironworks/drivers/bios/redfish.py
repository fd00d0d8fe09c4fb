"""The ``redfish`` BIOS interface (through sushy's ``System.bios``).

* ``cache_bios_settings``: the system's ``Bios.Attributes``, with the registry fields (API 1.74) from the BMC's
  BIOS attribute registry when it publishes one, into the node's cache (drivers/bios).
* ``apply_configuration`` (manual clean step): every name must exist on the BMC and, where the registry says so,
  not be read-only (else Ironic's ``InvalidParameterValue`` and nothing is sent); the attributes are PATCHed to
  ``Bios/Settings``; when they are not current yet (real firmware applies them at the next boot) the server is
  rebooted; then they are read back, and a value the BMC did not take fails the step.
* ``factory_reset`` (manual clean step): ``Bios.ResetBios``, a reboot, and the cache refreshed.

A BMC without a BIOS resource (sushy-emulator's fake driver, for one) answers every call with a driver error
naming the failed request; nothing is reported as applied that the BMC did not confirm.
"""

from __future__ import annotations

from typing import Any

from ironworks import errors
from ironworks.drivers import base
from ironworks.drivers.base import TaskView, clean_step, deploy_step, service_step
from ironworks.drivers.bios import parse_settings, record
from ironworks.drivers.redfish.interfaces import _RedfishBase

_SETTINGS_ARG = {"settings": {"description": "a list of {name, value} BIOS settings to apply", "required": True}}


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(current, bool):
        return str(current).lower() == str(wanted).lower()
    return str(current) == str(wanted)


class RedfishBios(_RedfishBase, base.BiosInterface):
    def cache_bios_settings(self, task: TaskView) -> None:
        record(task, self.connections.client(task).bios_settings())

    def _reboot(self, task: TaskView) -> None:
        reboot = getattr(task.driver.get("power"), "reboot", None)
        if reboot is not None:
            reboot(task)

    @service_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    @clean_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    @deploy_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    def apply_configuration(self, task: TaskView, settings: Any) -> None:
        """Apply BIOS settings through Redfish and cache the result."""
        wanted = parse_settings(settings)
        client = self.connections.client(task)
        current = client.bios_settings()
        unknown = sorted(set(wanted) - set(current))
        if unknown:
            raise errors.InvalidParameterValue(f"BIOS setting(s) {', '.join(unknown)} do not exist on the BMC.")
        read_only = sorted(name for name in wanted if current[name].get("read_only"))
        if read_only:
            raise errors.InvalidParameterValue(f"BIOS setting(s) {', '.join(read_only)} are read-only.")
        client.set_bios(wanted)
        after = client.bios_settings()
        if any(not _same(after[name].get("value"), value) for name, value in wanted.items()):
            self._reboot(task)  # pending settings take effect at the next boot
            after = client.bios_settings()
        record(task, after)
        missed = sorted(name for name, value in wanted.items() if not _same(after[name].get("value"), value))
        if missed:
            raise errors.DriverError(reason=f"The BMC did not apply BIOS setting(s): {', '.join(missed)}")

    @service_step(priority=0, requires_ramdisk=False)
    @clean_step(priority=0, requires_ramdisk=False)
    @deploy_step(priority=0, requires_ramdisk=False)
    def factory_reset(self, task: TaskView) -> None:
        """Reset the BIOS to its factory defaults through Redfish and cache the result."""
        client = self.connections.client(task)
        client.reset_bios()
        self._reboot(task)
        record(task, client.bios_settings())
