"""Provisioning networks for tests and the lab: a network namespace with a Linux bridge, taps and clients.

:class:`LabNetwork` (a context manager) creates, inside a fresh namespace ``iwlab-<pid>-<n>``:

* ``lo`` up; IPv6 duplicate address detection off (addresses are usable at once, so dnsmasq can send router
  advertisements immediately);
* bridge ``br0`` with ``forward_delay 0`` (ports forward at once) holding a private IPv4 address and an IPv6
  ULA /64 (for router advertisements); ``vlan_filtering 1`` when the kernel supports it
  (:attr:`LabNetwork.vlan_filtering` says whether it does: the CI kernel has no ``BRIDGE_VLAN_FILTERING`` and
  no 802.1Q, so per-VLAN segments are separate bridges there, see :meth:`add_segment`);
* tap devices for QEMU NICs (:meth:`add_tap`), on the main bridge or on a segment's;
* DHCP test clients (:meth:`add_client`): a veth whose far end lives in a second namespace with a chosen MAC.

Programs that must run inside (dnsmasq, the file server, QEMU) are started through ``ip netns exec``
(:meth:`argv`, :meth:`wrapper`); nothing is ever configured outside the namespaces this class created, and no
address is routed out of them. :meth:`destroy` kills what still runs in them (only processes inside our own
namespaces), then deletes them, which removes the bridge, taps and veths with them; :func:`sweep_stale`
removes namespaces left by a process that died without cleaning up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

PREFIX = "iwlab-"
NETNS_DIR = Path("/run/netns")


class NetworkError(RuntimeError):
    """An ``ip``/``bridge`` command failed (the message has its output)."""


def _run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise NetworkError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}")
    return proc


@dataclasses.dataclass(frozen=True)
class Segment:
    """One L2 segment of the lab (the main bridge, or a per-VLAN bridge)."""

    bridge: str
    ipv4: ipaddress.IPv4Interface
    ipv6: ipaddress.IPv6Interface | None
    vlan: int | None = None


def _netns_pids(name: str) -> list[int]:
    proc = _run(["ip", "netns", "pids", name], check=False)
    return [int(p) for p in proc.stdout.split()] if proc.returncode == 0 else []


def _delete_namespace(name: str) -> None:
    """Kill every process inside ``name`` (ours: we created it), then delete it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _netns_pids(name)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while _netns_pids(name) and time.monotonic() < deadline:
            time.sleep(0.05)
    _run(["ip", "netns", "del", name], check=False)


def delete_namespace(name: str) -> bool:
    """Kill what runs in namespace ``name`` and delete it (``ironworks lab down``); False if there was none."""
    if not (NETNS_DIR / name).exists():
        return False
    _delete_namespace(name)
    return True


