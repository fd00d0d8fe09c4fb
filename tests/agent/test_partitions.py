"""The pure-Python partition table reader against tables written by sgdisk and sfdisk on loop devices, and
metadata erase of an MBR disk with logical partitions."""

from __future__ import annotations

import json

from ironworks_agent.hardware import erase
from ironworks_agent.hardware.partitions import read_table
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import sh


def _sfdisk(dev: str) -> list[tuple[int, int]]:
    table = json.loads(sh("sfdisk", "-J", dev).stdout)["partitiontable"]
    return [(int(p["start"]), int(p["size"])) for p in table["partitions"]]


def test_gpt_is_read_and_the_backup_header_is_used_when_the_primary_is_gone(loop: str) -> None:
    sh("sgdisk", "-n", "1:2048:+10M", "-n", "2:0:+20M", "-n", "5:0:+5M", loop)
    table = read_table(loop)
    assert table.label == "gpt" and table.sector == 512
    assert [(p.start, p.size) for p in table.partitions] == _sfdisk(loop)
    assert [p.number for p in table.partitions] == [1, 2, 5]
    with open(loop, "r+b") as fh:  # destroy the primary header (LBA 1)
        fh.seek(512)
        fh.write(bytes(512))
    assert [(p.start, p.size) for p in read_table(loop).partitions] == _sfdisk(loop)[:3]


def test_mbr_with_logical_partitions(loop: str, guard: DeviceGuard) -> None:
    layout = ("label: dos\n"
              "start=2048, size=20480, type=83\n"
              "start=22528, size=163840, type=5\n"
              "start=24576, size=20480, type=83\n"
              "start=47104, size=40960, type=fd\n")
    sh("sfdisk", loop, input_text=layout)
    table = read_table(loop)
    assert table.label == "dos"
    assert [(p.start, p.size) for p in table.partitions] == _sfdisk(loop)
    assert [p.number for p in table.partitions] == [1, 2, 5, 6]
    logical = table.partitions[3]
    sh("mkfs.ext4", "-q", "-E", f"offset={logical.start * 512}", loop, f"{logical.size // 2}k")
    assert "ext4" in sh("blkid", "-p", "-O", str(logical.start * 512), loop).stdout
    erase.erase_devices_metadata(guard, [loop])
    assert sh("blkid", "-p", "-O", str(logical.start * 512), loop, check=False).returncode == 2
    assert read_table(loop).label is None


def test_blank_device_has_no_table(loop: str) -> None:
    assert read_table(loop).label is None and read_table(loop).partitions == ()
