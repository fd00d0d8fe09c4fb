"""The ``ipxe`` boot interface through the real service: its own dnsmasq + file server in a lab namespace.

Fast (no VMs): the service is started with ``netboot_*`` settings naming a bridge in a namespace the test
creates; an ``ipmi`` node (emulated BMC on loopback, driven by pyghmi) is provided with automated cleaning.
While it waits for its ramdisk, a DHCP client with its MAC gets a lease and an iPXE boot file, an unknown MAC
gets nothing, and the node's iPXE script and the published kernel are served by the file server inside the
namespace. When the callback times out the node fails cleaning and its
entries are gone again (DHCP ignores it), all without restarting dnsmasq.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.lab.bmc.process import BMCLab
from ironworks.lab.network import LabNetwork
from ironworks.netboot.dnsmasq import mac_hexhyp
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest, make_settings
from tests.netboot.test_dhcp import dhcp

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox (udhcpc) is not installed")

MAC = "52:54:00:3d:00:01"
UNKNOWN = "52:54:00:3d:00:99"
AGENT_API = "http://10.213.0.1:6385"


@pytest.fixture
def netboot_service(lab_net: LabNetwork, tmp_path: Path) -> Iterator[ServiceUnderTest]:
    settings = make_settings(
        str(tmp_path),
        f"sqlite:///{tmp_path / 'iw.sqlite'}",
        netboot_interface=lab_net.main.bridge,
        netboot_address=str(lab_net.main.ipv4),
        netboot_netns=lab_net.name,
        netboot_ipv6_prefix="fd5e:1b0a:77::/64",
        netboot_api_url=AGENT_API,
        netboot_ping_check=False,
        clean_callback_timeout=4.0,
        periodic_interval=0.5,
    )
    service = ServiceUnderTest(settings).start()
    try:
        yield service
    finally:
        service.stop()


def _fetch(net: LabNetwork, url: str) -> bytes:
    """GET ``url`` from inside the namespace (where the file server listens)."""
    code = f"import sys,urllib.request; sys.stdout.buffer.write(urllib.request.urlopen({url!r}, timeout=10).read())"
    return subprocess.run(net.argv([sys.executable, "-c", code]), capture_output=True, check=True, timeout=30).stdout


def test_provide_netboots_the_ramdisk_then_a_timeout_removes_the_entries(
    netboot_service: ServiceUnderTest, lab_net: LabNetwork, tmp_path: Path
) -> None:
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd.img"
    kernel.write_bytes(b"kernel-bytes")
    initrd.write_bytes(b"initrd-bytes")
    netboot = netboot_service.services.netboot
    assert netboot is not None and netboot.started
    dnsmasq_pid = netboot.dnsmasq.pid
    known, unknown = lab_net.add_client("c1", MAC), lab_net.add_client("c2", UNKNOWN)
    with BMCLab(count=1) as bmcs, netboot_service.client() as api:
        r = api.post(
            "/v1/nodes",
            json={
                "driver": "ipmi",
                "boot_interface": "ipxe",
                "deploy_interface": "direct",
                "driver_info": {
                    **bmcs.ipmi[0].ipmi_driver_info(),
                    "deploy_kernel": str(kernel),
                    "deploy_ramdisk": str(initrd),
                    "kernel_append_params": "ironworks.lookup_timeout=5",
                },
            },
        )
        assert r.status_code == 201, r.text
        node = r.json()["uuid"]
        assert api.post("/v1/ports", json={"address": MAC, "node_uuid": node}).status_code == 201
        assert api.get(f"/v1/nodes/{node}/validate").json()["boot"]["result"] is True
        assert dhcp(lab_net, known, tmp_path) is None  # enrolled is not enough: only nodes being provisioned

        move(api, node, "manage")
        assert provision(api, node, "provide").status_code == 202
        body = settle(api, node)
        assert body["provision_state"] == "clean wait", body["last_error"]

        lease = dhcp(lab_net, known, tmp_path, "0x4d:69505845")  # as iPXE (user class)
        assert lease is not None, netboot.dnsmasq.process.log_tail()
        assert lease["boot_file"] == f"{netboot.files.base_url}/boot.ipxe"
        assert dhcp(lab_net, unknown, tmp_path) is None

        # the node's script (it carries the boot secret) only for the address DHCP leased to its MAC
        from tests.netboot.test_agent_trust import fetch_as

        status, raw = fetch_as(lab_net, known, lease["ip"], f"{netboot.files.nodes_url}/{mac_hexhyp(MAC)}.ipxe")
        assert status == 200
        script = raw.decode()
        assert "ironworks.boot_secret=" in script
        assert f"node {node}" in script and f"ironworks.api_url={AGENT_API}" in script
        assert f"BOOTIF={MAC}" in script and "ironworks.lookup_timeout=5" in script
        assert "IRONWORKS-BOOT-ERROR" in script and "sleep ${iwdelay}" in script  # retry with back-off
        kernel_url = next(w for w in script.split() if w.startswith(netboot.files.base_url + "/shared/kernel-"))
        assert _fetch(lab_net, kernel_url) == b"kernel-bytes"

        # no agent ever calls back: the callback timeout fails cleaning, which removes the entries
        deadline = time.monotonic() + 30
        while body["provision_state"] == "clean wait" and time.monotonic() < deadline:
            time.sleep(0.2)
            body = settle(api, node)
        assert body["provision_state"] == "clean failed", body
        assert body["last_error"].startswith("Timeout reached while cleaning"), body["last_error"]
        assert dhcp(lab_net, known, tmp_path) is None
        with pytest.raises(Exception):  # noqa: B017 - the script is gone (404 inside the namespace)
            _fetch(lab_net, f"{netboot.files.nodes_url}/{mac_hexhyp(MAC)}.ipxe")
    assert netboot.dnsmasq.pid == dnsmasq_pid  # entries came and went without restarting dnsmasq


def test_without_netboot_the_boot_interface_does_not_validate(service: ServiceUnderTest) -> None:
    with service.client() as api:
        r = api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": {"ipmi_address": "127.0.0.1"}})
        assert r.status_code == 201, r.text
        assert r.json()["boot_interface"] == "ipxe"
        boot = api.get(f"/v1/nodes/{r.json()['uuid']}/validate").json()["boot"]
        assert boot["result"] is False and "netboot_interface" in boot["reason"]
