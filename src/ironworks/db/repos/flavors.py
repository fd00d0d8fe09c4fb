"""Flavor storage (an Ironworks extension): records are dicts of the flavor's columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Flavor, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

FLAVORS = cast(Table, Flavor.__table__)
SORTABLE = frozenset(c.name for c in FLAVORS.columns if c.type.__class__.__name__ != "JSON")


def _integrity() -> Any:
    return translate_integrity(
        "flavors",
        [
            ("uuid", lambda: errors.Conflict("A flavor with that UUID already exists.")),
            ("name", lambda: errors.Conflict("A flavor with that name already exists.")),
        ],
    )


def not_found(ident: str) -> errors.NotFound:
    return errors.NotFound(f"Flavor {ident} could not be found.")


class FlavorRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, ident: str) -> Record:
        clause = FLAVORS.c.uuid == ident if is_uuid_like(ident) else FLAVORS.c.name == ident
        row = session.execute(select(FLAVORS).where(clause)).mappings().first()
        if row is None:
            raise not_found(ident)
        return dict(row)

    def get(self, ident: str) -> Record:
        with self.db.read() as session:
            return self._get(session, ident)

    def list(
        self, *, sort_key: str = "id", sort_dir: str = "asc", marker: str | None = None, limit: int | None = None
    ) -> list[Record]:
        with self.db.read() as session:
            return list_page(
                session,
                select(FLAVORS),
                FLAVORS,
                sort_key=sort_key,
                sort_dir=sort_dir,
                marker=marker,
                limit=limit,
                not_found=not_found,
            )

    def create(self, values: dict[str, Any]) -> Record:
        with _integrity(), self.db.write() as session:
            session.execute(insert(FLAVORS), dict(values, created_at=utcnow()))
            return self._get(session, values["uuid"])

    def update(self, ident: str, mutate: Callable[[Record], dict[str, Any]]) -> Record:
        with _integrity(), self.db.write() as session:
            record = self._get(session, ident)
            changes = mutate(record)
            if not changes:
                return record
            session.execute(update(FLAVORS).where(FLAVORS.c.id == record["id"]).values(updated_at=utcnow(), **changes))
            return self._get(session, record["uuid"])

    def delete(self, ident: str) -> None:
        with self.db.write() as session:
            record = self._get(session, ident)
            session.execute(delete(FLAVORS).where(FLAVORS.c.id == record["id"]))
