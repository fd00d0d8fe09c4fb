"""Vendor passthru (API 1.1): ``/v1/nodes/{node}/vendor_passthru[/methods]`` and
``/v1/drivers/{driver}/vendor_passthru[/methods]``, as Ironic's NodeVendorPassthruController and
DriverPassthruController. The method is named by ``?method=NAME`` or as the last path segment
(``/vendor_passthru/NAME``, the form python-ironicclient sends; Ironic's ``_default`` handler serves both), with
any of GET/POST/PUT/DELETE/PATCH and the JSON body as the method's arguments; async methods answer 202 with no
body, sync ones 200 with the method's return value."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.conductor import vendor
from ironworks.inventory import nodes as inventory

HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _call_args(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx.check_params(("method",))
    method = ctx.path_params.get("method") or ctx.q_str("method")
    if not method:
        raise errors.Invalid("Method not specified")
    if len(method) > 255:
        raise errors.InvalidParameterValue("Invalid method name: longer than 255 characters.")
    args = ctx.json_object() if ctx.raw_body.strip() else {}
    return method, args


def _answer(is_async: bool, result: Any) -> Reply:
    return Reply(202) if is_async else Reply(200, result)


def node_methods(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return vendor.node_methods(ctx.services, node)


def node_passthru(ctx: Ctx) -> Any:
    method, args = _call_args(ctx)
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return _answer(*vendor.node_passthru(ctx.services, node, method, ctx.request.method, args))


def driver_methods(ctx: Ctx) -> Any:
    ctx.check_params(())
    return vendor.driver_methods(ctx.services, ctx.path_params["driver"])


def driver_passthru(ctx: Ctx) -> Any:
    method, args = _call_args(ctx)
    return _answer(*vendor.driver_passthru(ctx.services, ctx.path_params["driver"], method, ctx.request.method, args))


routes = [
    Route("/v1/nodes/{node}/vendor_passthru/methods", endpoint(node_methods), methods=["GET"]),
    Route("/v1/nodes/{node}/vendor_passthru", endpoint(node_passthru), methods=HTTP_METHODS),
    Route("/v1/nodes/{node}/vendor_passthru/{method}", endpoint(node_passthru), methods=HTTP_METHODS),
    Route("/v1/drivers/{driver}/vendor_passthru/methods", endpoint(driver_methods), methods=["GET"]),
    Route("/v1/drivers/{driver}/vendor_passthru", endpoint(driver_passthru), methods=HTTP_METHODS),
    Route("/v1/drivers/{driver}/vendor_passthru/{method}", endpoint(driver_passthru), methods=HTTP_METHODS),
]
