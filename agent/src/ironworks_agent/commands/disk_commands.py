"""Handlers of the disk and inventory commands: parameters in, JSON-able result out.

Target devices are either named (``device``) or chosen by root device hints among the disks the safety guard
allows; erase commands default to every allowed device. Parameters are documented in docs/agent-protocol.md.
"""

from __future__ import annotations

import os
from typing import Any

from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import InvalidCommand
from ironworks_agent.hardware import configdrive, erase, image, inventory, md, root_device
from ironworks_agent.hardware.disks import list_block_devices

WRITE_IMAGE_PARAMS = frozenset({"url", "checksum", "checksum_algo", "disk_format", "compression", "device",
                                "root_device", "direct", "insecure", "timeout"})


def _allowed_disks(ctx: CommandContext) -> list[dict[str, Any]]:
    return [d for d in list_block_devices(include_loop=ctx.include_loop) if ctx.guard.allows(d["name"])]


def _target(ctx: CommandContext, params: dict[str, Any]) -> str:
    """The device to write: ``device``, else the software RAID root (named by the hints or found on the
    disks; see hardware/md.py), else the disk the root device hints choose."""
    device = params.get("device")
    if device:
        if not isinstance(device, str):
            raise InvalidCommand("device must be a string such as /dev/sda")
        if os.path.basename(os.path.realpath(device)).startswith("md") or device.startswith("/dev/md"):
            return md.resolve_named(ctx.guard, device)
        return ctx.guard.check(device)
    hints = params.get("root_device", ctx.root_device_hints) or {}
    name = str(hints.get("name", "")) if isinstance(hints, dict) else ""
    if name.startswith("/dev/md"):
        return md.resolve_named(ctx.guard, name)
    if not name:
        array = md.find_root_volume(ctx.guard)
        if array is not None:
            return array
    chosen = root_device.select_root_device(_allowed_disks(ctx), hints, ctx.skip_list)
    return ctx.guard.check(str(chosen["name"]))


def _device_list(ctx: CommandContext, params: dict[str, Any]) -> list[str]:
    devices = params.get("devices")
    if devices is None:
        return ctx.guard.allowed
    if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise InvalidCommand("devices must be a list of device paths")
    return devices


def get_inventory(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    inv = inventory.collect(boot_mac=ctx.boot_mac, include_loop=ctx.include_loop)
    allowed = [d for d in inv["disks"] if ctx.guard.allows(d["name"])]
    try:
        root = root_device.select_root_device(allowed, ctx.root_device_hints, ctx.skip_list)
    except root_device.DeviceNotFound:
        root = None
    for disk in inv["disks"]:
        disk["skip_reason"] = root_device.skip_reason(disk, ctx.skip_list)
    return {"inventory": inv, "root_disk": root}


def get_root_device(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    hints = params.get("root_device", ctx.root_device_hints) or {}
    return {"root_disk": root_device.select_root_device(_allowed_disks(ctx), hints, ctx.skip_list)}


def erase_devices_metadata(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"devices": erase.erase_devices_metadata(ctx.guard, _device_list(ctx, params))}


def erase_devices(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    method = params.get("method", "auto")
    if method not in ("auto", "secure", "zero"):
        raise InvalidCommand("method must be auto, secure or zero")
    return {"devices": erase.erase_devices(ctx.guard, _device_list(ctx, params), method=method,
                                           progress=ctx.progress)}


def write_image(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    url = params.get("url")
    if not isinstance(url, str) or not url:
        raise InvalidCommand("write_image needs an image url")
    return image.write_image(
        md.MdGuard(ctx.guard), _target(ctx, params), url, checksum=params.get("checksum"),
        checksum_algo=params.get("checksum_algo"), disk_format=params.get("disk_format", "raw"),
        compression=params.get("compression", "auto"), progress=ctx.progress,
        direct=bool(params.get("direct", True)), allow_md5=ctx.allow_md5, tmpdir=ctx.tmpdir,
        timeout=float(params.get("timeout", 60)), insecure=bool(params.get("insecure", False)))


def write_configdrive(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    value = params.get("configdrive")
    if isinstance(value, dict):
        iso = configdrive.build_iso(value)
    elif isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        from ironworks_agent.hardware.stream import open_url

        with open_url(value) as resp:
            iso = configdrive.from_download(resp.read())
    elif isinstance(value, str) and value:
        iso = configdrive.decode(value)
    else:
        raise InvalidCommand("configdrive must be base64 (gzipped) ISO, an http(s) URL or a content object")
    return configdrive.write_configdrive(md.MdGuard(ctx.guard), _target(ctx, params), iso,
                                         partition=bool(params.get("partition", True)))
