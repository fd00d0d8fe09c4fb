"""Software RAID planning on the host (pure: validation, member disk choice, partition layout and size math),
the GPT reader against sgdisk's output on a real file, and the command layer's parameter checks.

The mdadm side needs md and partition nodes, so it is tested inside a VM (test_raid_vm.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.errors import DeviceRefused, InvalidCommand
from ironworks_agent.hardware import md, raid
from ironworks_agent.safety import DeviceGuard

MiB, GiB = 2**20, 2**30
DISKS = [{"name": "/dev/vda", "size": 20 * GiB, "serial": "s-a", "rotational": False},
         {"name": "/dev/vdb", "size": 20 * GiB, "serial": "s-b", "rotational": False},
         {"name": "/dev/vdc", "size": 30 * GiB, "serial": "s-c", "rotational": True}]


def ld(**kw: Any) -> dict[str, Any]:
    return {"raid_level": "1", "size_gb": 10, "controller": "software", **kw}


def test_raid1_root_and_raid0_scratch_layout() -> None:
    logical = raid.parse_target({"logical_disks": [
        ld(raid_level="0", size_gb="MAX", volume_name="scratch"),
        ld(raid_level="1", size_gb=4, volume_name="root", is_root_volume=True)]})
    assert [(d.volume_name, d.is_root, d.size_gb) for d in logical] == [("scratch", False, None), ("root", True, 4.0)]
    disks = raid.select_disks(logical, DISKS[:2])
    assert disks == ["/dev/vda", "/dev/vdb"]
    layout = raid.plan_layout(logical, 2, 20 * GiB)
    assert [(p.number, p.type_code, p.name, p.volume) for p in layout] == [
        (1, "EF02", "bios-boot", None), (2, "EF00", "esp", None),
        (3, "FD00", "ironworks-root", 1), (4, "FD00", "ironworks-raid", 0)]  # MAX goes last
    assert (layout[0].start_mib, layout[0].size_mib) == (1, 1)
    assert (layout[1].start_mib, layout[1].size_mib) == (2, 512)
    root, scratch = layout[2], layout[3]
    assert root.start_mib == 514 and root.size_mib == 4 * 1024 + raid.MD_DATA_OFFSET_MIB
    assert scratch.start_mib == root.start_mib + root.size_mib
    end = scratch.start_mib + scratch.size_mib
    assert end * MiB <= 20 * GiB - raid.GPT_TAIL_BYTES < (end + 1) * MiB  # up to the last whole MiB


@pytest.mark.parametrize(("level", "members", "size_gb", "per_member_mib"), [
    ("1", 2, 2, 2048), ("1", 3, 2, 2048), ("0", 2, 2, 1024), ("0", 3, 1, 342), ("5", 3, 2, 1024),
    ("6", 4, 2, 1024), ("1+0", 4, 2, 1024), ("1", 2, 0.25, 256)])
def test_member_share_per_level(level: str, members: int, size_gb: float, per_member_mib: int) -> None:
    logical = raid.parse_target({"logical_disks": [ld(raid_level=level, size_gb=size_gb)]})
    layout = raid.plan_layout(logical, members, 100 * GiB)
    assert layout[2].size_mib == per_member_mib + raid.MD_DATA_OFFSET_MIB
    data = (layout[2].size_mib - raid.MD_DATA_OFFSET_MIB) * MiB
    assert raid.array_bytes(level, data, members) >= size_gb * GiB  # never smaller than asked


def test_levels_and_aliases() -> None:
    spellings = {"0": "0", "1": "1", "5": "5", "6": "6", "1+0": "1+0", "10": "1+0", 10: "1+0", 1: "1"}
    for given, expected in spellings.items():
        assert raid.parse_target({"logical_disks": [ld(raid_level=given)]})[0].raid_level == expected
    assert raid.parse_target({"logical_disks": [ld(raid_level="10")]})[0].md_level == "10"


@pytest.mark.parametrize(("config", "message"), [
    (None, "must be an object"),
    ({"logical_disks": []}, "non-empty list"),
    ({"logical_disks": [ld(raid_level="5", physical_disks=["/dev/vda", "/dev/vdb"])]}, "at least 3 disks"),
    ({"logical_disks": [ld(raid_level="6", number_of_physical_disks=3)]}, "at least 4 disks"),
    ({"logical_disks": [ld(size_gb="MAX", volume_name="a"), ld(size_gb="MAX", volume_name="b")]}, "only one"),
    ({"logical_disks": [ld(raid_level="7")]}, "not supported"),
    ({"logical_disks": [ld(raid_level="JBOD")]}, "not supported"),
    ({"logical_disks": [ld(raid_level="5+0")]}, "not supported"),
    ({"logical_disks": [ld(raid_level=None)]}, "raid_level is required"),
    ({"logical_disks": [ld(size_gb=0)]}, "positive number"),
    ({"logical_disks": [ld(size_gb=-1)]}, "positive number"),
    ({"logical_disks": [ld(size_gb="10")]}, "positive number"),
    ({"logical_disks": [ld(size_gb=True)]}, "positive number"),
    ({"logical_disks": [ld(controller="PERC H740")]}, "software"),
    ({"logical_disks": [ld(volume_name="has space")]}, "volume_name"),
    ({"logical_disks": [ld(volume_name="x" * 29)]}, "volume_name"),
    ({"logical_disks": [ld(volume_name="a"), ld(volume_name="a")]}, "unique"),
    ({"logical_disks": [ld(volume_name="a", is_root_volume=True), ld(volume_name="b", is_root_volume=True)]},
     "only one logical disk may be the root"),
    ({"logical_disks": [ld(frobnicate=1)]}, "unknown properties frobnicate"),
    ({"logical_disks": [ld(physical_disks="/dev/vda")]}, "physical_disks"),
    ({"logical_disks": [ld(volume_name="a", physical_disks=["/dev/vda", "/dev/vdb"]),
                        ld(volume_name="b", physical_disks=["/dev/vda", "/dev/vdc"])]}, "identically"),
    ({"logical_disks": ["x"]}, "must be an object"),
])
def test_bad_configs_are_refused_with_the_reason(config: Any, message: str) -> None:
    with pytest.raises(InvalidCommand) as exc:
        raid.parse_target(config)
    assert message in exc.value.message


def test_first_logical_disk_is_root_by_default() -> None:
    logical = raid.parse_target({"logical_disks": [ld(volume_name="os"), ld(volume_name="data", size_gb="MAX")]})
    assert [d.is_root for d in logical] == [True, False]


def test_member_disk_selection() -> None:
    logical = raid.parse_target({"logical_disks": [ld(physical_disks=[{"serial": "s-c"}, "vda"])]})
    assert raid.select_disks(logical, DISKS) == ["/dev/vdc", "/dev/vda"]
    logical = raid.parse_target({"logical_disks": [ld(number_of_physical_disks=2)]})
    assert raid.select_disks(logical, DISKS) == ["/dev/vda", "/dev/vdb"]
    for spec, message in (([{"rotational": False}, "/dev/vdc"], "matches 2"), (["/dev/sdz", "/dev/vda"], "matches 0"),
                          (["/dev/vda", "vda"], "same disk twice")):
        with pytest.raises(InvalidCommand, match=message):
            raid.select_disks(raid.parse_target({"logical_disks": [ld(physical_disks=spec)]}), DISKS)
    with pytest.raises(InvalidCommand, match="needs at least 2 disks; 1 usable"):
        raid.select_disks(raid.parse_target({"logical_disks": [ld()]}), DISKS[:1])
    with pytest.raises(InvalidCommand, match="only 3 disks"):
        raid.select_disks(raid.parse_target({"logical_disks": [ld(raid_level="6", number_of_physical_disks=4)]}),
                          DISKS)


def test_layout_that_does_not_fit_is_refused() -> None:
    logical = raid.parse_target({"logical_disks": [ld(size_gb=30)]})
    with pytest.raises(InvalidCommand, match="need .* MiB on each member"):
        raid.plan_layout(logical, 2, 20 * GiB)
    logical = raid.parse_target({"logical_disks": [ld(size_gb=19.48), ld(volume_name="x", size_gb="MAX")]})
    with pytest.raises(InvalidCommand, match="no room left for the \"MAX\" volume x"):
        raid.plan_layout(logical, 2, 20 * GiB)
    with pytest.raises(InvalidCommand, match="ESP"):
        raid.plan_layout(logical, 2, 20 * GiB, esp_mib=8)


@pytest.mark.skipif(shutil.which("sgdisk") is None, reason="sgdisk not installed")
def test_gpt_reader_sees_what_sgdisk_wrote(tmp_path: Path) -> None:
    """The layout as create_configuration writes it, read back by the pure-Python GPT reader."""
    image = tmp_path / "member.img"
    with open(image, "wb") as fh:
        fh.truncate(2 * GiB)
    logical = raid.parse_target({"logical_disks": [ld(size_gb=1, volume_name="root"),
                                                   ld(raid_level="0", size_gb="MAX", volume_name="scratch")]})
    layout = raid.plan_layout(logical, 2, 2 * GiB, esp_mib=64)
    md._partition(str(image), layout)  # noqa: SLF001 - the exact sgdisk call used on real disks
    entries = md.gpt_entries(str(image))
    assert [(e.number, e.name) for e in entries] == [(1, "bios-boot"), (2, "esp"), (3, "ironworks-root"),
                                                     (4, "ironworks-raid")]
    assert entries[0].type_guid == md.BIOS_BOOT_TYPE and entries[1].type_guid == md.ESP_TYPE
    for entry, plan in zip(entries, layout, strict=True):
        assert entry.first == plan.start_mib * 2048 and entry.last == (plan.start_mib + plan.size_mib) * 2048 - 1
    out = subprocess.run(["sgdisk", "-v", str(image)], capture_output=True, text=True, check=False).stdout
    assert "No problems found" in out


def test_md_partition_names() -> None:
    assert md.partition_node("/dev/vda", 3) == "/dev/vda3"
    assert md.partition_node("/dev/nvme0n1", 2) == "/dev/nvme0n1p2"
    assert md.partition_node("/dev/md127", 1) == "/dev/md127p1"


def test_md_guard_passes_disks_through_and_refuses_what_is_not_a_running_array(loop: str) -> None:
    guard = md.MdGuard(DeviceGuard([loop]))
    assert guard.check(loop) == loop and guard.allowed == [loop]
    for device in ("/dev/md99", "/dev/md99p1"):
        with pytest.raises(DeviceRefused, match="not a running md array"):
            guard.check(device)
    for device in ("/dev/md/nothing-here", "/dev/null"):
        with pytest.raises(DeviceRefused, match="not a block device"):
            guard.check(device)


def test_commands_refuse_bad_parameters_before_touching_disks(tmp_path: Path) -> None:
    ctx = CommandContext(guard=DeviceGuard([]))
    cases = [
        ("create_configuration", {}, "needs target_raid_config"),
        ("create_configuration", {"target_raid_config": {"logical_disks": [ld(raid_level="5")]}}, "at least 3"),
        ("create_configuration", {"target_raid_config": {"logical_disks": [ld()]}, "esp_size_mib": "big"},
         "esp_size_mib"),
        ("create_configuration", {"target_raid_config": {"logical_disks": [ld()]}, "extra": 1}, "unknown parameters"),
        ("delete_configuration", {"devices": "/dev/vda"}, "list of device paths"),
        ("install_bootloader", {"target_boot_mode": 1}, "must be a string"),
        ("install_bootloader", {"prep_boot_part_uuid": "abc"}, "PReP"),
    ]
    for name, params, message in cases:
        status, result, error = dispatch.run(ctx, name, params)
        assert status == "FAILED" and error is not None, (name, params)
        assert error["type"] == "InvalidCommand" and message in error["message"], error
    status, _, error = dispatch.run(ctx, "create_configuration",
                                    {"target_raid_config": {"logical_disks": [ld()]}})
    assert status == "FAILED" and error and "needs at least 2 disks; 0 usable" in error["message"]
