"""Recording state-changing requests: a row in ``audit_log`` and a line on the ``ironworks.audit`` logger.

What is recorded: when, the request id, who (user, project, role; nothing for a request that failed
authentication), what (method, path without the query string, the node it touched) and the HTTP status.
Bodies and query strings are never recorded, so no password, token or BMC credential can end up here.

A record is written before its answer is sent. Writes are group-committed: a request that finds another
one writing waits, and the next writer inserts every record queued meanwhile in one transaction, so 1,000
concurrent requests cost a few transactions instead of 1,000 (with SQLite every write transaction is
serialised, and the per-request transaction used to cost more than the allocation it recorded).
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
AGENT_PATHS = re.compile(r"^/v1/(heartbeat|agent|lookup)(/|$)")
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
                    self.repo.add_many([pending.values for pending in batch])
                except Exception:  # noqa: BLE001 - a failed audit write is logged; the answer is already decided
                    LOG.exception("Could not write %d audit record(s), the first %s %s", len(batch),
                                  batch[0].values["method"], batch[0].values["path"])
                finally:
                    self._cond.acquire()
                    self._writing = False
                    for pending in batch:
                        pending.written = True
                    self._cond.notify_all()
