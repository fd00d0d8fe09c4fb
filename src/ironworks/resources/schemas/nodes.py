"""The node as the API shows and accepts it (Ironic's field names and rules)."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from ironworks import errors, states
from ironworks.identifiers import is_valid_logical_name, normalize_uuid
from ironworks.logs import MASK, mask_secrets, mask_url_credentials
from ironworks.resources import microversion as mv
from ironworks.resources.schemas.network_data import validate_network_data

JsonDict = dict[str, Any]
BoolLike = StrictBool | StrictStr
Str255 = Annotated[StrictStr, Field(max_length=255)]

DESCRIPTION_MAX = 4096
RESERVED_NAMES = frozenset({"detail", "validate", "ports", "portgroups", "states", "traits", "vifs"})
_CONDUCTOR_GROUP_RE = re.compile(r"^[a-zA-Z0-9_\-.]*$")

INTERFACE_FIELDS = (
    "bios_interface", "boot_interface", "console_interface", "deploy_interface", "firmware_interface",
    "inspect_interface", "management_interface", "network_interface", "power_interface", "raid_interface",
    "rescue_interface", "storage_interface", "vendor_interface",
)

#: every field a node shows (links and sub-resource links come on top)
API_FIELDS: tuple[str, ...] = (
    "allocation_uuid", "automated_clean", "bios_interface", "boot_interface", "boot_mode", "chassis_uuid",
    "clean_step", "conductor", "conductor_group", "console_enabled", "console_interface", "created_at",
    "deploy_interface", "deploy_step", "description", "disable_power_off", "driver", "driver_info",
    "driver_internal_info", "extra", "fault", "firmware_interface", "health", "inspect_interface",
    "inspection_finished_at", "inspection_started_at", "instance_info", "instance_name", "instance_uuid",
    "last_error", "lessee", "maintenance", "maintenance_reason", "management_interface", "name", "network_data",
    "network_interface", "owner", "parent_node", "power_interface", "power_state", "properties", "protected",
    "protected_reason", "provision_state", "provision_updated_at", "raid_config", "raid_interface",
    "rescue_interface", "reservation", "resource_class", "retired", "retired_reason", "secure_boot",
    "service_step", "shard", "storage_interface", "target_power_state", "target_provision_state",
    "target_raid_config", "traits", "updated_at", "uuid", "vendor_interface",
)

#: what a plain (not detailed) list shows
DEFAULT_LIST_FIELDS = ("instance_uuid", "maintenance", "power_state", "provision_state", "uuid", "name")

PATCHABLE = frozenset({
    "automated_clean", "chassis_uuid", "conductor_group", "description", "disable_power_off", "driver",
    "driver_info", "extra", "instance_info", "instance_name", "instance_uuid", "lessee", "maintenance", "name",
    "network_data", "owner", "parent_node", "properties", "protected", "protected_reason", "resource_class",
    "retired", "retired_reason", "shard", *INTERFACE_FIELDS,
})
INTERNAL = frozenset(set(API_FIELDS) - PATCHABLE) | {"links", "ports", "portgroups", "states", "volume"}

_DATETIME_FIELDS = ("created_at", "updated_at", "provision_updated_at", "inspection_started_at",
                    "inspection_finished_at")


class NodeCreate(BaseModel):
    """POST /v1/nodes body."""

    model_config = ConfigDict(extra="forbid")

    driver: StrictStr
    uuid: StrictStr | None = None
    name: StrictStr | None = None
    chassis_uuid: StrictStr | None = None
    driver_info: JsonDict | None = None
    properties: JsonDict | None = None
    extra: JsonDict | None = None
    instance_info: JsonDict | None = None
    instance_uuid: StrictStr | None = None
    instance_name: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    network_data: JsonDict | None = None
    resource_class: Annotated[StrictStr, Field(max_length=80)] | None = None
    conductor_group: Str255 | None = None
    description: Annotated[StrictStr, Field(max_length=DESCRIPTION_MAX)] | None = None
    owner: Str255 | None = None
    lessee: Str255 | None = None
    shard: Str255 | None = None
    parent_node: Annotated[StrictStr, Field(max_length=36)] | None = None
    automated_clean: BoolLike | None = None
    maintenance: BoolLike | None = None
    console_enabled: BoolLike | None = None
    retired: BoolLike | None = None
    retired_reason: StrictStr | None = None
    disable_power_off: BoolLike | None = None
    boot_mode: StrictStr | None = None
    secure_boot: BoolLike | None = None
    bios_interface: StrictStr | None = None
    boot_interface: StrictStr | None = None
    console_interface: StrictStr | None = None
    deploy_interface: StrictStr | None = None
    firmware_interface: StrictStr | None = None
    inspect_interface: StrictStr | None = None
    management_interface: StrictStr | None = None
    network_interface: StrictStr | None = None
    power_interface: StrictStr | None = None
    raid_interface: StrictStr | None = None
    rescue_interface: StrictStr | None = None
    storage_interface: StrictStr | None = None
    vendor_interface: StrictStr | None = None


class NodePatched(NodeCreate):
    """The node document after a JSON Patch: the same rules plus the patch-only fields."""

    protected: BoolLike | None = None
    protected_reason: StrictStr | None = None


def to_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "t", "true", "on", "y", "yes"}:
        return True
    if text in {"0", "f", "false", "off", "n", "no"}:
        return False
    raise errors.Invalid(f"Invalid input for field/attribute {name}. Value: {value!r}. It is not a boolean.")


def check_name(name: str | None, version: int) -> None:
    if name is None:
        return
    if name in RESERVED_NAMES:
        raise errors.InvalidParameterValue(f"The name {name!r} is reserved and cannot be used for a node.")
    if not is_valid_logical_name(name, rfc3986=version >= mv.UNRESTRICTED_NODE_NAME):
        raise errors.InvalidParameterValue(
            f"Cannot create node with invalid name '{name}': a name is 1-255 characters of letters, digits, "
            "'-', '.', '_' and '~' and must not look like a UUID."
        )


def check_conductor_group(value: str | None) -> str:
    if value is None:
        return ""
    if not _CONDUCTOR_GROUP_RE.match(value):
        raise errors.InvalidParameterValue(
            f"Invalid conductor_group {value!r}: only letters, digits, '_', '-' and '.' are allowed."
        )
    return value.lower()


def reject_newer_fields(body: dict[str, Any], version: int) -> None:
    """Fields introduced after the request's version may not be set (406), as in Ironic.

    As Ironic's ``reject_fields_in_newer_versions``: an empty value (null; ``""`` for conductor_group) passes.
    """
    for field in body:
        since = mv.NODE_FIELDS.get(field)
        if since is not None and version < since:
            if body[field] is None or (field == "conductor_group" and body[field] == ""):
                continue
            raise errors.NotAcceptable(
                f"The field '{field}' requires API version 1.{since} or newer; 1.{version} was requested."
            )


# --- serialisation ------------------------------------------------------------------------------------------
def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() + "+00:00"


_SPECIAL_FIELDS = frozenset({"conductor", "allocation_uuid", "health", "driver_info", "driver_internal_info",
                             "instance_info",
                             "provision_state", *_DATETIME_FIELDS})


@functools.lru_cache(maxsize=256)
def _plan(wanted: tuple[str, ...], hidden: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split the fields to show into those copied as they are and those that need work (cached per request shape)."""
    shown = [f for f in wanted if f not in hidden]
    return (tuple(f for f in shown if f not in _SPECIAL_FIELDS), tuple(f for f in shown if f in _SPECIAL_FIELDS))


