"""Conductor registration and heartbeats in the ``conductors`` table; which conductors are alive.

A conductor name belongs to one live process at a time: :meth:`ConductorRepo.claim` refuses to register a name
whose row is online with a fresh heartbeat that keeps moving, so a second process started with the same name
cannot break the live one's node locks (its start-up recovery would take them for its own previous life's).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Conductor, utcnow

LOG = logging.getLogger(__name__)

CONDUCTORS = cast(Table, Conductor.__table__)


class ConductorAlreadyRunning(errors.Conflict):
    """Another live process heartbeats under this conductor name (Ironic: ConductorAlreadyRegistered)."""


class ConductorRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def register(self, hostname: str, group: str = "") -> None:
        """Mark ``hostname`` online (insert or revive its row) with a fresh heartbeat."""
        now = utcnow()
        with self.db.write() as session:
            found: Any = session.execute(
                update(CONDUCTORS)
                .where(CONDUCTORS.c.hostname == hostname)
                .values(online=True, conductor_group=group, heartbeat_at=now)
            )
            if not found.rowcount:
                session.execute(
                    insert(CONDUCTORS).values(
                        hostname=hostname, conductor_group=group, online=True, created_at=now, heartbeat_at=now
                    )
                )

    def claim(
        self,
        hostname: str,
        group: str,
        *,
        timeout: float,
        interval: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Register ``hostname`` for this process, or raise ConductorAlreadyRunning while another process has it.

        A row that is offline, or whose last heartbeat is older than ``timeout``, is free. A fresh online row may
        be a live conductor or one that crashed moments ago (kill -9 leaves it online): it is watched for up to
        two heartbeat intervals (plus a second, and never past ``timeout``); a heartbeat that moves in that
        time is a live process. Taking the row is a compare-and-set on the heartbeat seen, so two processes
        starting at once cannot both win.
        """
        row = self._row(hostname)
        if row is None:
            try:
                with self.db.write() as session:
                    now = utcnow()
                    session.execute(
                        insert(CONDUCTORS).values(
                            hostname=hostname, conductor_group=group, online=True, created_at=now, heartbeat_at=now
                        )
                    )
            except IntegrityError:
                raise self._refusal(hostname, "registered it at the same moment") from None
            return
        seen = row.heartbeat_at
        age = (utcnow() - seen).total_seconds()
        if row.online and age < timeout:
            window = max(0.0, min(timeout - age, 2 * interval + 1.0))
            LOG.info(
                "Conductor %s heartbeated %.1f s ago: watching %.1f s for a live process of that name",
                hostname,
                age,
                window,
            )
            deadline = clock() + window
            while clock() < deadline:
                sleep(min(max(interval / 4, 0.05), 1.0))
                now_row = self._row(hostname)
                if now_row is not None and not now_row.online:
                    break  # it shut down cleanly meanwhile: the name is free
                if now_row is None or now_row.heartbeat_at != seen:
                    raise self._refusal(hostname, "is heartbeating")
        with self.db.write() as session:
            taken: Any = session.execute(
                update(CONDUCTORS)
                .where(CONDUCTORS.c.hostname == hostname, CONDUCTORS.c.heartbeat_at == seen)
                .values(online=True, conductor_group=group, heartbeat_at=utcnow())
            )
        if not taken.rowcount:
            raise self._refusal(hostname, "is heartbeating")
        if row.online:
            LOG.warning(
                "Conductor %s: the previous process of that name stopped heartbeating %.1f s ago "
                "without shutting down; taking over",
                hostname,
                (utcnow() - seen).total_seconds(),
            )

    @staticmethod
    def _refusal(hostname: str, what: str) -> ConductorAlreadyRunning:
        return ConductorAlreadyRunning(
            f"A conductor named {hostname!r} is already running (another process {what} on the same database). "
            f"Refusing to start a second one: stop the other process first, or give this one its own "
            f"conductor_name."
        )

    def _row(self, hostname: str) -> Any:
        with self.db.read() as session:
            return session.execute(
                select(CONDUCTORS.c.online, CONDUCTORS.c.heartbeat_at).where(CONDUCTORS.c.hostname == hostname)
            ).first()

    def heartbeat(self, hostname: str) -> None:
        with self.db.write() as session:
            session.execute(
                update(CONDUCTORS).where(CONDUCTORS.c.hostname == hostname).values(heartbeat_at=utcnow(), online=True)
            )

    def unregister(self, hostname: str) -> None:
        with self.db.write() as session:
            session.execute(update(CONDUCTORS).where(CONDUCTORS.c.hostname == hostname).values(online=False))

    def alive(self, timeout: float) -> list[str]:
        """Hostnames of online conductors whose last heartbeat is younger than ``timeout`` seconds."""
        since = utcnow() - dt.timedelta(seconds=timeout)
        with self.db.read() as session:
            rows = session.execute(
                select(CONDUCTORS.c.hostname)
                .where(CONDUCTORS.c.online.is_(True), CONDUCTORS.c.heartbeat_at >= since)
                .order_by(CONDUCTORS.c.hostname)
            )
            return [r[0] for r in rows]
