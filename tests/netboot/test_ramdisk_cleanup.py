"""The ramdisk's netboot entries are removed after a successful inspection (unless fast track keeps the agent)
and after an abort.

The real service runs its dnsmasq + file server on a bridge in a namespace the test creates (the
``netboot_service`` fixture of test_boot_interface.py); an ``ipmi`` node (emulated BMC on loopback) waits for its
ramdisk: while it does, its MAC gets a DHCP lease and an iPXE script. Afterwards DHCP must ignore the MAC again
and the script must be gone, so a later PXE boot of that server does not boot the deploy ramdisk by accident:

* inspection with the ``agent`` inspect interface, the test playing the ramdisk agent over HTTP (lookup,
  heartbeat, ``get_inventory``) until the node is ``manageable`` with the inventory's properties; with
  ``driver_info.fast_track`` the agent stays up for the next operation, and so do its boot entries;
* ``abort`` of ``inspect wait`` and of ``clean wait`` (→ ``inspect failed`` / ``clean failed``).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ironworks.lab.bmc.process import BMCLab
from ironworks.lab.network import LabNetwork
from ironworks.netboot.dnsmasq import mac_hexhyp
from tests.agent_service.client import PlayedAgent
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest
from tests.netboot.test_agent_trust import fetch_as
from tests.netboot.test_boot_interface import netboot_service  # noqa: F401 - the fixture
from tests.netboot.test_dhcp import dhcp

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox (udhcpc) is not installed")

MAC = "52:54:00:3d:00:07"
IPXE_CLASS = "0x4d:69505845"  # DHCP user class "iPXE"
INVENTORY = {
    "inventory": {"cpu": {"count": 2, "architecture": "x86_64"}, "memory": {"physical_mb": 1024}},
    "root_disk": {"name": "/dev/vda", "size": 8 * 1024**3},
}


def _node(api: httpx.Client, bmcs: BMCLab, tmp_path: Path, fast_track: bool) -> str:
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd.img"
    kernel.write_bytes(b"kernel-bytes")
    initrd.write_bytes(b"initrd-bytes")
    driver_info = {**bmcs.ipmi[0].ipmi_driver_info(), "deploy_kernel": str(kernel), "deploy_ramdisk": str(initrd)}
    if fast_track:
        driver_info["fast_track"] = True
    r = api.post(
        "/v1/nodes",
        json={"driver": "ipmi", "boot_interface": "ipxe", "inspect_interface": "agent", "driver_info": driver_info},
    )
    assert r.status_code == 201, r.text
    node = str(r.json()["uuid"])
    assert api.post("/v1/ports", json={"address": MAC, "node_uuid": node}).status_code == 201
    move(api, node, "manage")
    return node


@pytest.mark.parametrize("fast_track", [False, True], ids=["standard", "fast-track"])
def test_inspection_removes_the_ramdisk_entries_unless_fast_track(
    netboot_service: ServiceUnderTest,  # noqa: F811
    lab_net: LabNetwork,
    tmp_path: Path,
    fast_track: bool,
) -> None:
    netboot = netboot_service.services.netboot
    assert netboot is not None and netboot.started
    client = lab_net.add_client("c1", MAC)
    script_url = f"{netboot.files.nodes_url}/{mac_hexhyp(MAC)}.ipxe"
    with BMCLab(count=1) as bmcs, netboot_service.client() as api:
        node = _node(api, bmcs, tmp_path, fast_track)
        assert provision(api, node, "inspect").status_code == 202
        assert settle(api, node)["provision_state"] == "inspect wait"
        lease = dhcp(lab_net, client, tmp_path, IPXE_CLASS)
        assert lease is not None  # the ramdisk netboots
        status, script = fetch_as(lab_net, client, lease["ip"], script_url)
        assert status == 200 and f"node {node}".encode() in script
        # the played agent runs on the host's loopback, not the lease: it shows the boot's secret instead
        agent = PlayedAgent(netboot_service.url, MAC, boot_secret=_secret(script))
        try:
            body = _finish_inspection(api, agent, node)
        finally:
            agent.close()
        assert body["properties"]["cpus"] == 2 and body["properties"]["memory_mb"] == 1024
        if fast_track:  # the agent stays up for what comes next: its boot entries too
            assert body["power_state"] == "power on"
            assert dhcp(lab_net, client, tmp_path, IPXE_CLASS) is not None
            status, script = fetch_as(lab_net, client, lease["ip"], script_url)
            assert status == 200 and f"node {node}".encode() in script
        else:
            assert body["power_state"] == "power off"
            assert dhcp(lab_net, client, tmp_path, IPXE_CLASS) is None  # dnsmasq ignores the MAC again
            assert fetch_as(lab_net, client, lease["ip"], script_url)[0] == 404  # the script is gone


def _secret(script: bytes) -> str:
    match = re.search(rb"ironworks\.boot_secret=([A-Za-z0-9_-]+)", script)
    assert match is not None, script
    return match.group(1).decode()


def _finish_inspection(api: httpx.Client, agent: PlayedAgent, node: str) -> dict[str, Any]:
    """The played agent looks up, heartbeats and answers ``get_inventory``; the node ends ``manageable``."""
    assert agent.lookup().status_code == 200
    assert agent.heartbeat().status_code == 202  # queues get_inventory
    seen = agent.run({"get_inventory": {"result": INVENTORY}}, until=1)
    assert [c["name"] for c in seen] == ["get_inventory"]
    deadline = time.monotonic() + 30
    while (body := settle(api, node))["provision_state"] != "manageable":
        assert time.monotonic() < deadline and body["provision_state"] != "inspect failed", body
        time.sleep(0.2)
    return body


@pytest.mark.parametrize(
    ("verb", "waiting", "failed"),
    [("inspect", "inspect wait", "inspect failed"), ("provide", "clean wait", "clean failed")],
    ids=["inspect-wait", "clean-wait"],
)
def test_abort_removes_the_ramdisk_entries(
    netboot_service: ServiceUnderTest,  # noqa: F811
    lab_net: LabNetwork,
    tmp_path: Path,
    verb: str,
    waiting: str,
    failed: str,
) -> None:
    netboot = netboot_service.services.netboot
    assert netboot is not None and netboot.started
    client = lab_net.add_client("c1", MAC)
    script_url = f"{netboot.files.nodes_url}/{mac_hexhyp(MAC)}.ipxe"
    with BMCLab(count=1) as bmcs, netboot_service.client() as api:
        node = _node(api, bmcs, tmp_path, fast_track=False)
        assert provision(api, node, verb).status_code == 202
        assert settle(api, node)["provision_state"] == waiting
        lease = dhcp(lab_net, client, tmp_path, IPXE_CLASS)
        assert lease is not None
        status, script = fetch_as(lab_net, client, lease["ip"], script_url)
        assert status == 200 and f"node {node}".encode() in script
        assert provision(api, node, "abort").status_code == 202
        body = settle(api, node)
        assert body["provision_state"] == failed, body
        assert dhcp(lab_net, client, tmp_path, IPXE_CLASS) is None
        assert fetch_as(lab_net, client, lease["ip"], script_url)[0] == 404  # the script is gone
