"""The port as the API shows and accepts it (Ironic's field names, rules and microversion gates)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from ironworks import errors
from ironworks.identifiers import normalize_mac, normalize_uuid
from ironworks.resources import microversion as mv
from ironworks.resources.schemas.nodes import BoolLike, JsonDict, to_bool
from ironworks.resources.timestamps import iso

PHYSNET_MAX = 64

#: every field a port shows, in Ironic's order (links come on top)
API_FIELDS: tuple[str, ...] = (
    "uuid",
    "address",
    "node_uuid",
    "portgroup_uuid",
    "local_link_connection",
    "pxe_enabled",
    "physical_network",
    "internal_info",
    "extra",
    "is_smartnic",
    "name",
    "description",
    "vendor",
    "category",
    "available_for_dynamic_portgroup",
    "created_at",
    "updated_at",
)
DEFAULT_LIST_FIELDS = ("uuid", "address")

PATCHABLE = frozenset(
    {
        "address",
        "available_for_dynamic_portgroup",
        "category",
        "description",
        "extra",
        "is_smartnic",
        "local_link_connection",
        "name",
        "node_uuid",
        "physical_network",
        "portgroup_uuid",
        "pxe_enabled",
        "vendor",
    }
)
INTERNAL = frozenset({"uuid", "internal_info", "created_at", "updated_at", "links", "id"})

#: columns whose change needs the node in an "update allowed" state or maintenance (Ironic's list)
CONNECTIVITY = frozenset({"portgroup_id", "pxe_enabled", "local_link_connection", "physical_network"})

_LLC_KEYS = frozenset({"port_id", "switch_id", "hostname", "switch_info", "network_type"})
_LLC_NEWER = frozenset({"vtep-logical-switch", "vtep-physical-switch"})  # API 1.90, beyond ours
_DATAPATH_RE = re.compile(r"^[0-9a-fA-F]{16}$")


class PortCreate(BaseModel):
    """POST /v1/ports body; also the port document after a JSON Patch."""

    model_config = ConfigDict(extra="forbid")

    address: StrictStr
    node_uuid: StrictStr | None = None
    node_ident: StrictStr | None = None  # API 1.94: the node by uuid or name
    uuid: StrictStr | None = None
    extra: JsonDict | None = None
    local_link_connection: JsonDict | None = None
    pxe_enabled: BoolLike | None = None
    physical_network: Annotated[StrictStr, Field(max_length=PHYSNET_MAX)] | None = None
    portgroup_uuid: StrictStr | None = None
    is_smartnic: BoolLike | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None  # API 1.88
    description: Annotated[StrictStr, Field(max_length=255)] | None = None  # API 1.97
    vendor: Annotated[StrictStr, Field(max_length=32)] | None = None  # API 1.100
    category: Annotated[StrictStr, Field(max_length=80)] | None = None  # API 1.101
    available_for_dynamic_portgroup: StrictBool | None = None  # API 1.111


def reject_newer_fields(fields: Any, version: int) -> None:
    """Setting a field newer than the request's version is 406, as in Ironic."""
    if "node_ident" in fields and version < mv.PORT_NODE_IDENT:
        raise errors.NotAcceptable(
            f"The field 'node_ident' requires API version 1.{mv.PORT_NODE_IDENT} or newer; 1.{version} was requested."
        )
    for field in fields:
        since = mv.PORT_FIELDS.get(field)
        if since is not None and version < since:
            raise errors.NotAcceptable(
                f"The field '{field}' requires API version 1.{since} or newer; 1.{version} was requested."
            )


def check_node_keys(body: dict[str, Any]) -> None:
    """Ironic's ``oneOf``: exactly one of node_uuid and node_ident (400 at every version, before the 406s)."""
    if (body.get("node_uuid") is None) == (body.get("node_ident") is None):
        raise errors.Invalid(
            "Invalid input for field/attribute port. Exactly one of 'node_uuid' and 'node_ident' is required."
        )


