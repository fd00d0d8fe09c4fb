"""Network operations behind ``/v1/networks``: create, update (JSON Patch) and delete.

1. The body (or the patched document) is parsed with ``api/schemas/networks.NetworkCreate`` (unknown fields and
   wrong types: 400) and checked as a whole by ``addressing.normalize`` (400).
2. Names and uuids are unique (409).
3. While VIFs are attached, a network's ``vlan_id``, ``physical_network`` and ``cidr`` cannot change and an
   address already handed out must stay inside a new pool's network (409, ``NetworkInUse``); a network with
   VIFs cannot be deleted (409).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks.api import patch as jsonpatch
from ironworks.api.schemas import networks as schema
from ironworks.api.schemas.validation import parse_model
from ironworks.db.repos.base import Record
from ironworks.db.repos.networks import NetLookup, NetworkInUse, NetworkRepo
from ironworks.identifiers import new_uuid, normalize_uuid
from ironworks.networking import addressing, dhcp

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: what cannot change under attached VIFs (their placement and addresses depend on it)
_PINNED = ("vlan_id", "physical_network", "cidr")


def repo(svc: Services) -> NetworkRepo:
    found = getattr(svc, "networks", None)
    return found if found is not None else NetworkRepo(svc.db)


def _values(body: dict[str, Any]) -> dict[str, Any]:
    model = parse_model(schema.NetworkCreate, body)
    values = model.model_dump()
    pool = values.pop("allocation_pool")
    values["allocation_pool"] = (pool["start"], pool["end"]) if pool else None
    if values["uuid"] is not None:
        values["uuid"] = normalize_uuid(values["uuid"])
    return addressing.normalize(values)


def find(svc: Services, ident: str) -> Record:
    return repo(svc).get(ident)


def create(svc: Services, body: dict[str, Any]) -> Record:
    values = _values(body)
    values["uuid"] = values["uuid"] or new_uuid()
    record = repo(svc).create(values)
    LOG.info("Created network %s (%s, VLAN %s)", record["name"], record["uuid"], record["vlan_id"])
    dhcp.sync(svc)  # only does something where this process runs netboot; never raises
    return record


def update(svc: Services, ident: str, patch: Any) -> Record:
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL)

    def mutate(record: Record, lk: NetLookup) -> dict[str, Any]:
        before = schema.document(record)
        after = jsonpatch.apply_patch(before, ops)
        if not jsonpatch.changed_fields(before, after):
            return {}
        doc = {k: v for k, v in after.items() if v is not None}
        values = _values(doc)
        changes = {k: v for k, v in values.items() if k != "uuid" and v != record[k]}
        used = lk.used_ips(record["id"])
        if lk.vif_count(record["id"]):
            pinned = [f for f in _PINNED if f in changes]
            if pinned:
                raise NetworkInUse(
                    network=record["name"], reason=f"{', '.join(pinned)} cannot change while VIFs are attached"
                )
            for ip in used:
                addressing.check_fixed({**record, **values}, ip, ())
        return changes

    record = repo(svc).update(ident, mutate)
    dhcp.sync(svc)
    return record


def delete(svc: Services, ident: str) -> None:
    record = repo(svc).delete(ident)
    LOG.info("Deleted network %s (%s)", record["name"], record["uuid"])
    dhcp.sync(svc)


def for_role(svc: Services, role: str) -> list[Record]:
    """Networks with ``role``, in creation order."""
    return [n for n in repo(svc).all() if role in (n["roles"] or [])]
