"""Allocation storage, the candidate query and the claim.

Records are dicts of the allocation's columns plus ``node_uuid``. ``candidates`` turns a ``Demand`` and a
``Tenancy`` (scheduler/filters.py, where the rules are written as pure functions; scheduler/sql.py, the same
rules as SQL) into one SELECT over the nodes table. ``claim`` hands a node to an allocation with a
compare-and-set on the node row::

    UPDATE nodes SET instance_uuid = :allocation_uuid, allocation_id = :allocation_id
     WHERE id = :node AND instance_uuid IS NULL AND allocation_id IS NULL AND reservation IS NULL
       AND provision_state = 'available' AND NOT maintenance

so two allocations racing for one node never both get it, on SQLite and PostgreSQL alike: the loser's UPDATE
matches no row and it moves on to its next candidate.

A project's cap (``cap`` of ``claim``) is counted in the claim's transaction: the nodes the project's
allocations hold, under a per-project advisory lock on PostgreSQL (SQLite writers are serialised), so that
parallel requests of one project cannot together pass it.
"""

from __future__ import annotations

import builtins
import random
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Allocation, Node, NodeTrait, utcnow
from ironworks.db.repos.base import Record, Repository, is_uuid_like, sortable
from ironworks.scheduler.filters import Demand, Tenancy
from ironworks.scheduler.sql import AVAILABLE_CLAUSES, demand_clauses

ALLOCATIONS = cast(Table, Allocation.__table__)
NODES = cast(Table, Node.__table__)
TRAITS = cast(Table, NodeTrait.__table__)

#: columns a list may be sorted by (Ironic refuses extra, candidate_nodes and traits)
SORTABLE = sortable(ALLOCATIONS)

_SELECT = select(*ALLOCATIONS.columns, NODES.c.uuid.label("node_uuid")).select_from(
    ALLOCATIONS.outerjoin(NODES, ALLOCATIONS.c.node_id == NODES.c.id)
)

#: what the scheduler needs of a candidate node (traits are filtered in SQL)
CANDIDATE_COLUMNS = (
    NODES.c.id,
    NODES.c.uuid,
    NODES.c.name,
    NODES.c.provision_state,
    NODES.c.maintenance,
    NODES.c.instance_uuid,
    NODES.c.allocation_id,
    NODES.c.reservation,
    NODES.c.resource_class,
    NODES.c.properties,
    NODES.c.owner,
    NODES.c.lessee,
    NODES.c.extra,
    NODES.c.instance_info,
)


#: the advisory-lock namespace of per-project allocation caps (PostgreSQL)
_CAP_LOCK = 0x1A0C


class CapReached(errors.Conflict):
    template = (
        "Project %(project)s already holds %(count)s node(s) through allocations and servers, its limit "
        "(max_allocations_per_project or the project's max_allocations) is %(cap)s: release one first."
    )


class _NothingClaimed(Exception):
    """Every candidate was taken by another request: roll the allocation's insert back."""


#: seconds the highest node id is remembered (it only picks random starting points)
_TOP_ID_TTL = 5.0


#: the compare-and-set that hands a node to an allocation (built once: executed with parameters)
_CLAIM = (
    update(NODES)
    .where(NODES.c.id == bindparam("node_id"), *AVAILABLE_CLAUSES)
    .values(
        instance_uuid=bindparam("claim_uuid"),
        allocation_id=bindparam("claim_id"),
        instance_info=bindparam("claim_info", type_=NODES.c.instance_info.type),
        updated_at=bindparam("now"),
    )
)
_ACTIVATE = (
    update(ALLOCATIONS)
    .where(ALLOCATIONS.c.id == bindparam("aid"))
    .values(
        node_id=bindparam("node_id"),
        state="active",
        last_error=None,
        resource_class=bindparam("rc"),
        updated_at=bindparam("now"),
    )
)


