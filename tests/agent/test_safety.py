"""The safety guard: only the devices given at start (and their partitions) can be written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import DeviceRefused
from ironworks_agent.hardware import configdrive, erase, image
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import FileServer, MiB, sh


def _signature(dev: str) -> str:
    return sh("blkid", "-p", "-o", "value", "-s", "TYPE", dev, check=False).stdout.strip()


def test_guard_refuses_devices_outside_the_allow_list(make_loop: Callable[[int], str], tmp_path: Path) -> None:
    allowed, other = make_loop(64 * MiB), make_loop(64 * MiB)
    guard = DeviceGuard([allowed])
    assert guard.check(allowed) == allowed
    link = tmp_path / "by-path-alias"
    link.symlink_to(allowed)
    assert guard.check(str(link)) == allowed  # aliases resolve to the real device
    bad_link = tmp_path / "sneaky"
    bad_link.symlink_to(other)
    regular = tmp_path / "plain-file"
    regular.write_bytes(b"x" * 4096)
    for device in (other, str(bad_link), str(regular), "/dev/null", "/dev/does-not-exist"):
        with pytest.raises(DeviceRefused):
            guard.check(device)
    with pytest.raises(DeviceRefused):
        guard.open_for_write(other)
    with pytest.raises(DeviceRefused):
        DeviceGuard([str(regular)])


def test_destructive_operations_refuse_and_touch_nothing(make_loop: Callable[[int], str],
                                                         files: FileServer) -> None:
    allowed, other = make_loop(64 * MiB), make_loop(64 * MiB)
    for dev in (allowed, other):
        sh("mkfs.ext4", "-q", dev)
    guard = DeviceGuard([allowed])
    with pytest.raises(DeviceRefused):  # the whole list is checked before anything is erased
        erase.erase_devices_metadata(guard, [allowed, other])
    with pytest.raises(DeviceRefused):
        erase.erase_devices(guard, [other], method="zero")
    url = files.add("img.raw", b"\0" * MiB)
    with pytest.raises(DeviceRefused):
        image.write_image(guard, other, url, checksum="sha256:" + "0" * 64)
    iso = configdrive.build_iso({"meta_data": {"uuid": "x"}})
    with pytest.raises(DeviceRefused):
        configdrive.write_configdrive(guard, other, iso, partition=False)
    assert _signature(allowed) == "ext4"
    assert _signature(other) == "ext4"
    status, result, error = dispatch.run(CommandContext(guard=guard), "erase_devices_metadata",
                                         {"devices": [other]})
    assert (status, result, error and error["type"]) == ("FAILED", None, "DeviceRefused")
    assert _signature(other) == "ext4"


def test_host_disks_are_refused_by_a_loop_only_guard(loop: str) -> None:
    guard = DeviceGuard([loop])
    host_disks = [f"/dev/{n}" for n in os.listdir("/sys/block")
                  if not n.startswith(("loop", "ram", "zram")) and os.path.exists(f"/dev/{n}")]
    for disk in host_disks:  # only checked, never opened for writing
        with pytest.raises(DeviceRefused):
            guard.check(disk)
    assert guard.allowed == [loop]
