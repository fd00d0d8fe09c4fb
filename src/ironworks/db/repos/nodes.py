"""Node storage: records are plain dicts of the node's columns plus ``traits`` and ``chassis_uuid``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Chassis, Node, NodeTrait, Port, Portgroup, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

NODES = cast(Table, Node.__table__)
TRAITS = cast(Table, NodeTrait.__table__)
CHASSIS = cast(Table, Chassis.__table__)
PORTS = cast(Table, Port.__table__)
PORTGROUPS = cast(Table, Portgroup.__table__)
NODE_COLUMNS: tuple[str, ...] = tuple(c.name for c in NODES.columns)

#: columns a list may be sorted by (JSON columns cannot be)
SORTABLE = frozenset(
    c.name for c in NODES.columns if c.type.__class__.__name__ not in {"JSON"}
)

_SELECT = select(*NODES.columns, CHASSIS.c.uuid.label("chassis_uuid")).select_from(
    NODES.outerjoin(CHASSIS, NODES.c.chassis_id == CHASSIS.c.id)
)


def _ident_clause(ident: str) -> Any:
    return NODES.c.uuid == ident if is_uuid_like(ident) else NODES.c.name == ident


def _integrity() -> Any:
    return translate_integrity("nodes", [
        ("uuid", lambda: errors.NodeAlreadyExists("A node with that UUID already exists.")),
        ("name", lambda: errors.DuplicateName("A node with that name already exists.")),
        ("instance_uuid", lambda: errors.Conflict("Another node is already associated with that instance.")),
    ])


class NodeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reading ------------------------------------------------------------------------------------------
    def _load_traits(self, session: Session, records: Sequence[Record]) -> None:
        if not records:
            return
        by_id = {r["id"]: r for r in records}
        for r in records:
            r["traits"] = []
        ids = list(by_id)
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            rows = session.execute(
                select(TRAITS.c.node_id, TRAITS.c.trait).where(TRAITS.c.node_id.in_(chunk)).order_by(TRAITS.c.trait)
            )
            for node_id, trait in rows:
                by_id[node_id]["traits"].append(trait)

    def _get(self, session: Session, ident: str, *, lock: bool = False) -> Record:
        stmt = _SELECT.where(_ident_clause(ident))
        if lock and not self.db.is_sqlite:
            stmt = stmt.with_for_update(of=NODES)
        row = session.execute(stmt).mappings().first()
        if row is None:
            raise errors.NodeNotFound(node=ident)
        record = dict(row)
        self._load_traits(session, [record])
        return record

    def get(self, ident: str) -> Record:
        with self.db.read() as session:
            return self._get(session, ident)

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
        with_traits: bool = True,
    ) -> list[Record]:
        stmt = _SELECT
        for clause in self._filter_clauses(filters or {}):
            stmt = stmt.where(clause)
        with self.db.read() as session:
            records = list_page(session, stmt, NODES, sort_key=sort_key, sort_dir=sort_dir, marker=marker,
                                limit=limit,
                                marker_source=_SELECT,
                                not_found=lambda m: errors.NodeNotFound(f"Marker node {m} could not be found."))
            if with_traits:
                self._load_traits(session, records)
            return records

    @staticmethod
    def _filter_clauses(filters: dict[str, Any]) -> Iterable[Any]:
        for key, value in filters.items():
            if value is None:
                continue
            if key == "associated":
                yield NODES.c.instance_uuid.is_not(None) if value else NODES.c.instance_uuid.is_(None)
            elif key == "description_contains":
                yield NODES.c.description.contains(value, autoescape=True)
            elif key == "chassis_uuid":
                yield CHASSIS.c.uuid == value
            elif key == "conductor_group":
                yield func.lower(NODES.c.conductor_group) == value.lower()
            elif key == "provision_state_in":
                yield NODES.c.provision_state.in_(value)
            elif key == "uuid_in":
                yield NODES.c.uuid.in_(value)
            elif key == "project":  # the caller's project owns or leases it (auth/hook.py list_scope)
                yield or_(NODES.c.owner == value, NODES.c.lessee == value)
            elif key == "shard_in":
                yield NODES.c.shard.in_(value)
            elif key == "exclude_children":
                if value:
                    yield NODES.c.parent_node.is_(None)
            elif key == "sharded":
                yield NODES.c.shard.is_not(None) if value else NODES.c.shard.is_(None)
            else:
                yield NODES.c[key] == value

    def count(self) -> int:
        with self.db.read() as session:
            return int(session.execute(select(func.count()).select_from(NODES)).scalar_one())

    # --- writing ------------------------------------------------------------------------------------------
    def create(self, values: dict[str, Any], traits: Iterable[str] = ()) -> Record:
        with _integrity(), self.db.write() as session:
            values = dict(values)
            values.setdefault("created_at", utcnow())
            # parameters passed separately: the compiled INSERT is cached instead of rebuilt per call
            result = session.execute(insert(NODES), values)
            node_id = result.inserted_primary_key[0]  # type: ignore[attr-defined]
            trait_rows = [{"node_id": node_id, "trait": t, "created_at": utcnow()} for t in dict.fromkeys(traits)]
            if trait_rows:
                session.execute(insert(TRAITS), trait_rows)
            return self._get(session, values["uuid"])

    def update(self, ident: str, mutate: Callable[[Record], dict[str, Any]]) -> Record:
        """Read the node, let ``mutate`` compute changed columns (or raise), write them: one transaction."""
        with _integrity(), self.db.write() as session:
            record = self._get(session, ident, lock=True)
            changes = mutate(record)
            if changes:
                changes = dict(changes)
                changes["updated_at"] = utcnow()
                session.execute(update(NODES).where(NODES.c.id == record["id"]).values(**changes))
                return self._get(session, record["uuid"])
            return record

    def delete(self, ident: str, check: Callable[[Record], None] | None = None) -> None:
        with self.db.write() as session:
            record = self._get(session, ident, lock=True)
            if check is not None:
                check(record)
            session.execute(delete(PORTS).where(PORTS.c.node_id == record["id"]))
            session.execute(delete(PORTGROUPS).where(PORTGROUPS.c.node_id == record["id"]))
            session.execute(delete(TRAITS).where(TRAITS.c.node_id == record["id"]))
            session.execute(delete(NODES).where(NODES.c.id == record["id"]))

    def set_traits(
        self, ident: str, traits: Sequence[str], check: Callable[[Record], None] | None = None
    ) -> Record:
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
