"""/v1/ports, /v1/nodes/{node}/ports, /v1/portgroups/{portgroup}/ports: list, show, create, update, delete.

A non-admin's lists are confined to its project's nodes in the query (``ctx.list_scope``); a ``node``,
``node_uuid`` or ``portgroup`` filter naming another project's node or portgroup answers 404 exactly as one
that does not exist (``visible_node``, ``visible_portgroup``), never an empty list that would tell them apart.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint, parse_bool
from ironworks.auth import policy
from ironworks.db.repos.base import Record
from ironworks.db.repos.ports import SORTABLE
from ironworks.identifiers import is_uuid_like, normalize_mac, normalize_uuid
from ironworks.inventory import nodes as node_inventory
from ironworks.inventory import portgroups as pg_inventory
from ironworks.inventory import ports as inventory
from ironworks.resources import microversion as mv
from ironworks.resources.schemas import ports as schema

_LIST_PARAMS = (
    "limit",
    "marker",
    "sort_key",
    "sort_dir",
    "fields",
    "detail",
    "node",
    "node_uuid",
    "address",
    "portgroup",
    "shard",
    "conductor_groups",
    "description_contains",
)


def visible_node(ctx: Ctx, ident: str) -> Record:
    """The node a filter names, if the caller may see it; else exactly the error of a missing node."""
    node = node_inventory.find(ctx.services, ident, ctx.version)
    if not policy.allowed(ctx.identity, "baremetal:node:get", node):
        raise errors.NodeNotFound(node=ident)
    return node


def visible_portgroup(ctx: Ctx, ident: str) -> Record:
    """The portgroup a filter names, if the caller may see its node; else exactly the error of a missing one."""
    pg = pg_inventory.find(ctx.services, ident)
    if not ctx.identity.is_admin and not policy.allowed(
        ctx.identity, "baremetal:portgroup:get", ctx.services.nodes.get(pg["node_uuid"])
    ):
        raise errors.PortgroupNotFound(portgroup=ident)
    return pg


def versioned_fields(
    ctx: Ctx, table: dict[str, int], api_fields: tuple[str, ...], refused: dict[str, int] | None = None
) -> list[str] | None:
    """The ``fields`` query parameter: 406 for a field newer than the request, 400 for an unknown one.

    ``refused``: the fields Ironic answers 406 for (default: every field of ``table``); a newer field it only
    hides is accepted and left out of the answer."""
    raw = ctx.q_str("fields")
    if raw is None:
        return None
    newer = sorted({f.strip() for f in raw.split(",")} & mv.hidden_fields(refused or table, ctx.version))
    if newer:
        raise errors.NotAcceptable(f"The field '{newer[0]}' requires a newer API version.")
    accepted = set(api_fields) if refused is not None else set(api_fields) - mv.hidden_fields(table, ctx.version)
    return ctx.q_fields(accepted)


def q_list(ctx: Ctx, name: str) -> list[str] | None:
    """A comma-separated list parameter (Ironic's ``string_list``)."""
    raw = ctx.q_str(name)
    if raw is None:
        return None
    return [v.strip() for v in raw.split(",") if v.strip()]


def list_detail_flag(ctx: Ctx, detail: bool) -> bool:
    if ctx.q_str("detail") is None:
        return detail
    mv.require(ctx.version, mv.DETAIL_QUERY, "The 'detail' parameter")
    if detail:
        raise errors.Invalid("The 'detail' parameter cannot be used on a /detail resource.")
    return parse_bool("detail", ctx.q_str("detail"))


def _list(ctx: Ctx, detail: bool, parent_node: str | None = None, parent_pg: str | None = None) -> dict[str, Any]:
    ctx.check_params(_LIST_PARAMS)
    detail = list_detail_flag(ctx, detail)
    fields = versioned_fields(ctx, mv.PORT_FIELDS, schema.API_FIELDS)
    if fields is not None and detail:
        raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    if sort_key in mv.hidden_fields(mv.PORT_FIELDS, ctx.version):
        raise errors.NotAcceptable(f"Sorting by {sort_key} requires a newer API version.")
    q = ctx.q_str
    node_ident = parent_node or q("node_uuid") or q("node")
    if parent_node is None and q("node_uuid") is not None:
        normalize_uuid(q("node_uuid"), "node_uuid")
    node_q = q("node")
    if parent_node is None and node_q is not None and not is_uuid_like(node_q) and ctx.version < mv.NODE_NAME:
        raise errors.NotAcceptable(f"Filtering ports by node name requires API version 1.{mv.NODE_NAME} or newer.")
    pg_ident = parent_pg or q("portgroup")
    if parent_pg is None and pg_ident is not None:
        mv.require(ctx.version, mv.PORTGROUP_SUBCONTROLLERS, "Filtering by portgroup")
    shards = q_list(ctx, "shard")
    if shards is not None:
        mv.require(ctx.version, mv.SHARD, "Filtering ports by shard")
    if sum(1 for f in (node_ident, pg_ident, shards) if f) > 1:  # Ironic's OperationNotPermitted
        raise errors.OperationNotPermitted()
    groups = q_list(ctx, "conductor_groups")  # API 1.99, accepted at every version as Ironic does
    if groups and (node_ident or pg_ident or q("address")):
        raise errors.Invalid(
            "Filtering by conductor_groups cannot be combined with node_ident, portgroup_ident, or node "
            "address filters."
        )
    filters: dict[str, Any] = ctx.list_scope()  # non-admins: ports of their project's nodes, in the query
    if node_ident is not None:
        filters["node_id"] = visible_node(ctx, node_ident)["id"]
    if pg_ident is not None:
        filters["portgroup_id"] = visible_portgroup(ctx, pg_ident)["id"]
    address = normalize_mac(q("address")) if q("address") is not None else None
    if node_ident is not None or pg_ident is not None:
        pass  # Ironic's precedence: portgroup, node, address, shard, then conductor groups
    elif address is not None:
        filters["address"] = address
    elif shards:
        filters["shards"] = shards
    elif groups:
        filters["conductor_groups"] = groups
    if "address" not in filters:  # Ironic's description_contains, no version check (its address lookup ignores it)
        filters["description_contains"] = q("description_contains") or None
    records = ctx.services.ports.list(filters=filters, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit)
    if fields is None and not detail:
        fields = list(schema.DEFAULT_LIST_FIELDS)
    items = [schema.to_api(r, version=ctx.version, base_url=ctx.base_url, fields=fields) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    path = ctx.request.url.path.removeprefix("/v1/")
    return ctx.collection("ports", items, records, limit, path, next_args)


def list_ports(ctx: Ctx) -> Any:
    return _list(ctx, detail=False)


def list_ports_detail(ctx: Ctx) -> Any:
    return _list(ctx, detail=True)


def list_node_ports(ctx: Ctx) -> Any:
    return _list(ctx, detail=False, parent_node=ctx.path_params["node"])


def list_node_ports_detail(ctx: Ctx) -> Any:
    return _list(ctx, detail=True, parent_node=ctx.path_params["node"])


def _require_pg_subresource(ctx: Ctx) -> str:
    if ctx.version < mv.PORTGROUP_SUBCONTROLLERS:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")
    return ctx.path_params["portgroup"]


def list_portgroup_ports(ctx: Ctx) -> Any:
    return _list(ctx, detail=False, parent_pg=_require_pg_subresource(ctx))


def list_portgroup_ports_detail(ctx: Ctx) -> Any:
    return _list(ctx, detail=True, parent_pg=_require_pg_subresource(ctx))


def show_port(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = versioned_fields(ctx, mv.PORT_FIELDS, schema.API_FIELDS)
    port = inventory.find(ctx.services, ctx.path_params["port"], ctx.version)
    return schema.to_api(port, version=ctx.version, base_url=ctx.base_url, fields=fields)


def create_port(ctx: Ctx) -> Any:
    ctx.check_params(())
    port = inventory.create(ctx.services, ctx.json_object(), ctx.version)
    body = schema.to_api(port, version=ctx.version, base_url=ctx.base_url)
    return Reply(201, body, {"Location": f"{ctx.base_url}/v1/ports/{port['uuid']}"})


def update_port(ctx: Ctx) -> Any:
    ctx.check_params(())
    ident = inventory.find(ctx.services, ctx.path_params["port"], ctx.version)["uuid"]  # by name from 1.88
    port = inventory.update(ctx.services, ident, ctx.json(), ctx.version)
    return schema.to_api(port, version=ctx.version, base_url=ctx.base_url)


def delete_port(ctx: Ctx) -> Any:
    ctx.check_params(())
    inventory.delete(ctx.services, ctx.path_params["port"])
    return Reply(204)


routes = [
    Route("/v1/ports", endpoint(list_ports), methods=["GET"]),
    Route("/v1/ports", endpoint(create_port), methods=["POST"]),
    Route("/v1/ports/detail", endpoint(list_ports_detail), methods=["GET"]),
    Route("/v1/ports/{port}", endpoint(show_port), methods=["GET"]),
    Route("/v1/ports/{port}", endpoint(update_port), methods=["PATCH"]),
    Route("/v1/ports/{port}", endpoint(delete_port), methods=["DELETE"]),
    Route("/v1/nodes/{node}/ports", endpoint(list_node_ports), methods=["GET"]),
    Route("/v1/nodes/{node}/ports/detail", endpoint(list_node_ports_detail), methods=["GET"]),
    Route("/v1/portgroups/{portgroup}/ports", endpoint(list_portgroup_ports), methods=["GET"]),
    Route("/v1/portgroups/{portgroup}/ports/detail", endpoint(list_portgroup_ports_detail), methods=["GET"]),
]
