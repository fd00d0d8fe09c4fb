"""Network and VIF storage: networks are plain dict records; VIFs are a row per VIF plus one per network.

``vif_networks`` holds each network of a VIF with the address allocated on it; its unique (network, address)
pair makes handing out one address twice impossible even for racing writers. VIF writes go through
``NetLookup`` inside one write transaction (the node and the network rows locked on PostgreSQL; SQLite writers
are serialised), so the checks, the NIC choice and the write cannot be separated by another writer.

Tenancy: ``list(project=…)`` answers the networks a project may see (its own and the shared ones) in the query;
``visible`` is the same rule for one record. A network a project may not see is answered exactly like one
that does not exist (networking/networks.py, networking/vifs.py).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, or_, select, text, true, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import Network, Vif, VifNetwork, utcnow
from ironworks.db.repos.base import BaseRepository, Record, is_uuid_like, sortable, translate_integrity
from ironworks.db.repos.ports import _SELECT as PORT_SELECT
from ironworks.db.repos.ports import NODES, PORTGROUPS, PORTS

NETWORKS = cast(Table, Network.__table__)
VIFS = cast(Table, Vif.__table__)
VIF_NETWORKS = cast(Table, VifNetwork.__table__)

SORTABLE = sortable(NETWORKS)


#: the PostgreSQL advisory lock that serialises handing out tenant VLANs (SQLite writers are serialised anyway)
_VLAN_LOCK = 0x1A0B_0C12


def visible(network: Record, project: str | None) -> bool:
    """May a caller confined to ``project`` (None: an admin, sees everything) see and use ``network``?"""
    return project is None or bool(network.get("shared")) or network.get("owner") == project


class NetworkNotFound(errors.NotFound):
    template = "Network %(network)s could not be found."


class VifNotFound(errors.NotFound):
    template = "VIF %(vif)s is not attached to node %(node)s."


class NetworkInUse(errors.Conflict):
    template = "Network %(network)s is in use: %(reason)s"


def _vif_integrity() -> Any:
    return translate_integrity(
        "vifs",
        [("vif_id", lambda: errors.Conflict("A VIF with that id is already attached to a node."))],
    )


class NetLookup:
    """Reads and writes of one transaction, for the VIF rules (networking/vifs.py)."""

    def __init__(self, session: Session, is_sqlite: bool) -> None:
        self.session = session
        self.is_sqlite = is_sqlite

    def _rows(self, stmt: Any) -> list[Record]:
        return [dict(r) for r in self.session.execute(stmt).mappings()]

    def node(self, ident: str, *, lock: bool = False) -> Record:
        clause = NODES.c.uuid == ident.lower() if is_uuid_like(ident) else NODES.c.name == ident
        stmt = select(NODES).where(clause)
        if lock and not self.is_sqlite:
            stmt = stmt.with_for_update()
        rows = self._rows(stmt)
        if not rows:
            raise errors.NodeNotFound(node=ident)
        return rows[0]

    def network(self, ident: str, *, lock: bool = False) -> Record | None:
        clause = NETWORKS.c.uuid == ident.lower() if is_uuid_like(ident) else NETWORKS.c.name == ident
        stmt = select(NETWORKS).where(clause)
        if lock and not self.is_sqlite:
            stmt = stmt.with_for_update()
        rows = self._rows(stmt)
        return rows[0] if rows else None

    def segments(self) -> set[tuple[str | None, int]]:
        """Every (physical_network, vlan_id) a network uses."""
        rows = self.session.execute(
            select(NETWORKS.c.physical_network, NETWORKS.c.vlan_id).where(NETWORKS.c.vlan_id.is_not(None))
        )
        return {(r[0], int(r[1])) for r in rows}

    def all_networks(self) -> list[Record]:
        return self._rows(select(NETWORKS).order_by(NETWORKS.c.id))

    def networks_by_id(self, ids: list[int]) -> dict[int, Record]:
        return {r["id"]: r for r in self._rows(select(NETWORKS).where(NETWORKS.c.id.in_(ids)))} if ids else {}

    def ports(self, node_id: int) -> list[Record]:
        return self._rows(PORT_SELECT.where(PORTS.c.node_id == node_id).order_by(PORTS.c.id))

    def portgroups(self, node_id: int) -> list[Record]:
        return self._rows(select(PORTGROUPS).where(PORTGROUPS.c.node_id == node_id).order_by(PORTGROUPS.c.id))

    def used_ips(self, network_id: int) -> list[str]:
        stmt = select(VIF_NETWORKS.c.ip_address).where(
            VIF_NETWORKS.c.network_id == network_id, VIF_NETWORKS.c.ip_address.is_not(None)
        )
        return [r[0] for r in self.session.execute(stmt)]

    def vif_count(self, network_id: int) -> int:
        stmt = select(func.count()).where(VIF_NETWORKS.c.network_id == network_id)
        return int(self.session.execute(stmt).scalar() or 0)

    def vifs(self, node_id: int) -> list[Record]:
        """The node's VIFs in attachment order, each with ``networks``: [{network_id, ip_address}]."""
        vifs = self._rows(select(VIFS).where(VIFS.c.node_id == node_id).order_by(VIFS.c.id))
        if not vifs:
            return []
        links = self._rows(
            select(VIF_NETWORKS)
            .where(VIF_NETWORKS.c.vif_pk.in_([v["id"] for v in vifs]))
            .order_by(VIF_NETWORKS.c.vif_pk, VIF_NETWORKS.c.position)
        )
        for vif in vifs:
            vif["networks"] = [ln for ln in links if ln["vif_pk"] == vif["id"]]
        return vifs

    def vif_exists(self, vif_id: str) -> bool:
        return bool(self.session.execute(select(func.count()).where(VIFS.c.vif_id == vif_id)).scalar())

    def insert_vif(self, values: dict[str, Any], networks: list[tuple[int, str | None]]) -> None:
        result = self.session.execute(insert(VIFS).values(**values, created_at=utcnow()))
        vif_pk = cast(Any, result).inserted_primary_key[0]
        for position, (network_id, ip) in enumerate(networks):
            self.session.execute(
                insert(VIF_NETWORKS).values(vif_pk=vif_pk, network_id=network_id, position=position, ip_address=ip)
            )

    def delete_vif(self, vif_pk: int) -> None:
        self.session.execute(delete(VIFS).where(VIFS.c.id == vif_pk))

    def set_nic_vif(self, kind: str, uuid: str, vif_id: str | None) -> None:
        """Record (or clear) the VIF in the port/portgroup's internal_info, as Ironic does."""
        table = PORTGROUPS if kind == "portgroup" else PORTS
        row = self.session.execute(select(table.c.id, table.c.internal_info).where(table.c.uuid == uuid)).first()
        if row is None:
            return
        info = dict(row.internal_info or {})
        if vif_id is None:
            info.pop("tenant_vif_port_id", None)
        else:
            info["tenant_vif_port_id"] = vif_id
        self.session.execute(update(table).where(table.c.id == row.id).values(internal_info=info, updated_at=utcnow()))


