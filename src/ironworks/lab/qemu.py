"""A small, typed QEMU launcher for tests and the virtual lab.

:class:`VmSpec` describes one x86-64 machine (frozen data); :func:`command_line` turns it into argv (pure, so it
is tested without QEMU); :class:`QemuVm` runs it: start, wait for a marker on the serial log, talk QMP, power
down, kill. Facts from shared/LAB-NOTES.md baked in:

* TCG by default (``-accel tcg -cpu qemu64``): the host's /dev/kvm hangs stock kernels.
* ``-nographic`` so firmware and iPXE print on the serial port, which goes to a log file (or a socket QEMU
  connects to, with a log file beside it).
* user-mode networking always with ``restrict=on``: the guest reaches nothing but the forwards we declare, and
  those may only point at 127.0.0.1. ``restrict=on`` also blocks the guest from 10.0.2.2, so the guest reaches
  a host service through a :class:`GuestForward` (a virtual address inside QEMU's private network whose every
  connection is bridged to 127.0.0.1:port by ``python -m ironworks.lab.qemu --bridge``).
* no ``-no-reboot`` unless asked: a BMC emulator drives resets through QMP.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
LOOPBACK = "127.0.0.1"


class QemuError(RuntimeError):
    """QEMU failed to start, exited unexpectedly, or a marker did not appear in time."""


def _esc(value: str | Path) -> str:
    """Escape a value for QEMU's option parser (a comma is written twice)."""
    return str(value).replace(",", ",,")


@dataclasses.dataclass(frozen=True)
class Disk:
    path: Path
    format: Literal["qcow2", "raw"] = "qcow2"
    serial: str | None = None
    bootindex: int | None = None
    cache: Literal["writeback", "unsafe", "none", "directsync"] = "writeback"
    #: QEMU device id (``disk0``…): the BMC emulator sets the ``bootindex`` of the device with this id
    id: str | None = None


@dataclasses.dataclass(frozen=True)
class HostForward:
    """A port on 127.0.0.1 of the host forwarded to ``guest_port`` of the guest (e.g. ssh)."""

    host_port: int
    guest_port: int
    host_addr: str = LOOPBACK


@dataclasses.dataclass(frozen=True)
class GuestForward:
    """``guest_addr:guest_port`` inside QEMU's network reaches ``127.0.0.1:host_port`` on the host."""

    guest_addr: str
    guest_port: int
    host_port: int
    host_addr: str = LOOPBACK


@dataclasses.dataclass(frozen=True)
class UserNet:
    """QEMU user-mode networking (10.0.2.0/24, DHCP from QEMU), isolated with ``restrict=on``."""

    host_forwards: tuple[HostForward, ...] = ()
    guest_forwards: tuple[GuestForward, ...] = ()
    tftp: Path | None = None
    bootfile: str | None = None


@dataclasses.dataclass(frozen=True)
class TapNet:
    """An existing tap device (created by the lab in its namespace, attached to its bridge)."""

    ifname: str


@dataclasses.dataclass(frozen=True)
class Nic:
    mac: str
    net: UserNet | TapNet = dataclasses.field(default_factory=UserNet)
    model: str = "virtio-net-pci"
    bootindex: int | None = None
    #: QEMU device id (``net0``…), see :attr:`Disk.id`
    id: str | None = None


@dataclasses.dataclass(frozen=True)
class DirectBoot:
    kernel: Path
    initrd: Path | None = None
    append: str = "console=ttyS0"


@dataclasses.dataclass(frozen=True)
class VmSpec:
    name: str
    workdir: Path  # serial log, QMP socket and the UEFI variable store live here
    memory_mb: int = 1024
    cpus: int = 2
    accel: str = "tcg"
    cpu: str = "qemu64"
    machine: str = "pc"
    firmware: Literal["bios", "uefi"] = "bios"
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = ()
    boot: DirectBoot | None = None
    #: connect the serial port to this unix socket (QEMU is the client; the log file is still written)
    serial_socket: Path | None = None
    no_reboot: bool = False
    #: append to the serial log instead of truncating it when QEMU starts (a lab server is powered on many times)
    serial_append: bool = False
    #: a virtio RNG: without it a TCG guest's first getrandom() can block for seconds
    rng: bool = True
    extra_args: tuple[str, ...] = ()

    @property
    def serial_log(self) -> Path:
        return self.workdir / f"{self.name}.serial.log"

    @property
    def qmp_socket(self) -> Path:
        return self.workdir / f"{self.name}.qmp"

    @property
    def uefi_vars(self) -> Path:
        return self.workdir / f"{self.name}.OVMF_VARS.fd"


