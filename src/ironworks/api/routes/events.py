"""``POST /v1/events`` (API 1.54): external (Neutron) events, 204; 404 below 1.54 as Ironic."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.conductor import events
from ironworks.resources import microversion as mv


def post_events(ctx: Ctx) -> Any:
    if ctx.version < mv.EVENTS:
        raise errors.NotFound("Resource could not be found.")
    ctx.check_params(())
    found = events.validate(ctx.json())
    events.record(ctx.services, found, ctx.identity.user or None)
    return Reply(204)


routes = [Route("/v1/events", endpoint(post_events), methods=["POST"])]
