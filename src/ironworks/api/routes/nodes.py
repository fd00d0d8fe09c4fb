"""/v1/nodes: list, show, enroll, update, delete, maintenance, traits, states, validate."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors, states
from ironworks.api.common import Ctx, Reply, endpoint, parse_bool
from ironworks.auth.hook import sanitize_node
from ironworks.db.repos.base import Record
from ironworks.db.repos.nodes import SORTABLE
from ironworks.identifiers import normalize_uuid
from ironworks.inventory import nodes as inventory
from ironworks.resources import microversion as mv
from ironworks.resources.schemas import nodes as schema

_FAULTS = ("power failure", "clean failure", "rescue abort failure", "service failure")

_LIST_PARAMS = (
    "limit", "marker", "sort_key", "sort_dir", "fields", "detail", "instance_uuid", "associated", "maintenance",
    "retired", "provision_state", "driver", "resource_class", "fault", "conductor_group", "owner", "lessee",
    "description_contains", "conductor", "chassis_uuid", "shard", "sharded", "parent_node", "include_children",
    "instance_name",
)


def _fields(ctx: Ctx, hidden: frozenset[str]) -> list[str] | None:
    """``?fields=``: unknown names 400, names newer than the request's version 406 (as Ironic)."""
    fields = ctx.q_fields(schema.API_FIELDS)
    too_new = sorted(set(fields or ()) & hidden)
    if too_new:
        raise errors.NotAcceptable(f"Field(s) {', '.join(too_new)} are not acceptable in API version 1.{ctx.version}.")
    return fields


def _not_found(ctx: Ctx) -> errors.IronworksError:
    """Ironic's answer for a node sub-resource older versions do not have (pecan's 404)."""
    return errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def render(ctx: Ctx, node: Record, fields: list[str] | None = None,
           hidden: frozenset[str] | None = None) -> dict[str, Any]:
    body = schema.to_api(
        node,
        version=ctx.version,
        base_url=ctx.base_url,
        fields=fields,
        conductor=ctx.services.conductor_for(node),
        hidden=mv.hidden_fields(mv.NODE_FIELDS, ctx.version) if hidden is None else hidden,
    )
    return sanitize_node(ctx.identity, node, body)  # what a non-admin may not read is masked (auth/policy.py)


def _list(ctx: Ctx, detail: bool) -> dict[str, Any]:
    ctx.check_params(_LIST_PARAMS)
    if ctx.q_str("detail") is not None:
        mv.require(ctx.version, mv.DETAIL_QUERY, "The 'detail' parameter")
        if detail:
            raise errors.Invalid("The 'detail' parameter cannot be used on /v1/nodes/detail.")
        detail = parse_bool("detail", ctx.q_str("detail"))
    hidden = mv.hidden_fields(mv.NODE_FIELDS, ctx.version)
    fields = _fields(ctx, hidden)
    if fields is not None and detail:
        raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
    limit, marker, sort_key, sort_dir = ctx.q_pagination(SORTABLE)
    if sort_key in hidden:
        raise errors.NotAcceptable(f"Sorting by {sort_key} requires a newer API version.")

    filters: dict[str, Any] = ctx.list_scope()  # non-admins: their project's nodes, in the query
    q = ctx.q_str
    if q("instance_uuid") is not None:
        filters["instance_uuid"] = normalize_uuid(q("instance_uuid"), "instance_uuid")
    for name in ("associated", "maintenance", "retired", "sharded", "include_children"):
        value = ctx.q_bool(name)
        if value is not None:
            filters[name] = value
    if "sharded" in filters:
        mv.require(ctx.version, mv.SHARD, "Filtering by sharded")
    if "include_children" in filters and not detail:  # Ironic does not check the version on /nodes/detail
        mv.require(ctx.version, mv.PARENT_NODE, "Filtering by include_children")
    if q("provision_state") is not None:
        mv.require(ctx.version, mv.PROVISION_STATE_FILTER, "Filtering by provision_state")
        if q("provision_state") not in states.ALL_STATES:
            raise errors.InvalidParameterValue(f'Provision state "{q("provision_state")}" is not valid')
        filters["provision_state"] = q("provision_state")
    if q("fault") is not None:
        mv.require(ctx.version, mv.FAULT, "Filtering by fault")
        if q("fault") not in _FAULTS:
            raise errors.InvalidParameterValue(f"Unrecognized fault \"{q('fault')}\" is specified, allowed faults "
                                               f"are {', '.join(_FAULTS)}")
        filters["fault"] = q("fault")
    for name, since in (("driver", mv.DRIVER_FILTER), ("resource_class", mv.RESOURCE_CLASS),
                        ("conductor_group", mv.CONDUCTOR_GROUP), ("owner", mv.OWNER), ("lessee", mv.LESSEE),
                        ("description_contains", mv.DESCRIPTION), ("shard", mv.SHARD),
                        ("parent_node", mv.PARENT_NODE), ("instance_name", mv.INSTANCE_NAME)):
        if q(name) is not None:
            if name != "parent_node" or not detail:  # Ironic does not check the version on /nodes/detail
                mv.require(ctx.version, since, f"Filtering by {name}")
            filters[name] = q(name)
    if "shard" in filters:  # ?shard=a,b: any of them
        filters["shard_in"] = [v.strip() for v in filters.pop("shard").split(",") if v.strip()]
    # child nodes are listed only when asked for (Ironic, every version)
    filters["exclude_children"] = not filters.pop("include_children", False) and "parent_node" not in filters
    if q("chassis_uuid") is not None:
        filters["chassis_uuid"] = normalize_uuid(q("chassis_uuid"), "chassis_uuid")
    conductor = q("conductor")
    if conductor is not None:
        mv.require(ctx.version, mv.CONDUCTORS, "Filtering by conductor")

    records = ctx.services.nodes.list(
        filters=filters, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
        with_traits=detail or (fields is not None and "traits" in fields),
    )
    if conductor is not None:
        records = [r for r in records if ctx.services.conductor_for(r) == conductor]
    if fields is None and not detail:
        fields = [f for f in schema.DEFAULT_LIST_FIELDS if f not in hidden]
    items = [render(ctx, r, fields, hidden) for r in records]
    next_args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
    path = "nodes/detail" if ctx.request.url.path.endswith("/detail") else "nodes"
    return ctx.collection("nodes", items, records, limit, path, next_args)


