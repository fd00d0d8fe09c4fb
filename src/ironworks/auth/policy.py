"""The policy: which role may do what to which node, as data (Ironic's project-scoped defaults, adapted).

A rule is a set of grants ``(least role, relation to the node)``; ``admin`` passes every rule. Relations are
``owner`` (the node's ``owner`` is the caller's project), ``lessee`` (its ``lessee`` is) and ``any`` (no node
involved: list endpoints, whose results are filtered by project in the query). Roles include the ones below
them: a member passes a reader rule.

Where Ironworks differs from Ironic's defaults (ironic/common/policy.py), on purpose:

* Ironic's project-scoped ``admin``/``manager`` roles do not exist here: ``admin`` is the operator (Ironic's
  system admin); rules that need an owner *admin* in Ironic (driver interfaces, boot device, traits, ports)
  are admin-only here.
* Members never read or change BMC credentials: ``update:driver_info`` is admin-only (Ironic: owner member),
  and non-admins see driver_info with every value masked (owners) or redacted (lessees).
* A lessee's members run the instance's life cycle: deploy, undeploy, rebuild, rescue, abort, power and the
  console, and set instance_info/extra (Ironic gives a lessee only power and reads unless it is a lessee
  admin). The hardware life cycle (manage, provide, clean, inspect…) stays with the owner.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from ironworks.auth.identity import Identity, Role
from ironworks.logs import MASK


class Rel(enum.StrEnum):
    OWNER = "owner"
    LESSEE = "lessee"
    ANY = "any"


Rule = frozenset[tuple[Role, Rel]]

ADMIN_ONLY: Rule = frozenset()
ANY_READER: Rule = frozenset({(Role.READER, Rel.ANY)})
ANY_MEMBER: Rule = frozenset({(Role.MEMBER, Rel.ANY)})
PROJECT_READER: Rule = frozenset({(Role.READER, Rel.OWNER), (Role.READER, Rel.LESSEE)})
OWNER_READER: Rule = frozenset({(Role.READER, Rel.OWNER)})
PROJECT_MEMBER: Rule = frozenset({(Role.MEMBER, Rel.OWNER), (Role.MEMBER, Rel.LESSEE)})
OWNER_MEMBER: Rule = frozenset({(Role.MEMBER, Rel.OWNER)})

N = "baremetal:node:"
RULES: dict[str, Rule] = {
    # nodes: reading
    N + "list": ANY_READER,
    N + "get": PROJECT_READER,
    N + "get_states": PROJECT_READER,
    N + "traits:list": PROJECT_READER,
    N + "vif:list": PROJECT_READER,
    N + "get:driver_info": OWNER_READER,
    N + "get:driver_internal_info": OWNER_READER,
    N + "get:last_error": OWNER_READER,
    N + "get:reservation": OWNER_READER,
    N + "history:get": OWNER_READER,
    N + "bios:get": OWNER_READER,
    N + "get_indicator_state": OWNER_READER,
    N + "inventory:get": OWNER_READER,
    N + "firmware:get": OWNER_READER,
    N + "vmedia:get": OWNER_READER,
    # nodes: enrolment and hardware
    N + "create": ADMIN_ONLY,
    N + "delete": ADMIN_ONLY,
    N + "get_boot_device": ADMIN_ONLY,
    N + "set_boot_device": ADMIN_ONLY,
    N + "traits:set": ADMIN_ONLY,
    N + "traits:delete": ADMIN_ONLY,
    N + "disable_cleaning": ADMIN_ONLY,
    N + "set_raid_state": OWNER_MEMBER,
    N + "set_maintenance": OWNER_MEMBER,
    N + "clear_maintenance": OWNER_MEMBER,
    N + "validate": PROJECT_MEMBER,
    # nodes: updates, per field (see PATCH_RULES)
    N + "update": PROJECT_MEMBER,
    N + "update_extra": PROJECT_MEMBER,
    N + "update_instance_info": PROJECT_MEMBER,
    N + "update:driver_info": ADMIN_ONLY,
    N + "update:properties": OWNER_MEMBER,
    N + "update:chassis_uuid": ADMIN_ONLY,
    N + "update:instance_uuid": OWNER_MEMBER,
    N + "update:lessee": OWNER_MEMBER,
    N + "update:owner": ADMIN_ONLY,
    N + "update:driver_interfaces": ADMIN_ONLY,
    N + "update:network_data": OWNER_MEMBER,
    N + "update:conductor_group": ADMIN_ONLY,
    N + "update:name": OWNER_MEMBER,
    N + "update:retired": OWNER_MEMBER,
    N + "update:shard": ADMIN_ONLY,
    N + "update:parent_node": ADMIN_ONLY,
    N + "update:disable_power_off": ADMIN_ONLY,
    # nodes: the instance's life cycle
    N + "set_power_state": PROJECT_MEMBER,
    N + "set_provision_state": PROJECT_MEMBER,
    N + "set_provision_state:hardware": OWNER_MEMBER,
    N + "get_console": PROJECT_MEMBER,
    N + "set_console_state": PROJECT_MEMBER,
    N + "inject_nmi": OWNER_MEMBER,
    N + "set_indicator_state": OWNER_MEMBER,
    N + "set_boot_mode": OWNER_MEMBER,
    N + "set_secure_boot": OWNER_MEMBER,
    N + "vmedia:attach": OWNER_MEMBER,
    N + "vmedia:detach": OWNER_MEMBER,
    N + "vendor_passthru": ADMIN_ONLY,  # Ironic: system admin; a vendor method can do anything to the BMC
    N + "vif:attach": PROJECT_MEMBER,
    N + "vif:detach": PROJECT_MEMBER,
    # ports and portgroups follow their node
    "baremetal:port:list": ANY_READER,
    "baremetal:port:get": PROJECT_READER,
    "baremetal:port:create": ADMIN_ONLY,
    "baremetal:port:update": ADMIN_ONLY,
    "baremetal:port:delete": ADMIN_ONLY,
    "baremetal:portgroup:list": ANY_READER,
    "baremetal:portgroup:get": PROJECT_READER,
    "baremetal:portgroup:create": ADMIN_ONLY,
    "baremetal:portgroup:update": ADMIN_ONLY,
    "baremetal:portgroup:delete": ADMIN_ONLY,
    # volume connectors and targets follow their node (Ironic's owner/lessee *admin* rules: operators here);
    # reading a target's properties is the operator's (Ironic: system reader or admin)
    "baremetal:volume:list": ANY_READER,
    "baremetal:volume:get": PROJECT_READER,
    "baremetal:volume:create": ADMIN_ONLY,
    "baremetal:volume:update": OWNER_MEMBER,
    "baremetal:volume:delete": ADMIN_ONLY,
    "baremetal:volume:view_target_properties": ADMIN_ONLY,
    # infrastructure: operators only (Ironic: system scope)
    "baremetal:chassis:get": ADMIN_ONLY,
    "baremetal:chassis:create": ADMIN_ONLY,
    "baremetal:chassis:update": ADMIN_ONLY,
    "baremetal:chassis:delete": ADMIN_ONLY,
    "baremetal:driver:get": ADMIN_ONLY,
    "baremetal:driver:vendor_passthru": ADMIN_ONLY,
    "baremetal:events:post": ADMIN_ONLY,  # Ironic: system admin (Neutron's service user)
    "baremetal:deploy_template:get": ADMIN_ONLY,
    "baremetal:deploy_template:create": ADMIN_ONLY,
    "baremetal:deploy_template:update": ADMIN_ONLY,
    "baremetal:deploy_template:delete": ADMIN_ONLY,
    "baremetal:inspection_rule:get": ADMIN_ONLY,
    "baremetal:inspection_rule:create": ADMIN_ONLY,
    "baremetal:inspection_rule:update": ADMIN_ONLY,
    "baremetal:inspection_rule:delete": ADMIN_ONLY,
    # runbooks have an owner project and a public flag: inventory/runbooks.py shows a project its own and the
    # public ones, and lets it create (owned by itself) and change only its own (Ironic's RUNBOOK_* defaults)
    "baremetal:runbook:get": ANY_READER,
    "baremetal:runbook:create": ANY_MEMBER,
    "baremetal:runbook:update": ANY_MEMBER,
    "baremetal:runbook:delete": ANY_MEMBER,
    # networks have an owner project and a shared flag (Neutron's model): api/routes/networks.py shows a
    # non-admin its project's and shared networks only, and lets it change only its project's (issue 12)
    "baremetal:network:get": ANY_READER,
    "baremetal:network:create": ANY_MEMBER,
    "baremetal:network:update": ANY_MEMBER,
    "baremetal:network:delete": ANY_MEMBER,
    "baremetal:audit:list": ADMIN_ONLY,
    # allocations (api/routes/allocations.py confines non-admins to their project's allocations and nodes
    # itself, through ``ctx.identity``: Ironic's ALLOCATION_CREATOR / ALLOCATION_MEMBER / ALLOCATION_READER)
    "baremetal:allocation:list": ANY_READER,
    "baremetal:allocation:get": ANY_READER,
    "baremetal:allocation:create": ANY_MEMBER,
    "baremetal:allocation:update": ANY_MEMBER,
    "baremetal:allocation:delete": ANY_MEMBER,
    "baremetal:allocation:candidates": ADMIN_ONLY,
    N + "allocation:get": PROJECT_READER,
    N + "allocation:delete": PROJECT_MEMBER,
    # flavors are the menu members order from; projects (tenant pools) are the operator's
    "baremetal:flavor:get": ANY_READER,
    "baremetal:flavor:create": ADMIN_ONLY,
    "baremetal:flavor:update": ADMIN_ONLY,
    "baremetal:flavor:delete": ADMIN_ONLY,
    # the image catalogue is the operator's; members create and delete their own project's servers
    "baremetal:image:get": ANY_READER,
    "baremetal:image:create": ADMIN_ONLY,
    "baremetal:image:delete": ADMIN_ONLY,
    "baremetal:instance:list": ANY_READER,
    "baremetal:instance:get": ANY_READER,
    "baremetal:instance:create": ANY_MEMBER,
    "baremetal:instance:delete": ANY_MEMBER,
    "baremetal:project:get": ADMIN_ONLY,
    "baremetal:project:update": ADMIN_ONLY,
    "baremetal:project:delete": ADMIN_ONLY,
}

#: node PATCH paths and the rule each needs (Ironic's NodesController._authorize_patch_and_get_node)
PATCH_RULES: tuple[tuple[str, str], ...] = (
    ("/instance_info", N + "update_instance_info"),
    ("/extra", N + "update_extra"),
    ("/driver_info", N + "update:driver_info"),
    ("/properties", N + "update:properties"),
    ("/chassis_uuid", N + "update:chassis_uuid"),
    ("/instance_uuid", N + "update:instance_uuid"),
    ("/instance_name", N + "update_instance_info"),
    ("/lessee", N + "update:lessee"),
    ("/owner", N + "update:owner"),
    ("/driver", N + "update:driver_interfaces"),
    ("/network_data", N + "update:network_data"),
    ("/conductor_group", N + "update:conductor_group"),
    ("/name", N + "update:name"),
    ("/retired", N + "update:retired"),
    ("/shard", N + "update:shard"),
    ("/parent_node", N + "update:parent_node"),
    ("/disable_power_off", N + "update:disable_power_off"),
)

#: provision targets that change the hardware's life cycle rather than the instance's: owner only
HARDWARE_TARGETS = frozenset({"manage", "provide", "inspect", "clean", "adopt", "service", "unhold"})

_FALSE = {"0", "f", "false", "off", "n", "no"}


def relations(identity: Identity, node: Mapping[str, Any] | None) -> set[Rel]:
    rels = {Rel.ANY}
    if node is not None and identity.project:
        if node.get("owner") == identity.project:
            rels.add(Rel.OWNER)
        if node.get("lessee") == identity.project:
            rels.add(Rel.LESSEE)
    return rels


def allowed(identity: Identity, action: str, node: Mapping[str, Any] | None = None) -> bool:
    """Does ``action`` on ``node`` pass for ``identity``? Unknown actions pass for admins only."""
    if identity.is_admin:
        return True
    if identity.is_anonymous:
        return False
    rule = RULES.get(action, ADMIN_ONLY)
    rels = relations(identity, node)
    return any(identity.at_least(role) and rel in rels for role, rel in rule)


def patch_actions(patch: Any) -> list[str]:
    """The rules a node JSON patch needs; a malformed patch needs the generic one (the route rejects it)."""
    actions: list[str] = []
    generic = False
    ops = patch if isinstance(patch, list) else []
    for op in ops:
        path = op.get("path") if isinstance(op, dict) else None
        if not isinstance(path, str):
            generic = True
            continue
        for prefix, action in PATCH_RULES:
            if path == prefix or path.startswith(prefix + "/"):
                actions.append(action)
                break
        else:
            field = path.lstrip("/").split("/", 1)[0]
            if field.endswith("_interface"):
                actions.append(N + "update:driver_interfaces")
            elif field == "automated_clean" and str(op.get("value")).strip().lower() in _FALSE:
                actions.append(N + "disable_cleaning")
            else:
                generic = True
    if generic or not actions:
        actions.append(N + "update")
    return list(dict.fromkeys(actions))


def provision_actions(body: Any) -> list[str]:
    target = body.get("target") if isinstance(body, dict) else None
    actions = [N + "set_provision_state"]
    if isinstance(target, str) and target in HARDWARE_TARGETS:
        actions.append(N + "set_provision_state:hardware")
    return actions


# --- what a non-admin sees of a node (Ironic's node_sanitize) ---------------------------------------------------
def _redacted(action: str) -> str:
    return f"** Redacted - requires {action} permission. **"


def sanitize_node(identity: Identity, node: Mapping[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Hide, in a rendered node ``body``, what ``identity`` may not read of ``node``. Admins see it all."""
    if identity.is_admin:
        return body
    if "driver_info" in body:
        if allowed(identity, N + "get:driver_info", node):
            body["driver_info"] = {key: MASK for key in (body["driver_info"] or {})}
        else:
            body["driver_info"] = {"content": _redacted(N + "get:driver_info")}
    if "driver_internal_info" in body and not allowed(identity, N + "get:driver_internal_info", node):
        body["driver_internal_info"] = {"content": _redacted(N + "get:driver_internal_info")}
    for field in ("last_error", "reservation"):
        if body.get(field) is not None and not allowed(identity, f"{N}get:{field}", node):
            body[field] = _redacted(f"{N}get:{field}")
    return body
