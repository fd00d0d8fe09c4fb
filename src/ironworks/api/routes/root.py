"""Version discovery: ``GET /`` and ``GET /v1`` in Ironic's shape."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks.api.common import Ctx, endpoint
from ironworks.resources import microversion as mv


def _version(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": "v1",
        "links": [{"href": f"{ctx.base_url}/v1/", "rel": "self"}],
        "status": "CURRENT",
        "min_version": mv.MIN_VERSION,
        "version": mv.MAX_VERSION,
    }


def root(ctx: Ctx) -> Any:
    version = _version(ctx)
    return {
        "name": "OpenStack Ironic API",
        "description": "Ironworks: bare-metal provisioning with an OpenStack Ironic compatible API.",
        "default_version": version,
        "versions": [version],
    }


def _links(ctx: Ctx, resource: str) -> list[dict[str, str]]:
    return [
        {"href": f"{ctx.base_url}/v1/{resource}/", "rel": "self"},
        {"href": f"{ctx.base_url}/{resource}/", "rel": "bookmark"},
    ]


def v1(ctx: Ctx) -> Any:
    body: dict[str, Any] = {
        "id": "v1",
        "links": [
            {"href": f"{ctx.base_url}/v1/", "rel": "self"},
            {"href": "https://docs.openstack.org/ironic/latest/contributor/webapi.html", "rel": "describedby",
             "type": "text/html"},
        ],
        # an object, as Ironic's code answers (its API reference shows a list)
        "media_types": {"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"},
        "chassis": _links(ctx, "chassis"),
        "nodes": _links(ctx, "nodes"),
        "ports": _links(ctx, "ports"),
        "drivers": _links(ctx, "drivers"),
        "version": _version(ctx),
    }
    # the resources this version has and Ironworks serves (Ironic lists volume, conductors, events … too)
    for resource, since in (("portgroups", mv.PORTGROUPS), ("lookup", 22), ("heartbeat", 22),
                            ("conductors", mv.CONDUCTORS), ("allocations", mv.ALLOCATIONS),
                            ("deploy_templates", mv.DEPLOY_TEMPLATES), ("shards", mv.SHARD),
                            ("continue_inspection", mv.CONTINUE_INSPECTION),
                            ("inspection_rules", mv.INSPECTION_RULES),
                            ("runbooks", mv.RUNBOOKS),
                            ("volume", mv.VOLUME)):
        if ctx.version >= since:
            body[resource] = _links(ctx, resource)
    return body


routes = [
    Route("/", endpoint(root), methods=["GET"]),  # versioned: Ironic's root answer carries the version headers
    Route("/v1", endpoint(v1), methods=["GET"]),
    Route("/v1/", endpoint(v1), methods=["GET"]),
]
