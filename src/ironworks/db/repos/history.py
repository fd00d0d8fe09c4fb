"""Node history storage: failures and notable events, newest last (``/v1/nodes/{node}/history``)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import NodeHistory, utcnow
from ironworks.db.repos.base import Record, new_uuid

HISTORY = cast(Table, NodeHistory.__table__)

ERROR = "ERROR"
WARNING = "WARNING"
INFO = "INFO"


def add(session: Session, *, node_id: int, event: str, event_type: str, severity: str = ERROR,
        conductor: str | None = None, user: str | None = None) -> None:
    """Insert one entry inside the caller's transaction (so it commits with the state change it explains)."""
    session.execute(insert(HISTORY).values(
        uuid=new_uuid(), node_id=node_id, event=event[:65535], event_type=event_type, severity=severity,
        conductor=conductor, user=user, created_at=utcnow(),
    ))


class HistoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, node_id: int, event: str, event_type: str, severity: str = ERROR,
               conductor: str | None = None, user: str | None = None) -> None:
        with self.db.write() as session:
            add(session, node_id=node_id, event=event, event_type=event_type, severity=severity,
                conductor=conductor, user=user)

    def list(self, node_id: int, *, marker: str | None = None, limit: int | None = None,
             descending: bool = False) -> list[Record]:
        """Oldest first (or newest first); ``id`` follows ``created_at``, so it orders both."""
        order = HISTORY.c.id.desc() if descending else HISTORY.c.id
        stmt = select(HISTORY).where(HISTORY.c.node_id == node_id).order_by(order)
        with self.db.read() as session:
            if marker is not None:
                marker_id = session.execute(
                    select(HISTORY.c.id).where(HISTORY.c.uuid == marker, HISTORY.c.node_id == node_id)
                ).scalar_one_or_none()
                if marker_id is None:
                    raise errors.NotFound(f"Marker history event {marker} could not be found.")
                stmt = stmt.where(HISTORY.c.id < marker_id if descending else HISTORY.c.id > marker_id)
            if limit is not None:
                stmt = stmt.limit(limit)
            return [dict(r) for r in session.execute(stmt).mappings()]

    def get(self, node_id: int, uuid: str) -> Record:
        with self.db.read() as session:
            row = session.execute(
                select(HISTORY).where(HISTORY.c.node_id == node_id, HISTORY.c.uuid == uuid)
            ).mappings().first()
        if row is None:
            raise errors.NotFound(f"Node history record {uuid} could not be found.")
        return dict(row)