def _check_loopback(address: str, what: str) -> None:
    if address != LOOPBACK:
        raise ValueError(f"{what} must stay on {LOOPBACK}, not {address!r}")


def _netdev(index: int, net: UserNet | TapNet) -> str:
    if isinstance(net, TapNet):
        return f"tap,id=net{index},ifname={_esc(net.ifname)},script=no,downscript=no"
    parts = [f"user,id=net{index}", "restrict=on"]
    for fwd in net.host_forwards:
        _check_loopback(fwd.host_addr, "a host forward")
        parts.append(f"hostfwd=tcp:{fwd.host_addr}:{fwd.host_port}-:{fwd.guest_port}")
    for gfwd in net.guest_forwards:
        _check_loopback(gfwd.host_addr, "a guest forward")
        bridge = f"{shlex.quote(sys.executable)} -m ironworks.lab.qemu --bridge {gfwd.host_addr}:{gfwd.host_port}"
        parts.append(f"guestfwd=tcp:{gfwd.guest_addr}:{gfwd.guest_port}-cmd:{_esc(bridge)}")
    if net.tftp is not None:
        parts.append(f"tftp={_esc(net.tftp)}")
    if net.bootfile:
        parts.append(f"bootfile={_esc(net.bootfile)}")
    return ",".join(parts)


def command_line(spec: VmSpec, qemu: str = "qemu-system-x86_64") -> list[str]:
    """The argv that runs ``spec`` (no side effects)."""
    argv = [
        qemu,
        "-name",
        _esc(spec.name),
        "-machine",
        spec.machine,
        "-accel",
        spec.accel,
        "-cpu",
        spec.cpu,
        "-m",
        str(spec.memory_mb),
        "-smp",
        str(spec.cpus),
        "-nographic",
        "-monitor",
        "none",
        "-qmp",
        f"unix:{_esc(spec.qmp_socket)},server=on,wait=off",
    ]
    if spec.serial_socket is not None:
        argv += [
            "-chardev",
            f"socket,id=serial0,path={_esc(spec.serial_socket)},server=off,reconnect=1,logfile={_esc(spec.serial_log)}",
        ]
    else:
        append = ",append=on" if spec.serial_append else ""
        argv += ["-chardev", f"file,id=serial0,path={_esc(spec.serial_log)}{append}"]
    argv += ["-serial", "chardev:serial0"]
    if spec.firmware == "uefi":
        argv += [
            "-drive",
            f"if=pflash,format=raw,unit=0,readonly=on,file={_esc(OVMF_CODE)}",
            "-drive",
            f"if=pflash,format=raw,unit=1,file={_esc(spec.uefi_vars)}",
        ]
    for index, disk in enumerate(spec.disks):
        argv += ["-drive", f"if=none,id=disk{index},file={_esc(disk.path)},format={disk.format},cache={disk.cache}"]
        device = f"virtio-blk-pci,drive=disk{index}"
        if disk.serial:
            device += f",serial={_esc(disk.serial)}"
        if disk.bootindex is not None:
            device += f",bootindex={disk.bootindex}"
        if disk.id:
            device += f",id={_esc(disk.id)}"
        argv += ["-device", device]
    for index, nic in enumerate(spec.nics):
        argv += ["-netdev", _netdev(index, nic.net)]
        device = f"{nic.model},netdev=net{index},mac={nic.mac}"
        if nic.bootindex is not None:
            device += f",bootindex={nic.bootindex}"
        if nic.id:
            device += f",id={_esc(nic.id)}"
        argv += ["-device", device]
    if spec.rng:
        argv += ["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-pci,rng=rng0"]
    if not spec.nics:
        argv += ["-nic", "none"]
    if spec.boot is not None:
        argv += ["-kernel", str(spec.boot.kernel), "-append", spec.boot.append]
        if spec.boot.initrd is not None:
            argv += ["-initrd", str(spec.boot.initrd)]
    if spec.no_reboot:
        argv.append("-no-reboot")
    return argv + list(spec.extra_args)


