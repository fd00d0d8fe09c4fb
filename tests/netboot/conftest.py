"""Fixtures for the netboot tests: a lab network namespace, and dnsmasq + the file server running inside it.

Everything runs inside namespaces the fixture creates (``iwlab-<pid>-<random>``), with a private IPv4 prefix
and an IPv6 ULA prefix that exist only there; the namespaces are deleted (and whatever still runs in them
killed) when the test ends, also when it fails.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.lab.network import LabNetwork
from ironworks.netboot.dnsmasq import DhcpNetwork, DnsmasqConfig
from ironworks.netboot.files import BootFiles
from ironworks.netboot.httpd import FileServer
from ironworks.netboot.supervisor import DnsmasqService

HTTP_PORT = 8080


def _needs_root_and_tools(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    missing = [t for t in ("ip", "dnsmasq", *tools) if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (scripts/apt-packages.txt)")


@pytest.fixture
def lab_net() -> Iterator[LabNetwork]:
    _needs_root_and_tools()
    net = LabNetwork()
    try:
        yield net.create()
    finally:
        net.destroy()


def dhcp_network(net: LabNetwork, name: str = "prov", vlan: int | None = None) -> DhcpNetwork:
    seg = net.segments[vlan]
    base = seg.ipv4.network
    return DhcpNetwork(
        name=name,
        interface=seg.bridge,
        address=seg.ipv4,
        range_start=base[100],
        range_end=base[199],
        http_url=f"http://{seg.ipv4.ip}:{HTTP_PORT}",
        ipv6_prefix=seg.ipv6.network if seg.ipv6 else None,
    )


@dataclasses.dataclass
class Stack:
    net: LabNetwork
    dnsmasq: DnsmasqService
    files: BootFiles
    http: FileServer
    access_log: Path
    state: Path

    @property
    def server_ip(self) -> ipaddress.IPv4Address:
        return self.net.main.ipv4.ip

    def requests(self) -> list[dict[str, object]]:
        import json

        if not self.access_log.exists():
            return []
        return [json.loads(line) for line in self.access_log.read_text().splitlines() if line.strip()]


@pytest.fixture
def stack(lab_net: LabNetwork, tmp_path: Path) -> Iterator[Stack]:
    """dnsmasq (no ping check: faster first lease) and the file server on the lab bridge, boot files ready."""
    state = tmp_path / "netboot"
    network = dhcp_network(lab_net)
    files = BootFiles(state / "http", state / "tftp", network.http_url)
    files.prepare()
    config = DnsmasqConfig(networks=(network,), state_dir=state / "dnsmasq", tftp_root=files.tftp_root,
                           ping_check=False)
    dnsmasq = DnsmasqService(config, netns=lab_net.name)
    access_log = state / "access.log"
    http = FileServer(files.http_root, str(lab_net.main.ipv4.ip), HTTP_PORT, state / "httpd.log",
                      access_log=access_log, netns=lab_net.name)
    try:
        dnsmasq.start()
        http.start()
        yield Stack(lab_net, dnsmasq, files, http, access_log, state)
    finally:
        http.stop()
        dnsmasq.stop()
