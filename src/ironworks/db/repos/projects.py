"""Project scheduling policies: which projects are isolated and which node pool each one owns."""

from __future__ import annotations

import builtins
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import ProjectPolicy, utcnow
from ironworks.db.repos.base import Record

PROJECTS = cast(Table, ProjectPolicy.__table__)


def not_found(project_id: str) -> errors.NotFound:
    return errors.NotFound(f"Project {project_id} has no scheduling policy.")


class ProjectRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, project_id: str) -> Record | None:
        row = session.execute(select(PROJECTS).where(PROJECTS.c.project_id == project_id)).mappings().first()
        return dict(row) if row is not None else None

    def get(self, project_id: str) -> Record:
        with self.db.read() as session:
            record = self._get(session, project_id)
        if record is None:
            raise not_found(project_id)
        return record

    def list(self) -> list[Record]:
        with self.db.read() as session:
            return [dict(r) for r in session.execute(select(PROJECTS).order_by(PROJECTS.c.project_id)).mappings()]

    def policies(self) -> builtins.list[tuple[str, bool, str | None]]:
        """(project id, isolated, pool) of every stored policy: what the scheduler reads per allocation."""
        with self.db.read() as session:
            rows = session.execute(select(PROJECTS.c.project_id, PROJECTS.c.isolated, PROJECTS.c.pool))
            return [(r[0], bool(r[1]), r[2]) for r in rows]

    def max_allocations(self, project_id: str) -> int | None:
        """The project's own allocation cap (None: the setting applies)."""
        with self.db.read() as session:
            value = session.execute(
                select(PROJECTS.c.max_allocations).where(PROJECTS.c.project_id == project_id)
            ).scalar()
            return int(value) if value is not None else None

    def put(self, project_id: str, values: dict[str, Any]) -> tuple[Record, bool]:
        """Create or replace the policy of a project; returns it and whether it was created."""
        with self.db.write() as session:
            existing = self._get(session, project_id)
            if existing is None:
                session.execute(insert(PROJECTS), dict(values, project_id=project_id, created_at=utcnow()))
            else:
                session.execute(
                    update(PROJECTS).where(PROJECTS.c.id == existing["id"]).values(updated_at=utcnow(), **values)
                )
            record = self._get(session, project_id)
            assert record is not None
            return record, existing is None

    def delete(self, project_id: str) -> None:
        with self.db.write() as session:
            if self._get(session, project_id) is None:
                raise not_found(project_id)
            session.execute(delete(PROJECTS).where(PROJECTS.c.project_id == project_id))
