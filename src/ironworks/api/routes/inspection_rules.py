"""``/v1/inspection_rules`` (API 1.96): list, show, create, update (JSON Patch), delete, as Ironic answers.

Below 1.96 a GET answers 404 and any other method 405. A rule: ``uuid, description, priority, sensitive, phase,
conditions, actions, created_at, updated_at, links``; a list shows ``uuid, priority, phase, description`` unless
``?detail=true`` (``?fields=`` picks; links always stay), ``?phase=`` filters. Shown, changed and deleted by
UUID only. A ``sensitive`` rule shows ``conditions`` and ``actions`` as null. Ironic's quirk is kept: the
self/bookmark links name the resource ``inspection``, the Location header ``inspection_rules``. Not kept: a
list's ``next`` link (``inspection`` in Ironic, where nothing is served) points at ``inspection_rules``. Admin only
(auth/hook.py: Ironic's ``baremetal:inspection_rule:*`` are system-scoped).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.db.repos.base import Record
from ironworks.db.repos.inspection_rules import SORTABLE, InspectionRuleRepo
from ironworks.inventory.inspection_rules import service
from ironworks.resources import microversion as mv
from ironworks.resources.timestamps import iso

FIELDS = ("uuid", "description", "priority", "sensitive", "phase", "conditions", "actions", "created_at", "updated_at")
DEFAULT_LIST_FIELDS = ("uuid", "priority", "phase", "description")
_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields", "detail", "phase")
LINK_RESOURCE = "inspection"  # Ironic's link_resource for rules


def _require(ctx: Ctx) -> None:
    if ctx.version < mv.INSPECTION_RULES:
        if ctx.request.method == "GET":
            raise errors.NotFound("The API version does not allow inspection rules")
        err = errors.IronworksError(f"The method {ctx.request.method} is not allowed for this resource.")
        err.http_status = 405
        raise err


def _repo(ctx: Ctx) -> InspectionRuleRepo:
    return InspectionRuleRepo(ctx.services.db)


def render(ctx: Ctx, record: Record, fields: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in FIELDS if fields is None else fields:
        value = record[field]
        if field in ("created_at", "updated_at"):
            value = iso(value)
        elif field in ("conditions", "actions"):
            value = (
                None
                if record["sensitive"]
                else (service.convert_conditions(value) if field == "conditions" else service.convert_actions(value))
            )
        out[field] = value
    out["links"] = ctx.links(LINK_RESOURCE, record["uuid"])
    return out


def list_rules(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(_LIST_PARAMS)
    detail, fields = ctx.q_detail_or_fields(FIELDS)
    sort_key = ctx.q_str("sort_key")
    if sort_key in ("actions", "conditions"):
        raise errors.InvalidParameterValue(f"The sort_key value {sort_key} is an invalid field for sorting")
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    records = _repo(ctx).list(
        filters={"phase": ctx.q_str("phase")}, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
    )
    shown = fields if fields is not None else (list(FIELDS) if detail else list(DEFAULT_LIST_FIELDS))
    items = [render(ctx, r, shown) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("inspection_rules", items, records, limit, "inspection_rules", next_args)


def show_rule(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("fields",))
    fields = ctx.q_fields(FIELDS)
    return render(ctx, service.find(_repo(ctx), ctx.path_params["rule"]), fields)


def create_rule(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    rule = service.create(_repo(ctx), ctx.json())
    return Reply(201, render(ctx, rule), {"Location": f"{ctx.base_url}/v1/inspection_rules/{rule['uuid']}"})


def update_rule(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    return render(ctx, service.update(_repo(ctx), ctx.path_params["rule"], ctx.json()))


def delete_rule(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    service.delete(_repo(ctx), ctx.path_params["rule"])
    return Reply(204)


routes = [
    Route("/v1/inspection_rules", endpoint(list_rules), methods=["GET"]),
    Route("/v1/inspection_rules", endpoint(create_rule), methods=["POST"]),
    Route("/v1/inspection_rules/{rule}", endpoint(show_rule), methods=["GET"]),
    Route("/v1/inspection_rules/{rule}", endpoint(update_rule), methods=["PATCH"]),
    Route("/v1/inspection_rules/{rule}", endpoint(delete_rule), methods=["DELETE"]),
]
