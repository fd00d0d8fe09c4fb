"""What the conductor does with in-band inspection data: Ironic's default inspection hooks, the inspection
rules, and writing their effects back, all under the node lock the inspection flow holds.

* ``run_hooks`` (data posted to ``/v1/continue_inspection``): Ironic's ``ramdisk-error`` (the ramdisk's
  ``error`` fails the inspection), ``validate-interfaces`` (``all_interfaces``, ``valid_interfaces``, ``macs``
  added to the plugin data; ``add_ports`` decides which NICs are valid), ``ports`` (a port per valid NIC, unless
  ``add_ports`` is ``disabled``; ``pxe_enabled`` and the DHCP ``client-id`` of existing ports follow the data) and
  ``architecture`` (``cpu_arch``); then the scheduling properties the agent flow sets (cpus, memory_mb, local_gb).
* ``apply_rules``: the ``main`` phase rules (``inventory/inspection_rules``) over the data; the node fields,
  traits and ports they changed are written in one transaction.
* ``store``: the inventory and plugin data (without ``logs``), as ``GET /v1/nodes/{node}/inventory`` shows them.

Deviation from Ironic, on purpose: ``pxe_enabled`` of existing ports is only changed when the data names the
PXE NIC (Ironic would clear it on every port when it does not, and the next netboot would find none).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, insert, select, update

from ironworks import errors
from ironworks.db.models import NodeTrait, Port, utcnow
from ironworks.db.repos import agent_commands
from ironworks.db.repos.inspection_rules import InspectionRuleRepo
from ironworks.identifiers import new_uuid, normalize_mac
from ironworks.inventory.inspection_rules import builtin
from ironworks.inventory.inspection_rules.actions import Target
from ironworks.inventory.inspection_rules.engine import apply_rules as engine_apply
from ironworks.inventory.inspection_rules.errors import HardwareInspectionFailure

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

LOG = logging.getLogger(__name__)

PORTS = cast(Table, Port.__table__)
TRAITS = cast(Table, NodeTrait.__table__)
GIB = 1024**3
ADD_PORTS = ("all", "active", "pxe", "disabled")


class InvalidNodeInventory(errors.Invalid):
    template = "Inventory for node %(node)s is invalid: %(reason)s"


def pxe_mac(inventory: dict[str, Any]) -> str | None:
    mac = (inventory.get("boot") or {}).get("pxe_interface") if isinstance(inventory.get("boot"), dict) else None
    if not isinstance(mac, str) or not mac:
        return None
    if "-" in mac:  # pxelinux format: 01-aa-bb-cc-dd-ee-ff
        mac = mac.split("-", 1)[1].replace("-", ":")
    try:
        return normalize_mac(mac)
    except errors.IronworksError:
        return None


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return False


def interfaces(node_uuid: str, inventory: dict[str, Any], add_ports: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(all interfaces, valid interfaces) by name, as Ironic's ``validate-interfaces`` hook."""
    boot_mac = pxe_mac(inventory)
    found: dict[str, Any] = {}
    for iface in inventory.get("interfaces") or []:
        if not isinstance(iface, dict) or not iface.get("name") or not iface.get("mac_address"):
            continue
        try:
            mac = normalize_mac(iface["mac_address"])
        except errors.IronworksError:
            continue
        v6 = iface.get("ipv6_address")
        if isinstance(v6, str) and "%" in v6:
            v6 = v6.split("%")[0]
        found[str(iface["name"])] = dict(iface, mac_address=mac, pxe_enabled=(mac == boot_mac), ipv6_address=v6)
    if not found:
        raise InvalidNodeInventory(node=node_uuid, reason="no valid network interfaces")
    valid: dict[str, Any] = {}
    for name, iface in found.items():
        ip = iface.get("ipv4_address") or iface.get("ipv6_address")
        if name == "lo" or (isinstance(ip, str) and _loopback(ip)):
            continue
        if add_ports == "pxe" and boot_mac and not iface["pxe_enabled"]:
            continue
        if add_ports == "active" and not ip:
            continue
        valid[name] = dict(iface)
    if not valid:
        raise InvalidNodeInventory(
            node=node_uuid, reason=f'no network interfaces match the configuration (add_ports set to "{add_ports}")'
        )
    return found, valid


def properties_from(inventory: dict[str, Any], root_disk: Any) -> dict[str, Any]:
    """The scheduling properties the agent inspection sets (drivers/agent/resume.py), tolerant of bad types."""
    from ironworks.drivers.agent.resume import properties_from as agent_properties

    try:
        return agent_properties(inventory, root_disk if isinstance(root_disk, dict) else None)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidNodeInventory(node="?", reason=f"malformed cpu, memory or disk data: {exc}") from None


