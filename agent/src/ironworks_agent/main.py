"""The agent's life: look the node up, heartbeat, long-poll for commands, run them, post results.

    start ──► lookup (retry every ~5 s until lookup_timeout) ──► heartbeat thread starts
      ▲           │
      │           ▼
      │       poll next command (long poll) ──► run it (dispatch) ──► post result (retry) ──► heartbeat now
      │           │                                                                             │
      └─ 401/404 ─┴─────────────────────────── back to poll ◄─────────────────────────────────────┘

The safety guard is built once, before the first command runs: from ``--allow-device`` when given (tests),
else from the local disks minus the skip rules, the node's ``skip_block_devices`` (from lookup) and
``ironworks.skip_devices``. Nothing extends it afterwards.

A command may defer an action until its result was posted (``kexec`` jumps into the deployed kernel only
after the service has its answer); deferred actions run right after the post, in the polling thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from ironworks_agent.commands import dispatch
from ironworks_agent.commands.context import CommandContext
from ironworks_agent.config import AgentConfig, load
from ironworks_agent.errors import ProtocolError, TokenRejected
from ironworks_agent.hardware import inventory, root_device
from ironworks_agent.hardware.disks import list_block_devices
from ironworks_agent.protocol import AgentClient, Command, LookupResult
from ironworks_agent.safety import DeviceGuard

LOG = logging.getLogger("ironworks_agent")
RESULT_RETRY_FOR = 600.0


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _jitter(seconds: float) -> float:
    return seconds * random.uniform(0.8, 1.2)


class Agent:
    def __init__(self, config: AgentConfig, guard: DeviceGuard | None = None) -> None:
        self.config = config
        self.client = AgentClient(config.api_url, insecure=config.insecure)
        self._guard = guard
        self.stop = threading.Event()
        self.lookup: LookupResult | None = None
        self._lock = threading.Lock()
        self._current: dict[str, Any] | None = None
        self._progress: dict[str, Any] | None = None
        self._wake = threading.Event()
        self.completed: dict[str, dict[str, Any]] = {}
        self._deferred: list[Callable[[], None]] = []

    # -- state shared with the heartbeat thread
    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"busy": self._current is not None, "current_command": self._current,
                    "progress": self._progress}

    def _on_progress(self, snapshot: dict[str, Any]) -> None:
        with self._lock:
            self._progress = snapshot

    def macs(self) -> list[str]:
        found = [self.config.boot_mac, *self.config.extra_macs]
        found += [i["mac_address"] for i in inventory.interfaces() if i.get("mac_address")]
        return list(dict.fromkeys(m for m in found if m))

    def guard(self, skip_list: list[dict[str, Any]]) -> DeviceGuard:
        if self._guard is None:
            if self.config.allow_devices:
                self._guard = DeviceGuard(self.config.allow_devices)
            else:
                disks = list_block_devices(include_loop=self.config.include_loop)
                extra = [{"name": d} for d in self.config.skip_devices]
                eligible = root_device.eligible_devices(disks, [*skip_list, *extra])
                self._guard = DeviceGuard([str(d["name"]) for d in eligible])
            LOG.info("safety guard allows: %s", ", ".join(self._guard.allowed) or "(nothing)")
        return self._guard

    # -- phases
    def do_lookup(self) -> LookupResult | None:
        deadline = time.monotonic() + self.config.lookup_timeout if self.config.lookup_timeout else None
        while not self.stop.is_set():
            try:
                result = self.client.lookup(self.macs(), self.config.node_uuid, self.config.boot_secret)
                LOG.info("looked up node %s", result.node_uuid)
                return result
            except ProtocolError as exc:
                LOG.warning("lookup failed: %s", exc.message)
            if deadline is not None and time.monotonic() > deadline:
                return None
            self.stop.wait(_jitter(self.config.lookup_interval))
        return None

    def _heartbeat_loop(self, lookup: LookupResult, done: threading.Event) -> None:
        while not (self.stop.is_set() or done.is_set()):
            try:
                self.client.heartbeat(lookup.node_uuid, self.state())
            except TokenRejected:
                done.set()
                return
            except ProtocolError as exc:
                LOG.warning("heartbeat failed: %s", exc.message)
            self._wake.wait(_jitter(lookup.heartbeat_interval))
            self._wake.clear()

    def _post_result(self, lookup: LookupResult, command_id: str, result: dict[str, Any]) -> None:
        deadline = time.monotonic() + RESULT_RETRY_FOR
        delay = 1.0
        while not self.stop.is_set():
            try:
                self.client.post_result(lookup.node_uuid, command_id, result)
                return
            except TokenRejected:
                raise
            except ProtocolError as exc:
                if exc.status is not None and exc.status < 500:
                    LOG.error("result of %s dropped: %s", command_id, exc.message)
                    return
                if time.monotonic() > deadline:
                    LOG.error("result of %s dropped after retrying for %s s", command_id, RESULT_RETRY_FOR)
                    return
            self.stop.wait(_jitter(delay))
            delay = min(delay * 2, 30.0)

    def execute(self, lookup: LookupResult, cmd: Command) -> dict[str, Any]:
        if cmd.id in self.completed:
            LOG.info("command %s re-delivered; posting the stored result again", cmd.id)
            return self.completed[cmd.id]
        props = lookup.node.get("properties") or {}
        skip_list = list(props.get("skip_block_devices") or [])
        ctx = CommandContext(
            guard=self.guard(skip_list), progress=self._on_progress, boot_mac=self.config.boot_mac,
            include_loop=self.config.include_loop, root_device_hints=dict(props.get("root_device") or {}),
            skip_list=skip_list, allow_md5=bool(lookup.config.get("agent_md5_checksum_enable")),
            tmpdir=self.config.tmpdir, defer=self._deferred.append)
        started = _now()
        with self._lock:
            self._current = {"id": cmd.id, "name": cmd.name, "started_at": started}
            self._progress = None
        try:
            status, result, error = dispatch.run(ctx, cmd.name, cmd.params)
        finally:
            with self._lock:
                self._current = None
        record = {"status": status, "result": result, "error": error, "started_at": started,
                  "finished_at": _now()}
        self.completed[cmd.id] = record
        return record

    def _run_deferred(self) -> None:
        while self._deferred:
            action = self._deferred.pop(0)
            try:
                action()
            except Exception:  # the agent keeps serving; the service already has the command's answer
                LOG.exception("deferred action %s failed", getattr(action, "__name__", action))

    def serve(self, lookup: LookupResult) -> None:
        """Poll and run commands until stopped or the token is rejected."""
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat_loop, args=(lookup, done), daemon=True)
        beat.start()
        delay = 1.0
        try:
            while not (self.stop.is_set() or done.is_set()):
                try:
                    cmd = self.client.next_command(lookup.node_uuid, lookup.poll_wait)
                    delay = 1.0
                    if cmd is None:
                        continue
                    record = self.execute(lookup, cmd)
                    self._post_result(lookup, cmd.id, record)
                    self._run_deferred()
                    self._wake.set()
                except TokenRejected:
                    LOG.warning("token rejected; looking the node up again")
                    return
                except ProtocolError as exc:
                    if exc.status == 404:
                        LOG.warning("node %s is gone; looking up again", lookup.node_uuid)
                        return
                    LOG.warning("command poll failed: %s", exc.message)
                    self.stop.wait(_jitter(delay))
                    delay = min(delay * 2, 30.0)
        finally:
            done.set()
            self._wake.set()
            beat.join(timeout=5)

    def run(self) -> int:
        while not self.stop.is_set():
            lookup = self.do_lookup()
            if lookup is None:
                if self.stop.is_set():
                    return 0
                LOG.error("no node found within the lookup timeout")
                return 2
            self.lookup = lookup
            self.serve(lookup)
        return 0


def main(argv: list[str] | None = None) -> int:
    config = load(argv)
    logging.basicConfig(level=logging.DEBUG if config.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return Agent(config).run()
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