def list_nodes(ctx: Ctx) -> Any:
    return _list(ctx, detail=False)


def list_nodes_detail(ctx: Ctx) -> Any:
    return _list(ctx, detail=True)


def create_node(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.create(ctx.services, ctx.json_object(), ctx.version)
    return Reply(201, render(ctx, node), {"Location": f"{ctx.base_url}/v1/nodes/{node['uuid']}"})


def show_node(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    hidden = mv.hidden_fields(mv.NODE_FIELDS, ctx.version)
    fields = _fields(ctx, hidden)
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return render(ctx, node, fields)


def update_node(ctx: Ctx) -> Any:
    ctx.check_params(("reset_interfaces",))
    reset = ctx.q_bool("reset_interfaces")
    node = inventory.update(ctx.services, ctx.path_params["node"], ctx.json(), ctx.version, reset)
    return render(ctx, node)


def delete_node(ctx: Ctx) -> Any:
    ctx.check_params(())
    inventory.delete(ctx.services, ctx.path_params["node"], ctx.version)
    return Reply(204)


def node_states(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    body = {
        "console_enabled": node["console_enabled"],
        "last_error": node["last_error"],
        "power_state": node["power_state"],
        "provision_state": render(ctx, node, ["provision_state"])["provision_state"],
        "provision_updated_at": schema._iso(node["provision_updated_at"]),
        "target_power_state": node["target_power_state"],
        "target_provision_state": node["target_provision_state"],
    }
    if ctx.version >= mv.RAID:
        body["raid_config"] = node["raid_config"]
        body["target_raid_config"] = node["target_raid_config"]
    if ctx.version >= mv.BOOT_MODE:
        body["boot_mode"] = node["boot_mode"]
        body["secure_boot"] = node["secure_boot"]
    return sanitize_node(ctx.identity, node, body)


def set_maintenance(ctx: Ctx) -> Any:
    ctx.check_params(("reason",))
    reason = ctx.q_str("reason")
    if ctx.raw_body.strip():
        body = ctx.json_object()
        unknown = set(body) - {"reason"}
        if unknown:
            raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
        if body.get("reason") is not None and not isinstance(body["reason"], str):
            raise errors.Invalid("'reason' must be a string.")
        reason = body.get("reason", reason)
    inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    inventory.set_maintenance(ctx.services, ctx.path_params["node"], True, reason)
    return Reply(202)


def unset_maintenance(ctx: Ctx) -> Any:
    ctx.check_params(())
    inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    inventory.set_maintenance(ctx.services, ctx.path_params["node"], False, None)
    return Reply(202)


def _require_traits(ctx: Ctx) -> None:
    """Below 1.37 Ironic has no traits sub-resource: GET/DELETE fall to pecan's 404, PUT to its 405."""
    if ctx.version < mv.NODE_TRAITS:
        if ctx.request.method == "PUT":
            err = errors.IronworksError(f"Method PUT is not allowed on {ctx.request.url.path}.")
            err.http_status = 405
            raise err
        raise _not_found(ctx)


_TRAITS_USAGE = ("A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, "
                 "or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of "
                 "traits specified in the request body.")


def get_traits(ctx: Ctx) -> Any:
    ctx.check_params(())
    _require_traits(ctx)
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return {"traits": node["traits"]}


def set_traits(ctx: Ctx) -> Any:
    ctx.check_params(())
    _require_traits(ctx)
    body = ctx.json_object() if ctx.raw_body.strip() else {}
    unknown = set(body) - {"traits"}
    if unknown:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
    if "traits" not in body:
        raise errors.Invalid(_TRAITS_USAGE)
    inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    inventory.set_traits(ctx.services, ctx.path_params["node"], body["traits"])
    return Reply(204)


def add_trait(ctx: Ctx) -> Any:
    ctx.check_params(())
    _require_traits(ctx)
    if ctx.raw_body.strip():
        body = ctx.json()
        if isinstance(body, dict) and "traits" in body:
            raise errors.Invalid(_TRAITS_USAGE)
        if body:  # as Ironic: an empty body ({} or null) is no body
            raise errors.Invalid("No body should be provided when adding a trait")
    inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    inventory.add_trait(ctx.services, ctx.path_params["node"], ctx.path_params["trait"])
    location = f"{ctx.base_url}/v1/nodes/{ctx.path_params['node']}/traits/{ctx.path_params['trait']}"
    return Reply(204, headers={"Location": location})


def remove_trait(ctx: Ctx) -> Any:
    ctx.check_params(())
    _require_traits(ctx)
    inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    inventory.remove_trait(ctx.services, ctx.path_params["node"], ctx.path_params["trait"])
    return Reply(204)


def remove_all_traits(ctx: Ctx) -> Any:
    ctx.check_params(())
    _require_traits(ctx)
    inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    inventory.set_traits(ctx.services, ctx.path_params["node"], [])
    return Reply(204)


def list_children(ctx: Ctx) -> Any:
    """``GET /v1/nodes/{node}/children`` (1.83): the child nodes' uuids; ``links`` is one object, as in Ironic."""
    ctx.check_params(())
    if ctx.version < mv.PARENT_NODE:
        raise _not_found(ctx)
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    filters: dict[str, Any] = {**ctx.list_scope(), "parent_node": node["uuid"]}
    children = ctx.services.nodes.list(filters=filters, with_traits=False)
    return {"children": [c["uuid"] for c in children],
            "links": {"href": f"{ctx.base_url}/v1/nodes?parent_node={node['uuid']}", "rel": "children"}}


def validate_node(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return ctx.services.validate_node(node)


routes = [
    Route("/v1/nodes", endpoint(list_nodes), methods=["GET"]),
    Route("/v1/nodes", endpoint(create_node), methods=["POST"]),
    Route("/v1/nodes/detail", endpoint(list_nodes_detail), methods=["GET"]),
    Route("/v1/nodes/{node}", endpoint(show_node), methods=["GET"]),
    Route("/v1/nodes/{node}", endpoint(update_node), methods=["PATCH"]),
    Route("/v1/nodes/{node}", endpoint(delete_node), methods=["DELETE"]),
    Route("/v1/nodes/{node}/states", endpoint(node_states), methods=["GET"]),
    Route("/v1/nodes/{node}/maintenance", endpoint(set_maintenance), methods=["PUT"]),
    Route("/v1/nodes/{node}/maintenance", endpoint(unset_maintenance), methods=["DELETE"]),
    Route("/v1/nodes/{node}/traits", endpoint(get_traits), methods=["GET"]),
    Route("/v1/nodes/{node}/traits", endpoint(set_traits), methods=["PUT"]),
    Route("/v1/nodes/{node}/traits", endpoint(remove_all_traits), methods=["DELETE"]),
    Route("/v1/nodes/{node}/traits/{trait}", endpoint(add_trait), methods=["PUT"]),
    Route("/v1/nodes/{node}/traits/{trait}", endpoint(remove_trait), methods=["DELETE"]),
    Route("/v1/nodes/{node}/validate", endpoint(validate_node), methods=["GET"]),
    Route("/v1/nodes/{node}/children", endpoint(list_children), methods=["GET"]),
]
