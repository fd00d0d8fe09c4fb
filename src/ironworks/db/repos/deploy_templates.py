"""Deploy template storage: records are plain dicts of the template's columns (steps as a JSON list)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import DeployTemplate, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

TEMPLATES = cast(Table, DeployTemplate.__table__)

#: columns a list may be sorted by (JSON columns cannot be)
SORTABLE = frozenset(c.name for c in TEMPLATES.columns if c.type.__class__.__name__ != "JSON")


def _integrity(values: dict[str, Any]) -> Any:
    return translate_integrity(
        "deploy_templates",
        [
            ("uuid", lambda: errors.DeployTemplateAlreadyExists(uuid=values.get("uuid"))),
            ("name", lambda: errors.DeployTemplateDuplicateName(name=values.get("name"))),
        ],
    )


class DeployTemplateRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, ident: str) -> Record:
        column = TEMPLATES.c.uuid if is_uuid_like(ident) else TEMPLATES.c.name
        value = ident.lower() if is_uuid_like(ident) else ident
        row = session.execute(select(TEMPLATES).where(column == value)).mappings().first()
        if row is None:
            raise errors.DeployTemplateNotFound(template=ident)
        return dict(row)

    def get(self, ident: str) -> Record:
        """By uuid or name."""
        with self.db.read() as session:
            return self._get(session, ident)

    def list_by_names(self, names: Iterable[str]) -> list[Record]:
        """The templates named in ``names`` (an instance's traits), in name order."""
        wanted = sorted({n for n in names if isinstance(n, str)})
        if not wanted:
            return []
        with self.db.read() as session:
            rows = session.execute(
                select(TEMPLATES).where(TEMPLATES.c.name.in_(wanted)).order_by(TEMPLATES.c.name)
            ).mappings()
            return [dict(r) for r in rows]

    def list(
        self, *, sort_key: str = "id", sort_dir: str = "asc", marker: str | None = None, limit: int | None = None
    ) -> list[Record]:
        with self.db.read() as session:
            return list_page(
                session,
                select(TEMPLATES),
                TEMPLATES,
                sort_key=sort_key,
                sort_dir=sort_dir,
                marker=marker,
                limit=limit,
                not_found=lambda m: errors.DeployTemplateNotFound(template=m),
            )

    def create(self, values: dict[str, Any]) -> Record:
        with _integrity(values), self.db.write() as session:
            values = dict(values)
            values.setdefault("created_at", utcnow())
            session.execute(insert(TEMPLATES).values(**values))
            return self._get(session, values["uuid"])

    def update(self, ident: str, mutate: Callable[[Record], dict[str, Any]]) -> Record:
        changes: dict[str, Any] = {}
        with _integrity(changes), self.db.write() as session:
            record = self._get(session, ident)
            changes.update(mutate(record))
            if not changes:
                return record
            values = dict(changes, updated_at=utcnow())
            session.execute(update(TEMPLATES).where(TEMPLATES.c.id == record["id"]).values(**values))
            return self._get(session, record["uuid"])

    def delete(self, ident: str) -> None:
        with self.db.write() as session:
            record = self._get(session, ident)
            session.execute(delete(TEMPLATES).where(TEMPLATES.c.id == record["id"]))
