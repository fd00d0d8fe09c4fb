"""/v1/nodes/{node}/states/{provision,power}, /management/boot_device and /history: conductor requests."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import MAX_LIMIT, Ctx, Reply, endpoint
from ironworks.auth import policy
from ironworks.auth.identity import Forbidden
from ironworks.conductor import intake
from ironworks.db.repos.base import Record
from ironworks.db.repos.history import HistoryRepo
from ironworks.inventory import nodes as inventory
from ironworks.resources import microversion as mv
from ironworks.resources.schemas.nodes import _iso


def _states_location(ctx: Ctx) -> dict[str, str]:
    return {"Location": f"{ctx.base_url}/v1/nodes/{ctx.path_params['node']}/states"}


def _requester(ctx: Ctx) -> dict[str, str | None]:
    """Who asked: recorded with the node history entries the request leads to (API 1.78 user, 1.113 project)."""
    return {"user": ctx.identity.user, "project": ctx.identity.project}


def _may_use_child(ctx: Ctx, body: Any) -> Any:
    """A child node named by a step (API 1.83) needs the caller's provision rights on it: 404 when the caller
    cannot see it, 403 when it may not act on it (Ironic's ``check_node_policy_and_retrieve``)."""
    def check(child: Record) -> None:
        if not policy.allowed(ctx.identity, "baremetal:node:get", child):
            raise errors.NodeNotFound(node=child["uuid"])
        for action in policy.provision_actions(body):
            if not policy.allowed(ctx.identity, action, child):
                raise Forbidden(action=action)
    return check


def set_provision_state(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = intake.find(ctx.services, ctx.path_params["node"], ctx.version)
    project = None if ctx.identity.is_admin else ctx.identity.project or ""
    body = ctx.json_object()
    intake.provision(ctx.services, node, body, ctx.version, ctx.request_id, project,
                     requester=_requester(ctx), may_use=_may_use_child(ctx, body))
    return Reply(202, headers=_states_location(ctx))


def set_power_state(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = intake.find(ctx.services, ctx.path_params["node"], ctx.version)
    intake.set_power(ctx.services, node, ctx.json_object(), ctx.version, ctx.request_id, _requester(ctx))
    return Reply(202, headers=_states_location(ctx))


def get_boot_device(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return intake.get_boot_device(ctx.services, node)


def set_boot_device(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    intake.set_boot_device(ctx.services, node, ctx.json_object())
    return Reply(204)


def supported_boot_devices(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return {"supported_boot_devices": intake.supported_boot_devices(ctx.services, node)}


# --- RAID --------------------------------------------------------------------------------------------------------
def set_target_raid_config(ctx: Ctx) -> Any:
    """``PUT /v1/nodes/{node}/states/raid``: store the target RAID configuration the raid interface builds."""
    from ironworks.drivers import raid_config

    ctx.check_params(())
    mv.require(ctx.version, mv.RAID, "Setting the target RAID configuration")
    config = raid_config.validate(ctx.json())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    impl = node.get("raid_interface") or ""
    if ctx.services.drivers.implementation("raid", impl) is None or impl.startswith("no-"):
        raise errors.InvalidParameterValue(
            f"The raid interface {impl!r} of node {node['uuid']} does not support RAID configuration.")

    def mutate(current: Record) -> dict[str, Any]:
        if current["reservation"]:
            raise errors.NodeLocked(node=current["uuid"], host=current["reservation"])
        return {"target_raid_config": config}

    ctx.services.nodes.update(node["uuid"], mutate)
    return Reply(204)


# --- history ----------------------------------------------------------------------------------------------------
def _history_item(ctx: Ctx, node: Record, item: Record, detail: bool) -> dict[str, Any]:
    link = f"/v1/nodes/{node['uuid']}/history/{item['uuid']}"
    event = item["event"] or ""
    if not detail and len(event) > 255:  # Ironic shortens the event of a plain listing
        event = event[:251] + "..."
    out: dict[str, Any] = {
        "uuid": item["uuid"], "created_at": _iso(item["created_at"]), "severity": item["severity"],
        "event": event,
        "links": [{"href": f"{ctx.base_url}{link}", "rel": "self"}],
    }
    if detail:
        out.update(event_type=item["event_type"], conductor=item["conductor"], user=item["user"])
        if ctx.version >= mv.HISTORY_PROJECT:
            out["project"] = item["project"]
        if ctx.version >= mv.HISTORY_FIELDS:
            out.update(state=item["state"], target_provision_state=item["target_provision_state"],
                       duration_seconds=item["duration_seconds"])
    return out


def _history_node(ctx: Ctx) -> Record:
    if ctx.version < mv.HISTORY:  # as Ironic: no history sub-resource below 1.78 (404)
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")
    return inventory.find(ctx.services, ctx.path_params["node"], ctx.version)


def list_history(ctx: Ctx) -> Any:
    ctx.check_params(("detail", "marker", "limit", "sort_key", "sort_dir"))
    node = _history_node(ctx)
    detail = bool(ctx.q_bool("detail"))
    if (ctx.q_str("sort_key") or "created_at") != "created_at":  # the order Ironworks keeps history in
        raise errors.Invalid(f"The sort_key value {ctx.q_str('sort_key')} is an invalid field for sorting")
    sort_dir = (ctx.q_str("sort_dir") or "asc").lower()
    if sort_dir not in ("asc", "desc"):
        raise errors.Invalid(f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'")
    limit = ctx.q_int("limit")
    if limit is not None and limit <= 0:
        raise errors.Invalid("Limit must be positive")
    limit = min(limit or MAX_LIMIT, MAX_LIMIT)  # Ironic's page size bounds history too
    items = HistoryRepo(ctx.services.db).list(node["id"], marker=ctx.q_str("marker"), limit=limit,
                                              descending=sort_dir == "desc")
    body: dict[str, Any] = {"history": [_history_item(ctx, node, i, detail) for i in items]}
    if limit is not None and len(items) == limit:
        body["next"] = (f"{ctx.base_url}/v1/nodes/{node['uuid']}/history?limit={limit}"
                        f"&marker={items[-1]['uuid']}" + ("&detail=True" if detail else "")
                        + ("&sort_dir=desc" if sort_dir == "desc" else ""))
    return body


def show_history(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = _history_node(ctx)
    item = HistoryRepo(ctx.services.db).get(node["id"], ctx.path_params["event"])
    return _history_item(ctx, node, item, True)


routes = [
    Route("/v1/nodes/{node}/states/provision", endpoint(set_provision_state), methods=["PUT"]),
    Route("/v1/nodes/{node}/states/power", endpoint(set_power_state), methods=["PUT"]),
    Route("/v1/nodes/{node}/management/boot_device", endpoint(get_boot_device), methods=["GET"]),
    Route("/v1/nodes/{node}/management/boot_device", endpoint(set_boot_device), methods=["PUT"]),
    Route("/v1/nodes/{node}/management/boot_device/supported", endpoint(supported_boot_devices), methods=["GET"]),
    Route("/v1/nodes/{node}/states/raid", endpoint(set_target_raid_config), methods=["PUT"]),
    Route("/v1/nodes/{node}/history", endpoint(list_history), methods=["GET"]),
    Route("/v1/nodes/{node}/history/{event}", endpoint(show_history), methods=["GET"]),
]
