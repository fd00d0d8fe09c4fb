"""Instance storage (one-call servers): records are dicts of the instance's columns.

The instance row never holds a state of its own besides the delete intent (``delete_requested_at``): what a
server is doing is read from its node every time (instances/lifecycle.py).

Names are unique per project (``owner``), not across the deployment: a name is looked up within the caller's
project; an admin's name lookup that matches servers of several projects is a 409 asking for the uuid.
"""

from __future__ import annotations

import builtins
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Instance, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

INSTANCES = cast(Table, Instance.__table__)
SORTABLE = frozenset(c.name for c in INSTANCES.columns if c.type.__class__.__name__ != "JSON")


class InstanceNotFound(errors.NotFound):
    template = "Instance %(instance)s could not be found."


def _integrity() -> Any:
    return translate_integrity(
        "instances",
        [
            ("uuid", lambda: errors.Conflict("An instance with that UUID already exists.")),
            # SQLite names the columns "instances.owner, instances.name", PostgreSQL "(owner, name)="
            ("owner, name", lambda: errors.Conflict("An instance with that name already exists in the project.")),
            ("name", lambda: errors.Conflict("An instance with that name already exists in the project.")),
        ],
    )


class InstanceRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, ident: str, project: str | None = None) -> Record:
        """By uuid, or by name within ``project`` (None: every project, an admin's view)."""
        stmt = select(INSTANCES).where(INSTANCES.c.uuid == ident if is_uuid_like(ident) else INSTANCES.c.name == ident)
        if project is not None:
            stmt = stmt.where(INSTANCES.c.owner == project)
        rows = [dict(r) for r in session.execute(stmt.limit(2)).mappings()]
        if not rows:
            raise InstanceNotFound(instance=ident)
        if len(rows) > 1:
            raise errors.Conflict(
                f"Several projects have an instance named {ident}; name it by its uuid "
                f"({', '.join(r['uuid'] for r in rows)}, ...)."
            )
        return rows[0]

    def get(self, ident: str, project: str | None = None) -> Record:
        with self.db.read() as session:
            return self._get(session, ident, project)

    def exists(self, name: str, owner: str | None) -> bool:
        """Does ``owner``'s project (None: servers without an owner) already have a server named ``name``?"""
        clause = INSTANCES.c.owner == owner if owner is not None else INSTANCES.c.owner.is_(None)
        with self.db.read() as session:
            return session.execute(select(INSTANCES.c.id).where(INSTANCES.c.name == name, clause)).first() is not None

    def list(
        self,
        *,
        owner: str | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Record]:
        stmt = select(INSTANCES)
        if owner is not None:
            stmt = stmt.where(INSTANCES.c.owner == owner)
        with self.db.read() as session:
            return list_page(
                session,
                stmt,
                INSTANCES,
                sort_key=sort_key,
                sort_dir=sort_dir,
                marker=marker,
                limit=limit,
                not_found=lambda m: InstanceNotFound(instance=m),
                marker_source=select(INSTANCES),
            )

    def create(self, values: dict[str, Any]) -> Record:
        with _integrity(), self.db.write() as session:
            session.execute(insert(INSTANCES), dict(values, created_at=utcnow()))
            return self._get(session, values["uuid"])

    def update(self, uuid: str, **values: Any) -> Record:
        with self.db.write() as session:
            session.execute(update(INSTANCES).where(INSTANCES.c.uuid == uuid).values(updated_at=utcnow(), **values))
            return self._get(session, uuid)

    def request_delete(self, uuid: str) -> Record:
        """Record the delete intent once (the first request's time is kept)."""
        with self.db.write() as session:
            session.execute(
                update(INSTANCES)
                .where(INSTANCES.c.uuid == uuid, INSTANCES.c.delete_requested_at.is_(None))
                .values(delete_requested_at=utcnow(), updated_at=utcnow())
            )
            return self._get(session, uuid)

    def remove(self, uuid: str) -> None:
        with self.db.write() as session:
            session.execute(delete(INSTANCES).where(INSTANCES.c.uuid == uuid))
