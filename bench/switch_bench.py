"""Figures for switch port changes: linux-bridge moves in a namespace, and netmiko sessions against the test
SSH CLI on 127.0.0.1 (tests/networking/fake_switch.py). Run as root from the repository root:

    .venv/bin/python bench/switch_bench.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.networking.fake_switch import FakeSwitch  # noqa: E402
from tests.networking.test_linux_bridge_switch import Fabric  # noqa: E402

from ironworks.networking.switches.base import SwitchPort  # noqa: E402
from ironworks.networking.switches.linux_bridge import LinuxBridgeSwitch  # noqa: E402
from ironworks.networking.switches.netmiko import NetmikoSwitch  # noqa: E402


def timed(label: str, runs: int, action: Callable[[int], None]) -> None:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - start) * 1000)
    print(f"{label:45s} median {statistics.median(samples):7.1f} ms   max {max(samples):7.1f} ms   ({runs} runs)")


def main() -> None:
    fabric = Fabric().create()
    try:
        sw = LinuxBridgeSwitch("lab", {"bridge": "br0", "netns": fabric.switch})
        port = SwitchPort("lab", "swpa")
        timed(f"linux-bridge set_access ({sw.mode})", 20, lambda i: sw.set_access(port, 100 + i % 2))
        timed("linux-bridge isolate", 20, lambda i: sw.isolate(port))
    finally:
        fabric.destroy()
    for device_type in ("cisco_ios", "arista_eos", "juniper_junos"):
        with FakeSwitch(device_type) as fake:
            nm = NetmikoSwitch(
                "tor",
                {
                    "device_type": device_type,
                    "host": "127.0.0.1",
                    "port": fake.port,
                    "username": "admin",
                    "password": fake.password,
                },
            )
            timed(
                f"netmiko {device_type} set_access (1 SSH session)",
                5,
                lambda i, nm=nm: nm.set_access(SwitchPort("tor", "Ethernet1"), 100 + i),
            )


if __name__ == "__main__":
    main()
