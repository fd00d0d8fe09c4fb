"""/v1/images (an Ironworks extension, every API version): the catalogue of named deployable images.

``POST``, ``GET`` (list, show by name or uuid) and ``DELETE``; the work is instances/images.py's. Reading is
for every role; writing is for admins (the auth hook's rule table: routes it does not list are admin-only).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.db.repos.images import SORTABLE
from ironworks.instances import images as service
from ironworks.resources.schemas import images as schema

_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields")


def _render(ctx: Ctx, record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    return schema.to_api(record, base_url=ctx.base_url, fields=fields)


def list_images(ctx: Ctx) -> Any:
    ctx.check_params(_LIST_PARAMS)
    fields = ctx.q_fields(schema.API_FIELDS)
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    records = service.list_images(ctx.services, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit)
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("images", [_render(ctx, r, fields) for r in records], records, limit, "images", next_args)


def show_image(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = ctx.q_fields(schema.API_FIELDS)
    return _render(ctx, service.find(ctx.services, ctx.path_params["image"]), fields)


def create_image(ctx: Ctx) -> Any:
    ctx.check_params(())
    record = service.create(ctx.services, ctx.json_object())
    return Reply(201, _render(ctx, record), {"Location": f"{ctx.base_url}/v1/images/{record['uuid']}"})


def delete_image(ctx: Ctx) -> Any:
    ctx.check_params(())
    service.delete(ctx.services, ctx.path_params["image"])
    return Reply(204)


routes = [
    Route("/v1/images", endpoint(list_images), methods=["GET"]),
    Route("/v1/images", endpoint(create_image), methods=["POST"]),
    Route("/v1/images/{image}", endpoint(show_image), methods=["GET"]),
    Route("/v1/images/{image}", endpoint(delete_image), methods=["DELETE"]),
]
