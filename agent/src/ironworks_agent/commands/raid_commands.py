"""Handlers of the software RAID and bootloader commands: ``create_configuration``, ``delete_configuration``,
``install_bootloader``. Parameters and results are documented in docs/agent-protocol.md; the work is done in
hardware/raid.py (planning), hardware/md.py (mdadm) and hardware/bootloader.py (grub on every member).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import DeviceNotFound, InvalidCommand
from ironworks_agent.hardware import bootloader, md, raid, root_device
from ironworks_agent.hardware.disks import list_block_devices

CREATE_PARAMS = frozenset({"target_raid_config", "esp_size_mib"})
DELETE_PARAMS = frozenset({"devices"})
BOOTLOADER_PARAMS = frozenset({"root_uuid", "efi_system_part_uuid", "prep_boot_part_uuid", "target_boot_mode",
                               "device"})


def _candidate_disks(ctx: CommandContext) -> list[Mapping[str, Any]]:
    """Allowed whole disks that may become RAID members (not md arrays, not skipped)."""
    disks = [d for d in list_block_devices(include_loop=ctx.include_loop)
             if d.get("type") in ("disk", "loop") and ctx.guard.allows(str(d["name"]))]
    return root_device.eligible_devices(disks, ctx.skip_list)


def create_configuration(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    esp = params.get("esp_size_mib", raid.DEFAULT_ESP_MIB)
    if isinstance(esp, bool) or not isinstance(esp, int):
        raise InvalidCommand("esp_size_mib must be an integer")
    if "target_raid_config" not in params:
        raise InvalidCommand("create_configuration needs target_raid_config")
    return md.create_configuration(ctx.guard, params["target_raid_config"], _candidate_disks(ctx), esp_mib=esp)


def delete_configuration(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    devices = params.get("devices")
    if devices is None:
        devices = [str(d["name"]) for d in _candidate_disks(ctx)]
    elif not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise InvalidCommand("devices must be a list of device paths")
    return md.delete_configuration(ctx.guard, devices)


def install_bootloader(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    for key in ("root_uuid", "efi_system_part_uuid", "device", "target_boot_mode"):
        if params.get(key) is not None and not isinstance(params[key], str):
            raise InvalidCommand(f"{key} must be a string")
    if params.get("prep_boot_part_uuid"):
        raise InvalidCommand("PReP boot partitions (ppc64) are not supported")
    device = params.get("device")
    array = md.resolve_named(ctx.guard, device) if device else md.find_root_volume(ctx.guard)
    if array is None:
        raise DeviceNotFound("no software RAID root volume on this node's disks (run create_configuration "
                             "first); a whole-disk image on a plain disk carries its own bootloader")
    return bootloader.install_bootloader(ctx.guard, array, root_uuid=params.get("root_uuid"),
                                         efi_system_part_uuid=params.get("efi_system_part_uuid"),
                                         boot_mode=params.get("target_boot_mode"))
