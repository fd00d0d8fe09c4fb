"""The flavor as the API shows and accepts it (an Ironworks extension, docs/scheduling.md).

A flavor names a hardware request: a resource class (``resource_class`` as Ironic spells it, or the placement
form ``resources:CUSTOM_BAREMETAL_GOLD=1`` in ``extra_specs`` as Nova flavors carry it), required and forbidden
traits (``trait:HW_CPU_X86_AVX2=required|forbidden`` in ``extra_specs``, or the ``traits`` and
``forbidden_traits`` lists), optional properties (``cpus``, ``memory_mb``, ``local_gb``) and whether those must
match exactly (``exact_match``; null: the ``flavor_exact_match`` setting decides).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ironworks.resources.timestamps import iso

Str255 = Annotated[StrictStr, Field(min_length=1, max_length=255)]
Positive = Annotated[StrictInt, Field(ge=1)]

API_FIELDS: tuple[str, ...] = (
    "uuid",
    "name",
    "description",
    "resource_class",
    "custom_resource_class",
    "traits",
    "forbidden_traits",
    "cpus",
    "memory_mb",
    "local_gb",
    "exact_match",
    "extra_specs",
    "extra",
    "created_at",
    "updated_at",
)
PATCHABLE = frozenset(
    {
        "name",
        "description",
        "resource_class",
        "custom_resource_class",
        "traits",
        "forbidden_traits",
        "cpus",
        "memory_mb",
        "local_gb",
        "exact_match",
        "extra",
    }
)
INTERNAL = frozenset({"uuid", "extra_specs", "created_at", "updated_at", "links"})


class FlavorCreate(BaseModel):
    """POST /v1/flavors body; also the flavor document after a JSON Patch."""

    model_config = ConfigDict(extra="forbid")

    name: Str255
    uuid: StrictStr | None = None
    description: StrictStr | None = None
    resource_class: Annotated[StrictStr, Field(min_length=1, max_length=80)] | None = None
    custom_resource_class: Str255 | None = None
    traits: list[StrictStr] | None = None
    forbidden_traits: list[StrictStr] | None = None
    cpus: Positive | None = None
    memory_mb: Positive | None = None
    local_gb: Positive | None = None
    exact_match: StrictBool | None = None
    extra_specs: dict[StrictStr, StrictStr | StrictInt] | None = None
    extra: dict[str, Any] | None = None


def extra_specs(record: dict[str, Any]) -> dict[str, str]:
    """The flavor in Nova's extra_specs spelling."""
    specs: dict[str, str] = {}
    if record["custom_resource_class"]:
        specs[f"resources:{record['custom_resource_class']}"] = "1"
    for trait in record["required_traits"] or ():
        specs[f"trait:{trait}"] = "required"
    for trait in record["forbidden_traits"] or ():
        specs[f"trait:{trait}"] = "forbidden"
    return specs


def to_api(record: dict[str, Any], *, base_url: str, fields: list[str] | None = None) -> dict[str, Any]:
    full = {
        "uuid": record["uuid"],
        "name": record["name"],
        "description": record["description"],
        "resource_class": record["resource_class"],
        "custom_resource_class": record["custom_resource_class"],
        "traits": list(record["required_traits"] or ()),
        "forbidden_traits": list(record["forbidden_traits"] or ()),
        "cpus": record["cpus"],
        "memory_mb": record["memory_mb"],
        "local_gb": record["local_gb"],
        "exact_match": record["exact_match"],
        "extra_specs": extra_specs(record),
        "extra": record["extra"],
        "created_at": iso(record["created_at"]),
        "updated_at": iso(record["updated_at"]),
    }
    out = full if fields is None else {f: full[f] for f in fields}
    out["links"] = [
        {"href": f"{base_url}/v1/flavors/{record['uuid']}", "rel": "self"},
        {"href": f"{base_url}/flavors/{record['uuid']}", "rel": "bookmark"},
    ]
    return out
