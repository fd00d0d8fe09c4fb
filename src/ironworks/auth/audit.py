"""Recording state-changing requests: a row in ``audit_log`` and a line on the ``ironworks.audit`` logger.

What is recorded: when, the request id, who (user, project, role; nothing for a request that failed
authentication), what (method, path without the query string, the node it touched) and the HTTP status.
Bodies and query strings are never recorded, so no password, token or BMC credential can end up here.

A record is written before its answer is sent. Writes are group-committed: a request that finds another
one writing waits, and the next writer inserts every record queued meanwhile in one transaction, so 1,000
concurrent requests cost a few transactions instead of 1,000 (with SQLite every write transaction is
serialised, and the per-request transaction used to cost more than the allocation it recorded). A batch the
database refuses is written again row by row, so a row it cannot take (a NUL character on PostgreSQL, a value
longer than its column) is written made storable, and never takes other requests' records down with it.
The ramdisk agent's own calls (heartbeats, command results) are not user requests and are not recorded.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from typing import Any

from ironworks.auth.identity import Identity
from ironworks.db.repos.audit import AuditRepo

LOG = logging.getLogger("ironworks.audit")

#: paths of the ramdisk agent protocol (token-authenticated, frequent, not user actions)
AGENT_PATHS = re.compile(r"^/v1/(heartbeat|agent|lookup|continue_inspection)(/|$)")
_NODE_LOCATION = re.compile(r"/v1/nodes/([0-9a-fA-F-]{36})(?:$|[/?])")


def audited(method: str, path: str) -> bool:
    return method in ("POST", "PUT", "PATCH", "DELETE") and not AGENT_PATHS.match(path)


def node_from_location(location: str | None) -> str | None:
    """The node a creation answered with (``Location: …/v1/nodes/<uuid>``)."""
    if not location:
        return None
    match = _NODE_LOCATION.search(location)
    return match.group(1).lower() if match else None


@dataclasses.dataclass
class _Pending:
    values: dict[str, Any]
    written: bool = False


class AuditRecorder:
    def __init__(self, repo: AuditRepo) -> None:
        self.repo = repo
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def record(
        self,
        *,
        identity: Identity | None,
        method: str,
        path: str,
        status: int,
        request_id: str | None,
        node_uuid: str | None,
    ) -> None:
        user = identity.user if identity is not None else None
        project = identity.project if identity is not None else None
        role = identity.role.value if identity is not None else None
        LOG.info(
            "%s %s -> %s by user=%s project=%s node=%s request=%s",
            method,
            path,
            status,
            user or "-",
            project or "-",
            node_uuid or "-",
            request_id or "-",
        )
        values = {
            "request_id": request_id,
            "user": user,
            "project": project,
            "role": role,
            "method": method,
            "path": path[:1024],
            "node_uuid": node_uuid,
            "status": status,
        }
        self._commit(_Pending(values))

    def _commit(self, item: _Pending) -> None:
        """Return once ``item`` is written (or its batch failed, which is logged): leader/follower group commit."""
        with self._cond:
            self._queue.append(item)
            while not item.written:
                if self._writing:
                    self._cond.wait()
                    continue
                batch, self._queue, self._writing = self._queue, [], True
                self._cond.release()
                try:
                    self._write([pending.values for pending in batch])
                finally:
                    self._cond.acquire()
                    self._writing = False
                    for pending in batch:
                        pending.written = True
                    self._cond.notify_all()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Write ``rows`` in one transaction; if that fails, each on its own, so one row the database refuses
        (a NUL character, an over-long value…) costs no other request its record."""
        try:
            self.repo.add_many(rows)
            return
        except Exception as exc:  # noqa: BLE001 - retried row by row below
            if len(rows) > 1:
                LOG.warning("An audit batch of %d records failed (%s); writing them one by one", len(rows), _why(exc))
        for row in rows:
            self._write_one(row)

    def _write_one(self, row: dict[str, Any]) -> None:
        """One record as it is; else made storable (``AuditRepo.storable``); else its bare facts. Logged if
        even that fails (the database is down): the answer is already decided and is sent anyway."""
        storable = self.repo.storable(row)
        bare = {**storable, "path": "(unrecordable path)", "user": None, "project": None, "node_uuid": None}
        for attempt, values in enumerate((row, storable, bare)):
            try:
                self.repo.add_many([values])
            except Exception as exc:  # noqa: BLE001 - the next, plainer form is tried
                error = _why(exc)
                continue
            if attempt:
                LOG.warning(
                    "Audit record of %s request %s written %s after: %s",
                    row.get("method"),
                    row.get("request_id") or "-",
                    "made storable" if attempt == 1 else "without its path",
                    error,
                )
            return
        LOG.error(
            "Could not write the audit record of %s %s (request %s): %s",
            storable.get("method"),
            storable.get("path"),
            storable.get("request_id") or "-",
            error,
        )


def _why(exc: Exception) -> str:
    """A short reason for a log line (a database error's text quotes the whole statement and its parameters)."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
