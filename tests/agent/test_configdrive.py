"""Config drives on loop devices: a ``config-2`` partition appended at the disk's end (GPT and MBR), read back
through ``losetup -o OFFSET --sizelimit SIZE`` and checked as ISO9660 with blkid and isoinfo."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import ImageError, InvalidCommand
from ironworks_agent.hardware import configdrive
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import FileServer, MiB, sh

CONTENT = {"meta_data": {"uuid": "6d85703a-565d-469a-96ce-30b6de53079d", "hostname": "node-1"},
           "user_data": "#cloud-config\nhostname: node-1\n",
           "network_data": {"links": [], "networks": [], "services": []}}


@contextmanager
def _window(dev: str, offset: int, size: int) -> Iterator[str]:
    part = sh("losetup", "--find", "--show", "--read-only", "-o", str(offset), "--sizelimit", str(size),
              dev).stdout.strip()
    try:
        yield part
    finally:
        sh("losetup", "-d", part, check=False)


def _check_iso(part: str) -> None:
    probe = sh("blkid", "-p", "-o", "export", part).stdout
    assert "TYPE=iso9660" in probe and "LABEL=config-2" in probe
    meta = sh("isoinfo", "-J", "-i", part, "-x", "/openstack/latest/meta_data.json").stdout
    assert json.loads(meta) == CONTENT["meta_data"]
    user = sh("isoinfo", "-J", "-i", part, "-x", "/openstack/latest/user_data").stdout
    assert user == CONTENT["user_data"]


def test_configdrive_partition_at_the_end_of_a_gpt_disk(loop: str, guard: DeviceGuard) -> None:
    sh("sgdisk", "-n", "1:2048:+100M", "-t", "1:8300", loop)
    result = configdrive.write_configdrive(guard, loop, configdrive.build_iso(CONTENT))
    assert result["partition_number"] == 2 and result["label"] == "config-2"
    assert result["size"] >= 64 * MiB
    assert result["offset"] + result["size"] <= 256 * MiB - 33 * 512  # before the backup GPT
    assert result["offset"] % MiB == 0
    info = sh("sgdisk", "-i", "2", loop).stdout
    assert "'config-2'" in info and f"First sector: {result['offset'] // 512} " in info
    assert "No problems found" in sh("sgdisk", "-v", loop).stdout
    with _window(loop, result["offset"], result["size"]) as part:
        _check_iso(part)


def test_configdrive_on_an_mbr_disk(loop: str, guard: DeviceGuard) -> None:
    sh("sfdisk", loop, input_text="start=2048, size=204800, type=83\n")
    result = configdrive.write_configdrive(guard, loop, configdrive.build_iso(CONTENT))
    assert result["partition_number"] == 2
    table = json.loads(sh("sfdisk", "-J", loop).stdout)["partitiontable"]["partitions"]
    assert int(table[1]["start"]) * 512 == result["offset"]
    with _window(loop, result["offset"], result["size"]) as part:
        _check_iso(part)


def test_configdrive_command_with_ironic_wire_format_and_url(loop: str, guard: DeviceGuard,
                                                             files: FileServer) -> None:
    iso = configdrive.build_iso(CONTENT)
    wire = base64.b64encode(gzip.compress(iso)).decode()
    ctx = CommandContext(guard=guard)
    status, result, error = dispatch.run(ctx, "write_configdrive",
                                         {"configdrive": wire, "device": loop, "partition": False})
    assert status == "SUCCEEDED", error
    with _window(loop, 0, len(iso)) as part:
        _check_iso(part)
    sh("wipefs", "-a", loop)
    sh("sgdisk", "-n", "1:2048:+32M", loop)
    url = files.add("cd.b64", wire.encode())
    status, result, error = dispatch.run(ctx, "write_configdrive", {"configdrive": url, "device": loop})
    assert status == "SUCCEEDED", error
    assert result is not None
    with _window(loop, result["offset"], result["size"]) as part:
        _check_iso(part)


def test_configdrive_errors(make_loop: Callable[[int], str]) -> None:
    dev = make_loop(64 * MiB)
    guard = DeviceGuard([dev])
    iso = configdrive.build_iso(CONTENT)
    with pytest.raises(ImageError, match="no partition table"):
        configdrive.write_configdrive(guard, dev, iso)
    sh("sgdisk", "-n", "1:2048:0", dev)  # the whole disk is taken
    with pytest.raises(ImageError, match="no room"):
        configdrive.write_configdrive(guard, dev, iso)
    with pytest.raises(InvalidCommand, match="not an ISO9660"):
        configdrive.write_configdrive(guard, dev, b"\0" * 100000, partition=False)
