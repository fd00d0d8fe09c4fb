"""The Starlette application: routes of every resource and Ironic-shaped 404/405 answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ironworks import errors
from ironworks.api.common import error_response, version_headers
from ironworks.api.guard import RequestGuard
from ironworks.api.json_suffix import JsonSuffix
from ironworks.api.routes import agent, chassis, drivers, nodes, portgroups, ports, provision, root
from ironworks.api.routes import allocations as allocation_routes
from ironworks.api.routes import audit as audit_routes
from ironworks.api.routes import bios as bios_routes
from ironworks.api.routes import boot_states as boot_state_routes
from ironworks.api.routes import conductors as conductor_routes
from ironworks.api.routes import deploy_templates as deploy_template_routes
from ironworks.api.routes import events as event_routes
from ironworks.api.routes import firmware as firmware_routes
from ironworks.api.routes import flavors as flavor_routes
from ironworks.api.routes import images as image_routes
from ironworks.api.routes import indicators as indicator_routes
from ironworks.api.routes import inspection as inspection_routes
from ironworks.api.routes import inspection_rules as inspection_rule_routes
from ironworks.api.routes import instances as instance_routes
from ironworks.api.routes import networks as network_routes
from ironworks.api.routes import node_actions as node_action_routes
from ironworks.api.routes import projects as project_routes
from ironworks.api.routes import runbooks as runbook_routes
from ironworks.api.routes import shards as shard_routes
from ironworks.api.routes import vendor as vendor_routes
from ironworks.api.routes import vifs as vif_routes
from ironworks.api.routes import vmedia as vmedia_routes
from ironworks.api.routes import volume as volume_routes
from ironworks.api.versioning import ApiEnvelope

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

ROUTE_MODULES = [root, nodes, drivers, ports, portgroups, chassis, provision, agent]
ROUTE_MODULES += [network_routes, vif_routes]
ROUTE_MODULES += [audit_routes]
ROUTE_MODULES += [allocation_routes, flavor_routes, project_routes]
ROUTE_MODULES += [image_routes, instance_routes]
ROUTE_MODULES += [shard_routes]
ROUTE_MODULES += [node_action_routes, conductor_routes]
ROUTE_MODULES += [vendor_routes, event_routes]
ROUTE_MODULES += [deploy_template_routes]
ROUTE_MODULES += [runbook_routes]
ROUTE_MODULES += [bios_routes, indicator_routes]
ROUTE_MODULES += [boot_state_routes, vmedia_routes, firmware_routes]
ROUTE_MODULES += [inspection_routes, inspection_rule_routes]
ROUTE_MODULES += [volume_routes]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        err: errors.IronworksError = errors.IronworksError(f"Method {request.method} is not allowed on "
                                                           f"{request.url.path}.")
        err.http_status = 405
    else:
        err = errors.NotFound(f"The resource could not be found: {request.url.path}")
        err.http_status = exc.status_code if exc.status_code >= 400 else 404
    return error_response(err, version_headers(None))


def create_app(services: Services) -> Starlette:
    routes = []
    for module in ROUTE_MODULES:
        routes.extend(module.routes)
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.services = services
    from ironworks.auth import setup as auth_setup

    # innermost: before 1.91, /v1/nodes/web.json is node "web" (authenticated and audited once, outside it)
    app.add_middleware(JsonSuffix)
    auth_setup.install(app, services)  # authentication (http_basic) and the audit log, around every route
    # outermost (added last): NUL bytes and oversized bodies are refused before authentication sees them
    app.add_middleware(RequestGuard, max_body_bytes=services.settings.max_request_body_bytes)  # type: ignore[arg-type]
    # outermost of all: /nodes is /v1/nodes (Ironic's root routing); request ids and version headers on every answer
    app.add_middleware(ApiEnvelope)
    return app
