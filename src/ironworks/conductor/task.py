"""The node lock and the one writer of provision states.

The lock is a compare-and-set on ``nodes.reservation``::

    UPDATE nodes SET reservation = :me WHERE id = :id AND reservation IS NULL

rowcount 1 means we hold it; 0 means someone else does (``NodeLocked``, 409). A lock is taken either by
``acquire`` (a context manager with a ``purpose``, always released) or by ``begin`` (the API path: lock, first
transition and durable intent in one transaction; the task is then handed to a worker that releases it).

``Task.process_event`` is the only code that writes ``provision_state``, ``target_provision_state`` and
``provision_updated_at``. It logs each transition once and records failures in the node history. Every
write a task makes is guarded by ``reservation = :me``, so a conductor that lost its lock cannot write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from ironworks import errors, states
from ironworks.conductor import fsm
from ironworks.db.models import Node, utcnow
from ironworks.db.repos import history, intents
from ironworks.db.repos.base import Record, is_uuid_like
from ironworks.drivers.base import Driver

if TYPE_CHECKING:
    from ironworks.db.engine import Database
    from ironworks.drivers.registry import DriverRegistry
    from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

NODES = cast(Table, Node.__table__)

#: columns only process_event writes
_STATE_COLUMNS = frozenset({"provision_state", "target_provision_state", "provision_updated_at"})
#: columns the lock machinery owns
_LOCK_COLUMNS = frozenset({"reservation", "id", "uuid"})

_UNSET: Any = object()

#: how long acquire() keeps retrying a held lock before answering NodeLocked
LOCK_RETRY_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class TaskContext:
    """What every task needs: the database, settings, the driver registry and who "me" is."""

    db: Database
    settings: Settings
    drivers: DriverRegistry
    name: str
    #: serialises this conductor's write transactions on SQLite, which has one writer at a time anyway: threads
    #: queue here instead of in SQLite's busy handler, whose sleeps grow to 100 ms under contention
    write_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, compare=False, repr=False)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        if self.db.is_sqlite:
            with self.write_lock, self.db.write() as session:
                yield session
        else:
            with self.db.write() as session:
                yield session


def cas_reserve(session: Session, node_id: int, me: str, *, state: str | None = None, **values: Any) -> bool:
    """The compare-and-set: take the lock of an unlocked node (still in ``state``, if given) and write ``values``."""
    stmt = update(NODES).where(NODES.c.id == node_id, NODES.c.reservation.is_(None))
    if state is not None:
        stmt = stmt.where(NODES.c.provision_state == state)
    result: Any = session.execute(stmt.values(reservation=me, **values))
    return int(result.rowcount) == 1


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _ident_clause(ident: str | int) -> Any:
    if isinstance(ident, int):
        return NODES.c.id == ident
    return NODES.c.uuid == ident if is_uuid_like(ident) else NODES.c.name == ident


def load(session: Session, ident: str | int, *, for_update: bool = False) -> Record:
    stmt = select(NODES).where(_ident_clause(ident))
    if for_update and session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).mappings().first()
    if row is None:
        raise errors.NodeNotFound(node=ident)
    return dict(row)


class Task:
    """A node whose lock we hold. Drivers see it through ``drivers.base.TaskView``."""

    def __init__(self, ctx: TaskContext, node: Record, purpose: str, intent_id: int | None = None) -> None:
        self.ctx = ctx
        self.node = node
        self.purpose = purpose
        self.intent_id = intent_id
        self.settings = ctx.settings
        self.held = True
        self.handed_off = False
        self._driver: Driver | None = None
        #: who asked (``user``, ``project``), recorded with the node history entries this task writes
        self.requester: dict[str, str | None] = {}

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            self._driver = self.ctx.drivers.driver_for(self.node)
        return self._driver

    @property
    def uuid(self) -> str:
        return str(self.node["uuid"])

    # --- writes guarded by the lock ------------------------------------------------------------------------
    def _guarded_update(self, session: Session, values: dict[str, Any]) -> None:
        rc = _rowcount(session.execute(
            update(NODES).where(NODES.c.id == self.node["id"], NODES.c.reservation == self.ctx.name).values(**values)
        ))
        if rc != 1:
            raise errors.NodeLocked(f"Conductor {self.ctx.name} no longer holds the lock of node {self.uuid}.")

    def write(self, **columns: Any) -> None:
        """Persist node columns (not provision states, not the lock)."""
        bad = set(columns) & (_STATE_COLUMNS | _LOCK_COLUMNS)
        if bad:
            raise ValueError(f"task.write cannot set {sorted(bad)}; use process_event / the lock")
        columns["updated_at"] = utcnow()
        with self.ctx.write() as session:
            self._guarded_update(session, columns)
        self.node.update(columns)

    def update(self, **columns: Any) -> None:
        """The driver-facing write: anything but states, power state and the lock."""
        if "power_state" in columns or "target_power_state" in columns:
            raise ValueError("drivers report power states through the power interface, not task.update")
        self.write(**columns)

    def set_internal(self, **values: Any) -> None:
        """Merge ``values`` into driver_internal_info; a None value removes the key."""
        merged = dict(self.node["driver_internal_info"] or {})
        for key, value in values.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        self.write(driver_internal_info=merged)

    def touch_provisioning(self) -> None:
        """Restart the callback timeout of a wait state (the ramdisk agent is alive): only the timestamp moves."""
        now = utcnow()
        with self.ctx.write() as session:
            self._guarded_update(session, {"provision_updated_at": now})
        self.node["provision_updated_at"] = now

    def record(self, event: str, event_type: str, severity: str = history.ERROR) -> None:
        with self.ctx.write() as session:
            history.add(session, node_id=self.node["id"], event=event, event_type=event_type, severity=severity,
                        conductor=self.ctx.name, node=self.node, user=self.requester.get("user"),
                        project=self.requester.get("project"))

    # --- the state machine ---------------------------------------------------------------------------------
    def process_event(
        self,
        event: str,
        *,
        target: str | None = _UNSET,
        last_error: str | None = _UNSET,
        release: bool = False,
        session: Session | None = None,
        reserve: bool = False,
        **columns: Any,
    ) -> str:
        """Move the node along ``event``; optionally release the lock and finish the intent atomically."""
        current = self.node["provision_state"]
        dest = fsm.require(current, event, self.uuid)
        now = utcnow()
        values: dict[str, Any] = dict(columns)
        values.update(provision_state=dest, provision_updated_at=now, updated_at=now,
                      target_provision_state=fsm.target_of(dest) if target is _UNSET else target)
        if last_error is not _UNSET:
            values["last_error"] = last_error
        if release:
            values["reservation"] = None

        def apply(sess: Session) -> None:
            if reserve:
                if not cas_reserve(sess, self.node["id"], self.ctx.name, state=current, **values):
                    raise errors.NodeLocked(node=self.uuid, host=self.node.get("reservation") or "another conductor")
            else:
                self._guarded_update(sess, values)
            if dest in states.FAILURE_STATES and values.get("last_error"):
                history.add(sess, node_id=self.node["id"], event=values["last_error"], event_type=current,
                            conductor=self.ctx.name, node=self.node, user=self.requester.get("user"),
                            project=self.requester.get("project"))
            if release and self.intent_id is not None:
                intents.finish(sess, self.intent_id,
                               error=values.get("last_error") if dest in states.FAILURE_STATES else None)

        if session is not None:
            apply(session)
        else:
            with self.ctx.write() as sess:
                apply(sess)
        self.node.update(values)
        if reserve:
            self.node["reservation"] = self.ctx.name
        if release:
            self.held = False
        LOG.info("Node %s moved from %r to %r on %r (%s)", self.uuid, current, dest, event, self.purpose)
        return dest

    def fail(self, message: str, *, event: str = "fail", **columns: Any) -> str:
        """Fail the current transient state with ``last_error`` and release the lock.

        A failed state keeps the target the operation had (``deploy failed`` → ``active``); a stable one has none.
        """
        LOG.error("Node %s: %s failed: %s", self.uuid, self.purpose, message)
        dest = fsm.require(self.node["provision_state"], event, self.uuid)
        if dest in (states.DEPLOYFAIL, states.CLEANFAIL, states.INSPECTFAIL, states.RESCUEFAIL):
            self.forget_ramdisk()
        target = None if dest in states.STABLE_STATES else (self.node["target_provision_state"]
                                                           or fsm.target_of(dest))
        return self.process_event(event, target=target, last_error=message, release=True, **columns)

    def forget_ramdisk(self) -> None:
        """A node leaving deploy/clean/inspect/rescue on failure stops netbooting the ramdisk (best effort)."""
        try:
            boot = self.driver.get("boot")
            if boot is not None and hasattr(boot, "clean_up_ramdisk"):
                boot.clean_up_ramdisk(self)
        except Exception:  # noqa: BLE001 - recording the failure matters more
            LOG.exception("Node %s: could not remove its ramdisk boot configuration", self.uuid)

    def release(self, error: str | None = None) -> None:
        """Give the lock back (no state change); finish the intent, if any."""
        if not self.held:
            return
        with self.ctx.write() as session:
            session.execute(update(NODES).where(NODES.c.id == self.node["id"], NODES.c.reservation == self.ctx.name)
                            .values(reservation=None))
            if self.intent_id is not None:
                intents.finish(session, self.intent_id, error=error)
        self.held = False


def _lock(ctx: TaskContext, ident: str | int) -> Record:
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    delay = 0.02
    while True:
        with ctx.write() as session:
            node = load(session, ident)
            if node["reservation"] is None and cas_reserve(session, node["id"], ctx.name):
                node["reservation"] = ctx.name
                return node
        if time.monotonic() >= deadline:
            raise errors.NodeLocked(node=node["uuid"], host=node["reservation"] or "another conductor")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


@contextlib.contextmanager
def acquire(ctx: TaskContext, ident: str | int, purpose: str, *, wait: bool = True) -> Iterator[Task]:
    """Take the node lock for ``purpose``; always released on exit unless the task was handed off."""
    if wait:
        node = _lock(ctx, ident)
    else:
        with ctx.write() as session:
            node = load(session, ident)
            won = cas_reserve(session, node["id"], ctx.name)
        if not won:
            raise errors.NodeLocked(node=node["uuid"], host=node["reservation"] or "another conductor")
        node["reservation"] = ctx.name
    task = Task(ctx, node, purpose)
    LOG.debug("Node %s locked by %s for %s", task.uuid, ctx.name, purpose)
    try:
        yield task
    finally:
        if not task.handed_off:
            task.release()


def begin(
    ctx: TaskContext,
    ident: str,
    *,
    event: str | None,
    purpose: str,
    action: str,
    args: dict[str, Any],
    check: Callable[[Record], None] | None = None,
    target: str | None = _UNSET,
    request_id: str | None = None,
    seen: Record | None = None,
    **columns: Any,
) -> Task:
    """The API path: lock, first transition and intent in one transaction. The caller hands the task off.

    With ``event`` None (power actions) only the lock and ``columns`` are written. ``seen`` is the node as the
    caller read and checked it: when it is still unlocked and in the same state (the compare-and-set says so),
    it is used as is; otherwise the node is read again and ``check`` decides.
    """

    def start(session: Session, node: Record) -> Task:
        task = Task(ctx, node, purpose)
        task.requester = {k: args[k] for k in ("user", "project") if isinstance(args.get(k), str)}
        if event is not None:
            task.process_event(event, target=target, session=session, reserve=True, **columns)
        else:
            if not cas_reserve(session, node["id"], ctx.name, state=node["provision_state"], **columns):
                raise errors.NodeLocked(node=node["uuid"], host="another conductor")
            node.update(columns, reservation=ctx.name)
        task.intent_id = intents.add(session, node_id=node["id"], node_uuid=node["uuid"], action=action,
                                     args=args, claimed_by=ctx.name, request_id=request_id)
        return task

    if seen is not None and seen["reservation"] is None:
        try:
            with ctx.write() as session:
                return start(session, dict(seen))
        except errors.NodeLocked:
            pass  # changed since the caller read it: take the careful path
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        with ctx.write() as session:
            node = load(session, ident, for_update=True)
            if node["reservation"] is None:
                if check is not None:
                    check(node)
                return start(session, node)
        if time.monotonic() >= deadline:
            raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])
        time.sleep(0.05)
