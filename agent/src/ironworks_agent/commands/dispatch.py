"""Command dispatch: name → handler, parameter checking, and the result/error shape posted to the service.

A handler takes ``(ctx, params)`` and returns a JSON-able dict. ``run`` never raises: it returns
``("SUCCEEDED", result, None)`` or ``("FAILED", None, {"type", "message"})``; unexpected exceptions become
``{"type": "InternalError"}`` with their text, so the service always gets an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ironworks_agent.commands import disk_commands, kexec_commands, raid_commands
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import AgentError, InvalidCommand

LOG = logging.getLogger(__name__)
Handler = Callable[[CommandContext, dict[str, Any]], dict[str, Any]]

HANDLERS: Mapping[str, tuple[Handler, frozenset[str] | None]] = {  # None: any parameters
    "get_inventory": (disk_commands.get_inventory, frozenset()),
    "get_root_device": (disk_commands.get_root_device, frozenset({"root_device"})),
    "erase_devices_metadata": (disk_commands.erase_devices_metadata, frozenset({"devices"})),
    "erase_devices": (disk_commands.erase_devices, frozenset({"devices", "method"})),
    "write_image": (disk_commands.write_image, disk_commands.WRITE_IMAGE_PARAMS),
    "write_configdrive": (disk_commands.write_configdrive,
                          frozenset({"configdrive", "device", "root_device", "partition"})),
    "create_configuration": (raid_commands.create_configuration, raid_commands.CREATE_PARAMS),
    "delete_configuration": (raid_commands.delete_configuration, raid_commands.DELETE_PARAMS),
    "install_bootloader": (raid_commands.install_bootloader, raid_commands.BOOTLOADER_PARAMS),
    "kexec": (kexec_commands.kexec_instance, kexec_commands.KEXEC_PARAMS),
}


def run(ctx: CommandContext, name: str, params: Any) -> tuple[str, dict[str, Any] | None, dict[str, str] | None]:
    try:
        if name not in HANDLERS:
            raise InvalidCommand(f"unknown command {name!r}; known: {', '.join(sorted(HANDLERS))}")
        handler, allowed = HANDLERS[name]
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise InvalidCommand(f"parameters of {name} must be an object")
        unknown = set(params) - allowed if allowed is not None else set()
        if unknown:
            raise InvalidCommand(f"unknown parameters for {name}: {', '.join(sorted(unknown))}")
        LOG.info("running command %s", name)
        return "SUCCEEDED", handler(ctx, params), None
    except AgentError as exc:
        LOG.error("command %s failed: %s", name, exc.message)
        return "FAILED", None, exc.as_dict()
    except Exception as exc:  # the service must always get an answer
        LOG.exception("command %s crashed", name)
        return "FAILED", None, {"type": "InternalError", "message": f"{type(exc).__name__}: {exc}"}
