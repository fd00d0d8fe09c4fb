"""/v1/networks: the networks extension (Ironworks only; Ironic delegates networks to Neutron).

CRUD with JSON Patch like the other resources; any microversion. See docs/api-compatibility.md.

Tenancy (networking/networks.py): an admin sees and changes every network; anyone else sees its project's
networks and shared ones (others: 404, as if they did not exist) and changes only its project's.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.db.repos.networks import SORTABLE
from ironworks.networking import networks
from ironworks.resources.schemas import networks as schema


def _scope(ctx: Ctx) -> str | None:
    """The caller's project, or None for an admin (sees every network)."""
    project: str | None = ctx.list_scope().get("project")
    return project


def _render(ctx: Ctx, record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    return schema.to_api(record, base_url=ctx.base_url, fields=fields)


def _list(ctx: Ctx, detail: bool) -> Any:
    ctx.check_params(("limit", "marker", "sort_key", "sort_dir", "fields", "detail"))
    detail = detail or bool(ctx.q_bool("detail"))
    fields = ctx.q_fields(schema.API_FIELDS)
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    records = networks.repo(ctx.services).list(
        sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit, project=_scope(ctx)
    )
    if fields is None and not detail:
        fields = list(schema.DEFAULT_LIST_FIELDS)
    items = [_render(ctx, r, fields) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    return ctx.collection("networks", items, records, limit, ctx.request.url.path.removeprefix("/v1/"), next_args)


def list_networks(ctx: Ctx) -> Any:
    return _list(ctx, detail=False)


def list_networks_detail(ctx: Ctx) -> Any:
    return _list(ctx, detail=True)


def show_network(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = ctx.q_fields(schema.API_FIELDS)
    return _render(ctx, networks.find(ctx.services, ctx.path_params["network"], _scope(ctx)), fields)


def create_network(ctx: Ctx) -> Any:
    ctx.check_params(())
    record = networks.create(ctx.services, ctx.json_object(), _scope(ctx))
    return Reply(201, _render(ctx, record), {"Location": f"{ctx.base_url}/v1/networks/{record['uuid']}"})


def update_network(ctx: Ctx) -> Any:
    ctx.check_params(())
    return _render(ctx, networks.update(ctx.services, ctx.path_params["network"], ctx.json(), _scope(ctx)))


def delete_network(ctx: Ctx) -> Any:
    ctx.check_params(())
    networks.delete(ctx.services, ctx.path_params["network"], _scope(ctx))
    return Reply(204)


routes = [
    Route("/v1/networks", endpoint(list_networks), methods=["GET"]),
    Route("/v1/networks", endpoint(create_network), methods=["POST"]),
    Route("/v1/networks/detail", endpoint(list_networks_detail), methods=["GET"]),
    Route("/v1/networks/{network}", endpoint(show_network), methods=["GET"]),
    Route("/v1/networks/{network}", endpoint(update_network), methods=["PATCH"]),
    Route("/v1/networks/{network}", endpoint(delete_network), methods=["DELETE"]),
]
