"""dnsmasq under the supervisor, answering real DHCP clients (busybox ``udhcpc``) in a client namespace.

Fast (no VMs): which boot file each kind of client gets, unknown MACs ignored, host entries added and removed
while dnsmasq runs (same pid: no restart), a killed dnsmasq restarted, two networks on two segments, and the
namespaces gone afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ironworks.lab.network import NETNS_DIR, LabNetwork, sweep_stale
from ironworks.netboot.dnsmasq import DnsmasqConfig, HostEntry
from ironworks.netboot.supervisor import DnsmasqService
from tests.netboot.conftest import Stack, dhcp_network

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox (udhcpc) is not installed")

IPXE_USER_CLASS = "0x4d:69505845"  # option 77 "iPXE"
UEFI_X64 = "0x5d:0007"  # option 93 client arch 7
UEFI_BC = "0x5d:0009"
BIOS = "0x5d:0000"


def dhcp(net: LabNetwork, iface: str, tmp_path: Path, *options: str, tries: int = 2) -> dict[str, str] | None:
    """One DHCP exchange from ``iface`` in the client namespace; the lease's variables, or None."""
    out = tmp_path / f"lease-{iface}-{time.monotonic_ns()}"
    script = tmp_path / "udhcpc.script"
    script.write_text('#!/bin/sh\n[ "$1" = bound ] && env > "$LEASE_OUT"\nexit 0\n')
    script.chmod(0o755)
    argv = ["busybox", "udhcpc", "-f", "-q", "-n", "-i", iface, "-t", str(tries), "-T", "1", "-A", "1",
            "-s", str(script)]
    for option in options:
        argv += ["-x", option]
    subprocess.run(net.client_argv(argv), env={**os.environ, "LEASE_OUT": str(out)}, capture_output=True,
                   timeout=30, check=False)
    if not out.exists():
        return None
    return dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)


def test_boot_file_follows_the_client_kind(stack: Stack, tmp_path: Path) -> None:
    mac = "52:54:00:2c:00:01"
    iface = stack.net.add_client("c1", mac)
    stack.dnsmasq.add_host(HostEntry(mac))
    bios = dhcp(stack.net, iface, tmp_path)
    assert bios is not None, stack.dnsmasq.process.log_tail()
    assert bios["boot_file"] == "undionly.kpxe" and bios["siaddr"] == str(stack.server_ip)
    assert bios["ip"].startswith("10.213.0.") and 100 <= int(bios["ip"].rsplit(".", 1)[1]) <= 199
    assert "router" not in bios and "dns" not in bios  # nothing routes or resolves out of the network
    assert dhcp(stack.net, iface, tmp_path, BIOS)["boot_file"] == "undionly.kpxe"  # type: ignore[index]
    assert dhcp(stack.net, iface, tmp_path, UEFI_X64)["boot_file"] == "snponly.efi"  # type: ignore[index]
    assert dhcp(stack.net, iface, tmp_path, UEFI_BC)["boot_file"] == "snponly.efi"  # type: ignore[index]
    for options in ((IPXE_USER_CLASS,), (IPXE_USER_CLASS, UEFI_X64)):
        lease = dhcp(stack.net, iface, tmp_path, *options)
        assert lease is not None and lease["boot_file"] == f"http://{stack.server_ip}:8080/boot.ipxe"


def test_unknown_macs_get_no_answer(stack: Stack, tmp_path: Path) -> None:
    iface = stack.net.add_client("c2", "52:54:00:2c:00:02")
    stack.dnsmasq.add_host(HostEntry("52:54:00:2c:00:99"))  # somebody else
    assert dhcp(stack.net, iface, tmp_path, IPXE_USER_CLASS) is None
    assert f"DHCPDISCOVER({stack.net.main.bridge}) 52:54:00:2c:00:02 ignored" in stack.dnsmasq.process.log_tail()


def test_hosts_are_added_and_removed_while_dnsmasq_runs(stack: Stack, tmp_path: Path) -> None:
    mac = "52:54:00:2c:00:03"
    iface = stack.net.add_client("c3", mac)
    pid = stack.dnsmasq.pid
    assert dhcp(stack.net, iface, tmp_path) is None
    stack.dnsmasq.add_host(HostEntry(mac, hostname="node-3"))
    assert dhcp(stack.net, iface, tmp_path) is not None
    assert stack.dnsmasq.hosts() == {"52-54-00-2c-00-03": "52:54:00:2c:00:03,set:iwknown,node-3"}
    stack.dnsmasq.remove_host(mac)
    assert dhcp(stack.net, iface, tmp_path) is None
    assert stack.dnsmasq.hosts() == {}
    stack.dnsmasq.add_host(HostEntry(mac))  # back again (a new deploy)
    assert dhcp(stack.net, iface, tmp_path) is not None
    stack.dnsmasq.remove_host(mac)
    assert dhcp(stack.net, iface, tmp_path) is None
    assert stack.dnsmasq.pid == pid and stack.dnsmasq.process.restarts == 0
    assert "exited" not in stack.dnsmasq.process.log_tail(1 << 20)
    # a restart starts from live entries only: the tombstone is gone and the MAC is still ignored
    stack.dnsmasq.stop()
    stack.dnsmasq.start()
    assert not any(stack.dnsmasq.config.hostsdir.iterdir())
    assert dhcp(stack.net, iface, tmp_path) is None


