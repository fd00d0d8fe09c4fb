"""The ``redfish`` vendor interface: Ironic's ``eject_vmedia`` (the one Redfish vendor method with something real
behind it here: the BMC's virtual media, e.g. sushy-emulator's). Ironic's subscription methods are not offered.
Asynchronous in Ironic (202); here it runs before the answer, so a BMC failure reaches the caller."""

from __future__ import annotations

import logging
from typing import Any

from ironworks import errors
from ironworks.drivers import base
from ironworks.drivers.base import TaskView
from ironworks.drivers.redfish.info import parse_driver_info
from ironworks.drivers.redfish.interfaces import RedfishConnections

LOG = logging.getLogger(__name__)
#: sushy's VirtualMediaType values, the names Ironic accepts for ``boot_device``
MEDIA_TYPES = ("CD", "DVD", "Floppy", "USBStick")


def parse_boot_device(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or raw not in MEDIA_TYPES:
        raise errors.InvalidParameterValue(f"Boot device {str(raw)[:32]} is not a valid value ")
    return raw


class RedfishVendor(base.VendorInterface):
    name = "redfish"

    def __init__(self, connections: RedfishConnections | None = None) -> None:
        self.connections = connections or RedfishConnections()

    def validate_call(self, task: TaskView | None, method: str, args: dict[str, Any]) -> None:
        if method == "eject_vmedia":
            parse_boot_device(args.get("boot_device"))
        if task is not None:
            parse_driver_info(task.node["driver_info"])

    @base.passthru(
        ("POST",),
        description="Eject a virtual media device. If no device is provided then all attached devices will be "
        "ejected. Optional arguments: 'boot_device' - the boot device to eject, either 'cd', 'dvd', 'usb', or "
        "'floppy'",
    )
    def eject_vmedia(self, task: TaskView, http_method: str, args: dict[str, Any]) -> None:
        device = parse_boot_device(args.get("boot_device"))
        ejected = self.connections.client(task).eject_virtual_media(device)
        LOG.info("node %s: virtual media ejected: %s", task.node["uuid"], ", ".join(ejected) or "none inserted")