class Qmp:
    """A minimal QMP client over the VM's unix socket (events are skipped)."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(str(path))
        self._file = self._sock.makefile("rwb")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        while True:
            line = self._file.readline()
            if not line:
                raise QemuError("QMP connection closed")
            message = json.loads(line)
            if "event" not in message:
                return message

    def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self._file.write(json.dumps(request).encode() + b"\n")
        self._file.flush()
        reply = self._read()
        if "error" in reply:
            raise QemuError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    def close(self) -> None:
        self._file.close()
        self._sock.close()


class QemuVm:
    """One running QEMU process for a :class:`VmSpec`; usable as a context manager (killed on exit)."""

    def __init__(self, spec: VmSpec, qemu: str = "qemu-system-x86_64") -> None:
        self.spec = spec
        self.qemu = qemu
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> QemuVm:
        spec = self.spec
        spec.workdir.mkdir(parents=True, exist_ok=True)
        spec.qmp_socket.unlink(missing_ok=True)
        spec.serial_log.write_bytes(b"")
        if spec.firmware == "uefi" and not spec.uefi_vars.exists():
            shutil.copyfile(OVMF_VARS, spec.uefi_vars)
        argv = command_line(spec, self.qemu)
        stderr = open(spec.workdir / f"{spec.name}.qemu.log", "wb")  # noqa: SIM115 - owned by the child
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, start_new_session=True
        )
        stderr.close()
        # QMP answers once QEMU has set every device up (or it exits with the reason on stderr)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise QemuError(f"QEMU exited with {self.process.returncode}: {self.qemu_log()[-2000:]}")
            if spec.qmp_socket.exists():
                try:
                    self.qmp("query-status")
                    return self
                except (OSError, QemuError):
                    pass
            if time.monotonic() > deadline:
                self.kill()
                raise QemuError(f"QEMU did not answer on QMP within 20 s: {self.qemu_log()[-2000:]}")
            time.sleep(0.05)

    def qemu_log(self) -> str:
        path = self.spec.workdir / f"{self.spec.name}.qemu.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def serial(self) -> str:
        return self.spec.serial_log.read_bytes().decode(errors="replace")

    def wait_for_serial(self, marker: str, timeout: float, *, start: int = 0) -> str:
        """Wait until ``marker`` appears in the serial log (after byte ``start``); return the log so far."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.serial()
            if marker in text[start:]:
                return text
            if self.process is not None and self.process.poll() is not None:
                raise QemuError(
                    f"QEMU exited ({self.process.returncode}) before {marker!r}; serial tail:\n{text[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise QemuError(f"{marker!r} not on the serial console within {timeout} s; tail:\n{text[-3000:]}")
            time.sleep(0.2)

    def qmp(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        client = Qmp(self.spec.qmp_socket)
        try:
            return client.execute(command, arguments)
        finally:
            client.close()

    def wait(self, timeout: float) -> int:
        """Wait for QEMU to exit (e.g. the guest powered off); returns its exit status."""
        if self.process is None:
            raise QemuError("not started")
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise QemuError(f"QEMU still running after {timeout} s") from exc

    def powerdown(self, timeout: float = 30.0) -> int:
        """ACPI power button, then wait; killed if the guest ignores it."""
        try:
            self.qmp("system_powerdown")
            return self.wait(timeout)
        except (QemuError, OSError):
            return self.kill()

    def kill(self) -> int:
        """Stop QEMU now: QMP ``quit``, then SIGTERM, then SIGKILL."""
        process = self.process
        if process is None or process.poll() is not None:
            return process.returncode if process else 0
        try:
            self.qmp("quit")
            return process.wait(5)
        except (QemuError, OSError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
                return process.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        return process.wait()

    def __enter__(self) -> QemuVm:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def bridge_stdio(address: str, port: int) -> int:
    """Copy bytes between stdin/stdout (QEMU's guestfwd ``cmd:`` socket) and ``address:port``."""
    _check_loopback(address, "a guest forward")
    upstream = socket.create_connection((address, port), timeout=10)
    upstream.settimeout(None)
    downstream = socket.socket(fileno=os.dup(0))
    open_ends = {downstream: upstream, upstream: downstream}
    while open_ends:
        readable, _, _ = select.select(list(open_ends), [], [])
        for source in readable:
            data = source.recv(65536)
            sink = open_ends[source]
            if data:
                sink.sendall(data)
                continue
            del open_ends[source]
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                open_ends.pop(sink, None)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bridge":
        host, _, port_text = sys.argv[2].rpartition(":")
        sys.exit(bridge_stdio(host, int(port_text)))
    sys.exit("usage: python -m ironworks.lab.qemu --bridge 127.0.0.1:PORT")
