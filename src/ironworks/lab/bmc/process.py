"""Start ``ironworks lab bmc`` as a child process and learn where its BMCs listen (tests, benchmarks, lab).

The emulator must live in its own process: pyghmi's I/O loop is process-global, so a client and a server in
one process would share it.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ironworks.lab.bmc.options import PASSWORD_ENV


@dataclass(frozen=True)
class BMCEndpoint:
    index: int
    address: str
    port: int
    username: str
    password: str
    faults: tuple[str, ...]

    def ipmi_driver_info(self, **extra: Any) -> dict[str, Any]:
        return {
            "ipmi_address": self.address,
            "ipmi_port": self.port,
            "ipmi_username": self.username,
            "ipmi_password": self.password,
            **extra,
        }


def _die_with_parent() -> None:
    """In the child: SIGTERM it when the process that started it dies (Linux), so no emulator is orphaned."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return


class BMCLab:
    """``with BMCLab(count=3, faults=["1:no-answer"]) as lab: lab.ipmi[0].port``."""

    def __init__(
        self,
        count: int = 1,
        faults: list[str] | tuple[str, ...] = (),
        username: str = "admin",
        password: str = "password",
        power: str = "off",
        qemu: str = "",
        workdir: str = "",
        redfish: bool = False,
        log_level: str = "WARNING",
    ) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "ironworks.lab.bmc.runner",
            "--count",
            str(count),
            "--username",
            username,
            "--power",
            power,
            "--log-level",
            log_level,
        ]
        for fault in faults:
            self.argv += ["--fault", fault]
        if qemu:
            self.argv += ["--qemu", qemu]
        if workdir:
            self.argv += ["--workdir", workdir]
        if redfish:
            self.argv.append("--redfish")
        #: the password goes to the child in its environment, not on its command line (ps shows those)
        self.env = {**os.environ, PASSWORD_ENV: password}
        self.proc: subprocess.Popen[str] | None = None
        self.ipmi: list[BMCEndpoint] = []
        self.redfish: dict[str, Any] | None = None

    def start(self, timeout: float = 60.0) -> BMCLab:
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            env=self.env,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the BMC emulator did not start: {' '.join(self.argv)}")
        described = json.loads(line)
        self.ipmi = [
            BMCEndpoint(b["index"], b["address"], b["port"], b["username"], b["password"], tuple(b["faults"]))
            for b in described["ipmi"]
        ]
        self.redfish = described["redfish"]
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> BMCLab:
        return self.start() if self.proc is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
