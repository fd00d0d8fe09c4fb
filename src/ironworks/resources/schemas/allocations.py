"""The allocation as the API shows and accepts it (Ironic's fields; ``flavor`` is an Ironworks extension)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ironworks.resources import microversion as mv
from ironworks.resources.timestamps import iso

#: every field an allocation shows (links come on top); ``flavor`` only when the allocation used one
API_FIELDS: tuple[str, ...] = (
    "candidate_nodes",
    "created_at",
    "extra",
    "last_error",
    "name",
    "node_uuid",
    "owner",
    "resource_class",
    "state",
    "traits",
    "updated_at",
    "uuid",
)
#: field → first minor version that shows it
FIELD_VERSIONS: dict[str, int] = {"owner": mv.ALLOCATION_OWNER}
PATCHABLE = frozenset({"name", "extra"})
INTERNAL = frozenset({*API_FIELDS, "links", "flavor", "node"} - PATCHABLE)


class AllocationCreate(BaseModel):
    """POST /v1/allocations body."""

    model_config = ConfigDict(extra="forbid")

    uuid: StrictStr | None = None
    name: StrictStr | None = None
    resource_class: Annotated[StrictStr, Field(max_length=80)] | None = None
    traits: list[StrictStr] | None = None
    candidate_nodes: list[StrictStr] | None = None
    owner: Annotated[StrictStr, Field(max_length=255)] | None = None
    extra: dict[str, Any] | None = None
    #: API 1.58: backfill an allocation for a deployed node
    node: StrictStr | None = None
    #: Ironworks extension: allocate for a flavor (docs/scheduling.md)
    flavor: StrictStr | None = None


class AllocationPatched(BaseModel):
    """The patchable part of an allocation after a JSON Patch."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr | None = None
    extra: dict[str, Any] | None = None


def hidden(version: int) -> frozenset[str]:
    return frozenset(f for f, since in FIELD_VERSIONS.items() if version < since)


def to_api(record: dict[str, Any], *, version: int, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    full = {
        "candidate_nodes": list(record["candidate_nodes"] or []),
        "created_at": iso(record["created_at"]),
        "extra": record["extra"] or {},
        "last_error": record["last_error"],
        "name": record["name"],
        "node_uuid": record.get("node_uuid"),
        "owner": record["owner"],
        "resource_class": record["resource_class"],
        "state": record["state"],
        "traits": list(record["traits"] or []),
        "updated_at": iso(record["updated_at"]),
        "uuid": record["uuid"],
    }
    if fields is None and record.get("flavor"):
        full["flavor"] = record["flavor"]
    wanted = [f for f in (full if fields is None else fields) if f not in hidden(version)]
    out = {f: full.get(f, record.get(f)) for f in wanted}
    out["links"] = [
        {"href": f"{base_url}/v1/allocations/{record['uuid']}", "rel": "self"},
        {"href": f"{base_url}/allocations/{record['uuid']}", "rel": "bookmark"},
    ]
    return out
