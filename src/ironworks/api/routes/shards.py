"""``GET /v1/shards`` (API 1.82): each node shard and how many nodes it holds, as Ironic answers it.

``{"shards": [{"name": "<shard>", "count": N}, …]}``, most nodes first; nodes without a shard are counted
under the name ``"None"`` (Ironic's ``str(shard)``). No query parameters; ``/v1/shards/<x>`` is 404, and so
is everything below 1.82. Admin only (no route rule for projects: Ironic's ``baremetal:shards:get`` is a
system reader's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, endpoint
from ironworks.db.repos.nodes import NODES
from ironworks.resources import microversion as mv


def _require(ctx: Ctx) -> None:
    if ctx.version < mv.SHARD:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def list_shards(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    with ctx.services.db.read() as session:
        rows = session.execute(select(func.count(NODES.c.id), NODES.c.shard).group_by(NODES.c.shard)).all()
    ordered = sorted(rows, key=lambda row: row[0], reverse=True)
    return {"shards": [{"name": str(shard), "count": int(count)} for count, shard in ordered]}


def show_shard(ctx: Ctx) -> Any:
    _require(ctx)
    raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


routes = [
    Route("/v1/shards", endpoint(list_shards), methods=["GET"]),
    Route("/v1/shards/{shard}", endpoint(show_shard), methods=["GET"]),
]