class NetworkRepo(BaseRepository[Network]):
    """Networks by uuid (any case) or name. Writes that need more than the network row get a ``NetLookup``."""

    model = Network
    named = True
    lower_uuid = True
    unique = [
        ("uuid", lambda _: errors.Duplicate("A network with that UUID already exists.")),
        ("name", lambda _: errors.Duplicate("A network with that name already exists.")),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return NetworkNotFound(network=ident)

    def marker_not_found(self, marker: str) -> errors.IronworksError:
        return NetworkNotFound(f"Marker network {marker} could not be found.")

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
        project: str | None = None,
    ) -> builtins.list[Record]:
        """A page of networks; with ``project``, only those it may see (its own and shared ones): a marker it
        may not see is not found."""
        stmt = self.filtered(filters)
        if project is not None:
            stmt = stmt.where(or_(NETWORKS.c.shared == true(), NETWORKS.c.owner == project))
        with self.db.read() as session:
            return self._page(
                session, stmt, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit, marker_source=stmt
            )

    def all(self) -> builtins.list[Record]:
        with self.db.read() as session:
            return [dict(r) for r in session.execute(select(NETWORKS).order_by(NETWORKS.c.id)).mappings()]

    def create(self, values: dict[str, Any], prepare: Callable[[NetLookup], dict[str, Any]] | None = None) -> Record:
        """Insert a network; ``prepare`` (handing out a tenant VLAN) adds to ``values`` in the same transaction,
        serialised against other creators so that two never get the same VLAN."""
        with self.integrity(values), self.db.write() as session:
            if prepare is not None:
                if not self.db.is_sqlite:
                    session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": _VLAN_LOCK})
                values = {**values, **prepare(NetLookup(session, self.db.is_sqlite))}
            return self._insert(session, values)

    def update(self, ident: str, mutate: Callable[[Record, NetLookup], dict[str, Any]]) -> Record:
        return self._update(ident, lambda session, record: mutate(record, NetLookup(session, self.db.is_sqlite)))

    def delete(self, ident: str, check: Callable[[Record], None] | None = None) -> Record:
        """Delete a network (``check`` may refuse first); NetworkInUse while VIFs are attached to it."""

        def in_use(session: Session, record: Record) -> None:
            if check is not None:
                check(record)
            users = session.execute(select(func.count()).where(VIF_NETWORKS.c.network_id == record["id"])).scalar()
            if users:
                raise NetworkInUse(network=record["name"], reason=f"{users} VIF(s) are attached to it")

        return self._delete(ident, in_use)

    def vif_users(self, network_id: int) -> int:
        with self.db.read() as session:
            return int(
                session.execute(select(func.count()).where(VIF_NETWORKS.c.network_id == network_id)).scalar() or 0
            )

    def transact(self, work: Callable[[NetLookup], Any]) -> Any:
        """Run ``work`` in one write transaction (VIF attach/detach)."""
        with _vif_integrity(), self.db.write() as session:
            return work(NetLookup(session, self.db.is_sqlite))

    def read(self, work: Callable[[NetLookup], Any]) -> Any:
        with self.db.read() as session:
            return work(NetLookup(session, self.db.is_sqlite))
