"""Port storage, and ``Lookup``: the reads port and portgroup rules need inside one write transaction.

A port record is a plain dict of the port's columns plus ``node_uuid`` and ``portgroup_uuid``. Writes take a
callback that computes the new column values from what ``Lookup`` reads in the same transaction, so checks
and the write cannot be separated by another writer. The node's row is locked (PostgreSQL ``FOR UPDATE``;
SQLite writers are serialised by ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Node, Port, Portgroup, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

PORTS = cast(Table, Port.__table__)
PORTGROUPS = cast(Table, Portgroup.__table__)
NODES = cast(Table, Node.__table__)

#: columns a port list may be sorted by (JSON columns cannot be)
SORTABLE = frozenset(c.name for c in PORTS.columns if c.type.__class__.__name__ != "JSON")

_SELECT = select(
    *PORTS.columns, NODES.c.uuid.label("node_uuid"), PORTGROUPS.c.uuid.label("portgroup_uuid")
).select_from(
    PORTS.join(NODES, PORTS.c.node_id == NODES.c.id).outerjoin(PORTGROUPS, PORTS.c.portgroup_id == PORTGROUPS.c.id)
)


def _integrity() -> Any:
    return translate_integrity(
        "ports",
        [
            ("uuid", lambda: errors.PortAlreadyExists("A port with that UUID already exists.")),
            ("address", lambda: errors.MACAlreadyExists("A port with that MAC address already exists.")),
        ],
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


class PortRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, uuid: str) -> Record:
        row = session.execute(_SELECT.where(PORTS.c.uuid == uuid)).mappings().first()
        if row is None:
            raise errors.PortNotFound(port=uuid)
        return dict(row)

    def get(self, uuid: str) -> Record:
        with self.db.read() as session:
            return self._get(session, uuid)

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        stmt = _SELECT
        for key, value in (filters or {}).items():
            if key == "project" and value is not None:  # ports of nodes the project owns or leases (auth/)
                stmt = stmt.where(or_(NODES.c.owner == value, NODES.c.lessee == value))
            elif value is not None:
                stmt = stmt.where(PORTS.c[key] == value)
        with self.db.read() as session:
            return list_page(session, stmt, PORTS, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
                             marker_source=_SELECT,
                             not_found=lambda m: errors.PortNotFound(f"Marker port {m} could not be found."))

    def create(self, build: Callable[[Lookup], dict[str, Any]]) -> Record:
        """``build`` checks the rules with the lookup and returns the column values to insert."""
        with _integrity(), self.db.write() as session:
            values = dict(build(Lookup(session, self.db.is_sqlite)))
            values.setdefault("created_at", utcnow())
            session.execute(insert(PORTS).values(**values))
            return self._get(session, values["uuid"])

    def update(self, uuid: str, mutate: Callable[[Record, Lookup], dict[str, Any]]) -> Record:
        """Read the port, let ``mutate`` compute the changed columns (or raise), write them."""
        with _integrity(), self.db.write() as session:
            record = self._get(session, uuid)
            changes = mutate(record, Lookup(session, self.db.is_sqlite))
            if not changes:
                return record
            changes = dict(changes, updated_at=utcnow())
            session.execute(update(PORTS).where(PORTS.c.id == record["id"]).values(**changes))
            return self._get(session, uuid)

    def delete(self, uuid: str, check: Callable[[Record, Lookup], None] | None = None) -> Record:
        with self.db.write() as session:
            record = self._get(session, uuid)
            if check is not None:
                check(record, Lookup(session, self.db.is_sqlite))
            session.execute(delete(PORTS).where(PORTS.c.id == record["id"]))
            return record
