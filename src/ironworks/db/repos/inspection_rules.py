"""Inspection rule storage: records are plain dicts of the rule's columns (conditions/actions as JSON lists)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import InspectionRule, utcnow
from ironworks.db.repos.base import Record, list_page, translate_integrity

RULES = cast(Table, InspectionRule.__table__)

#: columns a list may be sorted by (Ironic refuses actions and conditions)
SORTABLE = frozenset(c.name for c in RULES.columns if c.name not in ("actions", "conditions"))


class InspectionRuleNotFound(errors.NotFound):
    template = "Rule %(rule)s could not be found."


class InspectionRuleAlreadyExists(errors.Duplicate):
    template = "A rule with UUID %(uuid)s already exists."


class InspectionRuleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _get(session: Session, uuid: str) -> Record:
        row = session.execute(select(RULES).where(RULES.c.uuid == uuid.lower())).mappings().first()
        if row is None:
            raise InspectionRuleNotFound(rule=uuid)
        return dict(row)

    def get(self, uuid: str) -> Record:
        with self.db.read() as session:
            return self._get(session, uuid)

    def list(
        self,
        *,
        phase: str | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        stmt = select(RULES)
        if phase is not None:
            stmt = stmt.where(RULES.c.phase == phase)
        with self.db.read() as session:
            return list_page(
                session,
                stmt,
                RULES,
                sort_key=sort_key,
                sort_dir=sort_dir,
                marker=marker,
                limit=limit,
                not_found=lambda m: InspectionRuleNotFound(rule=m),
                marker_source=select(RULES),
            )

    def for_phase(self, session: Session, phase: str) -> builtins.list[Record]:
        """Every rule of ``phase`` (inside the caller's transaction), in creation order."""
        rows = session.execute(select(RULES).where(RULES.c.phase == phase).order_by(RULES.c.id)).mappings()
        return [dict(r) for r in rows]

    def create(self, values: dict[str, Any]) -> Record:
        duplicate = [("uuid", lambda: InspectionRuleAlreadyExists(uuid=values.get("uuid")))]
        with translate_integrity("inspection_rules", duplicate), self.db.write() as session:
            session.execute(insert(RULES).values(**dict(values, created_at=utcnow())))
            return self._get(session, values["uuid"])

    def update(self, uuid: str, mutate: Callable[[Record], dict[str, Any]]) -> Record:
        with self.db.write() as session:
            record = self._get(session, uuid)
            changes = mutate(record)
            if not changes:
                return record
            session.execute(update(RULES).where(RULES.c.id == record["id"]).values(**changes, updated_at=utcnow()))
            return self._get(session, record["uuid"])

    def delete(self, uuid: str) -> None:
        with self.db.write() as session:
            record = self._get(session, uuid)
            session.execute(delete(RULES).where(RULES.c.id == record["id"]))
