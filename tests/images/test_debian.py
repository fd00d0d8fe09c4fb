"""The ``debian`` image (``-m vm``, slow: a build of a few minutes once, then cached; a boot of about a minute):
booted from disk with a config drive made the way a deploy makes it (``builder.from_request`` with root's SSH
key and password, network_data rendered from a layout), the real cloud-init applies hostname, key, password and
a static address, and the marker unit reports them on the serial console."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ironworks import images
from ironworks.configdrive import builder
from ironworks.configdrive import network_data as nd
from ironworks.configdrive.userdata import RootLogin
from ironworks.lab.qemu import Disk, Nic, QemuVm, UserNet
from tests.images.conftest import boot_spec, ed25519_public_key, fingerprint, require_build_tools

# late: scripts/test.sh runs this module after the non-VM tests, to balance its two processes
pytestmark = [pytest.mark.vm, pytest.mark.timeout(2400), pytest.mark.late]
MAC = "52:54:00:1d:eb:01"


@pytest.fixture(scope="module")
def debian() -> images.BuiltImage:
    require_build_tools()
    return images.build("debian")


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_cloud_init_applies_the_config_drive(debian: images.BuiltImage, tmp_path: Path, firmware: str) -> None:
    hostname = f"debian-{firmware}-node"
    key = ed25519_public_key(hostname)
    layout = nd.Layout(nics=(nd.Nic("nic0", MAC),), addresses=(nd.Address("nic0", address="10.0.2.15/24"),))
    drive = builder.from_request(
        {"meta_data": {"hostname": hostname}, "network_data": nd.render(layout)},
        node_uuid="0b4c3e9e-8d3f-4d8e-9a55-5f1d3c0e7a11",
        root=RootLogin(password="a-root-password", ssh_keys={"operator": key}),
    )
    iso = tmp_path / "config-2.iso"
    iso.write_bytes(drive.image)
    spec = boot_spec(
        f"debian-{firmware}",
        tmp_path,
        (Disk(debian.qcow2, "qcow2"), Disk(iso, "raw")),
        firmware=firmware,
        memory_mb=1024,
    )
    spec = dataclasses.replace(spec, nics=(Nic(MAC, UserNet()),))
    with QemuVm(spec) as vm:
        text = vm.wait_for_serial(images.marker_line(hostname), timeout=900)
    report = images.parse_console(text)
    assert report.hostname == hostname and report.firmware == firmware
    assert [line.split()[1] for line in report.ssh_keys] == [fingerprint(key)]
    assert report.fields.get("root-password") == "P"  # a usable password, set by cloud-init's chpasswd
    assert "10.0.2.15/24" in report.fields.get("addresses", "")  # network_data, rendered for ifupdown
    assert report.fields.get("cloud-init") == "done", text[-4000:]
    assert report.root_device == "/dev/vda3" and report.raid == "none"
    assert report.fields.get("ssh-host-keys") == "ed25519"  # made by cloud-init at first boot, one type
    assert "a-root-password" not in text
