"""The per-boot secret and the lease rule with real netboot: dnsmasq, the file server and the service.

A node waiting in ``clean wait`` has a boot script whose kernel command line carries ``ironworks.boot_secret=``.
Only the address dnsmasq leased to the node's MAC may download that script; the secret admits one lookup from
anywhere (as a virtual-media boot would need), and a second lookup fails the cleaning loudly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ironworks.lab.bmc.process import BMCLab
from ironworks.lab.network import LabNetwork
from ironworks.netboot.dnsmasq import mac_hexhyp
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest
from tests.netboot.test_boot_interface import netboot_service  # noqa: F401 - the fixture
from tests.netboot.test_dhcp import dhcp

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox (udhcpc) is not installed")

MAC = "52:54:00:3d:00:07"
SECRET_HEADER = "X-Ironworks-Boot-Secret"


def fetch_as(net: LabNetwork, iface: str, address: str, url: str) -> tuple[int, bytes]:
    """GET ``url`` from the client namespace with ``address`` (a DHCP lease) on ``iface``; (status, body)."""
    subprocess.run(net.client_argv(["ip", "addr", "replace", f"{address}/24", "dev", iface]), check=True)
    code = (
        "import sys,urllib.request,urllib.error\n"
        f"try:\n r = urllib.request.urlopen({url!r}, timeout=10); print(r.status); sys.stdout.flush()\n"
        " sys.stdout.buffer.write(r.read())\n"
        "except urllib.error.HTTPError as e:\n print(e.code)\n"
    )
    out = subprocess.run(net.client_argv([sys.executable, "-c", code]), capture_output=True, check=True,
                         timeout=30).stdout
    status, _, body = out.partition(b"\n")
    return int(status), body


def _fetch_from_server_side(net: LabNetwork, url: str) -> int:
    code = (
        "import urllib.request,urllib.error\n"
        f"try:\n print(urllib.request.urlopen({url!r}, timeout=10).status)\n"
        "except urllib.error.HTTPError as e:\n print(e.code)\n"
    )
    return int(subprocess.run(net.argv([sys.executable, "-c", code]), capture_output=True, check=True,
                              timeout=30).stdout)


def test_boot_secret_reaches_only_the_leased_machine_and_admits_one_lookup(
    netboot_service: ServiceUnderTest, lab_net: LabNetwork, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd.img"
    kernel.write_bytes(b"kernel-bytes")
    initrd.write_bytes(b"initrd-bytes")
    netboot = netboot_service.services.netboot
    assert netboot is not None
    client = lab_net.add_client("c1", MAC)
    with BMCLab(count=1) as bmcs, netboot_service.client() as api:
        r = api.post("/v1/nodes", json={
            "driver": "ipmi", "boot_interface": "ipxe", "deploy_interface": "direct",
            "driver_info": {**bmcs.ipmi[0].ipmi_driver_info(), "deploy_kernel": str(kernel),
                            "deploy_ramdisk": str(initrd)}})
        assert r.status_code == 201, r.text
        node = r.json()["uuid"]
        assert api.post("/v1/ports", json={"address": MAC, "node_uuid": node}).status_code == 201
        move(api, node, "manage")
        assert provision(api, node, "provide").status_code == 202
        assert settle(api, node)["provision_state"] == "clean wait"

        script_url = f"{netboot.files.nodes_url}/{mac_hexhyp(MAC)}.ipxe"
        assert _fetch_from_server_side(lab_net, script_url) == 404  # not the node's lease: no script
        lease = dhcp(lab_net, client, tmp_path, "0x4d:69505845")
        assert lease is not None, netboot.dnsmasq.process.log_tail()
        status, script = fetch_as(lab_net, client, lease["ip"], script_url)
        assert status == 200
        match = re.search(rb"ironworks\.boot_secret=([A-Za-z0-9_-]{40,})", script)
        assert match is not None, script
        secret = match.group(1).decode()
        assert secret not in str(api.get(f"/v1/nodes/{node}").json())  # only its hash is stored, masked

        # the service on 127.0.0.1 is not the node's lease: refused, unless the boot's secret comes along
        with httpx.Client(base_url=netboot_service.url, timeout=30,
                          headers={"X-OpenStack-Ironic-API-Version": "1.62"}) as agent:
            assert agent.get("/v1/lookup", params={"addresses": MAC}).status_code == 404
            wrong = agent.get("/v1/lookup", params={"addresses": MAC}, headers={SECRET_HEADER: "x" * 43})
            assert wrong.status_code == 404
            r = agent.get("/v1/lookup", params={"addresses": MAC}, headers={SECRET_HEADER: secret})
            assert r.status_code == 200 and len(r.json()["config"]["agent_token"]) >= 40
            # replaying the secret is a second claim: the cleaning fails loudly
            replay = agent.get("/v1/lookup", params={"addresses": MAC}, headers={SECRET_HEADER: secret})
            assert replay.status_code == 409
        body = settle(api, node)
        assert body["provision_state"] == "clean failed" and "second agent lookup" in body["last_error"]
