"""Portgroup storage: records are plain dicts of the portgroup's columns plus ``node_uuid``.

Writes take a callback that checks the rules with a ``Lookup`` inside the same transaction (see ports.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity
from ironworks.db.repos.ports import NODES, PORTGROUPS, Lookup

#: columns a portgroup list may be sorted by (JSON columns cannot be)
SORTABLE = frozenset(c.name for c in PORTGROUPS.columns if c.type.__class__.__name__ != "JSON")

_SELECT = select(*PORTGROUPS.columns, NODES.c.uuid.label("node_uuid")).select_from(
    PORTGROUPS.join(NODES, PORTGROUPS.c.node_id == NODES.c.id)
)


def _integrity() -> Any:
    return translate_integrity(
        "portgroups",
        [
            ("uuid", lambda: errors.PortgroupAlreadyExists("A portgroup with that UUID already exists.")),
            ("name", lambda: errors.PortgroupDuplicateName("A portgroup with that name already exists.")),
            (
                "address",
                lambda: errors.PortgroupMACAlreadyExists("A portgroup with that MAC address already exists."),
            ),
        ],
    )


class PortgroupRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, ident: str) -> Record:
        clause = PORTGROUPS.c.uuid == ident if is_uuid_like(ident) else PORTGROUPS.c.name == ident
        row = session.execute(_SELECT.where(clause)).mappings().first()
        if row is None:
            raise errors.PortgroupNotFound(portgroup=ident)
        return dict(row)

    def get(self, ident: str) -> Record:
        """By UUID or by name."""
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
    ) -> list[Record]:
        stmt = _SELECT
        for key, value in (filters or {}).items():
            if key == "project" and value is not None:  # portgroups of nodes the project owns or leases (auth/)
                stmt = stmt.where(or_(NODES.c.owner == value, NODES.c.lessee == value))
            elif value is not None:
                stmt = stmt.where(PORTGROUPS.c[key] == value)
        with self.db.read() as session:
            return list_page(
                session, stmt, PORTGROUPS, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
                marker_source=_SELECT,
                not_found=lambda m: errors.PortgroupNotFound(f"Marker portgroup {m} could not be found."))

    def create(self, build: Callable[[Lookup], dict[str, Any]]) -> Record:
        with _integrity(), self.db.write() as session:
            values = dict(build(Lookup(session, self.db.is_sqlite)))
            values.setdefault("created_at", utcnow())
            session.execute(insert(PORTGROUPS).values(**values))
            return self._get(session, values["uuid"])

    def update(self, ident: str, mutate: Callable[[Record, Lookup], dict[str, Any]]) -> Record:
        with _integrity(), self.db.write() as session:
            record = self._get(session, ident)
            changes = mutate(record, Lookup(session, self.db.is_sqlite))
            if not changes:
                return record
            changes = dict(changes, updated_at=utcnow())
            session.execute(update(PORTGROUPS).where(PORTGROUPS.c.id == record["id"]).values(**changes))
            return self._get(session, record["uuid"])

    def delete(self, ident: str, check: Callable[[Record, Lookup], None] | None = None) -> Record:
        with self.db.write() as session:
            record = self._get(session, ident)
            if check is not None:
                check(record, Lookup(session, self.db.is_sqlite))
            session.execute(delete(PORTGROUPS).where(PORTGROUPS.c.id == record["id"]))
            return record
