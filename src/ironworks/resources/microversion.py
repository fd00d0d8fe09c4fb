"""Ironic API microversions: parsing the request header and the tables of what each version introduced.

Ironworks speaks version 1 with minor versions from ``MIN_VERSION`` to ``MAX_VERSION``. docs/api-compatibility.md
lists which features of each minor version are implemented.
"""

from __future__ import annotations

import functools
import re

from ironworks import errors

HEADER = "X-OpenStack-Ironic-API-Version"
MIN_HEADER = "X-OpenStack-Ironic-API-Minimum-Version"
MAX_HEADER = "X-OpenStack-Ironic-API-Maximum-Version"

MIN_MINOR = 1
#: the highest minor version advertised; see docs/api-compatibility.md
MAX_MINOR = 115

MIN_VERSION = f"1.{MIN_MINOR}"
MAX_VERSION = f"1.{MAX_MINOR}"

_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)\s*$")

# --- what each minor version introduced (the ones the API checks) ----------------------------------------------
AVAILABLE_STATE = 2
MANAGEABLE_STATE = 4
NODE_NAME = 5
INSPECT_STATE = 6
FIELDS_SUBSET = 8
PROVISION_STATE_FILTER = 9
UNRESTRICTED_NODE_NAME = 10
ENROLL_STATE = 11
RAID = 12
ABORT_VERB = 13
STATES_LINKS = 14
MANUAL_CLEAN = 15
DRIVER_FILTER = 16
ADOPT_VERB = 17
PORT_INTERNAL_INFO = 18
PORT_ADVANCED_NET = 19
RESOURCE_CLASS = 21
PORTGROUPS = 23
PORTGROUP_SUBCONTROLLERS = 24
UNSET_CHASSIS = 25
PORTGROUP_MODE = 26
SOFT_POWER = 27
INJECT_NMI = 29
DYNAMIC_DRIVERS = 30
DYNAMIC_INTERFACES = 31
VOLUME = 32
PORT_PHYSICAL_NETWORK = 34
REBUILD_CONFIGDRIVE = 35
NODE_TRAITS = 37
RESCUE = 38
INSPECT_WAIT = 39
INSPECT_ABORT = 41
FAULT = 42
DETAIL_QUERY = 43
RESET_INTERFACES = 45
CONDUCTOR_GROUP = 46
AUTOMATED_CLEAN = 47
PROTECTED = 48
CONDUCTORS = 49
OWNER = 50
DESCRIPTION = 51
ALLOCATIONS = 52
DEPLOY_TEMPLATES = 55
SMARTNIC = 53
EVENTS = 54
ALLOCATION_UPDATE = 57
ALLOCATION_BACKFILL = 58
ALLOCATION_OWNER = 60
RETIRED = 61
AGENT_TOKEN = 62
NETWORK_TYPE = 64
LESSEE = 65
NETWORK_DATA = 66
DEPLOY_STEPS = 69
DEPLOY_VERBS = 73
BOOT_MODE = 75
HISTORY = 78
INVENTORY = 81
SHARD = 82
PARENT_NODE = 83
FIRMWARE = 86
SERVICE = 87
PORT_NAME = 88
DISABLE_POWER_OFF = 95
PORT_DESCRIPTION = 97
INSTANCE_NAME = 104
VIF_ATTACH_PORT = 67
CLEAN_DISABLE_RAMDISK = 70
BOOT_MODE_CHANGE = 76
DRIVER_FIELDS = 77
ALLOCATION_NODE_NAME = 79
UNHOLD = 85
DOT_JSON = 91
RUNBOOKS = 92
RUNBOOK_TRAITS = 112
REQUEST_ID = 107
SERVICE_DISABLE_RAMDISK = 108
HEALTH = 109
DEPLOYWAIT_ABORT = 110
HISTORY_PROJECT = 113
HISTORY_FIELDS = 115
HEARTBEAT_VERIFY_CA = 68
HEARTBEAT_STATUS = 72
PORT_NODE_IDENT = 94
PATCH_SPECIAL_CHARS = 98
PORT_VENDOR = 100
PORT_CATEGORY = 101
PORTGROUP_PHYSICAL_NETWORK = 102
PORTGROUP_CATEGORY = 103
PORTGROUP_SHARD = 106
DYNAMIC_PORTGROUP = 111
CONTINUE_INSPECTION = 84
INSPECTION_RULES = 96

_DYNAMIC_INTERFACE_FIELDS = (
    "boot_interface", "console_interface", "deploy_interface", "inspect_interface", "management_interface",
    "power_interface", "raid_interface", "vendor_interface",
)

