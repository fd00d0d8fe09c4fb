"""Durable intents: what the API accepted (202) and the conductor still owes.

An intent is inserted in the same transaction as the node's first state change and finished in the same
transaction as its last one, so after a crash the table says exactly which accepted requests were cut short.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks.db.engine import Database
from ironworks.db.models import Intent, utcnow
from ironworks.db.repos.base import Record

INTENTS = cast(Table, Intent.__table__)

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
UNFINISHED = (PENDING, RUNNING)


def add(session: Session, *, node_id: int, node_uuid: str, action: str, args: dict[str, Any],
        claimed_by: str | None, request_id: str | None = None, status: str = RUNNING) -> int:
    result: Any = session.execute(insert(INTENTS).values(
        node_id=node_id, node_uuid=node_uuid, action=action, args=args, requested_at=utcnow(),
        request_id=request_id, claimed_by=claimed_by, status=status,
    ))
    return int(result.inserted_primary_key[0])


def finish(session: Session, intent_id: int, *, error: str | None = None) -> None:
    session.execute(update(INTENTS).where(INTENTS.c.id == intent_id).values(
        status=FAILED if error else DONE, error=error, finished_at=utcnow(),
    ))


class IntentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, intent_id: int) -> Record | None:
        with self.db.read() as session:
            row = session.execute(select(INTENTS).where(INTENTS.c.id == intent_id)).mappings().first()
        return dict(row) if row else None

    def unfinished(self, claimed_by: str | None = None) -> list[Record]:
        stmt = select(INTENTS).where(INTENTS.c.status.in_(UNFINISHED)).order_by(INTENTS.c.id)
        if claimed_by is not None:
            stmt = stmt.where(INTENTS.c.claimed_by == claimed_by)
        with self.db.read() as session:
            return [dict(r) for r in session.execute(stmt).mappings()]

    def for_node(self, node_id: int) -> list[Record]:
        with self.db.read() as session:
            rows = session.execute(select(INTENTS).where(INTENTS.c.node_id == node_id).order_by(INTENTS.c.id))
            return [dict(r) for r in rows.mappings()]

    def prune(self, older_than: float) -> int:
        """Delete finished intents older than ``older_than`` seconds; they only matter until they are done."""
        limit = utcnow() - dt.timedelta(seconds=older_than)
        with self.db.write() as session:
            result: Any = session.execute(
                delete(INTENTS).where(INTENTS.c.status.not_in(UNFINISHED), INTENTS.c.finished_at < limit))
            return int(result.rowcount)

    def finish(self, intent_id: int, error: str | None = None) -> None:
        with self.db.write() as session:
            finish(session, intent_id, error=error)
