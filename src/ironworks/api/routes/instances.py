"""/v1/instances (an Ironworks extension, every API version): one-call servers.

``POST`` checks the request (instances/request.py) and creates the server (instances/create.py): 202 with the
instance, its state ``building``. ``GET`` shows instances with their state read from the node, finishing
pending deletes on the way (instances/lifecycle.py). ``DELETE`` records the delete intent and answers 202.

A caller that is not an admin sees and creates only its own project's instances (others: 404, as Ironic
answers project-scoped callers), and the owner of what it creates is its project. Names are unique per
project: ``/v1/instances/{name}`` resolves the name within the caller's project (an admin's lookup by a name
that several projects use is a 409 asking for the uuid).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.api.routes.allocations import scoped_project
from ironworks.db.repos.base import Record
from ironworks.db.repos.instances import SORTABLE, InstanceNotFound, InstanceRepo
from ironworks.instances import create as creator
from ironworks.instances import lifecycle, request
from ironworks.resources.schemas import instances as schema

_LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "fields", "owner")


def render(ctx: Ctx, record: Record, fields: list[str] | None = None) -> dict[str, Any]:
    node = lifecycle.node_of(ctx.services, record)
    state, last_error = lifecycle.derive(record, node)
    networks = lifecycle.networks(ctx.services, record, node) if fields is None or "networks" in fields else []
    return schema.to_api(
        record, state=state, last_error=last_error, networks=networks, base_url=ctx.base_url, fields=fields
    )


def _find(ctx: Ctx, ident: str) -> Record:
    project = scoped_project(ctx)
    record = InstanceRepo(ctx.services.db).get(ident, project)
    if project is not None and record["owner"] != project:
        raise InstanceNotFound(instance=ident)
    return record


def _settled(ctx: Ctx, record: Record) -> Record | None:
    return lifecycle.settle(ctx.services, record, ctx.request_id)


def list_instances(ctx: Ctx) -> Any:
    ctx.check_params(_LIST_PARAMS)
    fields = ctx.q_fields(schema.API_FIELDS)
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    owner = scoped_project(ctx) or ctx.q_str("owner")
    records = InstanceRepo(ctx.services.db).list(
        owner=owner, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
    )
    shown = [r for r in (_settled(ctx, rec) for rec in records) if r is not None]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    items = [render(ctx, r, fields) for r in shown]
    return ctx.collection("instances", items, records, limit, "instances", next_args)


def show_instance(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = ctx.q_fields(schema.API_FIELDS)
    ident = ctx.path_params["instance"]
    record = _settled(ctx, _find(ctx, ident))
    if record is None:
        raise InstanceNotFound(instance=ident)
    return render(ctx, record, fields)


def create_instance(ctx: Ctx) -> Any:
    ctx.check_params(())
    plan = request.plan(ctx.services, ctx.json_object(), scoped_project(ctx))
    record = creator.create(ctx.services, plan, ctx.request_id)
    return Reply(202, render(ctx, record), {"Location": f"{ctx.base_url}/v1/instances/{record['uuid']}"})


def delete_instance(ctx: Ctx) -> Any:
    ctx.check_params(())
    record = lifecycle.request_delete(ctx.services, _find(ctx, ctx.path_params["instance"]), ctx.request_id)
    return Reply(202, render(ctx, record) if record is not None else None)


routes = [
    Route("/v1/instances", endpoint(list_instances), methods=["GET"]),
    Route("/v1/instances", endpoint(create_instance), methods=["POST"]),
    Route("/v1/instances/{instance}", endpoint(show_instance), methods=["GET"]),
    Route("/v1/instances/{instance}", endpoint(delete_instance), methods=["DELETE"]),
]