#: node field -> first minor version that shows it
NODE_FIELDS: dict[str, int] = {
    "driver_internal_info": 3,
    "name": NODE_NAME,
    "inspection_finished_at": INSPECT_STATE,
    "inspection_started_at": INSPECT_STATE,
    "clean_step": 7,
    "raid_config": RAID,
    "target_raid_config": RAID,
    "network_interface": 20,
    "resource_class": RESOURCE_CLASS,
    "storage_interface": 33,
    "traits": NODE_TRAITS,
    "rescue_interface": RESCUE,
    "bios_interface": 40,
    "fault": FAULT,
    "deploy_step": 44,
    "conductor_group": CONDUCTOR_GROUP,
    "automated_clean": AUTOMATED_CLEAN,
    "protected": PROTECTED,
    "protected_reason": PROTECTED,
    "conductor": CONDUCTORS,
    "owner": OWNER,
    "description": DESCRIPTION,
    "allocation_uuid": ALLOCATIONS,
    "retired": RETIRED,
    "retired_reason": RETIRED,
    "lessee": LESSEE,
    "network_data": NETWORK_DATA,
    "boot_mode": BOOT_MODE,
    "secure_boot": BOOT_MODE,
    "shard": SHARD,
    "parent_node": PARENT_NODE,
    "firmware_interface": FIRMWARE,
    "service_step": SERVICE,
    "disable_power_off": DISABLE_POWER_OFF,
    "instance_name": INSTANCE_NAME,
    "health": HEALTH,
    **{f: DYNAMIC_INTERFACES for f in _DYNAMIC_INTERFACE_FIELDS},
}

PORT_FIELDS: dict[str, int] = {
    "internal_info": PORT_INTERNAL_INFO,
    "local_link_connection": PORT_ADVANCED_NET,
    "pxe_enabled": PORT_ADVANCED_NET,
    "portgroup_uuid": PORTGROUP_SUBCONTROLLERS,
    "physical_network": PORT_PHYSICAL_NETWORK,
    "is_smartnic": SMARTNIC,
    "name": PORT_NAME,
    "description": PORT_DESCRIPTION,
    "vendor": PORT_VENDOR,
    "category": PORT_CATEGORY,
    "available_for_dynamic_portgroup": DYNAMIC_PORTGROUP,
}

PORTGROUP_FIELDS: dict[str, int] = {
    "mode": PORTGROUP_MODE,
    "properties": PORTGROUP_MODE,
    "physical_network": PORTGROUP_PHYSICAL_NETWORK,
    "category": PORTGROUP_CATEGORY,
    "dynamic_portgroup": DYNAMIC_PORTGROUP,
}

#: portgroup fields whose use below their version is refused (406) in a body, a PATCH, ``fields`` or
#: ``sort_key``; Ironic only hides the others (physical_network, category) and accepts them on input
PORTGROUP_FIELDS_REFUSED: dict[str, int] = {
    "mode": PORTGROUP_MODE,
    "properties": PORTGROUP_MODE,
    "dynamic_portgroup": DYNAMIC_PORTGROUP,
}


def parse(header_value: str | None, openstack_header: str | None = None) -> int:
    """Return the requested minor version (major is always 1).

    No header means the minimum version, as in Ironic. ``latest`` means the maximum.
    Raises NotAcceptable (406) for a malformed or an unsupported value, as Ironic does.
    """
    value = header_value
    if value is None and openstack_header:
        # "OpenStack-API-Version: baremetal 1.31"
        parts = openstack_header.strip().split()
        if len(parts) == 2 and parts[0].lower() == "baremetal":
            value = parts[1]
    if value is None or value.strip() == "":
        return MIN_MINOR
    if value.strip().lower() == "latest":
        return MAX_MINOR
    match = _VERSION_RE.match(value)
    if not match:
        raise errors.NotAcceptable(f"Invalid value for {HEADER} header")
    major, minor = int(match.group(1)), int(match.group(2))
    if major != 1 or not MIN_MINOR <= minor <= MAX_MINOR:
        raise errors.NotAcceptable(
            f"Version {major}.{minor} was requested but the minor version is not supported by this service. "
            f"The supported version range is: [{MIN_VERSION}, {MAX_VERSION}]."
        )
    return minor


def hidden_fields(table: dict[str, int], minor: int) -> frozenset[str]:
    return _hidden_fields(tuple(table.items()), minor)


@functools.lru_cache(maxsize=512)
def _hidden_fields(items: tuple[tuple[str, int], ...], minor: int) -> frozenset[str]:
    return frozenset(field for field, since in items if minor < since)


def require(minor: int, since: int, what: str = "This request") -> None:
    """406 unless the request's version is at least ``1.since``."""
    if minor < since:
        raise errors.NotAcceptable(
            f"{what} requires API version 1.{since} or newer; version 1.{minor} was requested. "
            f"Set the {HEADER} header."
        )
