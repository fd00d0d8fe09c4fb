"""The composition root: settings → database → repositories → driver registry → (conductor) → API app.

Everything that has state is built here, once, and handed down. Tests build their own ``Services`` the same
way with their own settings.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from ironworks.conductor.service import Conductor
from ironworks.conductor.task import Task, TaskContext
from ironworks.db import migrate
from ironworks.db.engine import Database
from ironworks.db.repos.allocations import AllocationRepo
from ironworks.db.repos.base import Record
from ironworks.db.repos.chassis import ChassisRepo
from ironworks.db.repos.deploy_templates import DeployTemplateRepo
from ironworks.db.repos.flavors import FlavorRepo
from ironworks.db.repos.nodes import NodeRepo
from ironworks.db.repos.portgroups import PortgroupRepo
from ironworks.db.repos.ports import PortRepo
from ironworks.db.repos.projects import ProjectRepo
from ironworks.db.repos.runbooks import RunbookRepo
from ironworks.drivers.agent.channel import AgentChannel
from ironworks.drivers.agent.channel import install as install_agent
from ironworks.drivers.boot.netboot import install as install_boot
from ironworks.drivers.hardware_types import DRIVER_INFO, INTERFACE_KINDS, HardwareType
from ironworks.drivers.network.vlan import install as install_vlan_network
from ironworks.drivers.registry import DriverRegistry
from ironworks.netboot.service import NetbootConfig, NetbootService
from ironworks.settings import Settings

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Services:
    settings: Settings
    db: Database
    drivers: DriverRegistry
    nodes: NodeRepo
    ports: PortRepo
    portgroups: PortgroupRepo
    chassis: ChassisRepo
    deploy_templates: DeployTemplateRepo
    allocations: AllocationRepo
    flavors: FlavorRepo
    projects: ProjectRepo

    #: the conductor of this process, built by ``start_conductor`` (None in API-only processes and tools)
    conductor: Conductor | None = dataclasses.field(default=None, kw_only=True)
    #: the command channel to ramdisk agents (drivers/agent/channel.py)
    agent: AgentChannel | None = dataclasses.field(default=None, kw_only=True)
    #: dnsmasq + boot file server (netboot/service.py) when settings name a provisioning interface
    netboot: NetbootService | None = dataclasses.field(default=None, kw_only=True)

    @property
    def runbooks(self) -> RunbookRepo:
        """Runbooks (API 1.92): a stateless view over the database, like every repository."""
        return RunbookRepo(self.db)

    # --- questions the API asks; answered by the conductor ----------------------------------------------------
    def conductor_for(self, node: Record) -> str | None:
        """The live conductor that manages ``node`` (None when no conductor is running)."""
        conductor = getattr(self, "conductor", None)
        if conductor is None or not conductor.started:
            return None
        return conductor.conductor_for(node)

    def start_conductor(self) -> Conductor:
        conductor = getattr(self, "conductor", None)
        if conductor is None:
            conductor = Conductor(self.db, self.settings, self.drivers)
            self.conductor = conductor
        if not conductor.started:
            conductor.claim()  # refused while another process runs this conductor name: before touching netboot
            netboot = getattr(self, "netboot", None)
            if netboot is not None and not netboot.started:
                netboot.start()
                from ironworks.networking import dhcp

                dhcp.sync(self)  # DHCP per network: serve the provisioning/cleaning/rescue network records
            conductor.start()
            from ironworks.scheduler import allocation

            allocation.resume(self)  # allocations a crash left "allocating" (as Ironic's conductor start)
        return conductor

    def validate_node(self, node: Record) -> dict[str, Any]:
        """Per-interface validation without hardware I/O (``DriverRegistry.validate``): true only where the
        conductor would go ahead, false with the reason everywhere else."""
        view = Task(TaskContext(self.db, self.settings, self.drivers, self.settings.effective_conductor_name),
                    dict(node), "validate")
        view.held = False
        return self.drivers.validate(view)

    def driver_properties(self, hw: HardwareType) -> dict[str, str]:
        props: dict[str, str] = {}
        for kind in INTERFACE_KINDS:
            for impl in hw.supported(kind):
                props.update(DRIVER_INFO.get(impl, ((), {}))[1])
                iface = self.drivers.implementation(kind, impl)
                if iface is not None:
                    props.update(iface.properties)
        return props

    def close(self) -> None:
        conductor = getattr(self, "conductor", None)
        if conductor is not None:
            conductor.stop()
        netboot = getattr(self, "netboot", None)
        if netboot is not None and netboot.started:
            netboot.stop()
        self.db.dispose()


def build_drivers(settings: Settings) -> DriverRegistry:
    """The driver registry, with the BMC interfaces sharing one policy and per-BMC limiter per protocol."""
    from ironworks.drivers.bios.redfish import RedfishBios
    from ironworks.drivers.bmc.policy import BMCPolicy
    from ironworks.drivers.ipmi.interfaces import IPMIConnections, IPMIManagement, IPMIPower
    from ironworks.drivers.ipmi.vendor import IPMIVendor
    from ironworks.drivers.redfish.interfaces import RedfishConnections, RedfishManagement, RedfishPower
    from ironworks.drivers.redfish.vendor import RedfishVendor

    registry = DriverRegistry(settings.enabled_hardware_types)
    policy = BMCPolicy(
        attempts=settings.bmc_attempts, backoff=settings.bmc_backoff, request_timeout=settings.bmc_request_timeout,
        per_bmc_limit=settings.bmc_per_address_limit, power_timeout=settings.bmc_power_timeout,
        poll_interval=settings.bmc_poll_interval,
    )
    ipmi = IPMIConnections(policy)
    redfish = RedfishConnections(policy)
    for impl in (IPMIPower(ipmi), IPMIManagement(ipmi), IPMIVendor(ipmi), RedfishPower(redfish),
                 RedfishManagement(redfish), RedfishVendor(redfish), RedfishBios(redfish)):
        registry.register(impl)
    return registry


def build_services(settings: Settings, *, upgrade_schema: bool = True) -> Services:
    db = Database.from_url(settings.effective_database_url)
    if upgrade_schema:
        migrate.upgrade(db)
    drivers = build_drivers(settings)
    agent = install_agent(drivers, db)
    install_vlan_network(drivers, db, settings)
    netboot_config = NetbootConfig.from_settings(settings)
    netboot = NetbootService(netboot_config) if netboot_config is not None else None
    install_boot(drivers, db, netboot)
    return Services(
        settings=settings,
        db=db,
        drivers=drivers,
        nodes=NodeRepo(db),
        ports=PortRepo(db),
        portgroups=PortgroupRepo(db),
        chassis=ChassisRepo(db),
        deploy_templates=DeployTemplateRepo(db),
        allocations=AllocationRepo(db),
        flavors=FlavorRepo(db),
        projects=ProjectRepo(db),
        agent=agent,
        netboot=netboot,
    )
