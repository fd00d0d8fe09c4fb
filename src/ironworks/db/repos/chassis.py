"""Chassis storage: records are plain dicts of the chassis' columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Chassis, Node, utcnow
from ironworks.db.repos.base import Record, list_page, translate_integrity

CHASSIS = cast(Table, Chassis.__table__)
NODES = cast(Table, Node.__table__)

#: columns a chassis list may be sorted by (JSON columns cannot be)
SORTABLE = frozenset(c.name for c in CHASSIS.columns if c.type.__class__.__name__ != "JSON")


def _integrity() -> Any:
    return translate_integrity(
        "chassis",
        [
            ("uuid", lambda: errors.ChassisAlreadyExists("A chassis with that UUID already exists.")),
        ],
    )


class ChassisRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, uuid: str) -> Record:
        row = session.execute(select(CHASSIS).where(CHASSIS.c.uuid == uuid)).mappings().first()
        if row is None:
            raise errors.ChassisNotFound(chassis=uuid)
        return dict(row)

    def get(self, uuid: str) -> Record:
        with self.db.read() as session:
            return self._get(session, uuid)

    def list(
        self,
        *,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        with self.db.read() as session:
            return list_page(
                session, select(CHASSIS), CHASSIS, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
                not_found=lambda m: errors.ChassisNotFound(f"Marker chassis {m} could not be found."))

    def create(self, values: dict[str, Any]) -> Record:
        with _integrity(), self.db.write() as session:
            values = dict(values)
            values.setdefault("created_at", utcnow())
            session.execute(insert(CHASSIS).values(**values))
            return self._get(session, values["uuid"])

    def update(self, uuid: str, mutate: Callable[[Record], dict[str, Any]]) -> Record:
        with _integrity(), self.db.write() as session:
            record = self._get(session, uuid)
            changes = mutate(record)
            if not changes:
                return record
            changes = dict(changes, updated_at=utcnow())
            session.execute(update(CHASSIS).where(CHASSIS.c.id == record["id"]).values(**changes))
            return self._get(session, uuid)

    def delete(self, uuid: str) -> None:
        """Delete an empty chassis; ChassisNotEmpty while nodes belong to it."""
        with self.db.write() as session:
            record = self._get(session, uuid)
            count = session.execute(
                select(func.count()).select_from(NODES).where(NODES.c.chassis_id == record["id"])
            ).scalar_one()
            if count:
                raise errors.ChassisNotEmpty(chassis=uuid)
            session.execute(delete(CHASSIS).where(CHASSIS.c.id == record["id"]))
