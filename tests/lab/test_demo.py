"""``ironworks demo`` on two servers (``-m lab``), one with a software RAID-1 root; then one RAID disk pulled.

One demo run (``--keep``, torn down by the module fixture) serves both tests: lab up with two servers of two
disks each; lab-0 gets ``target_raid_config`` (RAID-1 root) built by manual cleaning, lab-1 a plain deploy;
both are inspected, provided and deployed with a config drive through the HTTP API and real netboot.

1. What the deployed servers print on their serial consoles after booting from disk: the hostname from the
   config drive; for lab-0 a root on the md array assembled from both disks (``raid1:2 members=vda3,vdb3
   degraded=0``) and the config drive inside it; for lab-1 a root on the plain first disk. Plus the phase table.
2. lab-0 is powered off through its BMC (the API's power call → IPMI), then its second disk file alone boots
   in a plain QEMU (``-snapshot``, the first disk "pulled"): grub on that member, the array assembled degraded
   from one member, the same hostname (``degraded=1``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ironworks import images
from ironworks.lab import cluster, demo
from ironworks.lab import state as lab_state
from ironworks.lab.network import NETNS_DIR
from ironworks.lab.qemu import Disk, QemuVm
from tests.fixtures.servers import free_port
from tests.images.conftest import boot_spec

# late: scripts/test.sh runs this module after the non-VM tests, to balance its two processes
pytestmark = [pytest.mark.vm, pytest.mark.lab, pytest.mark.timeout(3600), pytest.mark.late]


class Demo:
    def __init__(self, outcome: demo.Outcome, lines: list[str]) -> None:
        self.outcome, self.lines = outcome, lines

    def run(self, name: str) -> demo.Run:
        return next(r for r in self.outcome.runs if r.server.name == name)


@pytest.fixture(scope="module")
def kept_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    for tool in ("qemu-system-x86_64", "dnsmasq", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, file=sys.stderr)

    lab_dir = tmp_path_factory.mktemp("demo") / "lab"
    netns = f"iwlab-d{secrets.token_hex(3)}"
    options = demo.DemoOptions(lab_dir=lab_dir, servers=2, port=free_port(), netns=netns, keep=True)
    try:
        yield Demo(demo.execute(options, say=say), lines)
    finally:
        cluster.down(lab_dir, say=say)
        assert not (NETNS_DIR / netns).exists() and lab_state.load(lab_dir) is None


def test_demo_deploys_a_raid1_server_and_a_plain_one(kept_demo: Demo) -> None:
    lines = kept_demo.lines
    assert kept_demo.outcome.ok, "\n".join(lines[-40:])
    table = next(line for line in lines if line.startswith("server ") and " phase " in line)
    rows = [" ".join(line.split()[:2]) for line in table.splitlines()[2:]]
    assert [r for r in rows if r.startswith("lab-0")] == [
        "lab-0 manage",
        "lab-0 inspect",
        "lab-0 clean",  # (RAID-1)
        "lab-0 provide",
        "lab-0 deploy",
        "lab-0 boot",
    ]
    assert [r for r in rows if r.startswith("lab-1")] == [
        "lab-1 manage",
        "lab-1 inspect",
        "lab-1 provide",  # (clean)
        "lab-1 deploy",
        "lab-1 boot",
    ]
    assert "raid1:2 members=vda3,vdb3 degraded=0" in table  # the phase table says it
    inspected = next(line for line in table.splitlines() if " inspect " in line)
    assert "cpus=2" in inspected and "cpu_arch=x86_64" in inspected  # from the agent
    assert any("--lab-dir" in line and "lab status" in line for line in lines)  # --keep: how to reach it
    assert any(line.strip().startswith("lab-0: console ") for line in lines)

    raid, plain = kept_demo.run("lab-0"), kept_demo.run("lab-1")
    assert raid.report is not None and plain.report is not None
    # what the servers printed on their serial consoles after booting from their disks
    assert raid.report.hostname == "demo-0" and plain.report.hostname == "demo-1"  # from the config drive
    assert raid.report.root_device is not None and raid.report.root_device.startswith("/dev/md")
    assert raid.report.raid == "raid1:2 members=vda3,vdb3 degraded=0"
    assert raid.report.config_drive is not None and raid.report.config_drive.startswith("/dev/md")
    assert plain.report.root_device is not None and plain.report.root_device.startswith("/dev/vda")
    assert plain.report.raid == "none"


def test_the_raid1_server_boots_with_one_disk_pulled(kept_demo: Demo, tmp_path: Path) -> None:
    raid = kept_demo.run("lab-0")
    if raid.report is None:
        pytest.skip("the demo did not deploy the RAID server")
    server, lab = raid.server, kept_demo.outcome.lab
    with httpx.Client(base_url=lab.api_url, headers={"X-OpenStack-Ironic-API-Version": "latest"}, timeout=30) as api:
        r = api.put(f"/v1/nodes/{server.node_uuid}/states/power", json={"target": "power off"})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 180
        while api.get(f"/v1/nodes/{server.node_uuid}").json()["power_state"] != "power off":
            assert time.monotonic() < deadline, "the BMC did not power the server off"
            time.sleep(1)
    remaining = Disk(Path(server.disks[1]), "raw", serial=f"{server.name}-d1")  # the first disk is pulled
    with QemuVm(boot_spec("one-disk", tmp_path, (remaining,))) as vm:
        text = vm.wait_for_serial(images.marker_line("demo-0"), timeout=600)
    report = images.parse_console(text)
    assert report.hostname == "demo-0"
    assert report.root_device is not None and report.root_device.startswith("/dev/md")
    assert report.raid == "raid1:2 members=vda3 degraded=1"
