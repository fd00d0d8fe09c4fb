"""Root device hints and the skip list: table tests of the pure module (Ironic's operators and semantics)."""

from __future__ import annotations

from typing import Any

import pytest
from ironworks_agent.errors import DeviceNotFound
from ironworks_agent.hardware.root_device import (
    HintError,
    eligible_devices,
    find_devices,
    select_root_device,
    skip_reason,
)

GiB = 1024**3
DISKS: list[dict[str, Any]] = [
    {"name": "/dev/sda", "size": 60 * GiB, "model": "OK Model", "vendor": "ATA", "serial": "fakeserial",
     "wwn": "0x5000c500a1b2c3d4", "rotational": True, "hctl": "0:0:0:0", "tran": "sata",
     "by_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"},
    {"name": "/dev/sdb", "size": 120 * GiB, "model": "Big Model", "vendor": "SEAGATE", "serial": "veryfakeserial",
     "wwn": "0x5000c500deadbeef", "rotational": "yes", "hctl": "1:0:0:0", "tran": "sas"},
    {"name": "/dev/sdc", "size": 10 * GiB, "model": "small model", "vendor": "Samsung", "serial": "vvfs",
     "rotational": False, "hctl": "2:0:0:0", "tran": "sata"},
    {"name": "/dev/sdd", "size": 500 * GiB, "model": "SAN LUN", "vendor": "NETAPP", "serial": "lun1",
     "rotational": False, "tran": "fc", "hctl": "3:0:0:1"},
    {"name": "/dev/sde", "size": 16 * GiB, "model": "USB Stick", "vendor": "Kingston", "serial": "usb1",
     "rotational": False, "tran": "usb", "removable": True},
    {"name": "/dev/sdf", "size": 200 * GiB, "model": "MP disk", "serial": "mp1", "rotational": False,
     "multipath": True},
    {"name": "/dev/nvme0n1", "size": 2 * GiB, "model": "tiny nvme", "serial": "n1", "rotational": False,
     "tran": "nvme"},
]


@pytest.mark.parametrize(("hints", "expected"), [
    ({"size": ">= 70"}, ["/dev/sdb", "/dev/sdd", "/dev/sdf"]),
    ({"size": "60"}, ["/dev/sda"]),
    ({"size": 60}, ["/dev/sda"]),
    ({"size": "== 10"}, ["/dev/sdc"]),
    ({"size": "!= 10"}, ["/dev/nvme0n1", "/dev/sda", "/dev/sdb", "/dev/sdd", "/dev/sde", "/dev/sdf"]),
    ({"size": "> 120"}, ["/dev/sdd", "/dev/sdf"]),
    ({"size": "< 10"}, ["/dev/nvme0n1"]),
    ({"size": "<= 10"}, ["/dev/nvme0n1", "/dev/sdc"]),
    ({"size": "= 200"}, ["/dev/sdd", "/dev/sdf"]),  # legacy "=" means >=
    ({"size": "<range-in> ( 10 100 )"}, ["/dev/sda", "/dev/sde"]),
    ({"size": "<range-in> [ 10 100 ]"}, ["/dev/sda", "/dev/sdc", "/dev/sde"]),
    ({"size": "<or> 10 <or> 120"}, ["/dev/sdb", "/dev/sdc"]),
    ({"model": "big model"}, ["/dev/sdb"]),
    ({"model": "s== BIG MODEL"}, ["/dev/sdb"]),
    ({"model": "s!= big model", "size": ">= 50"}, ["/dev/sda", "/dev/sdd", "/dev/sdf"]),
    ({"model": "<in> model"}, ["/dev/sda", "/dev/sdb", "/dev/sdc"]),
    ({"model": "<or> model 5 <or> foomodel <or> small model"}, ["/dev/sdc"]),
    ({"vendor": "<or> samsung <or> seagate"}, ["/dev/sdb", "/dev/sdc"]),
    ({"serial": "s>= vvfs"}, ["/dev/sdc"]),
    ({"rotational": False, "model": "<in> small"}, ["/dev/sdc"]),
    ({"rotational": True}, ["/dev/sda", "/dev/sdb"]),
    ({"rotational": "false", "size": "< 11"}, ["/dev/nvme0n1", "/dev/sdc"]),
    ({"wwn": "0x5000C500DEADBEEF"}, ["/dev/sdb"]),
    ({"hctl": "2:0:0:0"}, ["/dev/sdc"]),
    ({"name": "/dev/sda"}, ["/dev/sda"]),
    ({"name": "sdb"}, ["/dev/sdb"]),
    ({"name": "<or> /dev/sda <or> /dev/sdc"}, ["/dev/sda", "/dev/sdc"]),
    ({"by_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"}, ["/dev/sda"]),
    ({"model": "<all-in> small model"}, ["/dev/sdc"]),
    ({"size": ">= 50", "model": "s== foo"}, []),
])
def test_find_devices(hints: dict[str, Any], expected: list[str]) -> None:
    assert sorted(d["name"] for d in find_devices(DISKS, hints)) == expected


