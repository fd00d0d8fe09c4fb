"""``/v1/deploy_templates`` (API 1.55): list, show, create, update (JSON Patch), delete, as Ironic answers.

Below 1.55 a GET answers 404 and any other method 405 (Ironic's ``_route`` override). A template:
``uuid, name, steps, extra, created_at, updated_at, links``; a list shows ``uuid, name`` unless ``?detail=true``
(``?fields=`` picks; links always stay); shown by uuid or name. Secret-looking step arguments read ``******``.
Admin only (auth/hook.py: Ironic's ``baremetal:deploy_template:*`` are system-scoped).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.db.repos.base import Record
from ironworks.db.repos.deploy_templates import SORTABLE
from ironworks.inventory import deploy_templates as inventory
from ironworks.logs import mask_secrets
from ironworks.resources import microversion as mv
from ironworks.resources.timestamps import iso

FIELDS = ("uuid", "name", "steps", "extra", "created_at", "updated_at")
DEFAULT_LIST_FIELDS = ("uuid", "name")
_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields", "detail")


def _require(ctx: Ctx) -> None:
    if ctx.version < mv.DEPLOY_TEMPLATES:
        if ctx.request.method == "GET":
            raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")
        err = errors.IronworksError(f"The method {ctx.request.method} is not allowed for this resource.")
        err.http_status = 405
        raise err


def render_steps_record(ctx: Ctx, record: Record, fields: Iterable[str], resource: str) -> dict[str, Any]:
    """A deploy template or a runbook as Ironic shows it: times in ISO 8601, step arguments' secrets masked."""
    out: dict[str, Any] = {}
    for field in fields:
        value = record[field]
        if field in ("created_at", "updated_at"):
            value = iso(value)
        elif field == "steps":
            value = [dict(s, args=mask_secrets(s.get("args") or {})) for s in value]
        out[field] = value
    out["links"] = ctx.links(resource, record["uuid"])
    return out


def render(ctx: Ctx, record: Record, fields: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    return render_steps_record(ctx, record, FIELDS if fields is None else fields, "deploy_templates")


def list_templates(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(_LIST_PARAMS)
    detail, fields = ctx.q_detail_or_fields(FIELDS)
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    records = ctx.services.deploy_templates.list(sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit)
    shown = fields if fields is not None else (list(FIELDS) if detail else list(DEFAULT_LIST_FIELDS))
    items = [render(ctx, r, shown) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("deploy_templates", items, records, limit, "deploy_templates", next_args)


def show_template(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("fields",))
    fields = ctx.q_fields(FIELDS)
    return render(ctx, inventory.find(ctx.services, ctx.path_params["template"]), fields)


def create_template(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    template = inventory.create(ctx.services, ctx.json())
    return Reply(201, render(ctx, template), {"Location": f"{ctx.base_url}/v1/deploy_templates/{template['uuid']}"})


def update_template(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    return render(ctx, inventory.update(ctx.services, ctx.path_params["template"], ctx.json()))


def delete_template(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    inventory.delete(ctx.services, ctx.path_params["template"])
    return Reply(204)


routes = [
    Route("/v1/deploy_templates", endpoint(list_templates), methods=["GET"]),
    Route("/v1/deploy_templates", endpoint(create_template), methods=["POST"]),
    Route("/v1/deploy_templates/{template}", endpoint(show_template), methods=["GET"]),
    Route("/v1/deploy_templates/{template}", endpoint(update_template), methods=["PATCH"]),
    Route("/v1/deploy_templates/{template}", endpoint(delete_template), methods=["DELETE"]),
]
