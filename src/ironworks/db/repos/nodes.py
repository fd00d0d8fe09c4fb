"""Node storage: records are plain dicts of the node's columns plus ``traits`` and ``chassis_uuid``."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import Chassis, Node, NodeTrait, Port, Portgroup, utcnow
from ironworks.db.repos.base import Record, Repository, sortable

NODES = cast(Table, Node.__table__)
TRAITS = cast(Table, NodeTrait.__table__)
CHASSIS = cast(Table, Chassis.__table__)
PORTS = cast(Table, Port.__table__)
PORTGROUPS = cast(Table, Portgroup.__table__)
NODE_COLUMNS: tuple[str, ...] = tuple(c.name for c in NODES.columns)

#: columns a list may be sorted by (JSON columns cannot be)
SORTABLE = sortable(NODES)

_SELECT = select(*NODES.columns, CHASSIS.c.uuid.label("chassis_uuid")).select_from(
    NODES.outerjoin(CHASSIS, NODES.c.chassis_id == CHASSIS.c.id)
)


class NodeRepo(Repository[Node]):
    """Nodes by uuid or name, with their traits; writes lock the node's row (PostgreSQL)."""

    model = Node
    query = _SELECT
    named = True
    lock = True
    unique = [
        ("uuid", lambda _: errors.NodeAlreadyExists("A node with that UUID already exists.")),
        ("name", lambda _: errors.DuplicateName("A node with that name already exists.")),
        ("instance_uuid", lambda _: errors.Conflict("Another node is already associated with that instance.")),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.NodeNotFound(node=ident)

    def marker_not_found(self, marker: str) -> errors.IronworksError:
        return errors.NodeNotFound(f"Marker node {marker} could not be found.")

    # --- reading ------------------------------------------------------------------------------------------
    def _load_traits(self, session: Session, records: Sequence[Record]) -> None:
        if not records:
            return
        by_id = {r["id"]: r for r in records}
        for r in records:
            r["traits"] = []
        ids = list(by_id)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            rows = session.execute(
                select(TRAITS.c.node_id, TRAITS.c.trait).where(TRAITS.c.node_id.in_(chunk)).order_by(TRAITS.c.trait)
            )
            for node_id, trait in rows:
                by_id[node_id]["traits"].append(trait)

    def _get(self, session: Session, ident: str, *, lock: bool = False) -> Record:
        record = super()._get(session, ident, lock=lock)
        self._load_traits(session, [record])
        return record

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
        with_traits: bool = True,
    ) -> builtins.list[Record]:
        with self.db.read() as session:
            records = self._page(
                session, self.filtered(filters), sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
            )
            if with_traits:
                self._load_traits(session, records)
            return records

    def filter_clause(self, key: str, value: Any) -> Any:
        if key == "associated":
            return NODES.c.instance_uuid.is_not(None) if value else NODES.c.instance_uuid.is_(None)
        if key == "description_contains":
            return NODES.c.description.contains(value, autoescape=True)
        if key == "chassis_uuid":
            return CHASSIS.c.uuid == value
        if key == "conductor_group":
            return func.lower(NODES.c.conductor_group) == value.lower()
        if key == "provision_state_in":
            return NODES.c.provision_state.in_(value)
        if key == "uuid_in":
            return NODES.c.uuid.in_(value)
        if key == "project":  # the caller's project owns or leases it (auth/hook.py list_scope)
            return or_(NODES.c.owner == value, NODES.c.lessee == value)
        if key == "shard_in":
            return NODES.c.shard.in_(value)
        if key == "exclude_children":
            return NODES.c.parent_node.is_(None) if value else None
        if key == "sharded":
            return NODES.c.shard.is_not(None) if value else NODES.c.shard.is_(None)
        return NODES.c[key] == value

    def count(self) -> int:
        with self.db.read() as session:
            return int(session.execute(select(func.count()).select_from(NODES)).scalar_one())

    # --- writing ------------------------------------------------------------------------------------------
    def create(self, values: dict[str, Any], traits: Iterable[str] = ()) -> Record:
        with self.integrity(values), self.db.write() as session:
            values = dict(values)
            values.setdefault("created_at", utcnow())
            # parameters passed separately: the compiled INSERT is cached instead of rebuilt per call
            result = session.execute(insert(NODES), values)
            node_id = result.inserted_primary_key[0]  # type: ignore[attr-defined]
            trait_rows = [{"node_id": node_id, "trait": t, "created_at": utcnow()} for t in dict.fromkeys(traits)]
            if trait_rows:
                session.execute(insert(TRAITS), trait_rows)
            return self._get(session, values["uuid"])

    def delete(self, ident: str, check: Callable[[Record], None] | None = None) -> Record:
        """Delete the node (``check`` may refuse first) with its ports, portgroups and traits."""

        def remove_children(session: Session, record: Record) -> None:
            if check is not None:
                check(record)
            for table in (PORTS, PORTGROUPS, TRAITS):
                session.execute(delete(table).where(table.c.node_id == record["id"]))

        return self._delete(ident, remove_children)

    def set_traits(self, ident: str, traits: Sequence[str], check: Callable[[Record], None] | None = None) -> Record:
        with self.db.write() as session:
            record = self._get(session, ident, lock=True)
            if check is not None:
                check(record)
            session.execute(delete(TRAITS).where(TRAITS.c.node_id == record["id"]))
            for trait in dict.fromkeys(traits):
                session.execute(insert(TRAITS).values(node_id=record["id"], trait=trait, created_at=utcnow()))
            session.execute(update(NODES).where(NODES.c.id == record["id"]).values(updated_at=utcnow()))
            return self._get(session, record["uuid"])

    def add_trait(self, ident: str, trait: str, check: Callable[[Record], None] | None = None) -> Record:
        with self.db.write() as session:
            record = self._get(session, ident, lock=True)
            if check is not None:
                check(record)
            if trait not in record["traits"]:
                session.execute(insert(TRAITS).values(node_id=record["id"], trait=trait, created_at=utcnow()))
                session.execute(update(NODES).where(NODES.c.id == record["id"]).values(updated_at=utcnow()))
            return self._get(session, record["uuid"])

    def remove_trait(self, ident: str, trait: str, check: Callable[[Record], None] | None = None) -> Record:
        with self.db.write() as session:
            record = self._get(session, ident, lock=True)
            if check is not None:
                check(record)
            if trait not in record["traits"]:
                raise errors.NotFound(f"Node {record['uuid']} doesn't have a trait '{trait}'")
            session.execute(delete(TRAITS).where(TRAITS.c.node_id == record["id"], TRAITS.c.trait == trait))
            session.execute(update(NODES).where(NODES.c.id == record["id"]).values(updated_at=utcnow()))
            return self._get(session, record["uuid"])
