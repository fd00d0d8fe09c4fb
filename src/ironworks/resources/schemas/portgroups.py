"""The portgroup as the API shows and accepts it (Ironic's field names, rules and microversion gates)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ironworks import errors
from ironworks.identifiers import is_valid_logical_name, normalize_mac, normalize_uuid
from ironworks.resources import microversion as mv
from ironworks.resources.schemas.nodes import BoolLike, JsonDict, to_bool
from ironworks.resources.timestamps import iso

#: Linux bonding modes, by name and by number
BOND_MODES = (
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
)
VALID_MODES = frozenset(BOND_MODES) | {str(i) for i in range(len(BOND_MODES))}
DEFAULT_MODE = "active-backup"

API_FIELDS: tuple[str, ...] = (
    "uuid",
    "name",
    "address",
    "node_uuid",
    "standalone_ports_supported",
    "internal_info",
    "extra",
    "mode",
    "properties",
    "physical_network",
    "category",
    "dynamic_portgroup",
    "created_at",
    "updated_at",
)
DEFAULT_LIST_FIELDS = ("uuid", "address", "name")

PATCHABLE = frozenset(
    {
        "address",
        "extra",
        "mode",
        "name",
        "node_uuid",
        "properties",
        "standalone_ports_supported",
        "physical_network",
        "category",
    }
)
INTERNAL = frozenset({"uuid", "internal_info", "created_at", "updated_at", "links", "ports", "id"})


class PortgroupCreate(BaseModel):
    """POST /v1/portgroups body; also the portgroup document after a JSON Patch."""

    model_config = ConfigDict(extra="forbid")

    node_uuid: StrictStr
    uuid: StrictStr | None = None
    name: StrictStr | None = None
    address: StrictStr | None = None
    mode: StrictStr | None = None
    properties: JsonDict | None = None
    standalone_ports_supported: BoolLike | None = None
    extra: JsonDict | None = None
    physical_network: Annotated[StrictStr, Field(max_length=64)] | None = None  # API 1.102, accepted below it
    category: Annotated[StrictStr, Field(max_length=80)] | None = None  # API 1.103, accepted below it


def reject_newer_fields(body: dict[str, Any], version: int) -> None:
    """mode/properties before 1.26 (when set) are 406, as in Ironic; physical_network (1.102) and category (1.103)
    are accepted at every version (Ironic only hides them), dynamic_portgroup never (400: read-only)."""
    for field, value in body.items():
        since = mv.PORTGROUP_FIELDS_REFUSED.get(field) if field in ("mode", "properties") else None
        if since is not None and version < since and value:
            raise errors.NotAcceptable(
                f"The field '{field}' requires API version 1.{since} or newer; 1.{version} was requested."
            )


def check_name(name: str | None) -> None:
    if name is not None and not is_valid_logical_name(name):
        raise errors.InvalidParameterValue(
            f"Cannot use invalid name '{name}' for a portgroup: a name is 1-255 characters of letters, "
            "digits, "
            "'-', '.', '_' and '~' and must not look like a UUID."
        )


def check_mode(mode: str) -> str:
    if mode not in VALID_MODES:
        raise errors.InvalidParameterValue(
            f"Invalid portgroup mode {mode!r}: use one of {', '.join(BOND_MODES)} or their numbers 0-6."
        )
    return mode


def normalize(model: PortgroupCreate, default_mode: str) -> dict[str, Any]:
    values = model.model_dump()
    values["node_uuid"] = normalize_uuid(values["node_uuid"], "node_uuid")
    if values["uuid"] is not None:
        values["uuid"] = normalize_uuid(values["uuid"])
    check_name(values["name"])
    if values["address"] is not None:
        values["address"] = normalize_mac(values["address"])
    values["mode"] = check_mode(values["mode"] if values["mode"] is not None else default_mode)
    values["properties"] = values["properties"] or {}
    values["extra"] = values["extra"] or {}
    standalone = to_bool("standalone_ports_supported", values["standalone_ports_supported"])
    values["standalone_ports_supported"] = True if standalone is None else standalone
    return values


def to_api(record: dict[str, Any], *, version: int, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    hidden = mv.hidden_fields(mv.PORTGROUP_FIELDS, version)
    wanted = API_FIELDS if fields is None else fields
    out: dict[str, Any] = {}
    for field in wanted:
        if field in hidden:
            continue
        out[field] = iso(record[field]) if field in ("created_at", "updated_at") else record[field]
    uuid = record["uuid"]
    out["links"] = [
        {"href": f"{base_url}/v1/portgroups/{uuid}", "rel": "self"},
        {"href": f"{base_url}/portgroups/{uuid}", "rel": "bookmark"},
    ]
    if fields is None:
        out["ports"] = [
            {"href": f"{base_url}/v1/portgroups/{uuid}/ports", "rel": "self"},
            {"href": f"{base_url}/portgroups/{uuid}/ports", "rel": "bookmark"},
        ]
    return out