def check_local_link(value: dict[str, Any] | None, version: int) -> dict[str, Any]:
    """Ironic's local_link_connection rules; returns it with switch_id normalised."""
    if not value:
        return {}
    out = dict(value)
    newer = sorted(set(out) & _LLC_NEWER)
    if newer:
        raise errors.NotAcceptable(f"local_link_connection/{newer[0]} is not supported by API version 1.{version}.")
    unknown = sorted(set(out) - _LLC_KEYS)
    if unknown:
        raise errors.Invalid(
            f"Invalid input for field/attribute local_link_connection. Additional properties are not allowed "
            f"({', '.join(repr(k) for k in unknown)} unexpected)"
        )
    for key, item in out.items():
        if not isinstance(item, str):
            raise errors.Invalid(
                f"Invalid input for field/attribute local_link_connection. {key}: {item!r} is not of type 'string'"
            )
    if "network_type" in out:
        if version < mv.NETWORK_TYPE:
            raise errors.NotAcceptable(
                f"local_link_connection/network_type requires API version 1.{mv.NETWORK_TYPE} or newer."
            )
        if out["network_type"] not in ("managed", "unmanaged"):
            raise errors.Invalid(
                f"Invalid input for field/attribute local_link_connection. "
                f"network_type {out['network_type']!r} is not one of ['managed', 'unmanaged']"
            )
    keys = set(out)
    complete = (
        {"port_id", "switch_id"} <= keys or {"port_id", "hostname"} <= keys or out.get("network_type") == "unmanaged"
    )
    if not complete:
        raise errors.Invalid(
            "Invalid input for field/attribute local_link_connection. It must contain port_id and switch_id "
            "(or port_id and hostname for a Smart NIC), or set network_type to 'unmanaged'."
        )
    if "switch_id" in out:
        out["switch_id"] = normalize_switch_id(out["switch_id"])
    return out


def normalize_switch_id(value: str) -> str:
    try:
        return normalize_mac(value)
    except errors.InvalidMAC:
        if _DATAPATH_RE.match(value):
            return value.lower()
    raise errors.Invalid(f"Expected a MAC address or OpenFlow datapath ID but received {value}.")


def normalize(model: PortCreate, version: int) -> dict[str, Any]:
    """Validated API values (not yet column values): MAC, UUIDs, booleans, local_link_connection."""
    values = model.model_dump()
    values["address"] = normalize_mac(values["address"])
    check_node_keys(values)
    if values["node_uuid"] is not None:
        values["node_uuid"] = normalize_uuid(values["node_uuid"], "node_uuid")
    if values["uuid"] is not None:
        values["uuid"] = normalize_uuid(values["uuid"])
    if values["portgroup_uuid"] is not None:
        values["portgroup_uuid"] = normalize_uuid(values["portgroup_uuid"], "portgroup_uuid")
    values["extra"] = values["extra"] or {}
    values["local_link_connection"] = check_local_link(values["local_link_connection"], version)
    pxe = to_bool("pxe_enabled", values["pxe_enabled"])
    values["pxe_enabled"] = True if pxe is None else pxe
    values["is_smartnic"] = bool(to_bool("is_smartnic", values["is_smartnic"]))
    if values["available_for_dynamic_portgroup"] is None:
        values["available_for_dynamic_portgroup"] = True
    if values["physical_network"] is not None and not values["physical_network"]:
        raise errors.Invalid("A non-empty value is required when setting physical_network")
    if values["is_smartnic"] and not {"port_id", "hostname"} <= set(values["local_link_connection"]):
        raise errors.Invalid("Smart NIC port must have port_id and hostname in local_link_connection")
    return values


# --- serialisation ------------------------------------------------------------------------------------------
def to_api(record: dict[str, Any], *, version: int, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    hidden = mv.hidden_fields(mv.PORT_FIELDS, version)
    wanted = API_FIELDS if fields is None else fields
    out: dict[str, Any] = {}
    for field in wanted:
        if field in hidden:
            continue
        if field in ("created_at", "updated_at"):
            out[field] = iso(record[field])
        else:
            out[field] = record[field]
    uuid = record["uuid"]
    out["links"] = [
        {"href": f"{base_url}/v1/ports/{uuid}", "rel": "self"},
        {"href": f"{base_url}/ports/{uuid}", "rel": "bookmark"},
    ]
    return out
