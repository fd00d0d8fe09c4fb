"""/v1/chassis: list, show, create, update, delete, and the nodes of a chassis."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.datastructures import ImmutableMultiDict
from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.api.routes import nodes as node_routes
from ironworks.api.routes.ports import list_detail_flag
from ironworks.db.repos.chassis import SORTABLE
from ironworks.inventory import chassis as inventory
from ironworks.resources.schemas import chassis as schema

_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields", "detail")


@dataclasses.dataclass
class _ScopedCtx(Ctx):
    """A request context whose query carries extra, fixed filters (the chassis of /v1/chassis/{id}/nodes)."""

    scope: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def query(self) -> Any:
        items = [(k, v) for k, v in self.request.query_params.multi_items() if k not in self.scope]
        return ImmutableMultiDict([*items, *self.scope.items()])


def _list(ctx: Ctx, detail: bool) -> dict[str, Any]:
    ctx.check_params(_LIST_PARAMS)
    detail = list_detail_flag(ctx, detail)
    fields = ctx.q_fields(schema.API_FIELDS)
    if fields is not None and detail:
        raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    records = ctx.services.chassis.list(sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit)
    if fields is None and not detail:
        fields = list(schema.DEFAULT_LIST_FIELDS)
    items = [schema.to_api(r, base_url=ctx.base_url, fields=fields) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    path = ctx.request.url.path.removeprefix("/v1/")
    return ctx.collection("chassis", items, records, limit, path, next_args)


def list_chassis(ctx: Ctx) -> Any:
    return _list(ctx, detail=False)


def list_chassis_detail(ctx: Ctx) -> Any:
    return _list(ctx, detail=True)


def _nodes(ctx: Ctx, detail: bool) -> Any:
    chassis = inventory.find(ctx.services, ctx.path_params["chassis"])
    if ctx.request.query_params.get("chassis_uuid") is not None:
        raise errors.Invalid("The chassis_uuid parameter cannot be used on /v1/chassis/{uuid}/nodes.")
    values = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}
    scoped = _ScopedCtx(**values, scope={"chassis_uuid": chassis["uuid"]})
    return node_routes.list_nodes_detail(scoped) if detail else node_routes.list_nodes(scoped)


def list_chassis_nodes(ctx: Ctx) -> Any:
    return _nodes(ctx, detail=False)


def list_chassis_nodes_detail(ctx: Ctx) -> Any:
    return _nodes(ctx, detail=True)


def show_chassis(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = ctx.q_fields(schema.API_FIELDS)
    return schema.to_api(inventory.find(ctx.services, ctx.path_params["chassis"]), base_url=ctx.base_url, fields=fields)


def create_chassis(ctx: Ctx) -> Any:
    ctx.check_params(())
    chassis = inventory.create(ctx.services, ctx.json_object())
    return Reply(
        201,
        schema.to_api(chassis, base_url=ctx.base_url),
        {"Location": f"{ctx.base_url}/v1/chassis/{chassis['uuid']}"},
    )


def update_chassis(ctx: Ctx) -> Any:
    ctx.check_params(())
    chassis = inventory.update(ctx.services, ctx.path_params["chassis"], ctx.json())
    return schema.to_api(chassis, base_url=ctx.base_url)


def delete_chassis(ctx: Ctx) -> Any:
    ctx.check_params(())
    inventory.delete(ctx.services, ctx.path_params["chassis"])
    return Reply(204)


routes = [
    Route("/v1/chassis", endpoint(list_chassis), methods=["GET"]),
    Route("/v1/chassis", endpoint(create_chassis), methods=["POST"]),
    Route("/v1/chassis/detail", endpoint(list_chassis_detail), methods=["GET"]),
    Route("/v1/chassis/{chassis}", endpoint(show_chassis), methods=["GET"]),
    Route("/v1/chassis/{chassis}", endpoint(update_chassis), methods=["PATCH"]),
    Route("/v1/chassis/{chassis}", endpoint(delete_chassis), methods=["DELETE"]),
    Route("/v1/chassis/{chassis}/nodes", endpoint(list_chassis_nodes), methods=["GET"]),
    Route("/v1/chassis/{chassis}/nodes/detail", endpoint(list_chassis_nodes_detail), methods=["GET"]),
]
