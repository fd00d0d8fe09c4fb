"""Periodic conductor work: callback timeouts and power state sync.

Callback timeouts: a node parked in a wait state (``wait call-back``, ``clean wait``, ``inspect wait``,
``rescue wait``, ``service wait``) longer than the matching ``*_callback_timeout`` setting is failed with
``last_error``, as Ironic does. A timeout of 0 disables the check.

Power sync: every ``power_sync_interval`` seconds the power state of each unlocked, non-maintenance node is
read from its BMC, at most ``power_sync_workers`` at a time. A node without a recorded state gets one. A node
whose power changed outside Ironworks is recorded in its history; then, like Ironic with
``force_power_state_during_sync`` (the default), the hardware is put back to the recorded state, or else the
record follows the hardware. With ``enable_health_monitoring`` the BMC's health is read in the same round and
the node's ``health`` follows it (conductor/health.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ironworks import errors, states
from ironworks.conductor import health
from ironworks.conductor.task import NODES, Task, TaskContext, acquire, load
from ironworks.db.models import utcnow
from ironworks.db.repos import history

if TYPE_CHECKING:
    from ironworks.db.repos.history import HistoryRepo

LOG = logging.getLogger(__name__)

#: nodes power sync leaves alone (Ironic's list)
SYNC_EXCLUDED_STATES = (states.DEPLOYWAIT, states.CLEANWAIT, states.ENROLL, states.ADOPTFAIL)

_TIMEOUT_MESSAGES = {
    states.DEPLOYWAIT: "Timeout reached while waiting for callback for node {node}",
    states.CLEANWAIT: "Timeout reached while cleaning the node. Please check if the ramdisk responsible for the "
                      "cleaning is running on the node. Failed on step {step}.",
    states.INSPECTWAIT: "Timeout reached while inspecting the node",
    states.RESCUEWAIT: "Timeout reached while waiting for rescue ramdisk callback for node {node}",
    states.SERVICEWAIT: "Timeout reached while servicing the node. Please check if the ramdisk responsible for the "
                        "servicing is running on the node. Failed on step {step}.",
}


class Periodic:
    def __init__(self, ctx: TaskContext, history_repo: HistoryRepo) -> None:
        self.ctx = ctx
        self.history = history_repo
        self._power_pool = ThreadPoolExecutor(max_workers=max(1, ctx.settings.power_sync_workers),
                                              thread_name_prefix="power-sync")
        self._last_power_sync = time.monotonic()

    def shutdown(self) -> None:
        self._power_pool.shutdown(wait=True, cancel_futures=True)

    def run_once(self, stop: threading.Event | None = None) -> None:
        self.check_callback_timeouts()
        interval = self.ctx.settings.power_sync_interval
        if interval > 0 and time.monotonic() - self._last_power_sync >= interval:
            self._last_power_sync = time.monotonic()
            self.sync_power_states(stop)

    # --- callback timeouts ---------------------------------------------------------------------------------
    def _timeouts(self) -> dict[str, float]:
        s = self.ctx.settings
        return {states.DEPLOYWAIT: s.deploy_callback_timeout, states.CLEANWAIT: s.clean_callback_timeout,
                states.INSPECTWAIT: s.inspect_callback_timeout, states.RESCUEWAIT: s.rescue_callback_timeout,
                states.SERVICEWAIT: s.service_callback_timeout}

    def check_callback_timeouts(self) -> int:
        failed = 0
        now = utcnow()
        for state, timeout in self._timeouts().items():
            if timeout <= 0:
                continue
            limit = now - dt.timedelta(seconds=timeout)
            with self.ctx.db.read() as session:
                ids = session.execute(select(NODES.c.id).where(
                    NODES.c.provision_state == state, NODES.c.provision_updated_at < limit,
                    NODES.c.reservation.is_(None), NODES.c.maintenance.is_(False))).scalars().all()
            for node_id in ids:
                try:
                    with acquire(self.ctx, node_id, "callback timeout", wait=False) as task:
                        node = task.node
                        updated = node["provision_updated_at"]
                        if node["provision_state"] != state or updated is None or updated >= limit:
                            continue
                        step = node["service_step" if state == states.SERVICEWAIT else "clean_step"] or {}
                        message = _TIMEOUT_MESSAGES[state].format(
                            node=task.uuid, step=f"{step.get('interface')}.{step.get('step')}" if step else None)
                        columns: dict[str, Any] = {"service_step": {}} if state == states.SERVICEWAIT else {}
                        task.fail(message, **columns)
                        failed += 1
                except errors.NodeLocked:
                    continue
                except errors.NotFound:
                    continue
        return failed

    # --- power sync ----------------------------------------------------------------------------------------
    def sync_power_states(self, stop: threading.Event | None = None) -> int:
        with self.ctx.db.read() as session:
            rows = session.execute(select(NODES.c.id, NODES.c.power_interface).where(
                NODES.c.maintenance.is_(False), NODES.c.reservation.is_(None),
                NODES.c.provision_state.not_in(SYNC_EXCLUDED_STATES))).all()
        ids = [r.id for r in rows if self.ctx.drivers.implementation("power", r.power_interface) is not None]
        results = list(self._power_pool.map(lambda node_id: self._sync_one(node_id, stop), ids))
        return sum(results)

    def _sync_one(self, node_id: int, stop: threading.Event | None) -> int:
        """Read without the lock (like Ironic's shared lock); take the lock only to correct a mismatch."""
        if stop is not None and stop.is_set():
            return 0
        try:
            with self.ctx.db.read() as session:
                node = load(session, node_id)
            if node["reservation"] is not None:
                return 0
            view = Task(self.ctx, node, "power sync (read)")
            view.held = False
            iface = view.driver.power
            if node["power_state"] is None:
                try:
                    iface.validate(view)
                except errors.Invalid:
                    return 0
            actual = iface.get_power_state(view)
            if self.ctx.settings.enable_health_monitoring:  # API 1.109, as Ironic's node_cache_health
                health.sync(self.ctx, view)
            if actual == node["power_state"] or actual == states.POWER_ERROR:
                return 0
            with acquire(self.ctx, node_id, "power sync", wait=False) as task:
                return self._correct(task, task.driver.power.get_power_state(task))
        except errors.NodeLocked:
            return 0
        except errors.NotFound:
            return 0
        except Exception:  # noqa: BLE001 - one bad BMC must not stop the round
            LOG.exception("Power sync of node %s failed", node_id)
            return 0

    def _correct(self, task: Task, actual: str) -> int:
        recorded = task.node["power_state"]
        if actual == recorded or actual == states.POWER_ERROR:
            return 0
        if task.node["maintenance"] or task.node["provision_state"] in SYNC_EXCLUDED_STATES:
            return 0
        if recorded is None:
            LOG.info("Power sync: node %s has no recorded power state; recording %r", task.uuid, actual)
            task.write(power_state=actual)
            return 1
        force = self.ctx.settings.force_power_state_during_sync and not task.node["disable_power_off"]
        if force:
            message = (f"During sync_power_state, node {task.uuid} state '{actual}' does not match "
                       f"expected state. Changing hardware state to '{recorded}'.")
            task.driver.power.set_power_state(task, recorded)
        else:
            message = (f"During sync_power_state, node {task.uuid} state does not match expected state "
                       f"'{recorded}'. Updating recorded state to '{actual}'.")
            task.write(power_state=actual)
        LOG.warning("%s", message)
        task.record(message, "monitoring", history.WARNING)
        return 1
