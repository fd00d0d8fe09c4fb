"""``GET /v1/nodes/{node}/bios`` and ``GET /v1/nodes/{node}/bios/{setting}`` (API 1.40; registry fields 1.74).

The settings are the node's cached ones (``driver_internal_info.bios_settings``, drivers/bios), as Ironic's
``bios_settings`` table: refreshed when cleaning starts and by the BIOS clean steps. As Ironic: 404 below 1.40;
list items ``name, value, created_at, updated_at, links``; ``detail``/``fields`` from 1.74 (400 below, and
400 together); one setting as ``{"<name>": {...}}`` with the registry fields from 1.74.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, endpoint, parse_bool
from ironworks.drivers.bios import REGISTRY_FIELDS, cached
from ironworks.inventory import nodes as inventory

BIOS = 40
BIOS_REGISTRY = 74
_DEFAULT = ("name", "value")
_DETAIL = ("name", "value", *REGISTRY_FIELDS)
_VALID_FIELDS = {"created_at", "updated_at", "links", "node_uuid", *_DETAIL}


def _require(ctx: Ctx) -> None:
    if ctx.version < BIOS:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def _render(ctx: Ctx, node_ident: str, name: str, setting: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"created_at": setting.get("created_at"), "updated_at": setting.get("updated_at")}
    for field in fields:
        if field in ("created_at", "updated_at", "links"):
            continue
        out[field] = name if field == "name" else setting.get(field)
    out["links"] = ctx.links("nodes", f"{node_ident}/bios/{name}")
    return out


def list_bios(ctx: Ctx) -> Any:
    _require(ctx)
    if ctx.version < BIOS_REGISTRY:
        ctx.check_params(())
    ctx.check_params(("detail", "fields"))
    detail = parse_bool("detail", ctx.query["detail"]) if "detail" in ctx.query else False
    fields: tuple[str, ...] = _DEFAULT
    if "fields" in ctx.query:
        if detail:
            raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
        chosen = [f.strip() for f in ctx.query["fields"].split(",") if f.strip()]
        bad = [f for f in chosen if f not in _VALID_FIELDS]
        if bad or not chosen:
            raise errors.Invalid(f'Field(s) "{", ".join(bad)}" are not valid')
        fields = tuple(chosen)
    elif detail:
        fields = _DETAIL
    node_ident = ctx.path_params["node"]
    node = inventory.find(ctx.services, node_ident, ctx.version)
    settings = cached(node)
    return {"bios": [_render(ctx, node_ident, name, settings[name], fields) for name in sorted(settings)]}


def show_bios(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    name = ctx.path_params["setting"]
    settings = cached(node)
    if name not in settings:
        raise errors.NotFound(f"Node {node['uuid']} doesn't have a BIOS setting '{name}'")
    fields = _DETAIL if ctx.version >= BIOS_REGISTRY else _DEFAULT
    return {name: _render(ctx, node["uuid"], name, settings[name], fields)}


routes = [
    Route("/v1/nodes/{node}/bios", endpoint(list_bios), methods=["GET"]),
    Route("/v1/nodes/{node}/bios/{setting}", endpoint(show_bios), methods=["GET"]),
]
