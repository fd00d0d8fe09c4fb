"""/v1/nodes/{node}/vifs: attach, list and detach VIFs (Ironic API 1.28+; 404 before, as in Ironic).

``GET`` answers ``{"vifs": [{"id": …}, …]}`` as Ironic does, each entry also showing where the VIF was placed
and its networks and addresses. ``POST`` answers 204; ``DELETE`` answers 204. A caller that is not an admin
attaches only its project's and shared networks (networking/vifs.py); auth/hook.py checked the node itself (a
foreign node: 404).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.networking import vifs
from ironworks.networking.vifs import AttachedVif

#: the microversion that introduced the VIF API
VIFS = 28


def _require(ctx: Ctx) -> None:
    if ctx.version < VIFS:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def render(vif: AttachedVif) -> dict[str, Any]:
    return {
        "id": vif.vif_id,
        f"{vif.kind}_uuid": vif.nic_uuid,
        "reason": vif.reason,
        "networks": [
            {
                "network": a.network["name"],
                "network_uuid": a.network["uuid"],
                "vlan_id": a.network["vlan_id"],
                "ip_address": a.ip_address,
            }
            for a in vif.networks
        ],
    }


def list_vifs(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    return {"vifs": [render(v) for v in vifs.list_vifs(ctx.services, ctx.path_params["node"])]}


def attach_vif(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    vifs.attach(ctx.services, ctx.path_params["node"], ctx.json_object(), ctx.list_scope().get("project"), ctx.version)
    return Reply(204)


def detach_vif(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(())
    vifs.detach(ctx.services, ctx.path_params["node"], ctx.path_params["vif"], ctx.list_scope().get("project"))
    return Reply(204)


routes = [
    Route("/v1/nodes/{node}/vifs", endpoint(list_vifs), methods=["GET"]),
    Route("/v1/nodes/{node}/vifs", endpoint(attach_vif), methods=["POST"]),
    Route("/v1/nodes/{node}/vifs/{vif}", endpoint(detach_vif), methods=["DELETE"]),
]
