"""Network operations behind ``/v1/networks``: create, update (JSON Patch) and delete.

1. The body (or the patched document) is parsed with ``resources/schemas/networks.NetworkCreate`` (unknown fields and
   wrong types: 400) and checked as a whole by ``addressing.normalize`` (400).
2. Names and uuids are unique (409).
3. While VIFs are attached, a network's ``vlan_id``, ``physical_network`` and ``cidr`` cannot change and an
   address already handed out must stay inside a new pool's network (409, ``NetworkInUse``); a network with
   VIFs cannot be deleted (409).
4. Tenancy, as Neutron: a network has an ``owner`` project (None: the operator's) and a ``shared`` flag.
   ``scope`` is the caller's project, or None for an admin. A non-admin sees and uses its project's networks
   and shared ones; any other network is answered exactly like a missing one (404, same message). A member
   creates networks for its own project only, never shared, and may not choose where they live: the VLAN
   (``vlan_id``, ``physical_network``) comes from the operator's ``tenant_vlan_ranges`` (409 when none is
   free), the only role is ``tenant`` and ``dhcp_interface`` is the conductor's business (403 for each). The
   owner's members may change and delete their own network within the same limits; only an admin changes
   ``owner``, ``shared``, the VLAN, the roles or ``dhcp_interface``, and only an admin touches a network the
   caller does not own (403 for a shared one, 404 for one it cannot see).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.auth.identity import Forbidden
from ironworks.db.repos.base import Record
from ironworks.db.repos.networks import NetLookup, NetworkInUse, NetworkNotFound, NetworkRepo, visible
from ironworks.identifiers import new_uuid, normalize_uuid
from ironworks.networking import addressing, dhcp
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import networks as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: what cannot change under attached VIFs (their placement and addresses depend on it)
_PINNED = ("vlan_id", "physical_network", "cidr")
#: what only an admin sets: where the network lives, what the conductor does with it, and who may use it
_ADMIN_FIELDS = ("owner", "shared", "vlan_id", "physical_network", "roles", "dhcp_interface")


class NoTenantVlan(errors.Conflict):
    template = "No VLAN is free for a new network: %(reason)s"


def vlan_ranges(entries: tuple[str, ...]) -> list[tuple[str | None, int, int]]:
    """``tenant_vlan_ranges`` entries ("[physical_network:]first:last") as (physnet, first, last); bad ones are
    a configuration error (ValueError) reported when a member creates a network."""
    out: list[tuple[str | None, int, int]] = []
    for entry in entries:
        parts = [p.strip() for p in entry.split(":")]
        physnet = None
        if len(parts) == 3:
            physnet = parts.pop(0) or None
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"tenant_vlan_ranges entry {entry!r} is not [physical_network:]first:last")
        first, last = int(parts[0]), int(parts[1])
        if not 1 <= first <= last <= 4094:
            raise ValueError(f"tenant_vlan_ranges entry {entry!r}: VLANs are 1-4094, first <= last")
        out.append((physnet, first, last))
    return out


def _tenant_vlan(svc: Services) -> Any:
    """``prepare`` for NetworkRepo.create: the lowest VLAN of the tenant ranges no network uses."""
    try:
        ranges = vlan_ranges(svc.settings.tenant_vlan_ranges)
    except ValueError as exc:
        LOG.error("%s", exc)
        raise NoTenantVlan(reason="the tenant_vlan_ranges setting is invalid; ask the operator") from None
    if not ranges:
        raise NoTenantVlan(reason="the operator has configured no tenant_vlan_ranges")

    def prepare(lk: NetLookup) -> dict[str, Any]:
        used = lk.segments()
        for physnet, first, last in ranges:
            for vlan in range(first, last + 1):
                if (physnet, vlan) not in used:
                    return {"physical_network": physnet, "vlan_id": vlan}
        raise NoTenantVlan(reason="every VLAN of tenant_vlan_ranges is in use")

    return prepare


def repo(svc: Services) -> NetworkRepo:
    found = getattr(svc, "networks", None)
    return found if found is not None else NetworkRepo(svc.db)


def _values(body: dict[str, Any]) -> dict[str, Any]:
    model = parse_model(schema.NetworkCreate, body)
    values = model.model_dump()
    values["shared"] = bool(values["shared"])
    pool = values.pop("allocation_pool")
    values["allocation_pool"] = (pool["start"], pool["end"]) if pool else None
    if values["uuid"] is not None:
        values["uuid"] = normalize_uuid(values["uuid"])
    return addressing.normalize(values)


def find(svc: Services, ident: str, scope: str | None = None) -> Record:
    """The network ``ident`` as the caller confined to ``scope`` may see it: a foreign one is not found."""
    record = repo(svc).get(ident)
    if not visible(record, scope):
        raise NetworkNotFound(network=ident)
    return record


def _refuse_admin_fields(fields: list[str], what: str) -> None:
    if fields:
        raise Forbidden(action=f"{what} setting {', '.join(fields)} (operators only)")


def create(svc: Services, body: dict[str, Any], scope: str | None = None) -> Record:
    values = _values(body)
    values["uuid"] = values["uuid"] or new_uuid()
    prepare = None
    if scope is not None:
        if values["owner"] not in (None, scope):
            raise Forbidden(action=f"Creating a network for project {values['owner']} (the caller's is {scope})")
        given = [f for f in _ADMIN_FIELDS if f != "owner" and body.get(f) not in (None, False)]
        if values["roles"] == ["tenant"]:
            given = [f for f in given if f != "roles"]
        _refuse_admin_fields(given, "Creating a network")
        values["owner"] = scope
        prepare = _tenant_vlan(svc)
    record = repo(svc).create(values, prepare)
    LOG.info("Created network %s (%s, VLAN %s)", record["name"], record["uuid"], record["vlan_id"])
    dhcp.sync(svc)  # only does something where this process runs netboot; never raises
    return record


def _check_owner(record: Record, ident: str, scope: str | None, what: str) -> None:
    """Only an admin or the owner's members change a network; a foreign one is not found."""
    if not visible(record, scope):
        raise NetworkNotFound(network=ident)
    if scope is not None and record["owner"] != scope:
        raise Forbidden(action=f"{what} a network of another project")


def update(svc: Services, ident: str, patch: Any, scope: str | None = None) -> Record:
    ops = jsonpatch.validate_patch(patch, schema.PATCHABLE, schema.INTERNAL)

    def mutate(record: Record, lk: NetLookup) -> dict[str, Any]:
        _check_owner(record, ident, scope, "Changing")
        before = schema.document(record)
        after = jsonpatch.apply_patch(before, ops)
        if not jsonpatch.changed_fields(before, after):
            return {}
        doc = {k: v for k, v in after.items() if v is not None}
        values = _values(doc)
        changes = {k: v for k, v in values.items() if k != "uuid" and v != record[k]}
        if scope is not None:
            _refuse_admin_fields([f for f in _ADMIN_FIELDS if f in changes], "Changing a network")
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


def delete(svc: Services, ident: str, scope: str | None = None) -> None:
    record = repo(svc).delete(ident, lambda rec: _check_owner(rec, ident, scope, "Deleting"))
    LOG.info("Deleted network %s (%s)", record["name"], record["uuid"])
    dhcp.sync(svc)


def for_role(svc: Services, role: str) -> list[Record]:
    """Networks with ``role``, in creation order."""
    return [n for n in repo(svc).all() if role in (n["roles"] or [])]