@pytest.mark.parametrize("hints", [
    {"colour": "blue"},
    {"size": "big"},
    {"size": "-5"},
    {"size": "0"},
    {"size": "1.5"},
    {"size": "s== 10"},
    {"size": "<range-in> ( 100 10 )"},
    {"size": "<range-in> 10 100"},
    {"model": 5},
    {"model": "> abc"},
    {"model": ""},
    {"model": "s=="},
    {"rotational": "maybe"},
])
def test_bad_hints_are_refused(hints: dict[str, Any]) -> None:
    with pytest.raises(HintError):
        find_devices(DISKS, hints)


def test_device_without_the_attribute_does_not_match() -> None:
    assert find_devices([{"name": "/dev/sda", "size": GiB, "model": " "}], {"model": "foo"}) == []
    assert find_devices([{"name": "/dev/sda", "size": GiB}], {"serial": "x"}) == []


@pytest.mark.parametrize(("name", "reason"), [
    ("/dev/sda", None), ("/dev/sdb", None), ("/dev/sdd", "SAN-attached (fc)"), ("/dev/sde", "removable"),
    ("/dev/sdf", "multipath"),
])
def test_skip_reasons(name: str, reason: str | None) -> None:
    dev = next(d for d in DISKS if d["name"] == name)
    assert skip_reason(dev) == reason


def test_skip_list_entries_and_unknown_keys() -> None:
    sda = DISKS[0]
    assert skip_reason(sda, [{"name": "/dev/sda"}]) == "in the skip list"
    assert skip_reason(sda, [{"serial": "fakeserial"}]) == "in the skip list"
    assert skip_reason(sda, [{"volume_name": "root"}]) is None  # Ironic's RAID entry: not about disks
    assert [d["name"] for d in eligible_devices(DISKS, [{"name": "/dev/sdb"}])] == [
        "/dev/sda", "/dev/sdc", "/dev/nvme0n1"]


def test_without_hints_the_smallest_eligible_disk_of_4_gib_wins() -> None:
    assert select_root_device(DISKS)["name"] == "/dev/sdc"  # nvme is < 4 GiB, sde is removable
    assert select_root_device(DISKS, skip_list=[{"name": "/dev/sdc"}])["name"] == "/dev/sda"


def test_skipped_devices_are_chosen_only_when_named() -> None:
    with pytest.raises(DeviceNotFound):
        select_root_device(DISKS, {"size": ">= 300"})  # only the fc LUN is that big
    assert select_root_device(DISKS, {"serial": "lun1"})["name"] == "/dev/sdd"
    assert select_root_device(DISKS, {"name": "/dev/sde"})["name"] == "/dev/sde"
    assert select_root_device(DISKS, {"wwn": "0x5000c500a1b2c3d4"})["name"] == "/dev/sda"
    with pytest.raises(DeviceNotFound):  # the operator's skip list wins even over a name
        select_root_device(DISKS, {"name": "/dev/sda"}, skip_list=[{"name": "/dev/sda"}])


def test_first_match_by_name_with_hints() -> None:
    assert select_root_device(DISKS, {"rotational": False})["name"] == "/dev/nvme0n1"
    assert select_root_device(DISKS, {"rotational": False, "size": ">= 4"})["name"] == "/dev/sdc"
