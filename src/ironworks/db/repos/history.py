"""Node history storage: failures and notable events, newest last (``/v1/nodes/{node}/history``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Node, NodeHistory, utcnow
from ironworks.db.repos.base import Record, new_uuid

HISTORY = cast(Table, NodeHistory.__table__)
NODES = cast(Table, Node.__table__)

ERROR = "ERROR"
WARNING = "WARNING"
INFO = "INFO"


def add(session: Session, *, node_id: int, event: str, event_type: str, severity: str = ERROR,
        conductor: str | None = None, user: str | None = None, project: str | None = None,
        node: Record | None = None) -> None:
    """Insert one entry inside the caller's transaction (so it commits with the state change it explains).

    ``node`` is the node as it was when the event happened: its provision state, target and the seconds
    since ``provision_updated_at`` are recorded with the entry (API 1.115), as Ironic's node_history_record.
    """
    now = utcnow()
    states: dict[str, Any] = {}
    if node is not None:
        since = node.get("provision_updated_at")
        states = {
            "state": node.get("provision_state"),
            "target_provision_state": node.get("target_provision_state"),
            "duration_seconds": int((now - since).total_seconds()) if isinstance(since, dt.datetime) else None,
        }
    session.execute(insert(HISTORY).values(
        uuid=new_uuid(), node_id=node_id, event=event[:65535], event_type=event_type, severity=severity,
        conductor=conductor, user=user[:32] if user else user, project=project, created_at=now, **states,
    ))


class HistoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, node_id: int, event: str, event_type: str, severity: str = ERROR,
               conductor: str | None = None, user: str | None = None, project: str | None = None) -> None:
        with self.db.write() as session:
            node = session.execute(select(NODES).where(NODES.c.id == node_id)).mappings().first()
            add(session, node_id=node_id, event=event, event_type=event_type, severity=severity,
                conductor=conductor, user=user, project=project, node=dict(node) if node is not None else None)

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
