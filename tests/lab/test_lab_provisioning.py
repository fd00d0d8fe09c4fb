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

The three variants (IPMI + BIOS, Redfish + BIOS, IPMI + UEFI) are independent labs (own namespace, service and
ports), so one module fixture brings them up side by side, each flow in its own thread, and each test waits for
its own: three single-VM flows take about the time of the slowest under load instead of the sum (each VM spends
much of its time waiting on firmware, DHCP, the BMC and the agent's polls). Only the variants selected for the
run are started.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ironworks.lab import cluster
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
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


#: variant id -> (BMC kind, UEFI)
VARIANTS = {"ipmi-bios": ("ipmi", False), "redfish-bios": ("redfish", False), "ipmi-uefi": ("ipmi", True)}


def _free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def _run_variant(variant: str, api_port: int, ramdisk: tuple[Path, Path], work: Path, stop: threading.Event) -> str:
    """Bring up a one-server lab of ``variant``, clean and deploy its server, take the lab down; a summary."""
    bmc, uefi = VARIANTS[variant]
    lab_dir = work / "lab"
    options = cluster.LabOptions(
        lab_dir=lab_dir,
        servers=1,
        api_port=api_port,
        netns=f"iwlab-p{secrets.token_hex(3)}",
        bmc=bmc,
        uefi=uefi,
        ramdisk=ramdisk,
    )

    def say(line: str) -> None:
        print(f"[{variant}] {line}", file=sys.stderr)

    current = cluster.up(options, say=say)
    try:
        return f"[{variant}] {_clean_and_deploy(current, work, stop)}"
    finally:
        cluster.down(lab_dir, say=say)


@pytest.fixture(scope="module")
def flows(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[str]]]:
    """The selected variants' flows, started side by side: variant id -> the future of its summary."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    for tool in ("qemu-system-x86_64", "dnsmasq", "sgdisk"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    selected = sorted(
        {
            item.callspec.params["variant"]
            for item in request.session.items
            if item.module is request.module and hasattr(item, "callspec")
        }
    )
    built = build_ramdisk(shared_cache_dir())  # built (or found) once, before the labs share it
    _image(tmp_path_factory.mktemp("image-cache"))  # the same for the image: the flows then find it cached
    stop = threading.Event()
    ports = _free_ports(len(selected))
    with ThreadPoolExecutor(max_workers=len(selected), thread_name_prefix="lab") as pool:
        try:
            yield {
                variant: pool.submit(
                    _run_variant, variant, port, (built.kernel, built.initrd), tmp_path_factory.mktemp(variant), stop
                )
                for variant, port in zip(selected, ports, strict=True)
            }
        finally:
            stop.set()  # a flow no test waited for (an interrupted run) gives up at its next check


def _wait_state(
    api: httpx.Client, node: str, done: tuple[str, ...], serial: Path, timeout: float, stop: threading.Event
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        assert not stop.is_set(), "stopped: the test run ended"
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] in done and body["reservation"] is None:
            return body
        assert time.monotonic() < deadline, (body["provision_state"], serial.read_text(errors="replace")[-3000:])
        time.sleep(1)


def _provision(api: httpx.Client, node: str, target: str, **extra: Any) -> None:
    r = api.put(f"/v1/nodes/{node}/states/provision", json={"target": target, **extra})
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_clean_and_deploy_through_real_netboot(flows: dict[str, Future[str]], variant: str) -> None:
    print(f"\n{flows[variant].result()}", file=sys.stderr)  # a failed flow raises its own assertion here


def _clean_and_deploy(lab: LabState, tmp_path: Path, stop: threading.Event) -> str:
    """The flow of the module docstring on the lab's one server; returns its phase times."""
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
    assert _wait_state(api, node, ("manageable", "enroll"), serial, 60, stop)["provision_state"] == "manageable"
    started = time.monotonic()
    _provision(api, node, "provide")
    body = _wait_state(api, node, ("available", "clean failed"), serial, 600, stop)
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
        body = _wait_state(api, node, ("active", "deploy failed"), serial, 600, stop)
        deployed = time.monotonic() - started
    assert body["provision_state"] == "active", (body["last_error"], serial.read_text(errors="replace")[-4000:])
    assert body["driver_internal_info"]["agent_image"]["checksum"].endswith(checksum)
    assert api.get(f"/v1/nodes/{node}/management/boot_device").json()["boot_device"] == "disk"
    deadline = time.monotonic() + 180
    while marker not in serial.read_bytes()[mark:].decode(errors="replace"):
        assert time.monotonic() < deadline and not stop.is_set(), serial.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    booted = time.monotonic() - started - deployed
    after = serial.read_bytes()[mark:].decode(errors="replace")
    assert after.count("ironworks: loading the deploy kernel") >= 1  # the deploy netbooted the ramdisk again
    assert not host_file.read_text().strip().endswith(",ignore") and "iwprov" not in host_file.read_text()
    return (
        f"lab netboot: provide (clean, erase) {cleaned:.1f} s; deploy {deployed:.1f} s; "
        f"active → image marker on the console {booted:.1f} s"
    )
