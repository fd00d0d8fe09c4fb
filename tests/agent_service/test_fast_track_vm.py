"""Fast deploy with the real agent in a QEMU VM and the real service (``-m vm``): fast track and kexec.

The node uses fake power, so the test plays the power button (as in test_vm_clean.py): when the node waits
for its agent it starts the deploy ramdisk VM; "power off" leaves the VM running, so whatever the serial
console shows afterwards is what the agent did. The image is ``ironworks.images.build("tiny")`` (Debian's
kernel, a busybox initramfs, grub), which prints ``marker_line(hostname)`` once booted with its config drive.

* fast track: provide (cleaning) then deploy on one ramdisk boot; the disk then boots on its own;
* fast track with a dead agent: the deploy boots the ramdisk again and still ends active;
* kexec: after the image write the same VM runs the deployed kernel and prints the marker, no firmware POST.

``FastLab`` is also the harness of bench/deploy_bench.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ironworks import images
from ironworks.lab.qemu import Disk, GuestForward, Nic, QemuVm, UserNet, VmSpec
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
from ironworks.lab.ramdisk.builder import BuildResult
from ironworks.lab.ramdisk.vm import GUEST_API_ADDR, GUEST_API_PORT, blank_disks, ramdisk_vm
from tests.agent.conftest import FileServer
from tests.agent_service.conftest import agent_node, seed_lease
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest, make_settings

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]
MAC = "52:54:00:5e:00:51"
FILES_ADDR, FILES_PORT = "10.0.2.101", 8080
RAMDISK_STARTED = "ironworks-init: started"
#: SeaBIOS's banner: printed on the serial console at every firmware POST
POST_BANNER = "SeaBIOS"
FAST_TRACK_TIMEOUT = 20.0


@dataclasses.dataclass
class FastLab:
    service: ServiceUnderTest
    ramdisk: BuildResult
    image: images.BuiltImage
    work: Path
    files: FileServer
    #: the MAC of the most recently enrolled node (one per node: ports are unique)
    mac: str = MAC
    enrolled: int = 0

    def disks(self, name: str) -> tuple[Disk, ...]:
        return blank_disks(self.work / name, 1, size_mib=5120)  # the agent picks disks of 4 GiB and more

    def ramdisk_spec(self, name: str, disks: tuple[Disk, ...]) -> VmSpec:
        spec = ramdisk_vm(self.ramdisk, self.work, mac=self.mac, name=name, disks=disks, api_port=self.service.port)
        forwards = (
            GuestForward(GUEST_API_ADDR, GUEST_API_PORT, self.service.port),
            GuestForward(FILES_ADDR, FILES_PORT, self.files.httpd.server_address[1]),
        )
        return dataclasses.replace(spec, nics=(Nic(self.mac, UserNet(guest_forwards=forwards)),))

    def disk_spec(self, name: str, disks: tuple[Disk, ...]) -> VmSpec:
        """The server powered on into its disk: firmware POST, grub, the deployed kernel."""
        first = dataclasses.replace(disks[0], bootindex=1)
        return VmSpec(name=name, workdir=self.work, disks=(first, *disks[1:]), nics=(Nic(self.mac, UserNet()),))

    def enroll(self, api: httpx.Client, *, fast_track: bool, kexec: bool = False, clean: bool = True) -> str:
        name = self.image.raw.name
        if not (self.files.root / name).exists():
            os.symlink(self.image.raw, self.files.root / name)
        instance = {
            "image_source": f"http://{FILES_ADDR}:{FILES_PORT}/{name}",
            "image_os_hash_algo": "sha256",
            "image_os_hash_value": self.image.sha256_raw,
            "image_disk_format": "raw",
        }
        if kexec:
            instance["kexec"] = True
        self.enrolled += 1
        self.mac = f"{MAC[:-5]}{self.enrolled:02x}:51"
        seed_lease(self.service, self.mac, "127.0.0.1")  # each node's MAC holds the lease its agent calls from
        node = agent_node(
            api,
            mac=self.mac,
            automated_clean=clean,
            instance_info=instance,
            driver_info={
                "deploy_kernel": "http://127.0.0.1:9/k",
                "deploy_ramdisk": "http://127.0.0.1:9/r",
                "fast_track": fast_track,
            },
        )
        move(api, node, "manage")
        return node


def wait_for(
    api: httpx.Client, node: str, done: tuple[str, ...], vm: QemuVm | None = None, timeout: float = 600
) -> dict[str, Any]:
    """Poll until the node rests in one of ``done`` (unlocked)."""
    started = time.monotonic()
    while True:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] in done and body["reservation"] is None:
            return body
        tail = vm.serial()[-3000:] if vm is not None else ""
        assert time.monotonic() < started + timeout, f"still {body['provision_state']}: {tail}"
        time.sleep(0.5)


def deploy(api: httpx.Client, node: str, hostname: str) -> None:
    r = provision(api, node, "active", configdrive={"meta_data": {"uuid": node, "hostname": hostname}})
    assert r.status_code == 202, r.text


def provide(api: httpx.Client, node: str) -> None:
    """provide: automated cleaning waits for the ramdisk (the test then powers the VM on)."""
    assert provision(api, node, "provide").status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"


def cleaned(api: httpx.Client, node: str, vm: QemuVm) -> dict[str, Any]:
    body = wait_for(api, node, ("available", "clean failed"), vm)
    assert body["provision_state"] == "available", (body["last_error"], vm.serial()[-3000:])
    return body


@contextlib.contextmanager
def fast_lab(tmp: Path, **settings: Any) -> Iterator[FastLab]:
    """The tiny image, the ramdisk, a service (SQLite, ``settings`` overrides) and a file server for the image."""
    image = images.build("tiny")
    ramdisk = build_ramdisk(shared_cache_dir())
    svc = ServiceUnderTest(make_settings(str(tmp), f"sqlite:///{tmp / 'iw.sqlite'}", **settings)).start()
    # QEMU's user network is this VM's DHCP server, and the agent's calls reach the service from 127.0.0.1
    # through its guestfwd: that is the MAC's lease, as dnsmasq's lease file would say (the lookup rule)
    seed_lease(svc, MAC, "127.0.0.1")
    www = tmp / "www"
    www.mkdir()
    files = FileServer(www)
    try:
        yield FastLab(svc, ramdisk, image, tmp, files)
    finally:
        files.close()
        svc.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastLab]:
    if os.geteuid() != 0:
        pytest.skip("building the ramdisk and the image needs root")
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    with fast_lab(tmp_path_factory.mktemp("fast-track-vm"), fast_track_timeout=FAST_TRACK_TIMEOUT) as built:
        yield built


def test_clean_then_deploy_on_one_ramdisk_boot(lab: FastLab) -> None:
    disks = lab.disks("one-boot")
    with lab.service.client() as api:
        node = lab.enroll(api, fast_track=True)
        provide(api, node)
        with QemuVm(lab.ramdisk_spec("one-boot", disks)) as vm:
            rested = cleaned(api, node, vm)
            assert rested["power_state"] == "power on"
            deploy(api, node, "fast-one")
            body = wait_for(api, node, ("active", "deploy failed"), vm)
            serial = vm.serial()
        assert body["provision_state"] == "active", (body["last_error"], serial[-3000:])
        assert serial.count(RAMDISK_STARTED) == 1, serial[-3000:]  # cleaning and deploy: one ramdisk boot
        assert body["driver_internal_info"]["agent_image"]["checksum"].endswith(lab.image.sha256_raw)
    with QemuVm(lab.disk_spec("one-boot-disk", disks)) as vm:  # and the written disk boots on its own
        vm.wait_for_serial(images.marker_line("fast-one"), timeout=180)


def test_dead_agent_falls_back_to_booting_the_ramdisk(lab: FastLab) -> None:
    disks = lab.disks("dead-agent")
    with lab.service.client() as api:
        node = lab.enroll(api, fast_track=True)
        provide(api, node)
        with QemuVm(lab.ramdisk_spec("dead-agent-clean", disks)) as vm:
            cleaned(api, node, vm)
        # the ramdisk is gone (power "stays on" for the fake BMC): wait out its heartbeats' fast_track_timeout
        time.sleep(FAST_TRACK_TIMEOUT + 1)
        deploy(api, node, "fast-fallback")
        body = settle(api, node)
        assert body["provision_state"] == "wait call-back"  # the ramdisk is booted again
        with QemuVm(lab.ramdisk_spec("dead-agent-deploy", disks)) as vm:
            body = wait_for(api, node, ("active", "deploy failed"), vm)
            serial = vm.serial()
        assert body["provision_state"] == "active", (body["last_error"], serial[-3000:])
        assert RAMDISK_STARTED in serial


def test_kexec_into_the_deployed_image(lab: FastLab) -> None:
    disks = lab.disks("kexec")
    with lab.service.client() as api:
        node = lab.enroll(api, fast_track=True, kexec=True)
        provide(api, node)
        with QemuVm(lab.ramdisk_spec("kexec", disks)) as vm:
            cleaned(api, node, vm)
            before_deploy = len(vm.serial())
            deploy(api, node, "kexec-one")
            body = wait_for(api, node, ("active", "deploy failed"), vm)
            assert body["provision_state"] == "active", (body["last_error"], vm.serial()[-3000:])
            serial = vm.wait_for_serial(images.marker_line("kexec-one"), timeout=180, start=before_deploy)
        after = serial[before_deploy:]
        assert POST_BANNER not in after and RAMDISK_STARTED not in after, after[-3000:]  # no firmware, no ramdisk
        assert serial.count(POST_BANNER) == 1  # the one firmware POST: when the test powered the VM on
        report = images.parse_console(serial)
        assert report.fields.get("root", "").startswith("/dev/vda"), report
        kexec = body["driver_internal_info"]["agent_kexec"]
        assert kexec["loaded"] and kexec["source"] == "grub" and kexec["kernel"] == "/boot/vmlinuz", kexec
    print(f"kexec deploy serial tail:\n{after[-1500:]}", file=sys.stderr)