def run_hooks(task: Task, inventory: dict[str, Any], plugin_data: dict[str, Any]) -> None:
    """Ironic's default hooks (``ramdisk-error, validate-interfaces, ports, architecture``) and the properties."""
    if plugin_data.get("error"):
        raise HardwareInspectionFailure(error=f"Ramdisk reported error: {plugin_data['error']}")
    add_ports = task.settings.inspector_add_ports if task.settings.inspector_add_ports in ADD_PORTS else "pxe"
    found, valid = interfaces(task.uuid, inventory, add_ports)
    plugin_data.update(all_interfaces=found, valid_interfaces=valid, macs=[i["mac_address"] for i in valid.values()])
    cpu = inventory.get("cpu")
    if not isinstance(cpu, dict) or not isinstance(cpu.get("architecture"), str):
        raise InvalidNodeInventory(
            node=task.uuid,
            reason=f"Inventory has malformed or missing CPU architecture information: {cpu} for node {task.uuid}.",
        )
    _ports(task, found, valid, add_ports, pxe_mac(inventory) is not None)
    props = {
        **(task.node["properties"] or {}),
        **properties_from(inventory, plugin_data.get("root_disk")),
        "cpu_arch": cpu["architecture"],
    }
    task.update(properties=props)


def _ports(task: Task, found: dict[str, Any], valid: dict[str, Any], add_ports: str, pxe_known: bool) -> None:
    node_id = task.node["id"]
    with task.ctx.write() as session:
        if add_ports != "disabled":
            for iface in valid.values():
                mac = iface["mac_address"]
                if session.execute(select(PORTS.c.id).where(PORTS.c.address == mac)).first() is not None:
                    LOG.info("Port already exists for MAC address %s for node %s", mac, task.uuid)
                    continue
                extra = {"client-id": iface["client_id"]} if iface.get("client_id") else {}
                session.execute(
                    insert(PORTS).values(
                        uuid=new_uuid(),
                        address=mac,
                        node_id=node_id,
                        pxe_enabled=bool(iface["pxe_enabled"]),
                        extra=extra,
                        local_link_connection={},
                        internal_info={},
                        created_at=utcnow(),
                    )
                )
                LOG.info("Port created for MAC address %s for node %s", mac, task.uuid)
        by_mac = {i["mac_address"]: i for i in found.values()}
        rows = session.execute(select(PORTS).where(PORTS.c.node_id == node_id)).mappings().all()
        for port in rows:
            iface = by_mac.get(port["address"])
            changes: dict[str, Any] = {}
            pxe = bool(iface and iface["pxe_enabled"])
            if pxe_known and pxe != port["pxe_enabled"]:
                changes["pxe_enabled"] = pxe
            client_id = iface.get("client_id") if iface else None
            if client_id and client_id != (port["extra"] or {}).get("client-id"):
                changes["extra"] = {**(port["extra"] or {}), "client-id": client_id}
            if changes:
                session.execute(update(PORTS).where(PORTS.c.id == port["id"]).values(**changes, updated_at=utcnow()))


def apply_rules(task: Task, inventory: dict[str, Any], plugin_data: dict[str, Any]) -> list[str]:
    """The ``main`` rules over the data; their changes to the node, its traits and ports are written."""
    node_id = task.node["id"]
    with task.ctx.db.read() as session:
        rules = InspectionRuleRepo(task.ctx.db).for_phase(session, "main")
        rules += [r for r in builtin.load(task.settings.inspection_rules_builtin_file) if r["phase"] == "main"]
        if not rules:
            return []
        traits = list(session.execute(select(TRAITS.c.trait).where(TRAITS.c.node_id == node_id)).scalars())
        ports = [dict(r) for r in session.execute(select(PORTS).where(PORTS.c.node_id == node_id)).mappings()]
    target = Target.of(task.node, traits, ports, plugin_data)
    applied = engine_apply(
        rules,
        {**task.node, "traits": traits},
        target,
        inventory,
        mask_secrets=task.settings.inspection_rules_mask_secrets,
    )
    if target.changed:
        task.update(**{f: target.node[f] for f in target.changed})
    with task.ctx.write() as session:
        if target.traits_changed:
            session.execute(delete(TRAITS).where(TRAITS.c.node_id == node_id))
            for trait in target.traits:
                session.execute(insert(TRAITS).values(node_id=node_id, trait=trait, created_at=utcnow()))
        for uuid in target.changed_ports:
            session.execute(
                update(PORTS)
                .where(PORTS.c.uuid == uuid, PORTS.c.node_id == node_id)
                .values(**target.ports[uuid], updated_at=utcnow())
            )
    if applied:
        LOG.info("Node %s: inspection rules applied: %s", task.uuid, ", ".join(applied))
    return applied


def store(task: Task, inventory: dict[str, Any], plugin_data: dict[str, Any]) -> None:
    plugin_data.pop("logs", None)  # logs can be huge; Ironic stores them elsewhere
    with task.ctx.write() as session:
        agent_commands.store_inventory(session, task.node["id"], inventory, plugin_data)


def stored(task: Task) -> tuple[dict[str, Any], dict[str, Any]]:
    with task.ctx.db.read() as session:
        row = agent_commands.get_inventory(session, task.node["id"])
    if row is None:
        return {}, {}
    return dict(row["inventory"] or {}), dict(row["plugin_data"] or {})
