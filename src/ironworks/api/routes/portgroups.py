"""/v1/portgroups and /v1/nodes/{node}/portgroups (API 1.23+, node sub-resource 1.24+).

A ``node`` filter naming another project's node answers 404 exactly as a missing node (ports.visible_node).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.api.routes.ports import list_detail_flag, q_list, versioned_fields, visible_node
from ironworks.db.repos.portgroups import SORTABLE
from ironworks.identifiers import normalize_mac
from ironworks.inventory import portgroups as inventory
from ironworks.resources import microversion as mv
from ironworks.resources.schemas import portgroups as schema

_LIST_PARAMS = (
    "limit",
    "marker",
    "sort_key",
    "sort_dir",
    "fields",
    "detail",
    "node",
    "address",
    "shard",
    "conductor_groups",
)


def _require(ctx: Ctx, since: int = mv.PORTGROUPS) -> None:
    """Portgroups do not exist before 1.23 (node sub-resource: 1.24): 404, as in Ironic."""
    if ctx.version < since:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def _render(ctx: Ctx, pg: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    return schema.to_api(pg, version=ctx.version, base_url=ctx.base_url, fields=fields)


def _fields(ctx: Ctx) -> list[str] | None:
    """406 for mode/properties/dynamic_portgroup below their versions; physical_network and category are only
    hidden below 1.102/1.103, as Ironic does."""
    return versioned_fields(ctx, mv.PORTGROUP_FIELDS, schema.API_FIELDS, refused=mv.PORTGROUP_FIELDS_REFUSED)


def _list(ctx: Ctx, detail: bool, parent_node: str | None = None) -> dict[str, Any]:
    ctx.check_params(_LIST_PARAMS)
    detail = list_detail_flag(ctx, detail)
    fields = _fields(ctx)
    if fields is not None and detail:
        raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    if sort_key in mv.hidden_fields(mv.PORTGROUP_FIELDS_REFUSED, ctx.version):
        raise errors.NotAcceptable(f"Sorting by {sort_key} requires a newer API version.")
    shards = q_list(ctx, "shard")
    if shards is not None:
        mv.require(ctx.version, mv.PORTGROUP_SHARD, "Filtering portgroups by shard")
    groups = q_list(ctx, "conductor_groups")  # API 1.99, accepted at every version as Ironic does
    filters: dict[str, Any] = ctx.list_scope()  # non-admins: portgroups of their project's nodes, in the query
    node_ident = parent_node or ctx.q_str("node")
    if sum(1 for f in (node_ident, ctx.q_str("address"), shards, groups) if f) > 1:
        raise errors.Invalid("Filtering by node, address, or shard simultaneously is not supported.")
    if node_ident is not None:
        filters["node_id"] = visible_node(ctx, node_ident)["id"]
    if ctx.q_str("address") is not None:
        filters["address"] = normalize_mac(ctx.q_str("address"))
    filters["shards"] = shards or None
    filters["conductor_groups"] = groups or None
    records = ctx.services.portgroups.list(
        filters=filters, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
    )
    if fields is None and not detail:
        fields = list(schema.DEFAULT_LIST_FIELDS)
    items = [_render(ctx, r, fields) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    path = ctx.request.url.path.removeprefix("/v1/")
    return ctx.collection("portgroups", items, records, limit, path, next_args)


def list_portgroups(ctx: Ctx) -> Any:
    _require(ctx)
    return _list(ctx, detail=False)


def list_portgroups_detail(ctx: Ctx) -> Any:
    _require(ctx)
    return _list(ctx, detail=True)


def list_node_portgroups(ctx: Ctx) -> Any:
    _require(ctx, mv.PORTGROUP_SUBCONTROLLERS)
    return _list(ctx, detail=False, parent_node=ctx.path_params["node"])


def list_node_portgroups_detail(ctx: Ctx) -> Any:
    _require(ctx, mv.PORTGROUP_SUBCONTROLLERS)
    return _list(ctx, detail=True, parent_node=ctx.path_params["node"])


def show_portgroup(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("fields",))
    fields = _fields(ctx)
    return _render(ctx, inventory.find(ctx.services, ctx.path_params["portgroup"]), fields)


def create_portgroup(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    pg = inventory.create(ctx.services, ctx.json_object(), ctx.version)
    return Reply(201, _render(ctx, pg), {"Location": f"{ctx.base_url}/v1/portgroups/{pg['uuid']}"})


def update_portgroup(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    pg = inventory.update(ctx.services, ctx.path_params["portgroup"], ctx.json(), ctx.version)
    return _render(ctx, pg)


def delete_portgroup(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    inventory.delete(ctx.services, ctx.path_params["portgroup"])
    return Reply(204)


routes = [
    Route("/v1/portgroups", endpoint(list_portgroups), methods=["GET"]),
    Route("/v1/portgroups", endpoint(create_portgroup), methods=["POST"]),
    Route("/v1/portgroups/detail", endpoint(list_portgroups_detail), methods=["GET"]),
    Route("/v1/portgroups/{portgroup}", endpoint(show_portgroup), methods=["GET"]),
    Route("/v1/portgroups/{portgroup}", endpoint(update_portgroup), methods=["PATCH"]),
    Route("/v1/portgroups/{portgroup}", endpoint(delete_portgroup), methods=["DELETE"]),
    Route("/v1/nodes/{node}/portgroups", endpoint(list_node_portgroups), methods=["GET"]),
    Route("/v1/nodes/{node}/portgroups/detail", endpoint(list_node_portgroups_detail), methods=["GET"]),
]
