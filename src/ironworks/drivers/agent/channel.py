"""The command channel to a node's ramdisk agent: queueing, long-poll delivery, results, tokens.

Commands are rows (``db/repos/agent_commands.py``); this object adds the in-process wake-up so a long poll
(an asyncio wait in the API's event loop, no thread held) answers as soon as a command is queued. Polls also
re-read the database every ``RECHECK_SECONDS``, so a command queued by another process is still delivered
within a second. Built once in the composition root.

The agent token is never stored: only its SHA-256 (``driver_internal_info.agent_secret_token_hash``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
from typing import TYPE_CHECKING, Any

from ironworks.db.repos import agent_commands as repo
from ironworks.drivers.base import WAIT, TaskView

if TYPE_CHECKING:
    from ironworks.db.engine import Database

#: a waiting poll re-reads the database at least this often (commands queued by other processes)
RECHECK_SECONDS = 1.0
#: driver_internal_info keys
TOKEN_HASH = "agent_secret_token_hash"
WAITING = "agent_waiting"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), str(stored_hash))


class AgentChannel:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        #: long polls waiting on an event loop (the API's): woken thread-safely by ``_notify``
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def _notify(self) -> None:
        with self._lock:
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def waiter(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        """Register an asyncio event set on the next queued command; ``drop_waiter`` it afterwards."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._async_waiters.add(entry)
        return entry

    def drop_waiter(self, entry: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._async_waiters.discard(entry)

    def send(self, task: TaskView, commands: list[tuple[str, dict[str, Any]]]) -> str:
        """Queue ``commands`` in order, remember them as what the flow waits for, and return ``WAIT``."""
        with self.db.write() as session:
            ids = [repo.queue(session, task.node["id"], name, params) for name, params in commands]
        task.set_internal(**{WAITING: ids})
        self._notify()
        return WAIT

    def forget(self, task: TaskView) -> None:
        """A new ramdisk boot: no token issued yet, nothing awaited, unfinished commands dropped."""
        with self.db.write() as session:
            repo.drop_unfinished(session, task.node["id"])
        task.set_internal(**{TOKEN_HASH: None, WAITING: None})

    def next_command(self, node_id: int) -> dict[str, Any] | None:
        """The command to deliver now (marked delivered), or None. Long polls wait between calls (``waiter``)."""
        with self.db.write() as session:
            return repo.next_for(session, node_id)

    def finish(self, node_id: int, command_id: str, status: str, result: dict[str, Any] | None,
               error: dict[str, Any] | None) -> bool:
        with self.db.write() as session:
            return repo.finish(session, node_id, command_id, status, result, error)

    def commands(self, node_id: int, ids: list[str]) -> list[dict[str, Any]]:
        with self.db.read() as session:
            return repo.get_many(session, node_id, ids)


def install(registry: Any, db: Database) -> AgentChannel:
    """Build the channel and register the agent interfaces that use it (called by the composition root)."""
    from ironworks.drivers.agent.interfaces import AgentInspect, AgentRaid, DirectDeploy

    channel = AgentChannel(db)
    for cls in (DirectDeploy, AgentRaid, AgentInspect):
        registry.register(cls(channel))
    return channel
