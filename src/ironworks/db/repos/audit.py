"""The audit log: one row per state-changing API request, newest last. Rows are never updated."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, insert, select

from ironworks.db.engine import Database
from ironworks.db.models import AuditRecord, utcnow
from ironworks.db.repos.base import Record

AUDIT = cast(Table, AuditRecord.__table__)

#: filters ``list`` understands, each an equality on its column
EQUALITY_FILTERS = ("user", "project", "method", "node_uuid", "status", "request_id")


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, **values: Any) -> None:
        self.add_many([values])

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` in one transaction (one INSERT with many parameter sets): all or none."""
        for row in rows:
            row.setdefault("created_at", utcnow())
        with self.db.write() as session:
            session.execute(insert(AUDIT), rows)

    @staticmethod
    def storable(row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with what a database may refuse made harmless: NUL characters (PostgreSQL's text takes none)
        and lone surrogates written as escapes, strings cut to their column's length."""
        out = dict(row)
        for key, value in row.items():
            if isinstance(value, str):
                value = value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
                length = getattr(AUDIT.c[key].type, "length", None) if key in AUDIT.c else None
                out[key] = value[:length] if length else value
        return out

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        marker: int | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[Record]:
        stmt = select(AUDIT)
        for key, value in (filters or {}).items():
            if value is not None:
                stmt = stmt.where(AUDIT.c[key] == value)
        if since is not None:
            stmt = stmt.where(AUDIT.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(AUDIT.c.created_at < until)
        if marker is not None:
            stmt = stmt.where(AUDIT.c.id < marker if newest_first else AUDIT.c.id > marker)
        stmt = stmt.order_by(AUDIT.c.id.desc() if newest_first else AUDIT.c.id.asc()).limit(limit)
        with self.db.read() as session:
            return [dict(r) for r in session.execute(stmt).mappings()]
