"""End to end through real netboot (``-m lab``): a lab server behind an IPMI or a Redfish BMC is cleaned and
deployed.

``cluster.up`` brings up one QEMU server (TCG; SeaBIOS, or OVMF for UEFI) behind its own BMC emulator in a
fresh namespace, the service (its dnsmasq + file server on the lab bridge) and the API relay, and enrolls the
server as an ``ipmi`` (or ``redfish``) node with ``ipxe`` boot. Then, through the HTTP API only:

1. manage → provide: automated cleaning reboots the server through its BMC into PXE; our dnsmasq and iPXE
   netboot the deploy ramdisk, whose agent looks the node up through the relay and erases the disk's GPT
   (written by the test beforehand); the node ends ``available`` and its DHCP entry is a tombstone again.
2. deploy of a whole-disk image served over HTTP inside the namespace: a second netboot, the agent writes the
   image, the boot device becomes the disk, the node ends ``active`` and the server boots the image from its
   disk: the test waits for the image's marker on the serial console.

The image: ``ironworks.images.build("tiny")``, whose marker line carries the hostname it read from the config
drive the agent wrote (``ironworks-os: hostname=lab-0 up``); without the images package a one-sector BIOS disk
that prints ``IRONWORKS-DISK-BOOT`` (as in the iPXE local-boot test), which still proves the disk written by
the agent is what the server booted.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ironworks.lab import cluster
from ironworks.lab.state import LabState
from ironworks.netboot.dnsmasq import mac_hexhyp
from ironworks.netboot.httpd import FileServer
from tests.fixtures.servers import free_port
from tests.netboot.test_local_boot_vm import DISK_MARKER, bios_disk

pytestmark = [pytest.mark.vm, pytest.mark.lab, pytest.mark.timeout(1500)]
IMAGE_PORT = 8081


def _image(root: Path) -> tuple[Path, str]:
    """(image file under ``root``, the line its boot prints on the console with hostname ``lab-0``)."""
    try:
        from ironworks import images
    except ImportError:  # the images work is not installed
        return bios_disk(root / "disk.raw"), f"{DISK_MARKER} bios"
    built = images.build("tiny")
    target = root / built.raw.name
    shutil.copyfile(built.raw, target)
    return target, images.marker_line("lab-0")


@pytest.fixture(
    scope="module",
    params=[("ipmi", False), ("redfish", False), ("ipmi", True)],
    ids=["ipmi-bios", "redfish-bios", "ipmi-uefi"],
)
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    for tool in ("qemu-system-x86_64", "dnsmasq", "sgdisk"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    lab_dir = tmp_path_factory.mktemp("lab")
    options = cluster.LabOptions(
        lab_dir=lab_dir,
        servers=1,
        api_port=free_port(),
        netns=f"iwlab-p{secrets.token_hex(3)}",
        bmc=request.param[0],
        uefi=request.param[1],
    )
    current = cluster.up(options, say=lambda line: print(line, file=sys.stderr))
    try:
        yield current
    finally:
        cluster.down(lab_dir, say=lambda line: print(line, file=sys.stderr))


def _wait_state(api: httpx.Client, node: str, done: tuple[str, ...], serial: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] in done and body["reservation"] is None:
            return body
        assert time.monotonic() < deadline, (body["provision_state"], serial.read_text(errors="replace")[-3000:])
        time.sleep(1)


def _provision(api: httpx.Client, node: str, target: str, **extra: Any) -> None:
    r = api.put(f"/v1/nodes/{node}/states/provision", json={"target": target, **extra})
    assert r.status_code == 202, r.text


def test_clean_and_deploy_through_real_netboot(lab: LabState, tmp_path: Path) -> None:
    server = lab.servers[0]
    node, mac, serial = server.node_uuid, server.macs[0], Path(server.serial_log)
    disk = Path(server.disks[0])
    subprocess.run(["sgdisk", "-n", "1:2048:+8M", str(disk)], check=True, capture_output=True)
    with open(disk, "rb") as fh:
        fh.seek(512)
        assert fh.read(8) == b"EFI PART"
    netboot_dir = Path(lab.lab_dir) / "service" / "netboot"
    host_file = netboot_dir / "dnsmasq" / "hosts" / mac_hexhyp(mac)
    api = httpx.Client(base_url=lab.api_url, headers={"X-OpenStack-Ironic-API-Version": "latest"}, timeout=30)

    _provision(api, node, "manage")
    assert _wait_state(api, node, ("manageable", "enroll"), serial, 60)["provision_state"] == "manageable"
    started = time.monotonic()
    _provision(api, node, "provide")
    body = _wait_state(api, node, ("available", "clean failed"), serial, 600)
    cleaned = time.monotonic() - started
    console = serial.read_text(errors="replace")
    assert body["provision_state"] == "available", (body["last_error"], console[-4000:])
    assert "ironworks: loading the deploy kernel" in console and "erased metadata of /dev/vda" in console
    with open(disk, "rb") as fh:
        fh.seek(512)
        assert fh.read(8) != b"EFI PART", "the agent did not erase the GPT"
    assert host_file.read_text().strip().endswith(",ignore")  # dnsmasq ignores the MAC again
    assert not (netboot_dir / "http" / "nodes" / f"{mac_hexhyp(mac)}.ipxe").exists()

    www = tmp_path / "www"
    www.mkdir()
    image, marker = _image(www)
    checksum = hashlib.sha256(image.read_bytes()).hexdigest()
    with FileServer(www, str(lab.address.split("/")[0]), IMAGE_PORT, tmp_path / "images.log", netns=lab.netns):
        r = api.patch(
            f"/v1/nodes/{node}",
            json=[
                {
                    "op": "add",
                    "path": "/instance_info/image_source",
                    "value": f"http://{lab.address.split('/')[0]}:{IMAGE_PORT}/{image.name}",
                },
                {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
                {"op": "add", "path": "/instance_info/image_os_hash_value", "value": checksum},
            ],
        )
        assert r.status_code == 200, r.text
        started, mark = time.monotonic(), len(serial.read_bytes())
        _provision(api, node, "active", configdrive={"meta_data": {"uuid": node, "hostname": "lab-0"}})
        body = _wait_state(api, node, ("active", "deploy failed"), serial, 600)
        deployed = time.monotonic() - started
    assert body["provision_state"] == "active", (body["last_error"], serial.read_text(errors="replace")[-4000:])
    assert body["driver_internal_info"]["agent_image"]["checksum"].endswith(checksum)
    assert api.get(f"/v1/nodes/{node}/management/boot_device").json()["boot_device"] == "disk"
    deadline = time.monotonic() + 180
    while marker not in serial.read_bytes()[mark:].decode(errors="replace"):
        assert time.monotonic() < deadline, serial.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    booted = time.monotonic() - started - deployed
    after = serial.read_bytes()[mark:].decode(errors="replace")
    assert after.count("ironworks: loading the deploy kernel") >= 1  # the deploy netbooted the ramdisk again
    assert not host_file.read_text().strip().endswith(",ignore") and "iwprov" not in host_file.read_text()
    print(
        f"\nlab netboot: provide (clean, erase) {cleaned:.1f} s; deploy {deployed:.1f} s; "
        f"active → image marker on the console {booted:.1f} s",
        file=sys.stderr,
    )
