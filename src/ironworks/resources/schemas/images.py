"""The image catalogue entry as the API shows and accepts it (an Ironworks extension, docs/instances.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ironworks.resources.timestamps import iso

Str255 = Annotated[StrictStr, Field(min_length=1, max_length=255)]

API_FIELDS: tuple[str, ...] = (
    "uuid",
    "name",
    "url",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "disk_format",
    "image_type",
    "description",
    "extra",
    "created_at",
    "updated_at",
)


class ImageSource(BaseModel):
    """Where an image is and how to check it: a catalogue entry's body, or an instance's inline ``image``."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[StrictStr, Field(min_length=1, max_length=2048)]
    checksum: Str255 | None = None
    os_hash_algo: Str255 | None = None
    os_hash_value: Str255 | None = None
    disk_format: StrictStr | None = None
    image_type: StrictStr | None = None


class ImageCreate(ImageSource):
    """POST /v1/images body."""

    name: Str255
    uuid: StrictStr | None = None
    description: StrictStr | None = None
    extra: dict[str, Any] | None = None


def to_api(record: dict[str, Any], *, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    full = {key: record[key] for key in API_FIELDS if key not in ("created_at", "updated_at")}
    full["created_at"] = iso(record["created_at"])
    full["updated_at"] = iso(record["updated_at"])
    out = full if fields is None else {f: full[f] for f in fields}
    out["links"] = [
        {"href": f"{base_url}/v1/images/{record['uuid']}", "rel": "self"},
        {"href": f"{base_url}/images/{record['uuid']}", "rel": "bookmark"},
    ]
    return out
