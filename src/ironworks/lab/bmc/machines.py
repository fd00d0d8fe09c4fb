"""The machines behind an emulated BMC: a simulated server in memory, or a QEMU process driven through QMP.

Both speak one small protocol (:class:`Machine`) in IPMI's vocabulary, so the IPMI server (``ipmi.py``) does not
care which one it fronts:

* power: ``power_state()`` is ``"on"`` / ``"off"``; ``power_on``, ``power_off`` (hard), ``power_cycle``,
  ``power_reset``, ``power_soft`` (ACPI power button: the OS decides when it is off);
* ``inject_nmi()``: a non-maskable interrupt to a running machine (False when it is off: nothing to interrupt);
* boot override: ``boot_device`` (``default``, ``network``, ``hd``, ``optical``, ``setup``, ``floppy``),
  ``boot_persistent`` and ``boot_uefi``. As on real firmware a one-time override is consumed by the next boot.

``SimulatedMachine`` also remembers ``last_boot_device`` so tests can see what a boot actually used.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Protocol

from ironworks.lab.bmc.qmp import QMPClient, QMPError

BOOT_DEVICES = ("default", "network", "hd", "safe", "optical", "setup", "floppy")


class Machine(Protocol):
    boot_device: str
    boot_persistent: bool
    boot_uefi: bool

    def power_state(self) -> str: ...
    def power_on(self) -> None: ...
    def power_off(self) -> None: ...
    def power_cycle(self) -> None: ...
    def power_reset(self) -> None: ...
    def power_soft(self) -> None: ...
    def inject_nmi(self) -> bool: ...
    def close(self) -> None: ...


class _BootOverride:
    """Boot override bookkeeping shared by both machines."""

    def __init__(self) -> None:
        self.boot_device = "default"
        self.boot_persistent = False
        self.boot_uefi = False
        self.last_boot_device = "default"

    def _consume_boot_override(self) -> str:
        """Called at every (re)boot: the device used; a one-time override is then cleared."""
        used = self.boot_device
        self.last_boot_device = used
        if not self.boot_persistent:
            self.boot_device = "default"
        return used


class SimulatedMachine(_BootOverride):
    """A server that exists only in memory. A soft power off completes ``soft_off_delay`` seconds later."""

    def __init__(self, power: str = "off", soft_off_delay: float = 0.3) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._power = power
        self._soft_off_at: float | None = None
        self.soft_off_delay = soft_off_delay
        self.boots = 0
        self.nmis = 0

    def power_state(self) -> str:
        with self._lock:
            if self._soft_off_at is not None and time.monotonic() >= self._soft_off_at:
                self._power, self._soft_off_at = "off", None
            return self._power

    def _boot(self) -> None:
        self._power, self._soft_off_at = "on", None
        self.boots += 1
        self._consume_boot_override()

    def power_on(self) -> None:
        if self.power_state() == "off":
            with self._lock:
                self._boot()

    def power_off(self) -> None:
        with self._lock:
            self._power, self._soft_off_at = "off", None

    def power_cycle(self) -> None:
        with self._lock:
            self._boot()

    def power_reset(self) -> None:
        if self.power_state() == "on":
            with self._lock:
                self._boot()

    def power_soft(self) -> None:
        if self.power_state() == "on":
            with self._lock:
                self._soft_off_at = time.monotonic() + self.soft_off_delay

    def inject_nmi(self) -> bool:
        if self.power_state() != "on":
            return False
        with self._lock:
            self.nmis += 1
        return True

    def close(self) -> None:
        return None


#: IPMI boot device -> the QEMU device ids whose ``bootindex`` is set to 1 for it (others get a higher index)
DEFAULT_QEMU_BOOT_MAP = {"network": "net0", "hd": "disk0", "optical": "cd0"}


class QemuMachine(_BootOverride):
    """A QEMU process: power on starts it, hard off is QMP ``quit``, soft off ``system_powerdown``, reset
    ``system_reset``. The boot override is applied through each device's ``bootindex`` (``qom-set``), which QEMU
    honours at the next reset or start.

    ``argv`` is the QEMU command line without ``-qmp``; it must give the bootable devices the ids named in
    ``boot_map`` (e.g. ``-device virtio-net-pci,netdev=n0,id=net0``). Do not pass ``-no-reboot``.
    """

    def __init__(self, argv: list[str], workdir: Path, boot_map: dict[str, str] | None = None,
                 start_timeout: float = 10.0) -> None:
        super().__init__()
        self.argv = list(argv)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.boot_map = dict(boot_map or DEFAULT_QEMU_BOOT_MAP)
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._qmp: QMPClient | None = None
        self._lock = threading.RLock()

    @property
    def qmp_path(self) -> Path:
        return self.workdir / "qmp.sock"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def power_state(self) -> str:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._forget()
                return "off"
            return "on"

    def _forget(self) -> None:
        if self._qmp is not None:
            self._qmp.close()
        self._qmp = None
        if self._proc is not None:
            self._proc.poll()
        self._proc = None

    def _boot_devices_present(self) -> dict[str, str]:
        return {dev: qid for dev, qid in self.boot_map.items() if qid and f"id={qid}" in ",".join(self.argv)}

    def _configured_bootindex(self, qid: str) -> int | None:
        """The ``bootindex=`` the command line gives device ``qid`` (its order without an override)."""
        for arg in self.argv:
            fields = dict(f.split("=", 1) for f in arg.split(",") if "=" in f)
            if fields.get("id") == qid and "bootindex" in fields:
                return int(fields["bootindex"])
        return None

    def _apply_bootindex(self) -> None:
        """Give the override's device bootindex 1 and push the others behind it; without an override (a
        one-time one was consumed by an earlier boot) restore the command line's order, as firmware would."""
        used = self._consume_boot_override()
        if self._qmp is None:
            return
        present = self._boot_devices_present()
        if used == "default":
            wanted = {qid: self._configured_bootindex(qid) for qid in present.values()}
            targets = {qid: index for qid, index in wanted.items() if index is not None}
        else:
            ordered = sorted(present.items(), key=lambda item: item[0] != used)
            targets = {qid: index for index, (_device, qid) in enumerate(ordered, start=1)}
        # QEMU refuses a bootindex another device holds: park every device on a free index first
        for final in (False, True):
            for position, (qid, index) in enumerate(targets.items(), start=1):
                try:
                    self._qmp.execute("qom-set", {"path": f"/machine/peripheral/{qid}", "property": "bootindex",
                                                  "value": index if final else 100 + position})
                except QMPError:
                    continue  # a device without a settable bootindex cannot be chosen; firmware order applies

    def power_on(self) -> None:
        with self._lock:
            if self.power_state() == "on":
                return
            self.qmp_path.unlink(missing_ok=True)
            log = open(self.workdir / "qemu.log", "ab")  # noqa: SIM115 - owned by the child's lifetime
            try:
                self._proc = subprocess.Popen(
                    [*self.argv, "-S", "-qmp", f"unix:{self.qmp_path},server=on,wait=off"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            finally:
                log.close()
            deadline = time.monotonic() + self.start_timeout
            while True:
                try:
                    self._qmp = QMPClient.connect(self.qmp_path)
                    break
                except OSError:
                    if self._proc.poll() is not None or time.monotonic() > deadline:
                        self._forget()
                        raise
                    time.sleep(0.02)
            # started paused (-S) so the boot order is set before the firmware runs; the firmware reads it
            # from fw_cfg, which QEMU rebuilds only on a reset: reset once before running
            self._apply_bootindex()
            self._qmp.execute("system_reset")
            self._qmp.execute("cont")

    def power_off(self) -> None:
        with self._lock:
            if self.power_state() == "off" or self._proc is None:
                return
            try:
                assert self._qmp is not None
                self._qmp.execute("quit")
            except (QMPError, OSError):
                self._proc.kill()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._forget()

    def power_cycle(self) -> None:
        with self._lock:
            self.power_off()
            self.power_on()

    def power_reset(self) -> None:
        with self._lock:
            if self.power_state() == "on" and self._qmp is not None:
                self._apply_bootindex()
                self._qmp.execute("system_reset")

    def power_soft(self) -> None:
        with self._lock:
            if self.power_state() == "on" and self._qmp is not None:
                self._qmp.execute("system_powerdown")

    def inject_nmi(self) -> bool:
        with self._lock:
            if self.power_state() != "on" or self._qmp is None:
                return False
            self._qmp.execute("inject-nmi")
            return True

    def close(self) -> None:
        self.power_off()
