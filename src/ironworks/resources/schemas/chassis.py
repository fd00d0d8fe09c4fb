"""The chassis as the API shows and accepts it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ironworks.resources.schemas.nodes import JsonDict
from ironworks.resources.timestamps import iso

DESCRIPTION_MAX = 255

API_FIELDS: tuple[str, ...] = ("uuid", "description", "extra", "created_at", "updated_at")
DEFAULT_LIST_FIELDS = ("uuid", "description")
PATCHABLE = frozenset({"description", "extra"})
INTERNAL = frozenset({"uuid", "created_at", "updated_at", "links", "nodes", "id"})


class ChassisCreate(BaseModel):
    """POST /v1/chassis body; also the chassis document after a JSON Patch."""

    model_config = ConfigDict(extra="forbid")

    uuid: StrictStr | None = None
    description: Annotated[StrictStr, Field(max_length=DESCRIPTION_MAX)] | None = None
    extra: JsonDict | None = None


def to_api(record: dict[str, Any], *, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    wanted = API_FIELDS if fields is None else fields
    out: dict[str, Any] = {}
    for field in wanted:
        out[field] = iso(record[field]) if field in ("created_at", "updated_at") else record[field]
    uuid = record["uuid"]
    out["links"] = [
        {"href": f"{base_url}/v1/chassis/{uuid}", "rel": "self"},
        {"href": f"{base_url}/chassis/{uuid}", "rel": "bookmark"},
    ]
    if fields is None:
        out["nodes"] = [
            {"href": f"{base_url}/v1/chassis/{uuid}/nodes", "rel": "self"},
            {"href": f"{base_url}/chassis/{uuid}/nodes", "rel": "bookmark"},
        ]
    return out
