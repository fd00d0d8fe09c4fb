"""/v1/nodes/{node}/states/console (1.1) and /v1/nodes/{node}/management/inject_nmi (1.29)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint, parse_bool
from ironworks.conductor import node_actions
from ironworks.inventory import nodes as inventory
from ironworks.resources import microversion as mv


def get_console(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return node_actions.console_information(ctx.services, node)


def set_console(ctx: Ctx) -> Any:
    ctx.check_params(())
    body = ctx.json_object()
    unknown = set(body) - {"enabled"}
    if unknown:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
    if "enabled" not in body:
        raise errors.Invalid('Missing argument: "enabled"')
    enabled = parse_bool("enabled", body["enabled"])
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    node_actions.set_console_mode(ctx.services, node, enabled)
    return Reply(202, headers={"Location": f"{ctx.base_url}/v1/nodes/{ctx.path_params['node']}/states/console"})


def inject_nmi(ctx: Ctx) -> Any:
    ctx.check_params(())
    if ctx.version < mv.INJECT_NMI:  # as Ironic: NotFound below 1.29
        raise errors.NotFound("Resource could not be found.")
    body = ctx.json_object() if ctx.raw_body.strip() else {}
    if body:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(body))}.")
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    node_actions.inject_nmi(ctx.services, node)
    return Reply(204)


routes = [
    Route("/v1/nodes/{node}/states/console", endpoint(get_console), methods=["GET"]),
    Route("/v1/nodes/{node}/states/console", endpoint(set_console), methods=["PUT"]),
    Route("/v1/nodes/{node}/management/inject_nmi", endpoint(inject_nmi), methods=["PUT"]),
]
