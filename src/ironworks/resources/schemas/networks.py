"""The network (an Ironworks extension of Ironic's API) as the API shows and accepts it.

A network is a VLAN (``vlan_id``, the segmentation id; none for a flat network) on a physical network, with its
addressing (``cidr``, ``gateway``, ``dns_nameservers``, ``allocation_pool``, ``routes``, ``mtu``) and the
``roles`` it plays: ``provisioning``, ``cleaning``, ``rescue`` (the conductor's DHCP serves it and nodes are moved
there for that work) and ``tenant`` (VIFs may attach to it). ``dhcp_interface`` names the conductor's interface
for the network when it is not ``<trunk>.<vlan_id>``.

Tenancy (Neutron's model): ``owner`` is the project the network belongs to (None: the operator's) and
``shared`` makes it usable by every project. See networking/networks.py for who may set what.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ironworks.resources.timestamps import iso

ROLES = ("provisioning", "cleaning", "rescue", "tenant")

API_FIELDS: tuple[str, ...] = (
    "uuid",
    "name",
    "vlan_id",
    "physical_network",
    "cidr",
    "gateway",
    "dns_nameservers",
    "allocation_pool",
    "routes",
    "roles",
    "dhcp_interface",
    "mtu",
    "extra",
    "owner",
    "shared",
    "created_at",
    "updated_at",
)
DEFAULT_LIST_FIELDS = ("uuid", "name", "vlan_id", "cidr", "roles", "owner", "shared")
PATCHABLE = frozenset(API_FIELDS) - {"uuid", "created_at", "updated_at"}
INTERNAL = frozenset({"uuid", "created_at", "updated_at", "links", "id"})


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: StrictStr
    end: StrictStr


class HostRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination: StrictStr
    nexthop: StrictStr


class NetworkCreate(BaseModel):
    """POST /v1/networks body; also the network document after a JSON Patch."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr
    uuid: StrictStr | None = None
    vlan_id: StrictInt | None = None
    physical_network: StrictStr | None = None
    cidr: StrictStr | None = None
    gateway: StrictStr | None = None
    dns_nameservers: list[StrictStr] | None = None
    allocation_pool: Pool | None = None
    routes: list[HostRoute] | None = None
    roles: list[StrictStr] | None = None
    dhcp_interface: StrictStr | None = None
    mtu: StrictInt | None = None
    extra: dict[str, Any] | None = None
    owner: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    shared: StrictBool | None = None


def document(record: dict[str, Any]) -> dict[str, Any]:
    """The patchable document of a stored network (what a JSON Patch applies to)."""
    out = {f: record[f] for f in PATCHABLE if f != "allocation_pool"}
    out["allocation_pool"] = (
        {"start": record["allocation_start"], "end": record["allocation_end"]} if record["allocation_start"] else None
    )
    return out


def to_api(record: dict[str, Any], *, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    doc = document(record)
    out: dict[str, Any] = {}
    for field in API_FIELDS if fields is None else fields:
        if field in ("created_at", "updated_at"):
            out[field] = iso(record[field])
        elif field == "uuid":
            out[field] = record["uuid"]
        else:
            out[field] = doc[field]
    out["links"] = [
        {"href": f"{base_url}/v1/networks/{record['uuid']}", "rel": "self"},
        {"href": f"{base_url}/networks/{record['uuid']}", "rel": "bookmark"},
    ]
    return out
