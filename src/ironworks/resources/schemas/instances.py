"""The instance (one-call server) as the API accepts and shows it (an Ironworks extension, docs/instances.md).

``root_password`` and ``user_data`` are typed loosely here on purpose: a wrong type is refused by
instances/request.py with a message that never quotes the value (pydantic's messages would).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ironworks.logs import MASK
from ironworks.resources.timestamps import iso

Str255 = Annotated[StrictStr, Field(min_length=1, max_length=255)]


class NetworkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: Str255
    fixed_ip: StrictStr | None = None


class InstanceCreate(BaseModel):
    """POST /v1/instances body."""

    model_config = ConfigDict(extra="forbid")

    name: Str255
    hostname: Str255 | None = None
    flavor: Str255 | None = None
    resource_class: Annotated[StrictStr, Field(min_length=1, max_length=80)] | None = None
    traits: list[StrictStr] | None = None
    image: Any = None
    networks: list[NetworkRequest | Str255] | None = None
    ssh_keys: list[StrictStr] | None = None
    root_password: Any = None
    user_data: Any = None
    owner: Str255 | None = None
    project: Str255 | None = None
    candidate_nodes: list[StrictStr] | None = None


API_FIELDS: tuple[str, ...] = (
    "uuid",
    "name",
    "hostname",
    "state",
    "last_error",
    "node_uuid",
    "allocation_uuid",
    "owner",
    "flavor",
    "resource_class",
    "traits",
    "image",
    "networks",
    "ssh_keys",
    "root_password",
    "user_data",
    "created_at",
    "updated_at",
)


def to_api(
    record: dict[str, Any],
    *,
    state: str,
    last_error: str | None,
    networks: list[dict[str, Any]],
    base_url: str,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    full = {
        "uuid": record["uuid"],
        "name": record["name"],
        "hostname": record["hostname"],
        "state": state,
        "last_error": last_error,
        "node_uuid": record["node_uuid"],
        "allocation_uuid": record["allocation_uuid"],
        "owner": record["owner"],
        "flavor": record["flavor"],
        "resource_class": record["resource_class"],
        "traits": list(record["traits"] or ()),
        "image": dict(record["image"] or {}),
        "networks": networks,
        "ssh_keys": list(record["ssh_keys"] or ()),
        "root_password": MASK if record["has_root_password"] else None,
        "user_data": MASK if record["has_user_data"] else None,
        "created_at": iso(record["created_at"]),
        "updated_at": iso(record["updated_at"]),
    }
    out = full if fields is None else {f: full[f] for f in fields}
    out["links"] = [
        {"href": f"{base_url}/v1/instances/{record['uuid']}", "rel": "self"},
        {"href": f"{base_url}/instances/{record['uuid']}", "rel": "bookmark"},
    ]
    return out