class AllocationRepo(Repository[Allocation]):
    """Allocations by uuid or name (with ``node_uuid``); updates lock the row (PostgreSQL)."""

    model = Allocation
    query = _SELECT
    named = True
    lock = True
    unique = [
        ("uuid", lambda _: errors.Conflict("An allocation with that UUID already exists.")),
        ("name", lambda _: errors.Conflict("An allocation with that name already exists.")),
    ]

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._top_id: tuple[float, int] = (0.0, 0)

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.NotFound(f"Allocation {ident} could not be found.")

    def filter_clause(self, key: str, value: Any) -> Any:
        return NODES.c.uuid == value if key == "node_uuid" else ALLOCATIONS.c[key] == value

    def _top(self, session: Session) -> int:
        at, top = self._top_id
        now = time.monotonic()
        if now - at > _TOP_ID_TTL:
            top = session.execute(select(func.max(NODES.c.id))).scalar() or 0
            self._top_id = (now, top)
        return top

    # --- reading ------------------------------------------------------------------------------------------
    def for_node(self, node_id: int) -> Record | None:
        with self.db.read() as session:
            row = session.execute(_SELECT.where(ALLOCATIONS.c.node_id == node_id)).mappings().first()
            return dict(row) if row is not None else None

    def _held(self, session: Session, project: str) -> int:
        stmt = select(func.count()).where(ALLOCATIONS.c.owner == project, ALLOCATIONS.c.node_id.is_not(None))
        return int(session.execute(stmt).scalar() or 0)

    def held(self, project: str) -> int:
        """How many nodes ``project``'s allocations hold (what its cap counts; failed allocations hold none)."""
        with self.db.read() as session:
            return self._held(session, project)

    def _check_cap(self, session: Session, project: str, cap: int) -> None:
        if not self.db.is_sqlite:
            key = zlib.crc32(project.encode())
            key = key - (1 << 32) if key >= 1 << 31 else key
            session.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:key AS integer))"),
                {"ns": _CAP_LOCK, "key": key},
            )
        count = self._held(session, project)
        if count >= cap:
            raise CapReached(project=project, count=count, cap=cap)

    def owner_of(self, allocation_id: int) -> str | None:
        with self.db.read() as session:
            owner = session.execute(select(ALLOCATIONS.c.owner).where(ALLOCATIONS.c.id == allocation_id)).scalar()
            return str(owner) if owner is not None else None

    def resource_classes(self) -> builtins.list[str]:
        with self.db.read() as session:
            rows = session.execute(select(NODES.c.resource_class).distinct().where(NODES.c.resource_class.is_not(None)))
            return [r[0] for r in rows]

    def candidates(
        self,
        demand: Demand,
        tenancy: Tenancy,
        resource_classes: Sequence[str] | None,
        *,
        with_properties: bool = True,
        limit: int | None = None,
    ) -> builtins.list[Record]:
        """Available nodes that pass the SQL filters (the node named like the allocation first).

        Without a limit: all of them, in random order. With one: ``limit`` nodes in id order from a random
        starting id, wrapping around: as random for parallel requests (they try different nodes) but an index
        range scan that stops early instead of sorting every matching node.
        """
        where = demand_clauses(demand, tenancy, resource_classes, with_properties=with_properties)
        base = select(*CANDIDATE_COLUMNS).where(*where)
        with self.db.read() as session:
            first: builtins.list[Record] = []
            if demand.preferred_name:
                first = [dict(r) for r in session.execute(base.where(NODES.c.name == demand.preferred_name)).mappings()]
            seen = {r["id"] for r in first}
            if limit is None:
                rows = [dict(r) for r in session.execute(base.order_by(func.random())).mappings()]
                return first + [r for r in rows if r["id"] not in seen]
            start = random.randint(0, self._top(session))
            rows = [
                dict(r)
                for r in session.execute(base.where(NODES.c.id >= start).order_by(NODES.c.id).limit(limit)).mappings()
            ]
            if len(rows) < limit:
                rows += [
                    dict(r)
                    for r in session.execute(
                        base.where(NODES.c.id < start).order_by(NODES.c.id).limit(limit - len(rows))
                    ).mappings()
                ]
        random.shuffle(rows)
        return first + [r for r in rows if r["id"] not in seen]

    # --- writing ------------------------------------------------------------------------------------------
    def _check_instance_free(
        self, session: Session, uuid: str, node_id: int | None = None, project: str | None = None
    ) -> None:
        """409 when another node uses ``uuid`` as its instance_uuid; it is named only to a caller who may see it
        (``project`` None: an admin)."""
        other = (
            session.execute(
                select(NODES.c.uuid, NODES.c.owner, NODES.c.lessee).where(
                    NODES.c.instance_uuid == uuid, NODES.c.id != (node_id or -1)
                )
            )
            .mappings()
            .first()
        )
        if other is None:
            return
        if project is not None and project not in (other["owner"], other["lessee"]):
            raise errors.Conflict(f"Instance {uuid} is already associated with another node.")
        raise errors.Conflict(f"Instance {uuid} is already associated with a node {other['uuid']}.")

    def check_instance_free(self, uuid: str, project: str | None = None) -> None:
        """409 when a node already uses ``uuid`` as its instance_uuid (asked before an allocation is answered)."""
        with self.db.read() as session:
            self._check_instance_free(session, uuid, project=project)

    def claim(
        self,
        values: dict[str, Any],
        candidates: Sequence[Record],
        *,
        check_instance: bool = True,
        project: str | None = None,
        cap: int = 0,
        existing: Record | None = None,
    ) -> Record | None:
        """Insert the allocation and hand it the first candidate still free, in one transaction; None (and
        nothing written) when every candidate was taken meanwhile. So an allocation is only ever stored
        ``active`` with its node, or ``error``: a crash can leave no allocation half done.

        ``check_instance=False`` skips looking for a node that already uses the allocation's uuid as its
        instance_uuid: a freshly generated uuid cannot be in use. ``project`` is a non-admin caller's project
        (errors name only nodes it may see); with ``cap`` > 0 it may hold at most that many nodes (409).

        ``existing``: an allocation already stored ``allocating`` (Ironic's default answer) gets the node
        instead; it is locked first, and one that is no longer ``allocating`` (another worker finished it, or
        it was deleted) is returned unchanged (or raises NotFound)."""
        try:
            with self.integrity(values), self.db.write() as session:
                if project is not None and cap > 0:
                    self._check_cap(session, project, cap)
                if check_instance:
                    self._check_instance_free(session, values["uuid"], project=project)
                now = utcnow()
                if existing is not None:
                    record = self._get(session, existing["uuid"], lock=True)
                    if record["state"] != "allocating":
                        return record
                else:
                    record = dict(
                        values, state="allocating", created_at=now, updated_at=None, last_error=None, node_id=None
                    )
                    result = session.execute(insert(ALLOCATIONS), record)
                    record["id"] = result.inserted_primary_key[0]  # type: ignore[attr-defined]
                for node in candidates:
                    info = dict(node.get("instance_info") or {}, traits=list(values["traits"] or []))
                    params = {
                        "node_id": node["id"],
                        "claim_uuid": values["uuid"],
                        "claim_id": record["id"],
                        "claim_info": info,
                        "now": now,
                    }
                    if session.execute(_CLAIM, params).rowcount == 1:  # type: ignore[attr-defined]
                        rc = values.get("resource_class") or node["resource_class"]
                        session.execute(_ACTIVATE, {"aid": record["id"], "node_id": node["id"], "now": now, "rc": rc})
                        return dict(
                            record,
                            node_id=node["id"],
                            node_uuid=node["uuid"],
                            state="active",
                            resource_class=rc,
                            updated_at=now,
                        )
                raise _NothingClaimed()
        except _NothingClaimed:
            return None

    def backfill(
        self, values: dict[str, Any], node_ident: str, check: Callable[[Record], None], project: str | None = None
    ) -> Record:
        """Record an allocation for a node that is already deployed (``check`` raises when it does not fit or
        the caller may not see it: first, before anything about the node is told)."""
        node_clause = NODES.c.uuid == node_ident if is_uuid_like(node_ident) else NODES.c.name == node_ident
        with self.integrity(values), self.db.write() as session:
            stmt = select(NODES).where(node_clause)
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update()
            row = session.execute(stmt).mappings().first()
            if row is None:
                raise errors.NodeNotFound(node=node_ident)
            node = dict(row)
            node["traits"] = list(
                session.execute(select(TRAITS.c.trait).where(TRAITS.c.node_id == node["id"])).scalars()
            )
            check(node)
            self._check_instance_free(session, values["uuid"], node["id"], project)
            record = self._insert(session, dict(values, state="active", node_id=node["id"]))
            info = dict(node["instance_info"] or {}, traits=list(record["traits"] or []))
            session.execute(
                update(NODES)
                .where(NODES.c.id == node["id"])
                .values(
                    instance_uuid=record["uuid"], allocation_id=record["id"], instance_info=info, updated_at=utcnow()
                )
            )
            return record

    def destroy(self, ident: str, check: Callable[[Record, Record | None], None]) -> Record:
        """Delete an allocation and free its node (instance_uuid and allocation_id cleared) in one transaction;
        ``check(allocation, node)`` may refuse first."""
        with self.db.write() as session:
            record = self._get(session, ident, lock=True)
            node = None
            if record["node_id"] is not None:
                stmt = select(NODES).where(NODES.c.id == record["node_id"])
                if not self.db.is_sqlite:
                    stmt = stmt.with_for_update()
                row = session.execute(stmt).mappings().first()
                node = dict(row) if row is not None else None
            check(record, node)
            self._release(session, record["id"])
            return record

    def delete(self, ident: str) -> Record:
        """Delete an allocation and free its node."""
        return self.destroy(ident, lambda _allocation, _node: None)

    def _release(self, session: Session, allocation_id: int) -> None:
        session.execute(
            update(NODES)
            .where(NODES.c.allocation_id == allocation_id)
            .values(allocation_id=None, instance_uuid=None, updated_at=utcnow())
        )
        session.execute(delete(ALLOCATIONS).where(ALLOCATIONS.c.id == allocation_id))

    def forget(self, allocation_id: int) -> None:
        """Delete an allocation whose node was already released (tear down, instance_uuid removed)."""
        with self.db.write() as session:
            self._release(session, allocation_id)
