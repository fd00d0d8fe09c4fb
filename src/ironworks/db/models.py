"""SQLAlchemy 2 table definitions. One class per table; no behaviour beyond column defaults.

Column names follow Ironic's so that the API layer maps them one to one. JSON blobs (driver_info,
properties, ...) are JSON columns, never pickles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, onupdate=utcnow, nullable=True)


class Chassis(TimestampMixin, Base):
    __tablename__ = "chassis"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class DeployTemplate(TimestampMixin, Base):
    """A deploy template (API 1.55): named like a trait; its steps run when an instance asks for that trait."""

    __tablename__ = "deploy_templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class InspectionRule(TimestampMixin, Base):
    """An inspection rule (API 1.96): when its conditions hold on inspection data, its actions run."""

    __tablename__ = "inspection_rules"
    __table_args__ = (Index("inspection_rule_phase_idx", "phase"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    phase: Mapped[str | None] = mapped_column(String(16), default="main")
    conditions: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)


class Runbook(TimestampMixin, Base):
    """A runbook (API 1.92): named steps for manual cleaning and servicing, owned by a project or public;
    ``traits`` (1.112) are the node traits that allow its use (Ironic keeps steps and traits in side tables)."""

    __tablename__ = "runbooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    disable_ramdisk: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    owner: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    traits: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class Conductor(Base):
    __tablename__ = "conductors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    conductor_group: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    online: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Node(TimestampMixin, Base):
    __tablename__ = "nodes"
    __table_args__ = (
        Index("nodes_provision_state_idx", "provision_state"),
        Index("nodes_conductor_group_idx", "conductor_group"),
        Index("nodes_reservation_idx", "reservation"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255), unique=True)
    chassis_id: Mapped[int | None] = mapped_column(ForeignKey("chassis.id"))
    driver: Mapped[str] = mapped_column(String(255), nullable=False)
    driver_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    driver_internal_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    instance_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    instance_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    instance_name: Mapped[str | None] = mapped_column(String(255))
    provision_state: Mapped[str] = mapped_column(String(15), nullable=False)
    target_provision_state: Mapped[str | None] = mapped_column(String(15))
    provision_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    power_state: Mapped[str | None] = mapped_column(String(15))
    target_power_state: Mapped[str | None] = mapped_column(String(15))
    console_enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    maintenance_reason: Mapped[str | None] = mapped_column(Text)
    fault: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    reservation: Mapped[str | None] = mapped_column(String(255))
    conductor_affinity: Mapped[int | None] = mapped_column(Integer)
    conductor_group: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    resource_class: Mapped[str | None] = mapped_column(String(80))
    raid_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    target_raid_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    clean_step: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    deploy_step: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    service_step: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    inspection_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    inspection_finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    automated_clean: Mapped[bool | None] = mapped_column(Boolean)
    protected: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    protected_reason: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(255))
    lessee: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    allocation_id: Mapped[int | None] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    network_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    boot_mode: Mapped[str | None] = mapped_column(String(64))
    secure_boot: Mapped[bool | None] = mapped_column(Boolean)
    shard: Mapped[str | None] = mapped_column(String(255))
    parent_node: Mapped[str | None] = mapped_column(String(36))
    disable_power_off: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: the BMC's health (API 1.109): OK / Warning / Critical, or None when unknown (migration 0010)
    health: Mapped[str | None] = mapped_column(String(255))
    # hardware interfaces
    bios_interface: Mapped[str | None] = mapped_column(String(255))
    boot_interface: Mapped[str | None] = mapped_column(String(255))
    console_interface: Mapped[str | None] = mapped_column(String(255))
    deploy_interface: Mapped[str | None] = mapped_column(String(255))
    firmware_interface: Mapped[str | None] = mapped_column(String(255))
    inspect_interface: Mapped[str | None] = mapped_column(String(255))
    management_interface: Mapped[str | None] = mapped_column(String(255))
    network_interface: Mapped[str | None] = mapped_column(String(255))
    power_interface: Mapped[str | None] = mapped_column(String(255))
    raid_interface: Mapped[str | None] = mapped_column(String(255))
    rescue_interface: Mapped[str | None] = mapped_column(String(255))
    storage_interface: Mapped[str | None] = mapped_column(String(255))
    vendor_interface: Mapped[str | None] = mapped_column(String(255))


class NodeTrait(Base):
    __tablename__ = "node_traits"
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True)
    trait: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Portgroup(TimestampMixin, Base):
    __tablename__ = "portgroups"
    __table_args__ = (UniqueConstraint("node_id", "name", name="uniq_portgroups0node_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255), unique=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(String(18), unique=True)
    mode: Mapped[str | None] = mapped_column(String(255))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    standalone_ports_supported: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    physical_network: Mapped[str | None] = mapped_column(String(64))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    internal_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    category: Mapped[str | None] = mapped_column(String(80))  # API 1.103
    #: created by the conductor for trait-based networking (API 1.111); never set through the API
    dynamic_portgroup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)


class Port(TimestampMixin, Base):
    __tablename__ = "ports"
    __table_args__ = (UniqueConstraint("name", name="uniq_ports0name"),)  # Ironic's, API 1.88
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    address: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    portgroup_id: Mapped[int | None] = mapped_column(ForeignKey("portgroups.id"), index=True)
    local_link_connection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    pxe_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    physical_network: Mapped[str | None] = mapped_column(String(64))
    is_smartnic: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    internal_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    vendor: Mapped[str | None] = mapped_column(String(32))  # API 1.100
    category: Mapped[str | None] = mapped_column(String(80))  # API 1.101
    available_for_dynamic_portgroup: Mapped[bool] = mapped_column(  # API 1.111
        Boolean, default=True, server_default=true(), nullable=False
    )


class Intent(Base):
    """A request the API accepted (202) and the conductor has not finished: the durable half of async work."""

    __tablename__ = "intents"
    __table_args__ = (Index("intents_status_idx", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    node_uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    #: the flow to run: a provisioning event ("deploy", "clean"…) or "power"
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    #: pending → running → done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class NodeHistory(Base):
    """Failures and notable events of a node (``GET /v1/nodes/{node}/history``)."""

    __tablename__ = "node_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    event: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str | None] = mapped_column(String(255))
    severity: Mapped[str | None] = mapped_column(String(255))
    user: Mapped[str | None] = mapped_column(String(32))
    conductor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: API 1.113 / 1.115: the project that asked, the node's states when recorded, seconds in that state
    project: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(15))
    target_provision_state: Mapped[str | None] = mapped_column(String(15))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)


class VolumeConnector(TimestampMixin, Base):
    """A node's storage initiator (API 1.32): ``type`` + ``connector_id`` unique."""

    __tablename__ = "volume_connectors"
    __table_args__ = (UniqueConstraint("type", "connector_id", name="uniq_volumeconnectors0type0connector_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    connector_id: Mapped[str] = mapped_column(String(255), nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class VolumeTarget(TimestampMixin, Base):
    """A volume a node boots from or attaches (API 1.32): ``node`` + ``boot_index`` unique."""

    __tablename__ = "volume_targets"
    __table_args__ = (UniqueConstraint("node_id", "boot_index", name="uniq_volumetargets0node_id0boot_index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    volume_type: Mapped[str] = mapped_column(String(64), nullable=False)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    boot_index: Mapped[int] = mapped_column(Integer, nullable=False)
    volume_id: Mapped[str] = mapped_column(String(36), nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class AgentCommand(Base):
    """A command queued for the ramdisk agent of a node (docs/agent-protocol.md §5–6)."""

    __tablename__ = "agent_commands"
    __table_args__ = (Index("agent_commands_node_status_idx", "node_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: queued → delivered → SUCCEEDED | FAILED
    status: Mapped[str] = mapped_column(String(16), default="queued", nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class FirmwareComponent(TimestampMixin, Base):
    """A firmware component of a node as its firmware interface last read it (``GET /v1/nodes/{node}/firmware``,
    API 1.86; identity fields 1.114). Ironic's ``firmware_information`` table."""

    __tablename__ = "firmware_information"
    __table_args__ = (UniqueConstraint("node_id", "component", name="uniq_firmware_node_component"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    component: Mapped[str] = mapped_column(String(255), nullable=False)
    initial_version: Mapped[str | None] = mapped_column(String(255))
    current_version: Mapped[str | None] = mapped_column(String(255))
    last_version_flashed: Mapped[str | None] = mapped_column(String(255))
    vendor: Mapped[str | None] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(255))
    serial_number: Mapped[str | None] = mapped_column(String(255))


class NodeInventory(Base):
    """The hardware inventory the agent reported for a node (``GET /v1/nodes/{node}/inventory``)."""

    __tablename__ = "node_inventories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), unique=True, nullable=False)
    inventory: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    plugin_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


# --- tenant networking (issue 8, migration 0004) ----------------------------------------------------------
class Network(TimestampMixin, Base):
    """A network (an Ironworks extension): a VLAN on a physical network, its addressing and its roles."""

    __tablename__ = "networks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    vlan_id: Mapped[int | None] = mapped_column(Integer)
    physical_network: Mapped[str | None] = mapped_column(String(64))
    cidr: Mapped[str | None] = mapped_column(String(64))
    gateway: Mapped[str | None] = mapped_column(String(64))
    dns_nameservers: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    allocation_start: Mapped[str | None] = mapped_column(String(64))
    allocation_end: Mapped[str | None] = mapped_column(String(64))
    routes: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    #: the conductor-side interface DHCP serves this network on (e.g. a per-VLAN bridge); None: <trunk>.<vlan>
    dhcp_interface: Mapped[str | None] = mapped_column(String(64))
    mtu: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: the project that owns the network (None: the operator's); migration 0008
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    #: usable by every project (Neutron's ``shared``); networks from before 0008 are shared
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)


class Vif(Base):
    """A VIF attached to a node: where it was placed (a port or portgroup) and why."""

    __tablename__ = "vifs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vif_id: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False, index=True)
    #: what the request asked for: a NIC by uuid or by MAC
    port_uuid: Mapped[str | None] = mapped_column(String(36))
    mac: Mapped[str | None] = mapped_column(String(18))
    #: where it was placed: "port" or "portgroup", and that record's uuid
    attached_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    attached_uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class VifNetwork(Base):
    """One network of a VIF and the address allocated on it (unique per network: never handed out twice)."""

    __tablename__ = "vif_networks"
    __table_args__ = (UniqueConstraint("network_id", "ip_address", name="uniq_vif_networks0network_ip"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vif_pk: Mapped[int] = mapped_column(ForeignKey("vifs.id", ondelete="CASCADE"), nullable=False, index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(64))


# --- scheduling: allocations, flavors, project pools (issue 9, migration 0005) ------------------------------
#: allocations look nodes up by resource class (docs/scheduling.md)
Index("nodes_resource_class_idx", Node.resource_class)


class Allocation(TimestampMixin, Base):
    """A request for one node (Ironic's allocation); ``node_id`` is set once a node was claimed for it."""

    __tablename__ = "allocations"
    __table_args__ = (Index("allocations_state_idx", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: the claimed node; deleting the node deletes its allocation, as Ironic's destroy_node does
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), index=True)
    #: allocating → active | error
    state: Mapped[str] = mapped_column(String(15), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    resource_class: Mapped[str | None] = mapped_column(String(80))
    traits: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    candidate_nodes: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: Ironworks extension: the flavor the allocation was made for (its name at that time)
    flavor: Mapped[str | None] = mapped_column(String(255))


class Flavor(TimestampMixin, Base):
    """A named hardware request (Ironworks extension): resource class, traits and optional exact properties."""

    __tablename__ = "flavors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    #: a node resource class as Ironic spells it ("baremetal.gold"), or None
    resource_class: Mapped[str | None] = mapped_column(String(80))
    #: a placement-style custom resource class ("CUSTOM_BAREMETAL_GOLD") from ``resources:CUSTOM_X=1``, or None
    custom_resource_class: Mapped[str | None] = mapped_column(String(255))
    required_traits: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    forbidden_traits: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    cpus: Mapped[int | None] = mapped_column(Integer)
    memory_mb: Mapped[int | None] = mapped_column(Integer)
    local_gb: Mapped[int | None] = mapped_column(Integer)
    #: None: the ``exact_match_default`` setting decides
    exact_match: Mapped[bool | None] = mapped_column(Boolean)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class ProjectPolicy(TimestampMixin, Base):
    """How the scheduler treats one project: isolated projects only get nodes from their own pool."""

    __tablename__ = "project_policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    isolated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: nodes whose ``extra.pool`` equals this belong to the project's dedicated pool (default: the project id)
    pool: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    #: nodes the project may hold through allocations at once (0: unlimited; None: the setting); migration 0008
    max_allocations: Mapped[int | None] = mapped_column(Integer)


# --- auth: users and the audit log (issue 9; migration 0006) ---------------------------------------------------
class User(TimestampMixin, Base):
    """An API user for ``auth_strategy = http_basic``: a bcrypt hash (never the password), a project, a role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    #: the project the user acts for: matched against nodes' ``owner`` and ``lessee``
    project: Mapped[str | None] = mapped_column(String(255))
    #: admin | member | reader
    role: Mapped[str] = mapped_column(String(16), nullable=False)


class AuditRecord(Base):
    """One state-changing API request: who, what, when, and the answer's status. Never a body."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("audit_log_created_at_idx", "created_at"),
        Index("audit_log_node_uuid_idx", "node_uuid"),
        Index("audit_log_user_idx", "user"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    user: Mapped[str | None] = mapped_column(String(255))
    project: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(1024), nullable=False)
    node_uuid: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[int] = mapped_column(Integer, nullable=False)


# --- one-call servers and the image catalogue (issue 9; migration 0007) ------------------------------------------
class Image(TimestampMixin, Base):
    """A named deployable image (Ironworks extension): where it is and how to check it."""

    __tablename__ = "images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    checksum: Mapped[str | None] = mapped_column(String(255))
    os_hash_algo: Mapped[str | None] = mapped_column(String(16))
    os_hash_value: Mapped[str | None] = mapped_column(String(255))
    #: raw | qcow2
    disk_format: Mapped[str] = mapped_column(String(16), nullable=False)
    #: whole-disk (partition images are not supported)
    image_type: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class Instance(TimestampMixin, Base):
    """A server made in one call: what was asked for and the node/allocation it got. Its state is the node's."""

    __tablename__ = "instances"
    #: names are unique per project (migration 0008)
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_instances_owner_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: also the allocation's uuid and the node's instance_uuid
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    hostname: Mapped[str] = mapped_column(String(255), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    node_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    allocation_uuid: Mapped[str | None] = mapped_column(String(36))
    flavor: Mapped[str | None] = mapped_column(String(255))
    resource_class: Mapped[str | None] = mapped_column(String(80))
    traits: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    #: the resolved image: catalogue name (if any), url, checksum or os_hash_*, disk_format
    image: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    #: the requested networks [{network, fixed_ip}] in order; VIF i is named "<uuid>-<i>"
    networks: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    ssh_keys: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    has_root_password: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    has_user_data: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: the durable delete intent: set by DELETE, finished (row removed) once the node is back
    delete_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
