"""``PUT /v1/nodes/{node}/states/boot_mode`` and ``/states/secure_boot`` (API 1.76), as Ironic's
``NodeStatesController.boot_mode`` / ``secure_boot``.

Order of the checks, as Ironic: the node (404) → the version (404 below 1.76, Ironic's words) → the target (400:
``bios`` / ``uefi``; a boolean) → a node in a transitional provision state (409) → the conductor: the node lock
(409), the management interface's validation (400), a free worker (503). Then 202 with ``Location:
…/v1/nodes/{node}/states``; the change itself runs on a worker (conductor/management.py) and shows in the
node's ``boot_mode`` / ``secure_boot``, or in ``last_error``.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors, states
from ironworks.api.common import Ctx, Reply, endpoint, parse_bool
from ironworks.conductor import intake, management
from ironworks.db.repos.base import Record
from ironworks.resources import microversion as mv

BOOT_MODES = ("bios", "uefi")


def _target(ctx: Ctx) -> tuple[Record, Any]:
    ctx.check_params(())
    node = intake.find(ctx.services, ctx.path_params["node"], ctx.version)
    if ctx.version < mv.BOOT_MODE_CHANGE:
        raise errors.NotFound(f"This endpoint is supported starting with the API version 1.{mv.BOOT_MODE_CHANGE}")
    body = ctx.json_object()
    unknown = set(body) - {"target"}
    if unknown:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
    return node, body.get("target")


def _check_stable(ctx: Ctx, node: Record) -> None:
    if node["provision_state"] in states.UNSTABLE_STATES:
        raise errors.Conflict(
            f"Node is in {node['provision_state']} state. Since node is transitioning, the boot mode will not be "
            f"set as this may interfere with ongoing changes and result in erroneous modification. Try again later."
        )


def _location(ctx: Ctx) -> dict[str, str]:
    return {"Location": f"{ctx.base_url}/v1/nodes/{ctx.path_params['node']}/states"}


def set_boot_mode(ctx: Ctx) -> Any:
    node, target = _target(ctx)
    if target is not None and not isinstance(target, str):
        raise errors.InvalidParameterValue(f"Expected string for target: {str(target)[:100]}")
    if target not in BOOT_MODES:
        shown = str(target)[:100]  # a hostile target is not echoed at length
        raise errors.InvalidParameterValue(
            f"Invalid boot mode {shown} requested for node. Allowed boot modes are: {', '.join(BOOT_MODES)}"
        )
    _check_stable(ctx, node)
    management.set_boot_mode(ctx.services, node, target, ctx.request_id)
    return Reply(202, headers=_location(ctx))


def set_secure_boot(ctx: Ctx) -> Any:
    node, target = _target(ctx)
    if target is not None:
        if not isinstance(target, str | bool | int) or isinstance(target, float):
            raise errors.InvalidParameterValue(f"Invalid boolean value for target: {str(target)[:100]}")
        try:
            target = parse_bool("target", target)
        except errors.Invalid:
            raise errors.InvalidParameterValue(f"Invalid boolean value for target: {str(target)[:100]}") from None
    if target not in (True, False):
        raise errors.InvalidParameterValue(
            f"Invalid secure_boot {target} requested for node. Allowed secure_boot states are: True, False) "
        )
    _check_stable(ctx, node)
    management.set_secure_boot(ctx.services, node, bool(target), ctx.request_id)
    return Reply(202, headers=_location(ctx))


routes = [
    Route("/v1/nodes/{node}/states/boot_mode", endpoint(set_boot_mode), methods=["PUT"]),
    Route("/v1/nodes/{node}/states/secure_boot", endpoint(set_secure_boot), methods=["PUT"]),
]
