"""Conductor registration and heartbeats in the ``conductors`` table; which conductors are alive."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from ironworks.db.engine import Database
from ironworks.db.models import Conductor, utcnow

CONDUCTORS = cast(Table, Conductor.__table__)


class ConductorRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def register(self, hostname: str, group: str = "") -> None:
        """Mark ``hostname`` online (insert or revive its row) with a fresh heartbeat."""
        now = utcnow()
        with self.db.write() as session:
            found: Any = session.execute(
                update(CONDUCTORS).where(CONDUCTORS.c.hostname == hostname)
                .values(online=True, conductor_group=group, heartbeat_at=now)
            )
            if not found.rowcount:
                session.execute(insert(CONDUCTORS).values(
                    hostname=hostname, conductor_group=group, online=True, created_at=now, heartbeat_at=now))

    def heartbeat(self, hostname: str) -> None:
        with self.db.write() as session:
            session.execute(update(CONDUCTORS).where(CONDUCTORS.c.hostname == hostname)
                            .values(heartbeat_at=utcnow(), online=True))

    def unregister(self, hostname: str) -> None:
        with self.db.write() as session:
            session.execute(update(CONDUCTORS).where(CONDUCTORS.c.hostname == hostname).values(online=False))

    def alive(self, timeout: float) -> list[str]:
        """Hostnames of online conductors whose last heartbeat is younger than ``timeout`` seconds."""
        since = utcnow() - dt.timedelta(seconds=timeout)
        with self.db.read() as session:
            rows = session.execute(
                select(CONDUCTORS.c.hostname).where(CONDUCTORS.c.online.is_(True), CONDUCTORS.c.heartbeat_at >= since)
                .order_by(CONDUCTORS.c.hostname)
            )
            return [r[0] for r in rows]
