"""Ironic's target RAID configuration (``PUT /v1/nodes/{node}/states/raid``), validated. Pure.

``{"logical_disks": [{"size_gb": 100 | "MAX", "raid_level": "1", "volume_name": "root",
"is_root_volume": true, "controller": "software", "physical_disks": [...], ...}]}``. ``{}`` or an empty list
clears it.
"""

from __future__ import annotations

from typing import Any

from ironworks import errors

RAID_LEVELS = ("JBOD", "0", "1", "2", "5", "6", "1+0", "5+0", "6+0", "10")  # Ironic's schema (+ "10")
_KEYS: dict[str, str] = {
    "size_gb": "a positive number of GiB or \"MAX\"",
    "raid_level": f"one of {', '.join(RAID_LEVELS)}",
    "volume_name": "a string",
    "is_root_volume": "a boolean",
    "share_physical_disks": "a boolean",
    "disk_type": "hdd or ssd",
    "interface_type": "sata, scsi or sas",
    "number_of_physical_disks": "a positive integer",
    "controller": "a string",
    "physical_disks": "a list",
}


#: the logical disk keys of Ironic's RAID schema with its descriptions (what the drivers' RAID properties show)
LOGICAL_DISK_PROPERTIES: dict[str, str] = {
    "controller": "Controller to use for this logical disk. If not specified, the driver will choose a suitable "
                  "RAID controller on the bare metal node. Optional.",
    "disk_type": "The type of disk preferred. Valid values are 'hdd' and 'ssd'. If this is not specified, disk "
                 "type will not be a selection criterion for choosing backing physical disks. Optional.",
    "interface_type": "The interface type of disk. Valid values are 'sata', 'scsi' and 'sas'. If this is not "
                      "specified, interface type will not be a selection criterion for choosing backing physical "
                      "disks. Optional.",
    "is_root_volume": "Specifies whether this disk is a root volume. By default, this is False. Optional.",
    "number_of_physical_disks": "Number of physical disks to use for this logical disk. By default, the driver "
                                "uses the minimum number of disks required for that RAID level. Optional.",
    "physical_disks": "The physical disks to use for this logical disk. If not specified, the driver will choose "
                      "suitable physical disks to use. Optional.",
    "raid_level": "RAID level for the logical disk. Valid values are 'JBOD', '0', '1', '2', '5', '6', '1+0', "
                  "'5+0' and '6+0'. Required.",
    "share_physical_disks": "Specifies whether other logical disks can share physical disks with this logical "
                            "disk. By default, this is False. Optional.",
    "size_gb": "Size in GiB (Integer) for the logical disk. Use 'MAX' as size_gb if this logical disk is "
               "supposed to use the rest of the space available. Required.",
    "volume_name": "Name of the volume to be created. If this is not specified, it will be auto-generated. "
                   "Optional.",
}


def _bad(index: int, key: str, value: Any) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"Invalid target RAID configuration: logical_disks[{index}].{key} = {value!r}; expected {_KEYS[key]}."
    )


def validate(config: Any) -> dict[str, Any]:
    """Return the configuration to store ({} when it has no logical disks) or raise InvalidParameterValue."""
    if not isinstance(config, dict):
        raise errors.InvalidParameterValue("The target RAID configuration must be a JSON object.")
    if not config:  # as Ironic: an empty object unsets the target configuration
        return {}
    unknown = set(config) - {"logical_disks"}
    if unknown or "logical_disks" not in config:
        raise errors.InvalidParameterValue(
            "The target RAID configuration must be {\"logical_disks\": [...]}"
            + (f"; unexpected: {', '.join(sorted(unknown))}" if unknown else "")
        )
    disks = config["logical_disks"]
    if not isinstance(disks, list):
        raise errors.InvalidParameterValue("logical_disks must be a list.")
    if not disks:
        return {}
    roots = 0
    for index, disk in enumerate(disks):
        if not isinstance(disk, dict):
            raise errors.InvalidParameterValue(f"logical_disks[{index}] must be an object.")
        extra = set(disk) - set(_KEYS)
        if extra:
            raise errors.InvalidParameterValue(
                f"Invalid target RAID configuration: logical_disks[{index}] has unknown key(s) "
                f"{', '.join(sorted(extra))}."
            )
        for required in ("size_gb", "raid_level"):
            if required not in disk:
                raise errors.InvalidParameterValue(f"logical_disks[{index}] needs '{required}'.")
        size = disk["size_gb"]
        if size != "MAX" and (isinstance(size, bool) or not isinstance(size, int | float) or size <= 0):
            raise _bad(index, "size_gb", size)
        if disk["raid_level"] not in RAID_LEVELS:
            raise _bad(index, "raid_level", disk["raid_level"])
        for key in ("volume_name", "controller"):
            if key in disk and not isinstance(disk[key], str):
                raise _bad(index, key, disk[key])
        for key in ("is_root_volume", "share_physical_disks"):
            if key in disk and not isinstance(disk[key], bool):
                raise _bad(index, key, disk[key])
        if "disk_type" in disk and disk["disk_type"] not in ("hdd", "ssd"):
            raise _bad(index, "disk_type", disk["disk_type"])
        if "interface_type" in disk and disk["interface_type"] not in ("sata", "scsi", "sas"):
            raise _bad(index, "interface_type", disk["interface_type"])
        count = disk.get("number_of_physical_disks")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise _bad(index, "number_of_physical_disks", count)
        if "physical_disks" in disk and not isinstance(disk["physical_disks"], list):
            raise _bad(index, "physical_disks", disk["physical_disks"])
        roots += bool(disk.get("is_root_volume"))
    if roots > 1:
        raise errors.InvalidParameterValue("Only one logical disk can be the root volume (is_root_volume).")
    return {"logical_disks": disks}
