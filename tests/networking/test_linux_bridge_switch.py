"""The ``linux-bridge`` switch driver for real: three "servers" (namespaces) cabled by veths to a bridge in a
"switch" namespace the test creates; pings between the servers prove which VLANs isolate whom.

This host's kernel has neither bridge VLAN filtering nor 802.1Q, so ``auto`` falls back to per-VLAN bridges
here; the assertions hold in either mode (the per-VLAN specifics are checked when that mode is in use).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator

import pytest

from ironworks import errors
from ironworks.networking.switches.base import Switches, SwitchPort
from ironworks.networking.switches.linux_bridge import PER_VLAN, LinuxBridgeSwitch

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces")


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=30)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {proc.stderr}")
    return proc


class Fabric:
    """A switch namespace with bridge br0 and servers a, b, c on its ports swpa, swpb, swpc."""

    def __init__(self) -> None:
        tag = f"{os.getpid()}-{secrets.token_hex(2)}"
        self.switch = f"iwsw-{tag}"
        self.servers = {name: f"iwsv-{tag}-{name}" for name in "abc"}
        self.addr = {"a": "10.50.0.1", "b": "10.50.0.2", "c": "10.50.0.3"}

    def create(self) -> Fabric:
        sh("ip", "netns", "add", self.switch)
        sh("ip", "-n", self.switch, "link", "set", "lo", "up")
        sh("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
        sh("ip", "-n", self.switch, "link", "set", "br0", "up")
        for name, ns in self.servers.items():
            sh("ip", "netns", "add", ns)
            sh(
                "ip",
                "-n",
                self.switch,
                "link",
                "add",
                f"swp{name}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            sh("ip", "-n", self.switch, "link", "set", f"swp{name}", "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"{self.addr[name]}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        return self

    def destroy(self) -> None:
        for ns in [self.switch, *self.servers.values()]:
            sh("ip", "netns", "del", ns, check=False)

    def pings(self, src: str, dst: str) -> bool:
        ns = self.servers[src]
        sh("ip", "-n", ns, "neigh", "flush", "all", check=False)
        return sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", self.addr[dst], check=False).returncode == 0

    def master(self, port: str) -> str | None:
        out = sh("ip", "-n", self.switch, "-o", "link", "show", "dev", port).stdout
        parts = out.split()
        return parts[parts.index("master") + 1] if "master" in parts else None


@pytest.fixture
def fabric() -> Iterator[Fabric]:
    fab = Fabric()
    try:
        yield fab.create()
    finally:
        fab.destroy()


def port(name: str) -> SwitchPort:
    return SwitchPort(switch_id="52:54:00:ff:00:01", port_id=f"swp{name}", switch_info="lab-tor")


@pytest.mark.parametrize("mode", ["auto", PER_VLAN])
def test_vlans_isolate_servers(fabric, mode):
    switches = Switches({"lab-tor": {"driver": "linux-bridge", "bridge": "br0", "netns": fabric.switch, "mode": mode}})
    sw = switches.driver_for(port("a"))
    assert isinstance(sw, LinuxBridgeSwitch)
    sw.set_access(port("a"), 100)
    sw.set_access(port("b"), 100)
    sw.set_access(port("c"), 200)
    assert fabric.pings("a", "b")
    assert not fabric.pings("a", "c") and not fabric.pings("b", "c")
    if sw.mode == PER_VLAN:
        assert (fabric.master("swpa"), fabric.master("swpb"), fabric.master("swpc")) == ("brv100", "brv100", "brv200")
    # moving a port is what a deploy does: c joins VLAN 100
    sw.set_access(port("c"), 100)
    sw.set_access(port("c"), 100)  # idempotent
    assert fabric.pings("a", "c")
    # isolated: nobody reaches b any more
    sw.isolate(port("b"))
    assert not fabric.pings("a", "b") and fabric.pings("a", "c")
    # a trunk of only a native VLAN is an access port
    sw.set_trunk(port("b"), [], native=100)
    assert fabric.pings("a", "b")


def test_tagged_trunk_without_vlan_filtering_is_refused(fabric):
    sw = LinuxBridgeSwitch("lab-tor", {"bridge": "br0", "netns": fabric.switch, "mode": PER_VLAN})
    sw.set_access(port("a"), 100)
    with pytest.raises(errors.DriverError) as err:
        sw.set_trunk(port("a"), [100, 200])
    assert "no VLAN filtering" in err.value.message and "swpa" in err.value.message
    assert fabric.master("swpa") == "brv100"  # unchanged
    with pytest.raises(errors.InvalidParameterValue):
        sw.set_access(port("a"), 5000)


def test_unknown_switch_is_a_clear_error():
    switches = Switches({"lab-tor": {"driver": "noop"}})
    with pytest.raises(errors.InvalidParameterValue) as err:
        switches.driver_for(SwitchPort("aa:bb", "swp1", "other-tor"))
    assert "No switch is configured" in err.value.message
    with pytest.raises(ValueError):
        Switches({"x": {"driver": "telnet"}})
