"""Flavor operations: create, update (JSON Patch), delete, and what a flavor asks of a node.

``extra_specs`` in Nova's spelling are folded into the structured fields at the door:
``resources:CUSTOM_X=1`` sets ``custom_resource_class``; ``resources:VCPU|MEMORY_MB|DISK_GB=0`` (Nova's way of
saying "bare metal: count no virtual resources") are accepted and dropped; ``trait:T=required|forbidden`` add
to ``traits`` / ``forbidden_traits``. Anything else is refused, so a typo never silently widens a request.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, is_valid_logical_name, new_uuid, normalize_uuid, validate_trait
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import flavors as schema
from ironworks.resources.schemas.validation import parse_model
from ironworks.scheduler.filters import PROPERTY_KEYS

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

_ZERO_RESOURCES = frozenset({"VCPU", "MEMORY_MB", "DISK_GB"})


def _fold_extra_specs(specs: dict[str, Any], values: dict[str, Any]) -> None:
    required = list(values.get("required_traits") or [])
    forbidden = list(values.get("forbidden_traits") or [])
    for key, raw in specs.items():
        value = str(raw).strip()
        kind, _, name = key.partition(":")
        if kind == "resources" and name in _ZERO_RESOURCES:
            if value != "0":
                raise errors.InvalidParameterValue(f"extra_specs {key}={value}: bare metal flavors set it to 0.")
        elif kind == "resources" and name.startswith("CUSTOM_"):
            if value != "1":
                raise errors.InvalidParameterValue(f"extra_specs {key}={value}: a bare metal node counts as 1.")
            if values.get("custom_resource_class") not in (None, name):
                raise errors.InvalidParameterValue("A flavor asks for one custom resource class, not several.")
            values["custom_resource_class"] = name
        elif kind == "trait" and value in ("required", "forbidden"):
            (required if value == "required" else forbidden).append(validate_trait(name))
        else:
            raise errors.InvalidParameterValue(
                f"Unsupported extra_specs entry {key}={value}: use resources:CUSTOM_<CLASS>=1, "
                "resources:VCPU|MEMORY_MB|DISK_GB=0 or trait:<TRAIT>=required|forbidden."
            )
    values["required_traits"] = list(dict.fromkeys(required))
    values["forbidden_traits"] = list(dict.fromkeys(forbidden))


def _columns(model: schema.FlavorCreate) -> dict[str, Any]:
    if not is_valid_logical_name(model.name):
        raise errors.InvalidParameterValue(
            f"Invalid flavor name {model.name!r}: letters, digits, '-', '.', '_' and '~', not a UUID."
        )
    values: dict[str, Any] = {
        "name": model.name,
        "description": model.description,
        "resource_class": model.resource_class,
        "custom_resource_class": model.custom_resource_class,
        "required_traits": [validate_trait(t) for t in model.traits or ()],
        "forbidden_traits": [validate_trait(t) for t in model.forbidden_traits or ()],
        "exact_match": model.exact_match,
        "extra": model.extra or {},
        **{key: getattr(model, key) for key in PROPERTY_KEYS},
    }
    if values["custom_resource_class"] is not None and not values["custom_resource_class"].startswith("CUSTOM_"):
        raise errors.InvalidParameterValue("custom_resource_class must start with CUSTOM_.")
    _fold_extra_specs(model.extra_specs or {}, values)
    if not values["resource_class"] and not values["custom_resource_class"]:
        raise errors.InvalidParameterValue(
            "A flavor needs a resource class: resource_class, or extra_specs resources:CUSTOM_<CLASS>=1."
        )
    both = set(values["required_traits"]) & set(values["forbidden_traits"])
    if both:
        raise errors.InvalidParameterValue(f"Traits both required and forbidden: {', '.join(sorted(both))}.")
    return values


def find(svc: Services, ident: str) -> Record:
    return svc.flavors.get(ident)


def create(svc: Services, body: dict[str, Any]) -> Record:
    model = parse_model(schema.FlavorCreate, body)
    values = _columns(model)
    values["uuid"] = normalize_uuid(model.uuid) if model.uuid else new_uuid()
    flavor = svc.flavors.create(values)
    LOG.info("Created flavor %s (%s)", flavor["name"], flavor["uuid"])
    return flavor


def _document(record: Record) -> dict[str, Any]:
    doc = {f: record.get(f) for f in schema.PATCHABLE}
    doc["traits"] = list(record["required_traits"] or ())
    doc["forbidden_traits"] = list(record["forbidden_traits"] or ())
    return doc


def update(svc: Services, ident: str, patch: Any) -> Record:
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL)

    def mutate(record: Record) -> dict[str, Any]:
        after = jsonpatch.apply_patch(_document(record), ops)
        values = _columns(parse_model(schema.FlavorCreate, {k: v for k, v in after.items() if v is not None}))
        return {k: v for k, v in values.items() if v != record[k]}

    return svc.flavors.update(ident, mutate)


def delete(svc: Services, ident: str) -> None:
    if not is_uuid_like(ident) and not is_valid_logical_name(ident):
        raise errors.InvalidUuidOrName(name=ident)
    svc.flavors.delete(ident)
    LOG.info("Deleted flavor %s", ident)
