"""/v1/flavors (an Ironworks extension, every API version): named hardware requests for allocations."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.db.repos.flavors import SORTABLE
from ironworks.resources.schemas import flavors as schema
from ironworks.scheduler import flavors as service

_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields")


def _render(ctx: Ctx, record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    return schema.to_api(record, base_url=ctx.base_url, fields=fields)


def list_flavors(ctx: Ctx) -> Any:
    ctx.check_params(_LIST_PARAMS)
    fields = ctx.q_fields(schema.API_FIELDS)
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    records = ctx.services.flavors.list(sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit)
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("flavors", [_render(ctx, r, fields) for r in records], records, limit, "flavors", next_args)


def show_flavor(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = ctx.q_fields(schema.API_FIELDS)
    return _render(ctx, service.find(ctx.services, ctx.path_params["flavor"]), fields)


def create_flavor(ctx: Ctx) -> Any:
    ctx.check_params(())
    record = service.create(ctx.services, ctx.json_object())
    return Reply(201, _render(ctx, record), {"Location": f"{ctx.base_url}/v1/flavors/{record['uuid']}"})


def update_flavor(ctx: Ctx) -> Any:
    ctx.check_params(())
    return _render(ctx, service.update(ctx.services, ctx.path_params["flavor"], ctx.json()))


def delete_flavor(ctx: Ctx) -> Any:
    ctx.check_params(())
    service.delete(ctx.services, ctx.path_params["flavor"])
    return Reply(204)


routes = [
    Route("/v1/flavors", endpoint(list_flavors), methods=["GET"]),
    Route("/v1/flavors", endpoint(create_flavor), methods=["POST"]),
    Route("/v1/flavors/{flavor}", endpoint(show_flavor), methods=["GET"]),
    Route("/v1/flavors/{flavor}", endpoint(update_flavor), methods=["PATCH"]),
    Route("/v1/flavors/{flavor}", endpoint(delete_flavor), methods=["DELETE"]),
]
