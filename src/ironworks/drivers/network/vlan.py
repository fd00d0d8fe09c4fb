"""The ``vlan`` network interface: flips a node's switch ports between the provisioning, cleaning and rescue
networks and its tenant VIFs' VLANs, through the switch drivers (``networking/switches``).

1. ``validate`` checks that the networks this node would use exist and have their role: the node's
   ``driver_info`` ``provisioning_network`` / ``cleaning_network`` / ``rescuing_network`` (Ironic's neutron
   keys), else the settings of the same names, else the one network with that role.
2. ``add_provisioning_network`` / ``add_cleaning_network`` / ``add_rescuing_network``: PXE-enabled ports become
   access ports of that network's VLAN, the others are isolated; ``remove_*`` isolates them all again.
3. ``configure_tenant_networks``: each VIF's NIC carries its networks (access or trunk, a bond's member ports
   alike); ports without a VIF are isolated. ``unconfigure_tenant_networks`` isolates every port.

The plan is pure (``networking/plumbing.py``); this class reads the records, applies the plan switch port by
switch port and records what it did in ``driver_internal_info.switch_ports`` (for operators; never secrets).
Built in the composition root with the database and the switches (``install``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.networks import NetLookup, NetworkRepo
from ironworks.drivers import base
from ironworks.networking import plumbing, vifs
from ironworks.networking.switches.base import Switches

if TYPE_CHECKING:
    from ironworks.db.engine import Database
    from ironworks.drivers.base import TaskView
    from ironworks.drivers.registry import DriverRegistry
    from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

#: role -> (driver_info key and setting name)
ROLE_KEYS = {"provisioning": "provisioning_network", "cleaning": "cleaning_network", "rescue": "rescuing_network"}


def role_network(lk: NetLookup, node: dict[str, Any], settings: Settings, role: str) -> dict[str, Any]:
    """The network ``node`` uses for ``role`` (see the module docstring); InvalidParameterValue if none."""
    key = ROLE_KEYS[role]
    name = (node.get("driver_info") or {}).get(key) or getattr(settings, key, "")
    if name:
        found = lk.network(str(name))
        if found is None:
            raise errors.InvalidParameterValue(f"The {key} {name!r} of node {node['uuid']} does not exist")
        if role not in (found["roles"] or []):
            raise errors.InvalidParameterValue(f"Network {found['name']} does not have the {role!r} role")
        return found
    candidates = [n for n in lk.all_networks() if role in (n["roles"] or [])]
    if len(candidates) != 1:
        raise errors.MissingParameterValue(
            f"Node {node['uuid']} needs a {role} network: set driver_info {key} or the {key} setting "
            f"({len(candidates)} networks have the {role!r} role)"
        )
    return candidates[0]


class VlanNetwork(base.NetworkInterface):
    name = "vlan"

    properties = {
        key: f"Name or uuid of the {role} network; optional, default from settings." for role, key in ROLE_KEYS.items()
    }

    def __init__(self, db: Database | None = None, switches: Switches | None = None) -> None:
        self.db = db
        self.switches = switches or Switches({}, default_driver="noop")

    def _repo(self) -> NetworkRepo:
        if self.db is None:
            raise errors.DriverError("The vlan network interface was not installed with a database")
        return NetworkRepo(self.db)

    def validate(self, task: TaskView) -> None:
        def check(lk: NetLookup) -> None:
            for role in ROLE_KEYS:
                if role == "rescue" and not (task.node.get("driver_info") or {}).get(ROLE_KEYS[role]):
                    continue
                role_network(lk, task.node, task.settings, role)

        self._repo().read(check)

    # -- applying a plan --------------------------------------------------------------------------------------
    def _apply(self, task: TaskView, phase: str, changes: list[plumbing.Change]) -> None:
        done = []
        for change in changes:
            driver = self.switches.driver_for(change.port)
            if change.action == "access":
                driver.set_access(change.port, change.vlans[0])
            elif change.action == "trunk":
                driver.set_trunk(change.port, change.vlans, change.native)
            else:
                driver.isolate(change.port)
            LOG.info(
                "Node %s: %s: %s (%s) -> %s %s",
                task.node["uuid"],
                phase,
                change.port,
                change.mac,
                change.action,
                ",".join(map(str, change.vlans)),
            )
            done.append(
                {
                    "switch": change.port.switch_info or change.port.switch_id,
                    "port": change.port.port_id,
                    "mac": change.mac,
                    "action": change.action,
                    "vlans": list(change.vlans),
                }
            )
        task.set_internal(switch_ports={"phase": phase, "ports": done})

    def _role(self, task: TaskView, role: str) -> None:
        def plan(lk: NetLookup) -> list[plumbing.Change]:
            network = role_network(lk, task.node, task.settings, role)
            return plumbing.for_role_network(lk.ports(task.node["id"]), network["vlan_id"])

        self._apply(task, role, self._repo().read(plan))

    def _off(self, task: TaskView, phase: str) -> None:
        self._apply(task, phase, self._repo().read(lambda lk: plumbing.isolate_all(lk.ports(task.node["id"]))))

    def add_provisioning_network(self, task: TaskView) -> None:
        self._role(task, "provisioning")

    def remove_provisioning_network(self, task: TaskView) -> None:
        self._off(task, "off")

    def add_cleaning_network(self, task: TaskView) -> None:
        self._role(task, "cleaning")

    def remove_cleaning_network(self, task: TaskView) -> None:
        self._off(task, "off")

    def add_rescuing_network(self, task: TaskView) -> None:
        self._role(task, "rescue")

    def remove_rescuing_network(self, task: TaskView) -> None:
        self._off(task, "off")

    def configure_tenant_networks(self, task: TaskView) -> None:
        def plan(lk: NetLookup) -> list[plumbing.Change]:
            nic_vlans = {
                v.nic_uuid: [a.network["vlan_id"] for a in v.networks] for v in vifs.attached(lk, task.node["id"])
            }
            return plumbing.for_tenants(lk.ports(task.node["id"]), nic_vlans)

        self._apply(task, "tenant", self._repo().read(plan))

    def unconfigure_tenant_networks(self, task: TaskView) -> None:
        self._off(task, "off")


def install(registry: DriverRegistry, db: Database, settings: Settings) -> VlanNetwork:
    """Build the ``vlan`` network interface with the database and the configured switches; register it."""
    from ironworks.networking.switches.base import load

    impl = VlanNetwork(db, load(settings.switches_file or None))
    registry.register(impl)
    return impl