def sweep_stale() -> list[str]:
    """Delete ``iwlab-<pid>-*`` namespaces whose creating process is gone."""
    removed: list[str] = []
    if not NETNS_DIR.is_dir():
        return removed
    for entry in NETNS_DIR.iterdir():
        if not entry.name.startswith(PREFIX):
            continue
        try:
            pid = int(entry.name[len(PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            _delete_namespace(entry.name)
            removed.append(entry.name)
    return removed


class LabNetwork:
    """A provisioning network in its own namespace (see the module docstring)."""

    def __init__(
        self,
        ipv4: str = "10.213.0.1/24",
        ipv6: str | None = "fd5e:1b0a:77::1/64",
        *,
        name: str | None = None,
        bridge: str = "br0",
    ) -> None:
        self.name = name or f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.client_ns = f"{self.name}-c"
        self.main = Segment(bridge, ipaddress.IPv4Interface(ipv4), ipaddress.IPv6Interface(ipv6) if ipv6 else None)
        self.segments: dict[int | None, Segment] = {None: self.main}
        self.vlan_filtering = False
        self.taps: dict[str, Segment] = {}
        self._created = False
        self._client_ns_created = False

    # -- helpers ----------------------------------------------------------------------------------------
    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(["ip", "-n", self.name, *args], check=check)

    def argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise NetworkError(f"{' '.join(argv)} in {self.name} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    def wrapper(self, path: Path, program: str = "qemu-system-x86_64") -> Path:
        """Write an executable that runs ``program`` inside the namespace (for ``QemuVm(spec, qemu=...)``)."""
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {program} "$@"\n')
        path.chmod(0o755)
        return path

    # -- life cycle -------------------------------------------------------------------------------------
    def create(self) -> LabNetwork:
        sweep_stale()
        _run(["ip", "netns", "add", self.name])
        self._created = True
        try:
            self.ip("link", "set", "lo", "up")
            for key in ("all", "default"):
                self.run("sysctl", "-q", "-w", f"net.ipv6.conf.{key}.accept_dad=0")
            self._add_bridge(self.main)
            self.vlan_filtering = (
                self.ip("link", "set", self.main.bridge, "type", "bridge", "vlan_filtering", "1", check=False)
                .returncode == 0
            )
        except BaseException:
            self.destroy()
            raise
        return self

    def _add_bridge(self, seg: Segment) -> None:
        self.ip("link", "add", seg.bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        self.ip("addr", "add", str(seg.ipv4), "dev", seg.bridge)
        if seg.ipv6 is not None:
            self.ip("addr", "add", str(seg.ipv6), "dev", seg.bridge, "nodad")
        self.ip("link", "set", seg.bridge, "up")

    def add_segment(self, vlan: int, ipv4: str, ipv6: str | None = None) -> Segment:
        """A separate L2 segment for VLAN ``vlan`` (its own bridge ``brv<vlan>``: works without 802.1Q)."""
        if not 1 <= vlan <= 4094 or vlan in self.segments:
            raise ValueError(f"VLAN {vlan} is out of range or exists")
        seg = Segment(f"brv{vlan}", ipaddress.IPv4Interface(ipv4),
                      ipaddress.IPv6Interface(ipv6) if ipv6 else None, vlan)
        self._add_bridge(seg)
        self.segments[vlan] = seg
        return seg

    def add_tap(self, name: str, vlan: int | None = None) -> str:
        """A tap device (for a QEMU NIC) attached to the main bridge or to VLAN ``vlan``'s segment."""
        seg = self.segments[vlan]
        self.ip("tuntap", "add", "dev", name, "mode", "tap")
        self.ip("link", "set", name, "master", seg.bridge, "up")
        self.taps[name] = seg
        return name

    def move_tap(self, name: str, vlan: int | None) -> None:
        """Put a tap on another segment (what a switch does when a port's VLAN changes)."""
        seg = self.segments[vlan]
        self.ip("link", "set", name, "master", seg.bridge)
        self.taps[name] = seg

    def add_client(self, name: str, mac: str, vlan: int | None = None) -> str:
        """A veth whose far end ``name`` (with ``mac``) lives in the client namespace; for DHCP clients."""
        if not self._client_ns_created:
            _run(["ip", "netns", "add", self.client_ns])
            self._client_ns_created = True
            _run(["ip", "-n", self.client_ns, "link", "set", "lo", "up"])
        peer = f"{name}p"
        self.ip("link", "add", peer, "type", "veth", "peer", "name", name)
        self.ip("link", "set", name, "netns", self.client_ns)
        self.ip("link", "set", peer, "master", self.segments[vlan].bridge, "up")
        _run(["ip", "-n", self.client_ns, "link", "set", name, "address", mac, "up"])
        return name

    def client_argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.client_ns, *argv]

    def destroy(self) -> None:
        """Kill what runs inside, delete both namespaces (their interfaces go with them). Idempotent."""
        if self._client_ns_created:
            _delete_namespace(self.client_ns)
            self._client_ns_created = False
        if self._created:
            _delete_namespace(self.name)
            self._created = False

    @property
    def exists(self) -> bool:
        return (NETNS_DIR / self.name).exists()

    def __enter__(self) -> LabNetwork:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.destroy()