def test_a_deleted_host_file_alone_would_keep_answering(stack: Stack, tmp_path: Path) -> None:
    """Why removal writes a tombstone: dnsmasq keeps the record of a deleted hostsdir file until SIGHUP."""
    mac = "52:54:00:2c:00:04"
    iface = stack.net.add_client("c4", mac)
    path = stack.dnsmasq.add_host(HostEntry(mac))
    stack.dnsmasq.process.wait_for_log(f"read {path}", 5)
    path.unlink()
    stack.dnsmasq.process.wait_for_log(f"inotify: {path} removed", 5)
    assert dhcp(stack.net, iface, tmp_path) is not None


def test_a_killed_dnsmasq_is_restarted_with_its_hosts(stack: Stack, tmp_path: Path) -> None:
    mac = "52:54:00:2c:00:05"
    iface = stack.net.add_client("c5", mac)
    stack.dnsmasq.add_host(HostEntry(mac))
    first = stack.dnsmasq.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while stack.dnsmasq.pid in (None, first):
        assert time.monotonic() < deadline, stack.dnsmasq.process.log_tail()
        time.sleep(0.1)
    stack.dnsmasq.wait_ready()
    assert stack.dnsmasq.process.restarts == 1
    assert dhcp(stack.net, iface, tmp_path) is not None


def test_two_networks_on_two_segments(lab_net: LabNetwork, tmp_path: Path) -> None:
    """One dnsmasq, two provisioning networks (the per-VLAN case: a segment per VLAN)."""
    lab_net.add_segment(100, "10.213.100.1/24")
    first, second = dhcp_network(lab_net), dhcp_network(lab_net, "v100", vlan=100)
    config = DnsmasqConfig(networks=(first, second), state_dir=tmp_path / "dnsmasq", tftp_root=tmp_path / "tftp",
                           ping_check=False)
    with DnsmasqService(config, netns=lab_net.name).start() as service:
        a = lab_net.add_client("ca", "52:54:00:2c:01:01")
        b = lab_net.add_client("cb", "52:54:00:2c:01:02", vlan=100)
        service.add_host(HostEntry("52:54:00:2c:01:01"))
        service.add_host(HostEntry("52:54:00:2c:01:02"))
        lease_a = dhcp(lab_net, a, tmp_path, IPXE_USER_CLASS)
        lease_b = dhcp(lab_net, b, tmp_path, IPXE_USER_CLASS)
    assert lease_a is not None and lease_a["ip"].startswith("10.213.0.")
    assert lease_a["boot_file"] == "http://10.213.0.1:8080/boot.ipxe"
    assert lease_b is not None and lease_b["ip"].startswith("10.213.100.")
    assert lease_b["boot_file"] == "http://10.213.100.1:8080/boot.ipxe"


def test_bad_configuration_fails_start_with_dnsmasq_message(lab_net: LabNetwork, tmp_path: Path) -> None:
    network = dhcp_network(lab_net)
    config = DnsmasqConfig(networks=(network,), state_dir=tmp_path / "dnsmasq", tftp_root=tmp_path / "tftp")
    service = DnsmasqService(config, netns=lab_net.name, binary="dnsmasq")
    (tmp_path / "dnsmasq").mkdir()
    service.process.argv.append("--no-such-option")
    with pytest.raises(RuntimeError, match="no-such-option|unrecognized|bad"):
        service.start(timeout=5)
    service.stop()


def test_namespaces_are_removed_with_what_runs_inside(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    net = LabNetwork().create()
    net.add_tap("tap0")
    net.add_client("c0", "52:54:00:2c:02:01")
    sleeper = subprocess.Popen(net.argv(["sleep", "600"]))
    assert (NETNS_DIR / net.name).exists() and (NETNS_DIR / net.client_ns).exists()
    assert "tap0" in net.ip("link").stdout
    net.destroy()
    assert sleeper.wait(10) != 0
    assert not (NETNS_DIR / net.name).exists() and not (NETNS_DIR / net.client_ns).exists()
    net.destroy()  # idempotent
    # a namespace left by a process that died is swept by the next run
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = f"iwlab-{dead.pid}-dead"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    try:
        assert stale in sweep_stale()
    finally:
        subprocess.run(["ip", "netns", "del", stale], check=False, capture_output=True)
    assert not (NETNS_DIR / stale).exists()
