"""The conductor: registration and heartbeat, the worker pool that runs flows, and crash recovery.

Life of a conductor:

1. ``start`` registers it in ``conductors`` (``claim``: refused with ``ConductorAlreadyRunning`` while another
   process heartbeats under the same name, so a mistaken second start cannot break the live one's locks),
   then *recovers*: nodes whose lock belongs to this conductor's
   previous life or to a conductor whose heartbeat stopped are taken over. A node left in a transient state
   (``deploying``, ``cleaning``…) is failed into the matching failed state with ``last_error``; an interrupted
   power action is run again; every unfinished intent of those nodes is closed.
2. The API hands it locked tasks (``run``); they run on the bounded worker pool (503 when full).
3. A heartbeat thread keeps the registration fresh and takes over the nodes of conductors that died; the
   periodic thread (``periodic.py``) fails callback timeouts and syncs power states.
4. ``stop`` lets running flows finish, then marks the conductor offline.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ironworks import errors, states
from ironworks.conductor import fsm
from ironworks.conductor.flows import adopt, clean, deploy, hold, inspect, power, rescue, service, teardown, verify
from ironworks.conductor.periodic import Periodic
from ironworks.conductor.task import NODES, Task, TaskContext, acquire
from ironworks.conductor.workers import Slot, WorkerPool
from ironworks.db.repos import intents
from ironworks.db.repos.conductors import ConductorRepo
from ironworks.db.repos.history import HistoryRepo
from ironworks.db.repos.intents import IntentRepo
from ironworks.drivers.agent import resume as agent_resume
from ironworks.logs import node_context

if TYPE_CHECKING:
    from ironworks.db.engine import Database
    from ironworks.drivers.registry import DriverRegistry
    from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

Flow = Callable[[Task, dict[str, Any]], None]

#: finished intents are kept this long (for debugging), then pruned by the heartbeat
INTENT_RETENTION_SECONDS = 24 * 3600.0

#: intent action -> flow
FLOWS: dict[str, Flow] = {
    "verify": verify.run,
    "provide": clean.run,
    "clean": clean.run,
    "deploy": deploy.run,
    "delete": teardown.run,
    "inspect": inspect.run,
    "adopt": adopt.run,
    "rescue": rescue.run,
    "unrescue": rescue.run_unrescue,
    "power": power.run,
    "service": service.run,
    "unhold": hold.run,
    # the continuation of a wait state when the ramdisk agent calls back (drivers/agent/resume.py)
    agent_resume.ACTION: agent_resume.run,
    # inspection data posted to /v1/continue_inspection (api/routes/inspection.py)
    inspect.CONTINUE: inspect.continue_inspection,
}


def failure_message(action: str, exc: BaseException) -> str:
    text = exc.message if isinstance(exc, errors.IronworksError) else f"{type(exc).__name__}: {exc}"
    return f"{action.title()} failed: {text}"


class Conductor:
    def __init__(self, db: Database, settings: Settings, drivers: DriverRegistry) -> None:
        self.name = settings.effective_conductor_name
        self.settings = settings
        self.ctx = TaskContext(db=db, settings=settings, drivers=drivers, name=self.name)
        self.db = db
        self.pool = WorkerPool(settings.conductor_workers)
        self.registry = ConductorRepo(db)
        self.intents = IntentRepo(db)
        self.history = HistoryRepo(db)
        self.periodic = Periodic(self.ctx, self.history)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._alive: list[str] = [self.name]
        self._claimed = False
        self.started = False

    # --- lifecycle -----------------------------------------------------------------------------------------
    def claim(self) -> None:
        """Take this conductor's name in ``conductors``; raises ConductorAlreadyRunning (409) while another
        process heartbeats under it. The composition root calls it before starting netboot, ``start`` otherwise."""
        if self._claimed:
            return
        self.registry.claim(self.name, self.settings.conductor_group, timeout=self.settings.heartbeat_timeout,
                            interval=self.settings.heartbeat_interval)
        self._claimed = True

    def start(self) -> Conductor:
        self.claim()
        self._alive = self.registry.alive(self.settings.heartbeat_timeout)
        self.recover(include_self=True)
        loops = ((self._heartbeat_loop, "conductor-heartbeat"), (self._periodic_loop, "conductor-periodic"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.started = True
        LOG.info("Conductor %s started with %d workers", self.name, self.pool.size)
        return self

    def stop(self) -> None:
        if not self.started:
            return
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.pool.shutdown(wait=True)
        self.periodic.shutdown()
        self.registry.unregister(self.name)
        self._claimed = False
        self.started = False
        LOG.info("Conductor %s stopped", self.name)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_interval):
            try:
                self.registry.register(self.name, self.settings.conductor_group)
                self._alive = self.registry.alive(self.settings.heartbeat_timeout)
                self.recover(include_self=False)
                self.intents.prune(INTENT_RETENTION_SECONDS)
            except Exception:  # noqa: BLE001 - the heartbeat must outlive a database hiccup
                LOG.exception("Conductor heartbeat failed")

    def _periodic_loop(self) -> None:
        while not self._stop.wait(self.settings.periodic_interval):
            try:
                self.periodic.run_once(self._stop)
            except Exception:  # noqa: BLE001 - periodic work must go on after one bad round
                LOG.exception("Conductor periodic tasks failed")

    # --- which conductor manages a node --------------------------------------------------------------------
    def conductor_for(self, node: dict[str, Any]) -> str | None:
        alive = self._alive or [self.name]
        return alive[zlib.crc32(str(node["uuid"]).encode()) % len(alive)]

    # --- running flows -------------------------------------------------------------------------------------
    def reserve_worker(self) -> Slot:
        return self.pool.reserve()

    def run(self, slot: Slot, task: Task, action: str, args: dict[str, Any]) -> None:
        """Hand a locked task to a worker; the worker releases the lock whatever happens."""
        task.handed_off = True
        slot.submit(self._run_flow, task, action, args)

    def _run_flow(self, task: Task, action: str, args: dict[str, Any]) -> None:
        token = node_context.set({"node": task.uuid, "op": action})
        try:
            FLOWS[action](task, args)
        except Exception as exc:  # noqa: BLE001 - every failure ends in a failed state, never a stuck node
            message = failure_message(action, exc)
            if not isinstance(exc, errors.IronworksError):
                LOG.exception("Node %s: %s crashed", task.uuid, action)
            if task.held:
                self._fail(task, message)
        finally:
            if task.held:
                task.release()
            node_context.reset(token)

    def _fail(self, task: Task, message: str) -> None:
        try:
            if fsm.is_actionable(task.node["provision_state"], "fail"):
                task.fail(message, clean_step={}, deploy_step={}, service_step={})
            else:
                task.write(last_error=message)
                task.release(error=message)
        except Exception:  # noqa: BLE001 - the lock is released by the caller in any case
            LOG.exception("Node %s: could not record the failure", task.uuid)

    # --- recovery ------------------------------------------------------------------------------------------
    def recover(self, include_self: bool) -> int:
        """Take over nodes locked by dead conductors (and by this one's previous life). Returns how many."""
        alive = set(self.registry.alive(self.settings.heartbeat_timeout)) - {self.name}
        with self.db.read() as session:
            rows = session.execute(select(NODES.c.id, NODES.c.uuid, NODES.c.reservation)
                                   .where(NODES.c.reservation.is_not(None))).all()
        stale = [(r.id, r.reservation) for r in rows
                 if r.reservation not in alive and (include_self or r.reservation != self.name)]
        for node_id, holder in stale:
            with self.ctx.write() as session:
                session.execute(update(NODES).where(NODES.c.id == node_id, NODES.c.reservation == holder)
                                .values(reservation=None))
            LOG.warning("Broke the stale lock of node %s held by dead conductor %s", node_id, holder)
            self._take_over(node_id, holder)
        return len(stale)

    def _take_over(self, node_id: int, holder: str) -> None:
        """Fail an interrupted transient state, re-run an interrupted power action, close the other intents."""
        open_intents = [i for i in self.intents.unfinished() if i["node_id"] == node_id]
        resumed: int | None = None
        try:
            with acquire(self.ctx, node_id, "take over", wait=False) as task:
                state = task.node["provision_state"]
                power = [i for i in open_intents if i["action"] == "power"]
                if state in fsm.CRASH_EVENTS:
                    message = (f"The conductor {holder} that was processing this node went down while it was "
                               f"{state}; the operation was interrupted.")
                    task.fail(message, event=fsm.CRASH_EVENTS[state], clean_step={}, deploy_step={},
                              target_power_state=None)
                elif power and task.node["target_power_state"]:
                    resumed = power[-1]["id"]
                    task.intent_id = resumed
                    self.run(self.reserve_worker(), task, "power", dict(power[-1]["args"]))
                elif task.node["target_power_state"]:
                    task.write(target_power_state=None)
        except errors.NodeLocked:
            LOG.info("Node %s was taken over by someone else first", node_id)
            return
        for intent in open_intents:
            if intent["id"] != resumed:
                self.intents.finish(intent["id"], error=f"interrupted: conductor {holder} went down")


#: abort leads here from a ramdisk wait (deploy/clean/inspect/rescue wait or hold)
_RAMDISK_FAILURES = (states.DEPLOYFAIL, states.CLEANFAIL, states.INSPECTFAIL, states.RESCUEFAIL)


def run_sync_event(ctx: TaskContext, ident: str, event: str, purpose: str, *,
                   check: Callable[[Task], None] | None = None, **columns: Any) -> dict[str, Any]:
    """A transition with no work behind it (manage from a failed state, abort): lock, move, release."""
    with acquire(ctx, ident, purpose) as task:
        if not fsm.is_actionable(task.node["provision_state"], event):
            raise errors.InvalidStateRequested(action=purpose, node=task.uuid, state=task.node["provision_state"])
        if check is not None:
            check(task)
        if task.node["provision_state"] in states.FAILURE_STATES or event == "abort":
            columns.setdefault("last_error", task.node["last_error"])
        if event == "abort" and fsm.require(task.node["provision_state"], event, task.uuid) in _RAMDISK_FAILURES:
            task.forget_ramdisk()  # an aborted wait stops netbooting the ramdisk, as a failed one does
        task.process_event(event, release=True, **columns)
        return task.node


__all__ = ["Conductor", "FLOWS", "run_sync_event", "intents"]
