"""The real agent in a QEMU VM, driven by the real service (``-m vm``): a manual RAID clean, then a deploy
of a whole-disk image onto the RAID-1 root with a config drive and grub on both members.

The node uses fake power, so the test plays the power button: once the node waits for its agent (``clean
wait``, ``wait call-back``) it boots the deploy ramdisk with the same two virtio disk files; the agent looks
the node up on 127.0.0.1 through QEMU's user network and the service drives it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ironworks_agent.hardware import md

from ironworks.lab.qemu import Disk, GuestForward, Nic, QemuVm, UserNet, VmSpec
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
from ironworks.lab.ramdisk.builder import BuildResult
from ironworks.lab.ramdisk.vm import GUEST_API_ADDR, GUEST_API_PORT, blank_disks, ramdisk_vm
from tests.agent.conftest import FileServer
from tests.agent.test_raid_vm import _superblock, build_whole_disk_image
from tests.agent_service.conftest import agent_node, seed_lease
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest, make_settings

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]
MAC = "52:54:00:5e:00:41"
FILES_ADDR, FILES_PORT = "10.0.2.101", 8080
TARGET = {"logical_disks": [
    {"raid_level": "1", "size_gb": 0.25, "controller": "software", "volume_name": "root", "is_root_volume": True},
    {"raid_level": "0", "size_gb": "MAX", "controller": "software", "volume_name": "scratch"}]}
STEPS = [{"interface": "raid", "step": "delete_configuration"},
         {"interface": "deploy", "step": "erase_devices_metadata"},
         {"interface": "raid", "step": "create_configuration"}]


@dataclasses.dataclass
class Lab:
    service: ServiceUnderTest
    ramdisk: BuildResult
    work: Path
    disks: tuple[Disk, ...]
    files: FileServer
    node: str = ""

    def spec(self, name: str) -> VmSpec:
        spec = ramdisk_vm(self.ramdisk, self.work, mac=MAC, name=name, disks=self.disks,
                          api_port=self.service.port)
        forwards = (GuestForward(GUEST_API_ADDR, GUEST_API_PORT, self.service.port),
                    GuestForward(FILES_ADDR, FILES_PORT, self.files.httpd.server_address[1]))
        return dataclasses.replace(spec, nics=(Nic(MAC, UserNet(guest_forwards=forwards)),))

    def boot_until(self, api: httpx.Client, name: str, done: tuple[str, ...]) -> tuple[dict[str, Any], str]:
        """Press the power button: run the ramdisk VM until the node reaches one of ``done``."""
        started = time.monotonic()
        with QemuVm(self.spec(name)) as vm:
            while True:
                body = api.get(f"/v1/nodes/{self.node}").json()
                if body["provision_state"] in done and body["reservation"] is None:
                    break
                assert time.monotonic() < started + 600, f"still {body['provision_state']}: {vm.serial()[-3000:]}"
                time.sleep(1)
            serial = vm.serial()
        print(f"{name} with the real agent: {time.monotonic() - started:.1f} s", file=sys.stderr)
        return body, serial


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("building the ramdisk needs root")
    for tool in ("qemu-system-x86_64", "sgdisk", "mkfs.fat", "mmd"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    tmp = tmp_path_factory.mktemp("agent-vm")
    svc = ServiceUnderTest(make_settings(str(tmp), f"sqlite:///{tmp / 'iw.sqlite'}")).start()
    # QEMU's user network is this VM's DHCP server, and the agent's calls reach the service from 127.0.0.1
    # through its guestfwd: that is the MAC's lease, as dnsmasq's lease file would say (the lookup rule)
    seed_lease(svc, MAC, "127.0.0.1")
    www = tmp / "www"
    www.mkdir()
    files = FileServer(www)
    try:
        yield Lab(svc, build_ramdisk(shared_cache_dir()), tmp, blank_disks(tmp, 2, size_mib=2048), files)
    finally:
        files.close()
        svc.stop()


def test_manual_raid_clean_with_the_real_agent(lab: Lab) -> None:
    with lab.service.client() as api:
        lab.node = agent_node(api, mac=MAC)
        move(api, lab.node, "manage")
        assert api.put(f"/v1/nodes/{lab.node}/states/raid", json=TARGET).status_code == 204
        # twice: the second clean runs over the arrays the first one left (udev assembles them at boot),
        # the "kicking non-fresh member" case operators hit
        for run in ("agent-clean", "agent-clean-over-leftovers"):
            assert provision(api, lab.node, "clean", clean_steps=STEPS).status_code == 202
            assert settle(api, lab.node)["provision_state"] == "clean wait"
            body, serial = lab.boot_until(api, run, ("manageable", "clean failed"))
            assert body["provision_state"] == "manageable", (run, body["last_error"], serial[-4000:])
            root, scratch = body["raid_config"]["logical_disks"]
            assert root["device"] == "/dev/md/root" and root["raid_level"] == "1"
            assert root["members"] == ["/dev/vda3", "/dev/vdb3"]
            assert scratch["volume_name"] == "scratch"
            info = body["driver_internal_info"]
            assert info["agent_version"] and info["agent_last_heartbeat"]
    for disk in lab.disks:
        with open(disk.path, "rb") as fh:
            fh.seek(512)
            assert fh.read(8) == b"EFI PART", f"{disk.path.name} has no GPT"
        entries = {e.number: e for e in md.gpt_entries(str(disk.path))}
        assert _superblock(disk.path, entries[3].first * 512)[0].endswith("root")
        assert _superblock(disk.path, entries[4].first * 512)[0].endswith("scratch")


def test_deploy_onto_the_raid_with_the_real_agent(lab: Lab) -> None:
    if not lab.node:
        pytest.skip("the clean test did not run")
    image = lab.files.root / "image.raw"
    build_whole_disk_image(image, lab.work)
    checksum = hashlib.sha256(image.read_bytes()).hexdigest()
    with lab.service.client() as api:
        r = api.patch(f"/v1/nodes/{lab.node}", json=[
            {"op": "add", "path": "/instance_info/image_source", "value": f"http://{FILES_ADDR}:{FILES_PORT}/image.raw"},
            {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
            {"op": "add", "path": "/instance_info/image_os_hash_value", "value": checksum}])
        assert r.status_code == 200, r.text
        move(api, lab.node, "provide")
        r = provision(api, lab.node, "active", configdrive={"meta_data": {"uuid": lab.node, "hostname": "n1"}})
        assert r.status_code == 202, r.text
        assert settle(api, lab.node)["provision_state"] == "wait call-back"
        body, serial = lab.boot_until(api, "agent-deploy", ("active", "deploy failed"))
        assert body["provision_state"] == "active", (body["last_error"], serial[-4000:])
        assert body["driver_internal_info"]["agent_image"]["checksum"].endswith(checksum)
        assert api.get(f"/v1/nodes/{lab.node}/management/boot_device").json()["boot_device"] == "disk"
    for disk in lab.disks:  # the array, grub's boot code and the config drive on both members
        entries = {e.number: e for e in md.gpt_entries(str(disk.path))}
        name, data_offset = _superblock(disk.path, entries[3].first * 512)
        assert name.endswith("root")
        with open(disk.path, "rb") as fh:
            assert b"GRUB" in fh.read(512), f"{disk.path.name} has no grub boot code"
            inner_base = entries[3].first * 512 + data_offset
            inner = md.gpt_entries(str(disk.path), inner_base)
            assert inner[-1].name == "config-2", inner
            fh.seek(inner_base + inner[-1].first * 512 + 0x8000)
            pvd = fh.read(2048)
            assert pvd[1:6] == b"CD001" and pvd[40:72].decode().strip() == "config-2", disk.path.name
