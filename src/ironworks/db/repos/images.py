"""Image catalogue storage (an Ironworks extension): records are dicts of the image's columns."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Image, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

IMAGES = cast(Table, Image.__table__)
SORTABLE = frozenset(c.name for c in IMAGES.columns if c.type.__class__.__name__ != "JSON")


class ImageNotFound(errors.NotFound):
    template = "Image %(image)s could not be found."


def _integrity() -> Any:
    return translate_integrity(
        "images",
        [
            ("uuid", lambda: errors.Conflict("An image with that UUID already exists.")),
            ("name", lambda: errors.Conflict("An image with that name already exists.")),
        ],
    )


class ImageRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, ident: str) -> Record:
        clause = IMAGES.c.uuid == ident if is_uuid_like(ident) else IMAGES.c.name == ident
        row = session.execute(select(IMAGES).where(clause)).mappings().first()
        if row is None:
            raise ImageNotFound(image=ident)
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
                select(IMAGES),
                IMAGES,
                sort_key=sort_key,
                sort_dir=sort_dir,
                marker=marker,
                limit=limit,
                not_found=lambda m: ImageNotFound(image=m),
            )

    def create(self, values: dict[str, Any]) -> Record:
        with _integrity(), self.db.write() as session:
            session.execute(insert(IMAGES), dict(values, created_at=utcnow()))
            return self._get(session, values["uuid"])

    def delete(self, ident: str) -> Record:
        with self.db.write() as session:
            record = self._get(session, ident)
            session.execute(delete(IMAGES).where(IMAGES.c.id == record["id"]))
            return record
