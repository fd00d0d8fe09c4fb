"""The one policy hook: every API route's rule, and ``authorize`` which ``api/common.py`` calls before a handler.

``ROUTES`` maps (method, route template) to the policy actions the request needs and the path parameter that
names the resource it touches (a node, or a port/portgroup, which follow their node). ``authorize``:

1. public routes (version discovery, the ramdisk agent's calls, which carry an agent token) pass;
2. the touched node is loaded; a caller who may not see it (neither owner nor lessee) gets the resource's 404,
   exactly as if it did not exist, as Ironic answers project-scoped callers;
3. each action must pass ``policy.allowed`` or the answer is 403.

A route missing from the table is admin-only: new routes fail closed until they get a rule here. Admins skip
2–3; the node is still looked up for state-changing requests so the audit log names it.

``list_scope`` is what list routes add to their repository filters: nothing for admins, the caller's project
(``owner`` or ``lessee`` of the node, in the SQL query) for everyone else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.auth import policy
from ironworks.auth.identity import Forbidden, Identity
from ironworks.db.repos.base import Record

if TYPE_CHECKING:
    from ironworks.api.common import Ctx

#: scope keys the middleware fills: the caller, and the audit facts the hook adds to
IDENTITY_KEY = "ironworks.identity"
AUDIT_KEY = "ironworks.audit"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Actions = str | Callable[["Ctx"], list[str]]
PUBLIC = "public"


def _patch(ctx: Ctx) -> list[str]:
    try:
        return policy.patch_actions(ctx.json())
    except errors.IronworksError:
        return ["baremetal:node:update"]  # the handler rejects the body itself


def _provision(ctx: Ctx) -> list[str]:
    try:
        return policy.provision_actions(ctx.json())
    except errors.IronworksError:
        return ["baremetal:node:set_provision_state"]


N = "baremetal:node:"
_R: list[tuple[str, str, Actions, str | None]] = [
    ("GET", "/", PUBLIC, None),
    ("GET", "/v1", PUBLIC, None),
    ("GET", "/v1/", PUBLIC, None),
    ("GET", "/v1/lookup", PUBLIC, None),
    ("POST", "/v1/heartbeat/{node}", PUBLIC, None),
    ("POST", "/v1/heartbeat", PUBLIC, None),
    ("GET", "/v1/agent/{node}/commands/next", PUBLIC, None),
    ("POST", "/v1/agent/{node}/commands/{command}/result", PUBLIC, None),
    ("POST", "/v1/continue_inspection", PUBLIC, None),
    # nodes
    ("GET", "/v1/nodes", N + "list", None),
    ("GET", "/v1/nodes/detail", N + "list", None),
    ("POST", "/v1/nodes", N + "create", None),
    ("GET", "/v1/nodes/{node}", N + "get", "node"),
    ("PATCH", "/v1/nodes/{node}", _patch, "node"),
    ("DELETE", "/v1/nodes/{node}", N + "delete", "node"),
    ("GET", "/v1/nodes/{node}/states", N + "get_states", "node"),
    ("PUT", "/v1/nodes/{node}/maintenance", N + "set_maintenance", "node"),
    ("DELETE", "/v1/nodes/{node}/maintenance", N + "clear_maintenance", "node"),
    ("GET", "/v1/nodes/{node}/traits", N + "traits:list", "node"),
    ("PUT", "/v1/nodes/{node}/traits", N + "traits:set", "node"),
    ("DELETE", "/v1/nodes/{node}/traits", N + "traits:delete", "node"),
    ("PUT", "/v1/nodes/{node}/traits/{trait}", N + "traits:set", "node"),
    ("DELETE", "/v1/nodes/{node}/traits/{trait}", N + "traits:delete", "node"),
    ("GET", "/v1/nodes/{node}/validate", N + "validate", "node"),
    ("GET", "/v1/nodes/{node}/children", N + "get", "node"),
    ("PUT", "/v1/nodes/{node}/states/provision", _provision, "node"),
    ("PUT", "/v1/nodes/{node}/states/power", N + "set_power_state", "node"),
    ("PUT", "/v1/nodes/{node}/states/raid", N + "set_raid_state", "node"),
    ("GET", "/v1/nodes/{node}/states/console", N + "get_console", "node"),
    ("PUT", "/v1/nodes/{node}/states/console", N + "set_console_state", "node"),
    ("GET", "/v1/nodes/{node}/management/boot_device", N + "get_boot_device", "node"),
    ("PUT", "/v1/nodes/{node}/management/boot_device", N + "set_boot_device", "node"),
    ("GET", "/v1/nodes/{node}/management/boot_device/supported", N + "get_boot_device", "node"),
    ("PUT", "/v1/nodes/{node}/management/inject_nmi", N + "inject_nmi", "node"),
    ("GET", "/v1/nodes/{node}/management/indicators", N + "get_indicator_state", "node"),
    ("GET", "/v1/nodes/{node}/management/indicators/{indicator}", N + "get_indicator_state", "node"),
    ("PUT", "/v1/nodes/{node}/management/indicators/{indicator}", N + "set_indicator_state", "node"),
    ("GET", "/v1/nodes/{node}/bios", N + "bios:get", "node"),
    ("GET", "/v1/nodes/{node}/bios/{setting}", N + "bios:get", "node"),
    ("PUT", "/v1/nodes/{node}/states/boot_mode", N + "set_boot_mode", "node"),
    ("PUT", "/v1/nodes/{node}/states/secure_boot", N + "set_secure_boot", "node"),
    ("GET", "/v1/nodes/{node}/vmedia", N + "vmedia:get", "node"),
    ("POST", "/v1/nodes/{node}/vmedia", N + "vmedia:attach", "node"),
    ("DELETE", "/v1/nodes/{node}/vmedia", N + "vmedia:detach", "node"),
    ("GET", "/v1/nodes/{node}/firmware", N + "firmware:get", "node"),
    ("GET", "/v1/nodes/{node}/vendor_passthru/methods", N + "vendor_passthru", "node"),
    *((m, "/v1/nodes/{node}/vendor_passthru", N + "vendor_passthru", "node")
      for m in ("GET", "POST", "PUT", "DELETE", "PATCH")),
    ("GET", "/v1/nodes/{node}/history", N + "history:get", "node"),
    ("GET", "/v1/nodes/{node}/history/{event}", N + "history:get", "node"),
    ("GET", "/v1/nodes/{node}/inventory", N + "inventory:get", "node"),
    ("GET", "/v1/nodes/{node}/vifs", N + "vif:list", "node"),
    ("POST", "/v1/nodes/{node}/vifs", N + "vif:attach", "node"),
    ("DELETE", "/v1/nodes/{node}/vifs/{vif}", N + "vif:detach", "node"),
    # ports and portgroups: their node decides
    ("GET", "/v1/ports", "baremetal:port:list", None),
    ("GET", "/v1/ports/detail", "baremetal:port:list", None),
    ("POST", "/v1/ports", "baremetal:port:create", None),
    ("GET", "/v1/ports/{port}", "baremetal:port:get", "port"),
    ("PATCH", "/v1/ports/{port}", "baremetal:port:update", "port"),
    ("DELETE", "/v1/ports/{port}", "baremetal:port:delete", "port"),
    ("GET", "/v1/nodes/{node}/ports", "baremetal:port:list", "node"),
    ("GET", "/v1/nodes/{node}/ports/detail", "baremetal:port:list", "node"),
    ("GET", "/v1/portgroups/{portgroup}/ports", "baremetal:port:list", "portgroup"),
    ("GET", "/v1/portgroups/{portgroup}/ports/detail", "baremetal:port:list", "portgroup"),
    ("GET", "/v1/portgroups", "baremetal:portgroup:list", None),
    ("GET", "/v1/portgroups/detail", "baremetal:portgroup:list", None),
    ("POST", "/v1/portgroups", "baremetal:portgroup:create", None),
    ("GET", "/v1/portgroups/{portgroup}", "baremetal:portgroup:get", "portgroup"),
    ("PATCH", "/v1/portgroups/{portgroup}", "baremetal:portgroup:update", "portgroup"),
    ("DELETE", "/v1/portgroups/{portgroup}", "baremetal:portgroup:delete", "portgroup"),
    ("GET", "/v1/nodes/{node}/portgroups", "baremetal:portgroup:list", "node"),
    ("GET", "/v1/nodes/{node}/portgroups/detail", "baremetal:portgroup:list", "node"),
    # volume connectors and targets (API 1.32): their node decides; lists are filtered by project
    ("GET", "/v1/volume", "baremetal:volume:get", None),
    ("GET", "/v1/nodes/{node}/volume", "baremetal:volume:get", None),
    *(entry for kind, param in (("connectors", "connector"), ("targets", "target")) for entry in (
        ("GET", f"/v1/volume/{kind}", "baremetal:volume:list", None),
        ("POST", f"/v1/volume/{kind}", "baremetal:volume:create", None),
        ("GET", f"/v1/volume/{kind}/{{{param}}}", "baremetal:volume:get", param),
        ("PATCH", f"/v1/volume/{kind}/{{{param}}}", "baremetal:volume:update", param),
        ("DELETE", f"/v1/volume/{kind}/{{{param}}}", "baremetal:volume:delete", param),
        ("GET", f"/v1/nodes/{{node}}/volume/{kind}", "baremetal:volume:list", "node"),
        ("POST", f"/v1/nodes/{{node}}/volume/{kind}", "baremetal:volume:create", None),
        ("GET", f"/v1/nodes/{{node}}/volume/{kind}/{{{param}}}", "baremetal:volume:get", param),
        ("PATCH", f"/v1/nodes/{{node}}/volume/{kind}/{{{param}}}", "baremetal:volume:update", param),
        ("DELETE", f"/v1/nodes/{{node}}/volume/{kind}/{{{param}}}", "baremetal:volume:delete", param),
    )),
    # infrastructure and the audit log
    ("GET", "/v1/chassis", "baremetal:chassis:get", None),
    ("GET", "/v1/chassis/detail", "baremetal:chassis:get", None),
    ("GET", "/v1/chassis/{chassis}", "baremetal:chassis:get", None),
    ("GET", "/v1/chassis/{chassis}/nodes", "baremetal:chassis:get", None),
    ("GET", "/v1/chassis/{chassis}/nodes/detail", "baremetal:chassis:get", None),
    ("POST", "/v1/chassis", "baremetal:chassis:create", None),
    ("PATCH", "/v1/chassis/{chassis}", "baremetal:chassis:update", None),
    ("DELETE", "/v1/chassis/{chassis}", "baremetal:chassis:delete", None),
    ("GET", "/v1/drivers", "baremetal:driver:get", None),
    ("GET", "/v1/drivers/{driver}", "baremetal:driver:get", None),
    ("GET", "/v1/drivers/{driver}/properties", "baremetal:driver:get", None),
    ("GET", "/v1/drivers/{driver}/vendor_passthru/methods", "baremetal:driver:vendor_passthru", None),
    *((m, "/v1/drivers/{driver}/vendor_passthru", "baremetal:driver:vendor_passthru", None)
      for m in ("GET", "POST", "PUT", "DELETE", "PATCH")),
    ("POST", "/v1/events", "baremetal:events:post", None),
    ("GET", "/v1/networks", "baremetal:network:get", None),
    ("GET", "/v1/networks/detail", "baremetal:network:get", None),
    ("GET", "/v1/networks/{network}", "baremetal:network:get", None),
    ("POST", "/v1/networks", "baremetal:network:create", None),
    ("PATCH", "/v1/networks/{network}", "baremetal:network:update", None),
    ("DELETE", "/v1/networks/{network}", "baremetal:network:delete", None),
    ("GET", "/v1/audit", "baremetal:audit:list", None),
    ("GET", "/v1/deploy_templates", "baremetal:deploy_template:get", None),
    ("GET", "/v1/deploy_templates/{template}", "baremetal:deploy_template:get", None),
    ("POST", "/v1/deploy_templates", "baremetal:deploy_template:create", None),
    ("PATCH", "/v1/deploy_templates/{template}", "baremetal:deploy_template:update", None),
    ("DELETE", "/v1/deploy_templates/{template}", "baremetal:deploy_template:delete", None),
    ("GET", "/v1/inspection_rules", "baremetal:inspection_rule:get", None),
    ("GET", "/v1/inspection_rules/{rule}", "baremetal:inspection_rule:get", None),
    ("POST", "/v1/inspection_rules", "baremetal:inspection_rule:create", None),
    ("PATCH", "/v1/inspection_rules/{rule}", "baremetal:inspection_rule:update", None),
    ("DELETE", "/v1/inspection_rules/{rule}", "baremetal:inspection_rule:delete", None),
    ("GET", "/v1/runbooks", "baremetal:runbook:get", None),
    ("GET", "/v1/runbooks/{runbook}", "baremetal:runbook:get", None),
    ("POST", "/v1/runbooks", "baremetal:runbook:create", None),
    ("PATCH", "/v1/runbooks/{runbook}", "baremetal:runbook:update", None),
    ("DELETE", "/v1/runbooks/{runbook}", "baremetal:runbook:delete", None),
    ("GET", "/v1/runbooks/{runbook}/traits", "baremetal:runbook:get", None),
    ("PUT", "/v1/runbooks/{runbook}/traits", "baremetal:runbook:update", None),
    ("DELETE", "/v1/runbooks/{runbook}/traits", "baremetal:runbook:update", None),
    ("PUT", "/v1/runbooks/{runbook}/traits/{trait}", "baremetal:runbook:update", None),
    ("DELETE", "/v1/runbooks/{runbook}/traits/{trait}", "baremetal:runbook:update", None),
    # allocations: the handlers confine non-admins to their own project (api/routes/allocations.py)
    ("GET", "/v1/allocations", "baremetal:allocation:list", None),
    ("POST", "/v1/allocations", "baremetal:allocation:create", None),
    ("GET", "/v1/allocations/candidates", "baremetal:allocation:candidates", None),
    ("GET", "/v1/allocations/{allocation}", "baremetal:allocation:get", None),
    ("PATCH", "/v1/allocations/{allocation}", "baremetal:allocation:update", None),
    ("DELETE", "/v1/allocations/{allocation}", "baremetal:allocation:delete", None),
    ("GET", "/v1/nodes/{node}/allocation", N + "allocation:get", "node"),
    ("DELETE", "/v1/nodes/{node}/allocation", N + "allocation:delete", "node"),
    ("GET", "/v1/flavors", "baremetal:flavor:get", None),
    ("GET", "/v1/flavors/{flavor}", "baremetal:flavor:get", None),
    ("POST", "/v1/flavors", "baremetal:flavor:create", None),
    ("PATCH", "/v1/flavors/{flavor}", "baremetal:flavor:update", None),
    ("DELETE", "/v1/flavors/{flavor}", "baremetal:flavor:delete", None),
    ("GET", "/v1/projects", "baremetal:project:get", None),
    ("GET", "/v1/projects/{project}", "baremetal:project:get", None),
    ("PUT", "/v1/projects/{project}", "baremetal:project:update", None),
    ("DELETE", "/v1/projects/{project}", "baremetal:project:delete", None),
    # one-call servers: the handlers confine non-admins to their own project (instances/create.py)
    ("GET", "/v1/images", "baremetal:image:get", None),
    ("GET", "/v1/images/{image}", "baremetal:image:get", None),
    ("POST", "/v1/images", "baremetal:image:create", None),
    ("DELETE", "/v1/images/{image}", "baremetal:image:delete", None),
    ("GET", "/v1/instances", "baremetal:instance:list", None),
    ("GET", "/v1/instances/{instance}", "baremetal:instance:get", None),
    ("POST", "/v1/instances", "baremetal:instance:create", None),
    ("DELETE", "/v1/instances/{instance}", "baremetal:instance:delete", None),
]
ROUTES: dict[tuple[str, str], tuple[Actions, str | None]] = {(m, p): (a, t) for m, p, a, t in _R}

#: the rule that decides whether a caller may know a target exists at all
VISIBLE = {"node": N + "get", "port": "baremetal:port:get", "portgroup": "baremetal:portgroup:get",
           "connector": "baremetal:volume:get", "target": "baremetal:volume:get"}


def _load(ctx: Ctx, kind: str) -> tuple[Record, Record]:
    """(the resource named by the path, its node); the route's own errors for bad or unknown identifiers."""
    from ironworks.inventory import nodes as node_inventory
    from ironworks.inventory import portgroups as pg_inventory
    from ironworks.inventory import ports as port_inventory

    ident = ctx.path_params[kind]
    if kind == "node":
        node = node_inventory.find(ctx.services, ident, ctx.version)
        return node, node
    if kind in ("connector", "target"):
        from ironworks.inventory import volume as volume_inventory

        found = volume_inventory.find(ctx.services, ident, target=kind == "target")
        return found, ctx.services.nodes.get(found["node_uuid"])
    found = (port_inventory.find(ctx.services, ident, ctx.version) if kind == "port"
             else pg_inventory.find(ctx.services, ident))
    return found, ctx.services.nodes.get(found["node_uuid"])


