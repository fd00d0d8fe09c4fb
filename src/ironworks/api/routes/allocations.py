"""/v1/allocations (Ironic API 1.52+), /v1/nodes/{node}/allocation, and the candidates extension.

Parsing and version rules live here; the work is scheduler/allocation.py's. ``GET /v1/allocations/candidates``
(an Ironworks extension, every version) lists for a request which nodes qualify and why each other one does
not: the answer an operator needs when an allocation fails.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.auth import policy
from ironworks.auth.identity import Forbidden
from ironworks.db.repos.allocations import SORTABLE
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, is_valid_logical_name, validate_trait
from ironworks.resources import microversion as mv
from ironworks.resources import patch as jsonpatch
from ironworks.resources.schemas import allocations as schema
from ironworks.resources.schemas.validation import parse_model
from ironworks.scheduler import allocation as service
from ironworks.scheduler import filters, tenancy

_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields", "node", "resource_class", "state", "owner")
_CANDIDATE_PARAMS = ("flavor", "resource_class", "traits", "forbidden_traits", "owner", "candidate_nodes")


class MethodNotAllowed(errors.IronworksError):
    http_status = 405
    template = "The API version does not allow this method on allocations."


def visible_node(ctx: Ctx, ident: str) -> Record:
    """The node ``ident`` names, if the caller may see it (its project owns or leases it, or holds its
    allocation: an unowned node from the shared pool); a foreign node raises exactly what a missing one does
    (NodeNotFound), so that no filter tells a node of another project from no node at all."""
    node = ctx.services.nodes.get(ident)
    if not policy.allowed(ctx.identity, "baremetal:node:get", node):
        held = ctx.services.allocations.for_node(node["id"])
        if held is None or held["owner"] != scoped_project(ctx):
            raise errors.NodeNotFound(node=ident)
    return node


def scoped_project(ctx: Ctx) -> str | None:
    """RBAC hook: the project a caller is confined to (None: sees every allocation).

    Authentication (auth/) puts the caller on the context; a caller that is not an admin only sees and makes
    allocations of its own project, and picks only among nodes its project owns or leases, as in Ironic.
    """
    return None if ctx.identity.is_admin else ctx.identity.project


def _require(ctx: Ctx, since: int = mv.ALLOCATIONS, *, reading: bool = True) -> None:
    if ctx.version < since:
        if reading:
            raise errors.NotFound("The API version does not allow allocations")
        raise MethodNotAllowed()


def render(ctx: Ctx, record: Record, fields: list[str] | None = None) -> dict[str, Any]:
    return schema.to_api(record, version=ctx.version, base_url=ctx.base_url, fields=fields)


def _fields(ctx: Ctx) -> list[str] | None:
    fields = ctx.q_fields(set(schema.API_FIELDS) | {"links", "flavor"})
    if fields is not None:
        if "owner" in fields and ctx.version < mv.ALLOCATION_OWNER:
            raise errors.NotAcceptable("The 'owner' field requires API version 1.60 or newer.")
        fields = [f for f in fields if f != "links"]
    return fields


def _find(ctx: Ctx, ident: str) -> Record:
    if not (is_uuid_like(ident) or is_valid_logical_name(ident)):
        raise errors.InvalidUuidOrName(name=ident)
    record = ctx.services.allocations.get(ident)
    project = scoped_project(ctx)
    if project is not None and record["owner"] != project:
        raise errors.NotFound(f"Allocation {ident} could not be found.")
    return record


def list_allocations(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(_LIST_PARAMS)
    fields = _fields(ctx)
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    owner = ctx.q_str("owner")
    if owner is not None and ctx.version < mv.ALLOCATION_OWNER:
        raise errors.NotAcceptable("Filtering by owner requires API version 1.60 or newer.")
    project = scoped_project(ctx)
    if project is not None:
        if owner is not None and owner != project:
            raise Forbidden(action="Listing allocations of another project")
        owner = project
    filters_: dict[str, Any] = {
        "resource_class": ctx.q_str("resource_class"),
        "state": ctx.q_str("state"),
        "owner": owner,
    }
    node = ctx.q_str("node")
    if node is not None:
        try:
            filters_["node_uuid"] = visible_node(ctx, node)["uuid"]
        except errors.NodeNotFound as exc:
            raise errors.InvalidParameterValue(exc.message) from None
    records = ctx.services.allocations.list(
        filters=filters_, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
    )
    items = [render(ctx, r, fields) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("allocations", items, records, limit, "allocations", next_args)


def show_allocation(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("fields",))
    fields = _fields(ctx)
    return render(ctx, _find(ctx, ctx.path_params["allocation"]), fields)


def create_allocation(ctx: Ctx) -> Any:
    _require(ctx, reading=False)
    ctx.check_params(())
    body = parse_model(schema.AllocationCreate, ctx.json_object())
    if body.node is not None and ctx.version < mv.ALLOCATION_BACKFILL:
        raise errors.Invalid("Cannot set node when creating an allocation in this API version")
    owner = body.owner
    project = scoped_project(ctx)
    if project is not None:
        if owner is not None and owner != project:
            raise Forbidden(action=f"Creating an allocation for project {owner} (the caller's is {project})")
        owner = project
    request = service.AllocationRequest(
        resource_class=body.resource_class,
        traits=body.traits or (),
        candidate_nodes=body.candidate_nodes,
        name=body.name,
        uuid=body.uuid,
        owner=owner,
        extra=body.extra or {},
        flavor=body.flavor,
        node=body.node,
        caller_project=project,
    )
    record = service.allocate(ctx.services, request)
    return Reply(201, render(ctx, record), {"Location": f"{ctx.base_url}/v1/allocations/{record['uuid']}"})


def update_allocation(ctx: Ctx) -> Any:
    _require(ctx, mv.ALLOCATION_UPDATE, reading=False)
    ctx.check_params(())
    ops = jsonpatch.validate_patch(ctx.json(), schema.PATCHABLE, schema.INTERNAL)
    current = _find(ctx, ctx.path_params["allocation"])

    def mutate(record: Record) -> dict[str, Any]:
        before = {"name": record["name"], "extra": record["extra"]}
        after = jsonpatch.apply_patch(before, ops)
        model = parse_model(schema.AllocationPatched, after)
        if model.name is not None:
            service.check_name(model.name)
        values = {"name": model.name, "extra": model.extra or {}}
        return {k: v for k, v in values.items() if v != record[k]}

    return render(ctx, ctx.services.allocations.update(current["uuid"], mutate))


def delete_allocation(ctx: Ctx) -> Any:
    _require(ctx, reading=False)
    ctx.check_params(())
    record = _find(ctx, ctx.path_params["allocation"])
    service.release(ctx.services, record["uuid"])
    return Reply(204)


def _node_allocation(ctx: Ctx) -> Record:
    if ctx.version < mv.ALLOCATIONS:
        raise errors.NotFound("The API version does not allow allocations")
    node = ctx.services.nodes.get(ctx.path_params["node"])
    record = ctx.services.allocations.for_node(node["id"])
    project = scoped_project(ctx)
    if record is None or (project is not None and record["owner"] != project):
        raise errors.NotFound(f"Allocation for node {ctx.path_params['node']} was not found")
    return record


def show_node_allocation(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    record = _node_allocation(ctx)
    return render(ctx, record, _fields(ctx))


def delete_node_allocation(ctx: Ctx) -> Any:
    ctx.check_params(())
    service.release(ctx.services, _node_allocation(ctx)["uuid"])
    return Reply(204)


def _csv(ctx: Ctx, name: str) -> list[str]:
    raw = ctx.q_str(name)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else []


def candidates(ctx: Ctx) -> Any:
    """Which nodes qualify for a request, and for each other node every reason it does not."""
    ctx.check_params(_CANDIDATE_PARAMS)
    svc = ctx.services
    flavor, rc = ctx.q_str("flavor"), ctx.q_str("resource_class")
    if flavor is None and rc is None:
        raise errors.Invalid("Give a flavor, or a resource_class (with optional traits and owner).")
    owner = scoped_project(ctx) or ctx.q_str("owner")
    listed = _csv(ctx, "candidate_nodes")
    uuids = service.resolve_candidates(svc, listed, scoped_project(ctx)) if listed else None
    request = service.AllocationRequest(resource_class=rc, traits=_csv(ctx, "traits"), owner=owner, flavor=flavor)
    demand = service.demand_for(svc, request, uuids)
    forbidden = [validate_trait(t) for t in _csv(ctx, "forbidden_traits")]
    if forbidden:
        demand = dataclasses.replace(demand, forbidden_traits=demand.forbidden_traits | set(forbidden))
    tenant = tenancy.load(svc)
    nodes = svc.nodes.list(with_traits=True)
    if scoped_project(ctx) is not None:  # (the policy keeps this admin-only; never a foreign node regardless)
        nodes = [n for n in nodes if owner in (n["owner"], n["lessee"]) or (n["owner"] is None and not n["lessee"])]
    qualified, rejected = [], []
    for node in nodes:
        summary = {
            "uuid": node["uuid"],
            "name": node["name"],
            "resource_class": node["resource_class"],
            "properties": {k: node["properties"].get(k) for k in filters.PROPERTY_KEYS if k in node["properties"]},
        }
        why = filters.reasons(node, demand, tenant)
        if why:
            rejected.append({**summary, "reasons": why})
        else:
            qualified.append(summary)
    qualified = [dict(n) for n in filters.order(qualified, demand)]
    return {
        "request": {
            "description": demand.describe(),
            "flavor": demand.flavor,
            "resource_class": demand.resource_class,
            "custom_resource_class": demand.custom_resource_class,
            "traits": sorted(demand.required_traits),
            "forbidden_traits": sorted(demand.forbidden_traits),
            "properties": dict(demand.properties),
            "exact_match": demand.exact_match,
            "owner": owner,
        },
        "candidates": qualified,
        "rejected": rejected,
    }


routes = [
    Route("/v1/allocations", endpoint(list_allocations), methods=["GET"]),
    Route("/v1/allocations", endpoint(create_allocation), methods=["POST"]),
    Route("/v1/allocations/candidates", endpoint(candidates), methods=["GET"]),
    Route("/v1/allocations/{allocation}", endpoint(show_allocation), methods=["GET"]),
    Route("/v1/allocations/{allocation}", endpoint(update_allocation), methods=["PATCH"]),
    Route("/v1/allocations/{allocation}", endpoint(delete_allocation), methods=["DELETE"]),
    Route("/v1/nodes/{node}/allocation", endpoint(show_node_allocation), methods=["GET"]),
    Route("/v1/nodes/{node}/allocation", endpoint(delete_node_allocation), methods=["DELETE"]),
]
