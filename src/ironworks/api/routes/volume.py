"""``/v1/volume`` (API 1.32): connectors and targets, and ``/v1/nodes/{node}/volume/…``, as Ironic answers.

Below 1.32 every method answers 404. A list shows the default fields unless ``?detail=true`` or ``?fields=``;
``?node=`` (uuid or name) filters; ``limit``/``marker``/``sort_key``/``sort_dir`` page (JSON fields are not
sortable). Under ``/v1/nodes/{node}/volume/connectors|targets`` only the list exists: an object's uuid there,
or a POST, answers 400 ``Malformed request URI.`` (Ironic's ``MalformedRequestURI``).

Policy (auth/policy.py, Ironic's defaults mapped): lists are the caller's project's nodes' objects (filtered in
the query); a foreign object or node answers 404 exactly as a missing one (auth/hook.py); create and delete
are the operator's, update the owner's members'. A target's ``properties`` are masked (``******``) for
everyone and replaced by Ironic's redaction notice for callers without ``view_target_properties``.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint, parse_bool
from ironworks.api.routes.ports import visible_node
from ironworks.auth import policy
from ironworks.db.repos.base import Record
from ironworks.db.repos.volume import CONNECTOR_SORTABLE, TARGET_SORTABLE
from ironworks.inventory import volume as inventory
from ironworks.resources import microversion as mv
from ironworks.resources.schemas import volume as schema

_LIST_PARAMS = ("node", "marker", "limit", "sort_key", "sort_dir", "fields", "detail")


class MalformedRequestURI(errors.Invalid):
    template = "Malformed request URI."


def _require(ctx: Ctx) -> None:
    if ctx.version < mv.VOLUME:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def _is_target(ctx: Ctx) -> bool:
    return "/volume/targets" in ctx.request.url.path


def _redact(ctx: Ctx, target: bool) -> bool:
    return target and not policy.allowed(ctx.identity, "baremetal:volume:view_target_properties")


def _render(ctx: Ctx, record: Record, target: bool, fields: list[str] | tuple[str, ...] | None = None) -> Any:
    return schema.render(record, target=target, base_url=ctx.base_url, fields=fields, redact=_redact(ctx, target))


def _fields(ctx: Ctx, target: bool) -> list[str] | None:
    fields = ctx.q_fields({*(schema.TARGET_FIELDS if target else schema.CONNECTOR_FIELDS), "links"})
    return None if fields is None else [f for f in fields if f != "links"]


def _links(ctx: Ctx, prefix: str) -> dict[str, Any]:
    def pair(path: str) -> list[dict[str, str]]:
        return [
            {"href": f"{ctx.base_url}/v1/{path}", "rel": "self"},
            {"href": f"{ctx.base_url}/{path}", "rel": "bookmark"},
        ]

    return {
        "links": pair(f"{prefix}/"),
        "connectors": pair(f"{prefix}/connectors"),
        "targets": pair(f"{prefix}/targets"),
    }


def volume_root(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    return _links(ctx, "volume")


def node_volume_root(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    return _links(ctx, f"nodes/{ctx.path_params['node']}/volume")


def _list(ctx: Ctx, parent: str | None) -> Any:
    _require(ctx)
    target = _is_target(ctx)
    ctx.check_params(_LIST_PARAMS)
    fields = _fields(ctx, target)
    detail = parse_bool("detail", ctx.q_str("detail")) if ctx.q_str("detail") is not None else False
    if fields is not None and detail:
        raise errors.InvalidParameterValue("Can't fetch a subset of fields with 'detail' set")
    sort_key = ctx.q_str("sort_key")
    if sort_key in (schema.TARGET_UNSORTABLE if target else schema.CONNECTOR_UNSORTABLE):
        raise errors.InvalidParameterValue(f"The sort_key value {sort_key} is an invalid field for sorting")
    limit, marker, sort_key, sort_dir = ctx.q_pagination(TARGET_SORTABLE if target else CONNECTOR_SORTABLE)
    filters: dict[str, Any] = ctx.list_scope()  # non-admins: their project's nodes' objects, in the query
    node_ident = parent or ctx.q_str("node")
    if node_ident is not None:
        filters["node_id"] = visible_node(ctx, node_ident)["id"]
    records = inventory.repo(ctx.services, target=target).list(
        filters=filters, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
    )
    if fields is None and not detail:
        fields = list(schema.TARGET_DEFAULT_LIST if target else schema.CONNECTOR_DEFAULT_LIST)
    items = [_render(ctx, r, target, fields) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    resource = "volume/targets" if target else "volume/connectors"
    return ctx.collection("targets" if target else "connectors", items, records, limit, resource, next_args)


def list_objects(ctx: Ctx) -> Any:
    return _list(ctx, None)


def list_node_objects(ctx: Ctx) -> Any:
    return _list(ctx, ctx.path_params["node"])


def _ident(ctx: Ctx) -> str:
    return ctx.path_params["connector"] if "connector" in ctx.path_params else ctx.path_params["target"]


def show_object(ctx: Ctx) -> Any:
    _require(ctx)
    target = _is_target(ctx)
    ctx.check_params(("fields",))
    fields = _fields(ctx, target)
    return _render(ctx, inventory.find(ctx.services, _ident(ctx), target=target), target, fields)


def create_object(ctx: Ctx) -> Any:
    _require(ctx)
    target = _is_target(ctx)
    ctx.check_params(())
    record = inventory.create(ctx.services, ctx.json(), target=target)
    resource = "volume/targets" if target else "volume/connectors"
    return Reply(201, _render(ctx, record, target), {"Location": f"{ctx.base_url}/v1/{resource}/{record['uuid']}"})


def update_object(ctx: Ctx) -> Any:
    _require(ctx)
    target = _is_target(ctx)
    ctx.check_params(())

    def may_link(node: Record) -> bool:
        return policy.allowed(ctx.identity, "baremetal:node:get", node)

    record = inventory.update(ctx.services, _ident(ctx), ctx.json(), target=target, may_link=may_link)
    return _render(ctx, record, target)


def delete_object(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    inventory.delete(ctx.services, _ident(ctx), target=_is_target(ctx))
    return Reply(204)


def malformed(ctx: Ctx) -> Any:
    """An object (or a create) under ``/v1/nodes/{node}/volume/…``: Ironic answers 400 once policy passed."""
    _require(ctx)
    if "connector" in ctx.path_params or "target" in ctx.path_params:
        inventory.find(ctx.services, _ident(ctx), target=_is_target(ctx))
    raise MalformedRequestURI()


routes = [
    Route("/v1/volume", endpoint(volume_root), methods=["GET"]),
    Route("/v1/nodes/{node}/volume", endpoint(node_volume_root), methods=["GET"]),
]
for _kind, _param in (("connectors", "connector"), ("targets", "target")):
    routes += [
        Route(f"/v1/volume/{_kind}", endpoint(list_objects), methods=["GET"]),
        Route(f"/v1/volume/{_kind}", endpoint(create_object), methods=["POST"]),
        Route(f"/v1/volume/{_kind}/{{{_param}}}", endpoint(show_object), methods=["GET"]),
        Route(f"/v1/volume/{_kind}/{{{_param}}}", endpoint(update_object), methods=["PATCH"]),
        Route(f"/v1/volume/{_kind}/{{{_param}}}", endpoint(delete_object), methods=["DELETE"]),
        Route(f"/v1/nodes/{{node}}/volume/{_kind}", endpoint(list_node_objects), methods=["GET"]),
        Route(f"/v1/nodes/{{node}}/volume/{_kind}", endpoint(malformed), methods=["POST"]),
        Route(
            f"/v1/nodes/{{node}}/volume/{_kind}/{{{_param}}}", endpoint(malformed), methods=["GET", "PATCH", "DELETE"]
        ),
    ]
