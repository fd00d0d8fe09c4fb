"""``/v1/runbooks`` (API 1.92) and ``/v1/runbooks/{runbook}/traits`` (1.112), as Ironic answers.

Below 1.92 a GET answers 404 and any other method 405 (Ironic's ``_route`` override); the traits sub-resource
answers 404 below 1.112. A runbook: ``uuid, name, steps, disable_ramdisk, public, owner, extra, created_at,
updated_at, links`` (+ ``description``, ``traits`` from 1.112); a list shows ``uuid, name`` unless
``?detail=true`` (``?fields=`` picks); shown by uuid or name. Secret-looking step arguments read ``******``.
Who may see and change which runbook: inventory/runbooks.py.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.api.routes.deploy_templates import render_steps_record
from ironworks.db.repos.base import Record
from ironworks.db.repos.runbooks import SORTABLE
from ironworks.inventory import runbooks as inventory
from ironworks.resources import microversion as mv

FIELDS = ("uuid", "name", "steps", "disable_ramdisk", "public", "owner", "extra", "created_at", "updated_at")
FIELDS_112 = ("description", "traits")
DEFAULT_LIST_FIELDS = ("uuid", "name")
_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields", "detail", "project")


def _require(ctx: Ctx) -> None:
    if ctx.version < mv.RUNBOOKS:
        if ctx.request.method == "GET":
            raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")
        err = errors.IronworksError(f"The method {ctx.request.method} is not allowed for this resource.")
        err.http_status = 405
        raise err


def _require_traits(ctx: Ctx) -> None:
    _require(ctx)
    if ctx.version < mv.RUNBOOK_TRAITS:
        raise errors.NotFound("The API version does not allow runbook traits")


def _project(ctx: Ctx) -> str | None:
    """None for the operator; else the caller's project (which every non-admin needs here)."""
    if ctx.identity.is_admin:
        return None
    if not ctx.identity.project:
        raise errors.RunbookForbidden(action="baremetal:runbook:get")
    return ctx.identity.project


def _fields(ctx: Ctx) -> tuple[str, ...]:
    return FIELDS + (FIELDS_112 if ctx.version >= mv.RUNBOOK_TRAITS else ())


def render(ctx: Ctx, record: Record, fields: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    return render_steps_record(ctx, record, _fields(ctx) if fields is None else fields, "runbooks")


def list_runbooks(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(_LIST_PARAMS)
    detail, fields = ctx.q_detail_or_fields(_fields(ctx))
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    project = _project(ctx)
    if project is None and ctx.q_str("project"):
        project = ctx.q_str("project")
    records = ctx.services.runbooks.list(
        filters={"project": project}, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
    )
    shown = fields if fields is not None else (list(_fields(ctx)) if detail else list(DEFAULT_LIST_FIELDS))
    items = [render(ctx, r, shown) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("runbooks", items, records, limit, "runbooks", next_args)


def show_runbook(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("fields",))
    fields = ctx.q_fields(_fields(ctx))
    return render(ctx, inventory.find(ctx.services, ctx.path_params["runbook"], _project(ctx)), fields)


def create_runbook(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    runbook = inventory.create(ctx.services, ctx.json(), _project(ctx), ctx.version)
    return Reply(201, render(ctx, runbook), {"Location": f"{ctx.base_url}/v1/runbooks/{runbook['uuid']}"})


def update_runbook(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    updated = inventory.update(ctx.services, ctx.path_params["runbook"], ctx.json(), _project(ctx), ctx.version)
    return render(ctx, updated)


def delete_runbook(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    inventory.delete(ctx.services, ctx.path_params["runbook"], _project(ctx))
    return Reply(204)


def get_traits(ctx: Ctx) -> Any:
    _require_traits(ctx)
    ctx.check_params(())
    runbook = inventory.find(ctx.services, ctx.path_params["runbook"], _project(ctx))
    return {"traits": list(runbook["traits"] or [])}


_BOTH_OR_NEITHER = (
    "A single runbook trait may be added via PUT /v1/runbooks/<runbook identifier>/traits/<trait> "
    "with no body, or all runbook traits may be replaced via PUT /v1/runbooks/<runbook "
    "identifier>/traits with the list of traits specified in the request body."
)


def put_traits(ctx: Ctx) -> Any:
    _require_traits(ctx)
    ctx.check_params(())
    trait = ctx.path_params.get("trait")
    body = ctx.json() if ctx.raw_body.strip() else None
    if body is not None and not isinstance(body, dict):
        raise errors.InvalidParameterValue(f"Schema error: {body!r} is not of type 'object'")
    if body and set(body) - {"traits"}:
        raise errors.InvalidParameterValue("Schema error: Additional properties are not allowed")
    traits = body.get("traits") if body else None
    if (trait is not None) == (traits is not None):
        raise errors.Invalid(_BOTH_OR_NEITHER)
    if trait is not None:
        if body:
            raise errors.Invalid("No body should be provided when adding a trait")
        inventory.set_traits(ctx.services, ctx.path_params["runbook"], _project(ctx), add=trait)
        return Reply(204, None, {"Location": f"{ctx.base_url}/v1/runbooks/{ctx.path_params['runbook']}/traits/{trait}"})
    if not isinstance(traits, list):
        raise errors.InvalidParameterValue(f"Schema error: {traits!r} is not of type 'array'")
    inventory.set_traits(ctx.services, ctx.path_params["runbook"], _project(ctx), traits=traits)
    return Reply(204)


def delete_traits(ctx: Ctx) -> Any:
    _require_traits(ctx)
    ctx.check_params(())
    inventory.set_traits(
        ctx.services, ctx.path_params["runbook"], _project(ctx), remove=ctx.path_params.get("trait", "")
    )
    return Reply(204)


routes = [
    Route("/v1/runbooks", endpoint(list_runbooks), methods=["GET"]),
    Route("/v1/runbooks", endpoint(create_runbook), methods=["POST"]),
    Route("/v1/runbooks/{runbook}", endpoint(show_runbook), methods=["GET"]),
    Route("/v1/runbooks/{runbook}", endpoint(update_runbook), methods=["PATCH"]),
    Route("/v1/runbooks/{runbook}", endpoint(delete_runbook), methods=["DELETE"]),
    Route("/v1/runbooks/{runbook}/traits", endpoint(get_traits), methods=["GET"]),
    Route("/v1/runbooks/{runbook}/traits", endpoint(put_traits), methods=["PUT"]),
    Route("/v1/runbooks/{runbook}/traits", endpoint(delete_traits), methods=["DELETE"]),
    Route("/v1/runbooks/{runbook}/traits/{trait}", endpoint(put_traits), methods=["PUT"]),
    Route("/v1/runbooks/{runbook}/traits/{trait}", endpoint(delete_traits), methods=["DELETE"]),
]