def to_api(
    record: dict[str, Any],
    *,
    version: int,
    base_url: str,
    fields: list[str] | None = None,
    conductor: str | None = None,
    hidden: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """One node as the API shows it. ``fields=None`` means every field plus sub-resource links."""
    plain, special = _plan(API_FIELDS if fields is None else tuple(fields), hidden)
    out: dict[str, Any] = {field: record[field] for field in plain}
    if isinstance(out.get("last_error"), str):  # an agent or BMC error may quote a URL with credentials
        out["last_error"] = mask_url_credentials(out["last_error"])
    for field in special:
        if field == "conductor":
            out[field] = conductor
        elif field == "health":
            out[field] = record.get("health")  # API 1.109: the BMC's health as power sync last read it
        elif field == "allocation_uuid":
            # a claimed node's instance_uuid is its allocation's uuid (scheduler/allocation.py keeps it so)
            out[field] = record.get("allocation_uuid") or (record["instance_uuid"] if record.get("allocation_id")
                                                           else None)
        elif field in ("driver_info", "driver_internal_info"):
            out[field] = mask_secrets(record[field])
        elif field == "instance_info":
            info = mask_secrets(record["instance_info"])
            if info.get("image_url"):
                info["image_url"] = MASK
            out[field] = info
        elif field == "provision_state":
            state = record["provision_state"]
            if version < mv.AVAILABLE_STATE and state == states.AVAILABLE:
                state = states.NOSTATE
            elif version < mv.INSPECT_WAIT and state == states.INSPECTWAIT:
                state = states.INSPECTING
            out[field] = state
        else:
            out[field] = _iso(record[field])
    uuid = record["uuid"]
    out["links"] = [
        {"href": f"{base_url}/v1/nodes/{uuid}", "rel": "self"},
        {"href": f"{base_url}/nodes/{uuid}", "rel": "bookmark"},
    ]
    if fields is None:
        for sub, since in (("ports", 0), ("states", mv.STATES_LINKS), ("portgroups", mv.PORTGROUP_SUBCONTROLLERS),
                           ("volume", mv.VOLUME)):
            if version >= since:
                out[sub] = [
                    {"href": f"{base_url}/v1/nodes/{uuid}/{sub}", "rel": "self"},
                    {"href": f"{base_url}/nodes/{uuid}/{sub}", "rel": "bookmark"},
                ]
    return out


def normalize_common(values: dict[str, Any], version: int) -> dict[str, Any]:
    """Rules shared by create and update; returns column values (booleans coerced, dicts defaulted)."""
    out = dict(values)
    check_name(out.get("name"), version)
    for key in ("driver_info", "properties", "extra", "instance_info", "network_data"):
        if key in out and out[key] is None:
            out[key] = {}
    if out.get("network_data"):  # as Ironic: a non-empty document must follow the network_data schema (1.66)
        validate_network_data(out["network_data"])
    for key in ("automated_clean", "maintenance", "console_enabled", "retired", "disable_power_off",
                "secure_boot", "protected"):
        if key in out:
            out[key] = to_bool(key, out[key])
    for key in ("maintenance", "console_enabled", "retired", "disable_power_off", "protected"):
        if key in out and out[key] is None:
            out[key] = False
    if "instance_uuid" in out and out["instance_uuid"] is not None:
        out["instance_uuid"] = normalize_uuid(out["instance_uuid"], "instance_uuid")
    if "parent_node" in out and out["parent_node"] is not None:
        out["parent_node"] = normalize_uuid(out["parent_node"], "parent_node")
    if "conductor_group" in out:
        out["conductor_group"] = check_conductor_group(out["conductor_group"])
    if "boot_mode" in out and out["boot_mode"] not in (None, "bios", "uefi"):
        raise errors.InvalidParameterValue(f"Invalid boot_mode {out['boot_mode']!r}: use 'bios' or 'uefi'.")
    return out