def _not_found(kind: str, ident: str) -> errors.IronworksError:
    if kind == "port":
        return errors.PortNotFound(port=ident)
    if kind == "portgroup":
        return errors.PortgroupNotFound(portgroup=ident)
    if kind in ("connector", "target"):
        from ironworks.db.repos.volume import VolumeConnectorNotFound, VolumeTargetNotFound

        return VolumeTargetNotFound(target=ident) if kind == "target" else VolumeConnectorNotFound(connector=ident)
    return errors.NodeNotFound(node=ident)


def authorize(ctx: Ctx) -> None:
    """Raise NotFound/Forbidden unless ``ctx.identity`` may make this request (see the module docstring)."""
    method = ctx.request.method
    route = ctx.request.scope.get("route")
    template = getattr(route, "path", None) or ctx.request.url.path
    entry = ROUTES.get((method, template))
    if entry is not None and entry[0] == PUBLIC:
        return
    identity = ctx.identity
    audit: dict[str, Any] | None = ctx.request.scope.get(AUDIT_KEY)
    if entry is None:
        if not identity.is_admin:
            raise Forbidden(action=f"{method} {template}")
        return
    spec, kind = entry
    if identity.is_admin:
        if kind is not None and audit is not None:
            with contextlib.suppress(errors.IronworksError):  # the handler answers for a bad identifier
                audit["node_uuid"] = _load(ctx, kind)[1]["uuid"]
        return
    node = None
    if kind is not None:
        _, node = _load(ctx, kind)
        if not policy.allowed(identity, VISIBLE[kind], node):
            raise _not_found(kind, ctx.path_params[kind])
        if audit is not None:
            audit["node_uuid"] = node["uuid"]
    actions = spec(ctx) if callable(spec) else [spec]
    for action in actions:
        if not policy.allowed(identity, action, node):
            raise Forbidden(action=action)


def list_scope(identity: Identity) -> dict[str, Any]:
    """Repository filters that restrict a list to what ``identity`` may see (the query does the work)."""
    if identity.is_admin:
        return {}
    if not identity.project:
        raise Forbidden(action="listing without a project")
    return {"project": identity.project}


def sanitize_node(identity: Identity, node: Record, body: dict[str, Any]) -> dict[str, Any]:
    return policy.sanitize_node(identity, node, body)
