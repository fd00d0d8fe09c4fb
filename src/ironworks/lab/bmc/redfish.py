"""A Redfish BMC: sushy-tools' ``sushy-emulator`` with its fake systems driver, as a subprocess on loopback.

The emulator gets a private configuration file and state directory (its default state directory is shared
machine-wide under /tmp), ``count`` fake systems named ``node-0``… with fixed UUIDs, and, when a user name is
given, HTTP basic authentication from a bcrypt htpasswd file. Note the fake driver applies power changes
1–11 s after the request (by design) and reports a one-time boot override as continuous.

A QEMU-backed system would use sushy-emulator's libvirt driver (LAB-NOTES: libvirtd in the lab namespace); that
is not wired here.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from base64 import b64encode
from pathlib import Path
from types import TracebackType

import bcrypt

SYSTEM_NAMESPACE = uuid.UUID("5c6d1f7e-93a4-4c38-9d87-2b1f0e7a4f11")


def system_uuid(index: int) -> str:
    return str(uuid.uuid5(SYSTEM_NAMESPACE, f"node-{index}"))


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


class RedfishEmulator:
    """``with RedfishEmulator(count=2, username="admin", password="pw") as rf: rf.url, rf.system_path(0)``."""

    def __init__(self, count: int = 1, username: str | None = None, password: str | None = None,
                 address: str = "127.0.0.1", port: int = 0, power_state: str = "Off",
                 powered_on: tuple[int, ...] = (), workdir: Path | None = None,
                 command: tuple[str, ...] | None = None) -> None:
        self.count = count
        self.username = username
        self.password = password
        self.address = address
        self.port = port or free_port(address)
        self.power_state = power_state
        self.powered_on = frozenset(powered_on)  # indexes of systems that start "On" whatever power_state says
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="ironworks-redfish-"))
        self.proc: subprocess.Popen[bytes] | None = None
        #: the program to run instead of ``sushy-emulator`` (same arguments), e.g. a wrapper adding a feature
        self.command = command

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def system_path(self, index: int) -> str:
        return f"/redfish/v1/Systems/{system_uuid(index)}"

    def _write_config(self) -> Path:
        systems = [{"uuid": system_uuid(i), "name": f"node-{i}",
                    "power_state": "On" if i in self.powered_on else self.power_state,
                    "nics": [{"mac": f"52:54:00:{i >> 16 & 0xFF:02x}:{i >> 8 & 0xFF:02x}:{i & 0xFF:02x}",
                              "ip": "192.0.2.1"}]} for i in range(self.count)]
        lines = [f"SUSHY_EMULATOR_FAKE_SYSTEMS = {json.dumps(systems)}",
                 f"SUSHY_EMULATOR_STATE_DIR = {str(self.workdir / 'state')!r}",
                 "SUSHY_EMULATOR_LISTEN_IP = " + repr(self.address)]
        if self.username:
            hashed = bcrypt.hashpw((self.password or "").encode(), bcrypt.gensalt(rounds=4)).decode()
            htpasswd = self.workdir / "htpasswd"
            htpasswd.write_text(f"{self.username}:{hashed}\n")
            lines.append(f"SUSHY_EMULATOR_AUTH_FILE = {str(htpasswd)!r}")
        config = self.workdir / "emulator.conf"
        config.write_text("\n".join(lines).replace("true", "True").replace("false", "False") + "\n")
        return config

    def start(self, timeout: float = 30.0) -> RedfishEmulator:
        config = self._write_config()
        executable = shutil.which("sushy-emulator", path=str(Path(sys.executable).parent)) or "sushy-emulator"
        log = open(self.workdir / "emulator.log", "ab")  # noqa: SIM115 - closed right after the child has it
        try:
            self.proc = subprocess.Popen(
                [*(self.command or (executable,)), "--config", str(config), "--fake", "-i", self.address,
                 "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sushy-emulator exited with {self.proc.returncode}; see "
                                   f"{self.workdir / 'emulator.log'}")
            if self._answers():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"sushy-emulator did not answer on {self.url} within {timeout} s")
            time.sleep(0.1)

    def _answers(self) -> bool:
        request = urllib.request.Request(self.url + "/redfish/v1/Systems")
        if self.username:
            token = b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=2) as reply:  # noqa: S310 - loopback URL we built
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def get(self, path: str) -> dict[str, object]:
        """GET a resource straight from the emulator (a second opinion independent of sushy)."""
        request = urllib.request.Request(self.url + path)
        if self.username:
            token = b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 - loopback URL we built
            return dict(json.load(reply))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RedfishEmulator:
        return self.start() if self.proc is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
