"""Chassis inventory operations: create, update (JSON Patch) and delete (only when no node is in it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_uuid
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import chassis as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)


def check_uuid(ident: str) -> str:
    if not is_uuid_like(ident):
        raise errors.InvalidUUID(uuid=ident)
    return ident.lower()


def find(svc: Services, ident: str) -> Record:
    return svc.chassis.get(check_uuid(ident))


def create(svc: Services, body: dict[str, Any]) -> Record:
    model = parse_model(schema.ChassisCreate, body)
    values = {
        "uuid": normalize_uuid(model.uuid) if model.uuid is not None else new_uuid(),
        "description": model.description,
        "extra": model.extra or {},
    }
    chassis = svc.chassis.create(values)
    LOG.info("Created chassis %s", chassis["uuid"])
    return chassis


def update(svc: Services, ident: str, patch: Any) -> Record:
    uuid = check_uuid(ident)
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL)

    def mutate(chassis: Record) -> dict[str, Any]:
        before = {f: chassis[f] for f in schema.PATCHABLE}
        after = jsonpatch.apply_patch(before, ops)
        model = parse_model(schema.ChassisCreate, {k: v for k, v in after.items() if v is not None})
        values = {"description": model.description, "extra": model.extra or {}}
        return {k: v for k, v in values.items() if v != chassis[k]}

    return svc.chassis.update(uuid, mutate)


def delete(svc: Services, ident: str) -> None:
    uuid = check_uuid(ident)
    svc.chassis.delete(uuid)
    LOG.info("Deleted chassis %s", uuid)
