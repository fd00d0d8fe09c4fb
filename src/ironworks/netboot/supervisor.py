"""Supervised child processes of the conductor: dnsmasq and the netboot file server.

:class:`ChildProcess` runs one argv (optionally inside a network namespace through ``ip netns exec``, which
execs, so the child's pid is the program's), appends its output to a log file, and restarts it with back-off
(1 s doubling to 30 s) when it dies; ``stop`` ends it with SIGTERM, then SIGKILL. :class:`DnsmasqService`
writes the configuration, starts dnsmasq in the foreground and manages the host files:

* ``add_host`` writes ``<hostsdir>/<mac-hexhyp>`` atomically (a dot-file renamed into place, which dnsmasq's
  inotify ignores until the rename); dnsmasq reads it at once, no signal and no restart.
* ``remove_host`` rewrites the file as a tombstone (``<mac>,ignore``): dnsmasq keeps records of deleted files
  until SIGHUP, so deleting alone would keep answering the MAC.
* Tombstones are dropped before every (re)start, when dnsmasq reads the directory from scratch. There is
  deliberately no SIGHUP-based clean-up: dnsmasq 2.90 (Debian 12) crashed with SIGSEGV on SIGHUP after host
  files had been rewritten and deleted (seen while writing tests/netboot/test_dhcp.py). Were it to
  die anyway, the supervisor restarts it within a second with every live host file.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ironworks.netboot.dnsmasq import DnsmasqConfig, HostEntry, is_tombstone, mac_hexhyp, render_config, tombstone

LOG = logging.getLogger(__name__)


class ChildProcessError(RuntimeError):
    """A supervised program did not start (the message carries the tail of its log)."""


def netns_argv(netns: str | None, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


class ChildProcess:
    """One supervised program; restarted when it dies until :meth:`stop` is called."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_file: Path,
        *,
        netns: str | None = None,
        restart_delay: float = 1.0,
        max_restart_delay: float = 30.0,
        before_start: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.argv = netns_argv(netns, argv)
        self.log_file = log_file
        self.restart_delay = restart_delay
        self.max_restart_delay = max_restart_delay
        self._before_start = before_start
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def _spawn(self) -> subprocess.Popen[bytes]:
        if self._before_start is not None:
            self._before_start()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            return subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )

    def start(self) -> ChildProcess:
        with self._lock:
            if self._thread is not None:
                return self
            self._stopping.clear()
            self._process = self._spawn()
            self._thread = threading.Thread(target=self._watch, name=f"supervise-{self.name}", daemon=True)
            self._thread.start()
        return self

    def _watch(self) -> None:
        delay = self.restart_delay
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            started = time.monotonic()
            status = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > 60:
                delay = self.restart_delay  # it ran for a while: start over with a short delay
            LOG.warning("%s exited with status %s; restarting in %.0f s", self.name, status, delay)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self.max_restart_delay)
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self._process = self._spawn()
                    self.restarts += 1
                except OSError as exc:
                    LOG.error("cannot restart %s: %s", self.name, exc)

    def signal(self, signum: int) -> None:
        pid = self.pid
        if pid is not None:
            os.kill(pid, signum)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            for signum in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, signum)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_file.read_bytes()[-size:].decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, text: str, timeout: float) -> None:
        """Wait until ``text`` appears in the log; raise with the log's tail if the program exits first."""
        deadline = time.monotonic() + timeout
        while True:
            if text in self.log_tail(1 << 20):
                return
            process = self._process
            if process is not None and process.poll() is not None and not self._stopping.is_set():
                raise ChildProcessError(f"{self.name} exited with {process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise ChildProcessError(f"{self.name}: {text!r} not in its log after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def __enter__(self) -> ChildProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DnsmasqService:
    """dnsmasq for a :class:`DnsmasqConfig`, supervised, with host files managed in its hostsdir."""

    def __init__(self, config: DnsmasqConfig, *, netns: str | None = None, binary: str = "dnsmasq") -> None:
        self.config = config
        self.netns = netns
        argv = [binary, "--keep-in-foreground", f"--conf-file={config.conf_file}"]
        self.process = ChildProcess("dnsmasq", argv, config.log_file, netns=netns, before_start=self._prepare)

    def _prepare(self) -> None:
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        config.hostsdir.mkdir(parents=True, exist_ok=True)
        config.tftp_root.mkdir(parents=True, exist_ok=True)
        _write_atomic(config.conf_file, render_config(config))
        for path in config.hostsdir.iterdir():
            if path.name.startswith(".") or is_tombstone(path.read_text()):
                path.unlink()

    def start(self, timeout: float = 10.0) -> DnsmasqService:
        self.config.validate()
        self.process.start()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the current dnsmasq process logged that it started (its sockets are bound by then)."""
        deadline = time.monotonic() + timeout
        while True:
            pid = self.process.pid
            if pid is not None:
                self.process.wait_for_log(f"dnsmasq[{pid}]: started", max(0.1, deadline - time.monotonic()))
                return
            if time.monotonic() > deadline:
                raise ChildProcessError(f"dnsmasq is not running:\n{self.process.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.stop()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def host_path(self, mac: str) -> Path:
        return self.config.hostsdir / mac_hexhyp(mac)

    def add_host(self, entry: HostEntry) -> Path:
        """Answer ``entry.mac`` from now on (no restart, no signal)."""
        path = self.host_path(entry.mac)
        self.config.hostsdir.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, entry.render())
        LOG.info("dnsmasq: host entry for %s written", entry.mac)
        return path

    def remove_host(self, mac: str) -> None:
        """Stop answering ``mac`` from now on (a tombstone; see the module docstring)."""
        path = self.host_path(mac)
        if path.exists():
            _write_atomic(path, tombstone(mac))
            LOG.info("dnsmasq: host entry for %s removed", mac)

    def hosts(self) -> dict[str, str]:
        """MAC (hexhyp) → host file line, for live entries only."""
        found: dict[str, str] = {}
        if self.config.hostsdir.is_dir():
            for path in sorted(self.config.hostsdir.iterdir()):
                if path.name.startswith("."):
                    continue
                text = path.read_text()
                if not is_tombstone(text):
                    found[path.name] = text.strip()
        return found

    def __enter__(self) -> DnsmasqService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
