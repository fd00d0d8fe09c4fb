"""Port storage, and ``Lookup``: the reads port and portgroup rules need inside one write transaction.

A port record is a plain dict of the port's columns plus ``node_uuid`` and ``portgroup_uuid``. Writes take a
callback that computes the new column values from what ``Lookup`` reads in the same transaction, so checks
and the write cannot be separated by another writer. The node's row is locked (PostgreSQL ``FOR UPDATE``;
SQLite writers are serialised by ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import Node, Port, Portgroup, utcnow
from ironworks.db.repos.base import LookupRepository, Record, is_uuid_like, sortable

PORTS = cast(Table, Port.__table__)
PORTGROUPS = cast(Table, Portgroup.__table__)
NODES = cast(Table, Node.__table__)

#: columns a port list may be sorted by (JSON columns cannot be)
SORTABLE = sortable(PORTS)

_SELECT = select(
    *PORTS.columns, NODES.c.uuid.label("node_uuid"), PORTGROUPS.c.uuid.label("portgroup_uuid")
).select_from(
    PORTS.join(NODES, PORTS.c.node_id == NODES.c.id).outerjoin(PORTGROUPS, PORTS.c.portgroup_id == PORTGROUPS.c.id)
)


class Lookup:
    """Reads inside the caller's transaction. Raise NotFound errors for what does not exist."""

    def __init__(self, session: Session, is_sqlite: bool) -> None:
        self.session = session
        self.is_sqlite = is_sqlite

    def _one(self, stmt: Any) -> Record | None:
        row = self.session.execute(stmt).mappings().first()
        return dict(row) if row is not None else None

    def node(self, ident: str, *, lock: bool = False) -> Record:
        clause = NODES.c.uuid == ident if is_uuid_like(ident) else NODES.c.name == ident
        stmt = select(NODES).where(clause)
        if lock and not self.is_sqlite:
            stmt = stmt.with_for_update()
        found = self._one(stmt)
        if found is None:
            raise errors.NodeNotFound(node=ident)
        return found

    def node_by_id(self, node_id: int, *, lock: bool = False) -> Record:
        stmt = select(NODES).where(NODES.c.id == node_id)
        if lock and not self.is_sqlite:
            stmt = stmt.with_for_update()
        found = self._one(stmt)
        if found is None:
            raise errors.NodeNotFound(node=str(node_id))
        return found

    def portgroup(self, ident: str) -> Record:
        clause = PORTGROUPS.c.uuid == ident if is_uuid_like(ident) else PORTGROUPS.c.name == ident
        found = self._one(select(PORTGROUPS).where(clause))
        if found is None:
            raise errors.PortgroupNotFound(portgroup=ident)
        return found

    def portgroup_by_id(self, pg_id: int) -> Record:
        found = self._one(select(PORTGROUPS).where(PORTGROUPS.c.id == pg_id))
        if found is None:
            raise errors.PortgroupNotFound(portgroup=str(pg_id))
        return found

    def ports_in_portgroup(self, pg_id: int) -> list[Record]:
        rows = self.session.execute(select(PORTS).where(PORTS.c.portgroup_id == pg_id).order_by(PORTS.c.id))
        return [dict(r) for r in rows.mappings()]

    def port_by_address(self, address: str) -> Record | None:
        return self._one(select(PORTS).where(PORTS.c.address == address))

    def portgroup_by(self, column: str, value: Any) -> Record | None:
        return self._one(select(PORTGROUPS).where(PORTGROUPS.c[column] == value))

    def port_by_name(self, name: str) -> Record | None:
        return self._one(select(PORTS).where(PORTS.c.name == name))

    def set_member_physnets(self, pg_id: int, physnet: str | None) -> None:
        """A portgroup's physical_network given to its member ports (Ironic's update_physical_network)."""
        self.session.execute(
            update(PORTS)
            .where(PORTS.c.portgroup_id == pg_id, PORTS.c.physical_network.is_distinct_from(physnet))
            .values(physical_network=physnet, updated_at=utcnow())
        )


def node_filter(key: str, value: Any) -> Any:
    """Filters on the owning node's columns (the node is joined): ``conductor_groups`` or ``shards`` (lists)."""
    column = NODES.c.conductor_group if key == "conductor_groups" else NODES.c.shard
    return column.in_(value)


class PortRepo(LookupRepository[Port, Lookup]):
    """Ports by uuid; writes check their rules through a ``Lookup``."""

    model = Port
    query = _SELECT
    unique = [
        ("uuid", lambda _: errors.PortAlreadyExists("A port with that UUID already exists.")),
        ("address", lambda _: errors.MACAlreadyExists("A port with that MAC address already exists.")),
        ("name", lambda _: errors.PortDuplicateName("A port with that name already exists.")),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.PortNotFound(port=ident)

    def marker_not_found(self, marker: str) -> errors.IronworksError:
        return errors.PortNotFound(f"Marker port {marker} could not be found.")

    def filter_clause(self, key: str, value: Any) -> Any:
        if key == "project":  # ports of nodes the project owns or leases (auth/)
            return or_(NODES.c.owner == value, NODES.c.lessee == value)
        if key in ("conductor_groups", "shards"):
            return node_filter(key, value)
        if key == "description_contains":
            return PORTS.c.description.contains(value, autoescape=True)
        return PORTS.c[key] == value

    def make_lookup(self, session: Session) -> Lookup:
        return Lookup(session, self.db.is_sqlite)
