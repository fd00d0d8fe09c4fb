"""``ironworks lab up | status | down`` as an operator runs them: separate commands, persistent processes.

``up`` (2 servers, 2 disks each, its own service) returns while everything keeps running; ``status`` shows the
servers, their MACs, BMCs (password masked), power state and console logs; powering a server on through its
BMC with Debian's ipmitool starts its QEMU inside the lab namespace; ``down`` stops exactly the recorded
processes (and QEMU with them) and deletes the namespace and the disks.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ironworks.lab import state as lab_state
from ironworks.lab.network import NETNS_DIR
from tests.fixtures.servers import free_port

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]


def ironworks(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ironworks.cli", "lab", *args], capture_output=True, text=True, timeout=480
    )


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_lab_up_status_down(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    for tool in ("qemu-system-x86_64", "dnsmasq", "ipmitool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    lab_dir, netns, port = tmp_path / "lab", f"iwlab-t{secrets.token_hex(3)}", free_port()
    started = time.monotonic()
    up = ironworks(
        "up", "--servers", "2", "--disks", "2", "--lab-dir", str(lab_dir), "--port", str(port), "--netns", netns
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        print(f"\nlab up (2 servers, ramdisk cached): {time.monotonic() - started:.1f} s", file=sys.stderr)
        current = lab_state.load(lab_dir)
        assert current is not None and (NETNS_DIR / netns).exists()
        assert oct(lab_state.path(lab_dir).stat().st_mode & 0o777) == "0o600"
        assert all(p.alive() for p in current.processes()) and len(current.processes()) == 4
        servers = {s.name: s for s in current.servers}
        assert sorted(servers) == ["lab-0", "lab-1"]
        assert all(len(s.disks) == 2 and Path(d).exists() for s in servers.values() for d in s.disks)

        # enrolled through the API: one ipmi node per server with its port
        api = httpx.Client(base_url=current.api_url, headers={"X-OpenStack-Ironic-API-Version": "latest"})
        nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"detail": True}).json()["nodes"]}
        assert sorted(nodes) == ["lab-0", "lab-1"] and nodes["lab-0"]["boot_interface"] == "ipxe"
        ports = api.get("/v1/ports", params={"node": "lab-1"}).json()["ports"]
        assert [p["address"] for p in ports] == list(servers["lab-1"].macs)
        assert nodes["lab-0"]["driver_info"]["ipmi_password"] == "******"

        status = ironworks("status", "--lab-dir", str(lab_dir))
        assert status.returncode == 0, status.stderr
        for server in servers.values():
            assert server.macs[0] in status.stdout and f"127.0.0.1:{server.bmc_port}" in status.stdout
            assert server.serial_log in status.stdout
            assert server.bmc_password not in status.stdout
        assert status.stdout.count("power off") == 2 and "password ******" in status.stdout

        lab0 = servers["lab-0"]
        ipmi = [
            "ipmitool",
            "-I",
            "lanplus",
            "-H",
            lab0.bmc_address,
            "-p",
            str(lab0.bmc_port),
            "-U",
            lab0.bmc_username,
            "-P",
            lab0.bmc_password,
        ]
        assert subprocess.run([*ipmi, "chassis", "power", "on"], capture_output=True, timeout=30).returncode == 0
        deadline = time.monotonic() + 60
        while "SeaBIOS" not in Path(lab0.serial_log).read_text(errors="replace"):
            assert time.monotonic() < deadline, "lab-0 did not start"
            time.sleep(0.2)
        in_lab = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.split()
        qemu = [int(p) for p in in_lab if "qemu" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")]
        assert len(qemu) == 1, in_lab  # lab-0's QEMU, inside the namespace
        assert "power on" in ironworks("status", "--lab-dir", str(lab_dir)).stdout
    finally:
        down = ironworks("down", "--lab-dir", str(lab_dir))
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (NETNS_DIR / netns).exists()
    deadline = time.monotonic() + 10
    while any(_alive(p.pid) for p in current.processes()) or any(_alive(p) for p in qemu):
        assert time.monotonic() < deadline, "lab processes still running after down"
        time.sleep(0.1)
    assert not any(Path(d).exists() for s in current.servers for d in s.disks)
    assert lab_state.load(lab_dir) is None
    assert "no lab recorded" in ironworks("status", "--lab-dir", str(lab_dir)).stdout
