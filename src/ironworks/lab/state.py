"""The lab's state file: what ``ironworks lab up`` started, so ``status`` and ``down`` act on exactly that.

``<lab dir>/lab.json`` (mode 0600: it holds the BMC password) records the namespace, and for every process the
lab started its pid and a fragment of its command line. ``down`` signals a pid only while ``/proc/<pid>/cmdline``
still holds that fragment, so a recycled pid is never killed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

STATE_FILE = "lab.json"


@dataclasses.dataclass(frozen=True)
class Proc:
    """A process the lab started: its pid and a fragment of its command line that identifies it."""

    pid: int
    marker: str

    def alive(self) -> bool:
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return False
        return self.marker in cmdline

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (its whole session: it was started as a session leader), then SIGKILL."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.alive():
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            deadline = time.monotonic() + timeout
            while self.alive() and time.monotonic() < deadline:
                _reap(self.pid)
                time.sleep(0.05)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


@dataclasses.dataclass(frozen=True)
class Server:
    name: str
    macs: tuple[str, ...]
    tap: str
    disks: tuple[str, ...]
    serial_log: str
    workdir: str
    bmc: str  # "ipmi" or "redfish"
    bmc_address: str
    bmc_port: int
    bmc_username: str
    bmc_password: str = dataclasses.field(repr=False)
    bmc_proc: Proc
    node_uuid: str = ""
    #: with ``bmc == "redfish"``: the Redfish service (same emulator process, same QEMU) and the system's path
    redfish_url: str = ""
    redfish_system: str = ""

    def driver_info(self) -> dict[str, Any]:
        if self.bmc == "redfish":
            return {
                "redfish_address": self.redfish_url,
                "redfish_system_id": self.redfish_system,
                "redfish_username": self.bmc_username,
                "redfish_password": self.bmc_password,
                "redfish_auth_type": "basic",
            }
        return {
            "ipmi_address": self.bmc_address,
            "ipmi_port": self.bmc_port,
            "ipmi_username": self.bmc_username,
            "ipmi_password": self.bmc_password,
        }


@dataclasses.dataclass(frozen=True)
class LabState:
    lab_dir: str
    netns: str
    bridge: str
    address: str  # the lab-side address of the provisioning bridge, with prefix
    ipv6: str
    vlan_filtering: bool
    api_url: str  # the API as seen from the host
    agent_api_url: str  # the API as seen from inside the lab (through the relay)
    firmware: str
    servers: tuple[Server, ...]
    proxy_proc: Proc | None = None
    service_proc: Proc | None = None
    service_config: str = ""
    service_log: str = ""

    def processes(self) -> list[Proc]:
        """Every process the lab started, the service first (it drives the BMCs)."""
        procs = [p for p in (self.service_proc, self.proxy_proc) if p is not None]
        return procs + [s.bmc_proc for s in self.servers]


def path(lab_dir: Path) -> Path:
    return Path(lab_dir) / STATE_FILE


def save(state: LabState) -> Path:
    target = path(Path(state.lab_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(dataclasses.asdict(state), handle, indent=2)
    os.replace(tmp, target)
    return target


def _proc(data: dict[str, Any] | None) -> Proc | None:
    return Proc(**data) if data else None


def load(lab_dir: Path) -> LabState | None:
    try:
        data = json.loads(path(lab_dir).read_text())
    except FileNotFoundError:
        return None
    servers = []
    for raw in data.pop("servers"):
        raw["bmc_proc"] = Proc(**raw["bmc_proc"])
        raw["macs"], raw["disks"] = tuple(raw["macs"]), tuple(raw["disks"])
        servers.append(Server(**raw))
    data["proxy_proc"] = _proc(data.get("proxy_proc"))
    data["service_proc"] = _proc(data.get("service_proc"))
    return LabState(servers=tuple(servers), **data)


def remove(lab_dir: Path) -> None:
    path(lab_dir).unlink(missing_ok=True)
