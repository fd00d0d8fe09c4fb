"""Disk erase on real loop devices: metadata (GPT at both ends, filesystem signatures inside partitions) and
full erase (zeroing with progress; secure erase refused on a device that has none)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import ToolFailed
from ironworks_agent.hardware import erase
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import MiB, sh


def _read(dev: str, offset: int, length: int) -> bytes:
    with open(dev, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def test_erase_metadata_removes_gpt_and_filesystems(loop: str, guard: DeviceGuard) -> None:
    sh("sgdisk", "-n", "1:2048:+64M", "-t", "1:8300", "-n", "2:0:+32M", "-t", "2:8200", loop)
    p1, p2 = 2048 * 512, (2048 + 64 * 2048) * 512
    sh("mkfs.ext4", "-q", "-E", f"offset={p1}", loop, "64M")
    sh("mkfs.fat", "--offset", str(p2 // 512), loop, str(32 * 1024))  # offset in sectors, size in KiB
    assert "ext4" in sh("blkid", "-p", "-O", str(p1), loop).stdout
    assert "vfat" in sh("blkid", "-p", "-O", str(p2), loop).stdout
    size = 256 * MiB
    assert _read(loop, size - 512, 8) == b"EFI PART"  # backup GPT header in the last sector

    result = erase.erase_devices_metadata(guard, [loop])
    assert result[0]["partitions_found"] == 2

    assert sh("blkid", "-p", "-O", str(p1), loop, check=False).returncode == 2  # nothing found
    assert sh("blkid", "-p", "-O", str(p2), loop, check=False).returncode == 2
    assert sh("blkid", "-p", loop, check=False).returncode == 2
    assert _read(loop, 512, 8) != b"EFI PART" and _read(loop, size - 512, 8) != b"EFI PART"
    assert sh("sfdisk", "-J", loop, check=False).stdout.strip() == ""


def test_erase_metadata_through_the_command(loop: str, guard: DeviceGuard) -> None:
    sh("mkfs.ext4", "-q", loop)
    status, result, error = dispatch.run(CommandContext(guard=guard), "erase_devices_metadata", {})
    assert status == "SUCCEEDED", error
    assert result == {"devices": [{"device": loop, "partitions_found": 0, "md_zeroed": []}]}
    assert sh("blkid", "-p", loop, check=False).returncode == 2


def test_full_erase_zeroes_every_block_and_reports_progress(loop: str, guard: DeviceGuard) -> None:
    with open(loop, "r+b") as fh:
        for offset in (0, 17 * MiB + 123, 128 * MiB, 256 * MiB - 4096):
            fh.seek(offset)
            fh.write(os.urandom(4096))
    reports: list[dict[str, Any]] = []
    done = erase.erase_devices(guard, [loop], method="zero", progress=reports.append)
    assert done[0]["method"] == "zero" and done[0]["bytes"] == 256 * MiB
    assert reports and reports[-1]["bytes_done"] == reports[-1]["bytes_total"] == 256 * MiB
    zero = bytes(MiB)
    with open(loop, "rb") as fh:
        while chunk := fh.read(MiB):
            assert chunk == zero


def test_secure_erase_is_refused_when_unsupported(loop: str, guard: DeviceGuard) -> None:
    sh("mkfs.ext4", "-q", loop)
    with pytest.raises(ToolFailed, match="no secure erase"):
        erase.erase_device(guard, loop, method="secure")
    assert "ext4" in sh("blkid", "-p", loop).stdout  # untouched
    assert erase.erase_device(guard, loop, method="auto")["method"] in ("zero", "blkdiscard_secure")
