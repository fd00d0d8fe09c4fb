"""The deploy ramdisk builder: pieces on the host, then the real image booted under QEMU TCG.

The ``vm`` tests build the ramdisk (debootstrap from the machine's Debian mirror; about a minute the first time,
cached under ``$IRONWORKS_RAMDISK_CACHE`` or /var/tmp/ironworks-ramdisk-cache afterwards), boot it with two
virtio disks and user-mode networking, and check what the guest really did: the agent's lookup arriving at a
small HTTP server on 127.0.0.1 with the VM's MAC and a clean power-off; a RAID-1 built by ``mdadm`` in the guest
(superblocks checked on both disk images from the host), reassembled by udev on the next boot and wiped by the
agent's ``erase_devices_metadata`` driven over the agent protocol; a UEFI (OVMF) boot.
"""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.lab.qemu import DirectBoot, GuestForward, Nic, QemuVm, UserNet, VmSpec
from ironworks.lab.ramdisk import RamdiskSpec, build_ramdisk, detect_mirror, shared_cache_dir
from ironworks.lab.ramdisk.base import BaseImage, module_closure, parse_modules_dep
from ironworks.lab.ramdisk.builder import find_agent_root, pack_stage
from ironworks.lab.ramdisk.cpio import DeviceNode, write_newc
from ironworks.lab.ramdisk.overlay import FILES, SITE_DIR, install_agent
from ironworks.lab.ramdisk.vm import blank_disks, ramdisk_vm

MD_MAGIC = bytes.fromhex("fc4e2ba9")  # md superblock 1.x magic 0xa92b4efc, little endian
MD_SUPERBLOCK_OFFSET = 4096  # metadata 1.2


# -- host-only pieces ---------------------------------------------------------------------------------------


def test_mirror_comes_from_the_apt_sources(tmp_path: Path) -> None:
    (tmp_path / "etc/apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "etc/apt/sources.list").write_text("# nothing here\n")
    (tmp_path / "etc/apt/sources.list.d/other.list").write_text(
        "deb [arch=amd64] https://packages.example.test/apt stable main\n"
    )
    (tmp_path / "etc/apt/sources.list.d/x.list.disabled").write_text("deb http://wrong.test/debian bookworm main\n")
    (tmp_path / "etc/apt/sources.list.d/debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.test/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\n"
    )
    assert detect_mirror("bookworm", root=tmp_path) == "http://mirror.test/debian"
    with pytest.raises(LookupError):
        detect_mirror("trixie", root=tmp_path)
    (tmp_path / "etc/apt/sources.list").write_text("deb [signed-by=/k.gpg] http://one.test/debian trixie main\n")
    assert detect_mirror("trixie", root=tmp_path) == "http://one.test/debian"


def test_base_key_follows_every_input() -> None:
    spec = RamdiskSpec(mirror="http://mirror.test/debian")
    assert spec.base_key() == RamdiskSpec(mirror="http://mirror.test/debian").base_key()
    changed = [
        RamdiskSpec(mirror="http://other.test/debian"),
        RamdiskSpec(mirror=spec.mirror, packages=spec.packages + ("lvm2",)),
        RamdiskSpec(mirror=spec.mirror, modules=spec.modules + ("xfs",)),
        RamdiskSpec(mirror=spec.mirror, suite="trixie"),
    ]
    assert len({spec.base_key(), *(s.base_key() for s in changed)}) == 5


def test_module_closure_follows_modules_dep() -> None:
    table = parse_modules_dep(
        "kernel/drivers/md/raid1.ko: kernel/drivers/md/md-mod.ko\n"
        "kernel/drivers/md/md-mod.ko:\n"
        "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko\n"
        "kernel/fs/jbd2/jbd2.ko:\n"
        "kernel/fs/mbcache.ko:\n"
        "kernel/drivers/net/dummy.ko:\n"
    )
    assert module_closure(["raid1", "ext4", "not_a_module"], table) == [
        "kernel/drivers/md/md-mod.ko",
        "kernel/drivers/md/raid1.ko",
        "kernel/fs/ext4/ext4.ko",
        "kernel/fs/jbd2/jbd2.ko",
        "kernel/fs/mbcache.ko",
    ]


def _tree(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    (root / "bin/tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (root / "bin/tool").chmod(0o755)
    os.link(root / "bin/tool", root / "bin/tool-alias")
    (root / "bin/sh").symlink_to("tool")
    (root / "etc").mkdir()
    (root / "etc/conf").write_text("base\n")
    (root / "etc/odd").write_bytes(b"abc")  # length not a multiple of 4: padding


@pytest.mark.skipif(shutil.which("cpio") is None, reason="GNU cpio not installed")
def test_cpio_archive_is_deterministic_and_extracts(tmp_path: Path) -> None:
    base, overlay = tmp_path / "base", tmp_path / "overlay"
    _tree(base)
    (overlay / "etc").mkdir(parents=True)
    (overlay / "etc/conf").write_text("overlay wins\n")
    (overlay / "init").write_text("#!/bin/sh\n")
    archive = tmp_path / "a.cpio"
    with open(archive, "wb") as out:
        count = write_newc(
            out, [base, overlay], mtime=1_700_000_000, devices=[DeviceNode("dev/console", 0o20600, 5, 1)]
        )
    assert count == 9  # bin, bin/sh, bin/tool, bin/tool-alias, dev/console, etc, etc/conf, etc/odd, init
    os.utime(base / "etc/conf", (1, 1))  # mtimes on disk do not matter
    again = tmp_path / "b.cpio"
    with open(again, "wb") as out:
        write_newc(out, [base, overlay], mtime=1_700_000_000, devices=[DeviceNode("dev/console", 0o20600, 5, 1)])
    assert archive.read_bytes() == again.read_bytes()

    listing = subprocess.run(
        ["cpio", "-t", "-v", "-F", str(archive)], capture_output=True, text=True, check=True
    ).stdout
    assert "crw-------" in listing and "dev/console" in listing
    assert "bin/sh -> tool" in listing
    names = [line.split()[-1] for line in listing.splitlines() if "->" not in line]
    assert names == sorted(names)
    out_dir = tmp_path / "x"
    out_dir.mkdir()
    subprocess.run(
        ["cpio", "-i", "-d", "-m", "--no-absolute-filenames", "-F", str(archive), "--nonmatching", "dev/*"],
        cwd=out_dir,
        check=True,
        capture_output=True,
    )
    assert (out_dir / "etc/conf").read_text() == "overlay wins\n"
    assert (out_dir / "etc/odd").read_bytes() == b"abc"
    assert (out_dir / "bin/tool-alias").read_bytes() == b"#!/bin/sh\necho tool\n"
    assert (out_dir / "bin/tool").stat().st_mode & 0o111
    assert (out_dir / "bin/sh").readlink() == Path("tool")
    assert int((out_dir / "init").stat().st_mtime) == 1_700_000_000


def test_agent_is_installed_with_metadata_and_precompiled(tmp_path: Path) -> None:
    fake_base = tmp_path / "base"
    cache = fake_base / "rootfs/usr/lib/python3.11/__pycache__"
    cache.mkdir(parents=True)
    (cache / "os.cpython-311.pyc").write_bytes(importlib.util.MAGIC_NUMBER + b"\0" * 12)
    overlay = tmp_path / "overlay"
    version = install_agent(BaseImage(fake_base), overlay, find_agent_root())
    site = overlay / SITE_DIR
    assert (site / f"ironworks_agent-{version}.dist-info/METADATA").read_text().startswith("Metadata-Version")
    entry_points = (site / f"ironworks_agent-{version}.dist-info/entry_points.txt").read_text()
    assert "ironworks-agent = ironworks_agent.main:main" in entry_points
    launcher = (overlay / "usr/local/bin/ironworks-agent").read_text()
    assert launcher.startswith("#!/usr/bin/python3") and "from ironworks_agent.main import main" in launcher
    pycs = sorted(site.glob("ironworks_agent/**/__pycache__/*.pyc"))
    sources = sorted(site.glob("ironworks_agent/**/*.py"))
    assert pycs and len(pycs) == len(sources)
    assert all(p.read_bytes()[4:8] == b"\x01\0\0\0" for p in pycs)  # unchecked-hash: mtimes do not matter
    # the installed copy imports from its own directory, from the .pyc files, in a fresh interpreter
    probe = (
        "import sys, ironworks_agent.main as m, importlib.metadata as md;"
        "print(m.__file__); print(md.version('ironworks-agent'))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {probe}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.split() == [str(site / "ironworks_agent/main.py"), version]


def test_init_scripts_parse() -> None:
    for script in [FILES / "init", FILES / "udhcpc.script", *sorted((FILES / "selftest").glob("*.sh"))]:
        subprocess.run(["sh", "-n", str(script)], check=True)


# -- the real image -----------------------------------------------------------------------------------------


def _cache_dir() -> Path:
    return shared_cache_dir()


@pytest.fixture(scope="module")
def ramdisk():  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.skip("building the ramdisk needs root (debootstrap, chroot)")
    result = build_ramdisk(_cache_dir(), say=lambda line: print(line, file=sys.stderr))
    print(result.summary(), file=sys.stderr)
    return result


@pytest.mark.vm
def test_build_is_cached_and_reproducible(ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    again = build_ramdisk(_cache_dir())
    assert again.cached and again.key == ramdisk.key
    assert again.initrd.read_bytes() == ramdisk.initrd.read_bytes()
    # pack the same inputs again elsewhere: same bytes
    base = BaseImage(_cache_dir() / f"base-{ramdisk.manifest['base_key']}")
    manifest = ramdisk.manifest
    pack_stage(
        base,
        tmp_path / "image",
        find_agent_root(),
        ramdisk.key,
        str(manifest["compression"]),
        int(manifest["source_date_epoch"]),
    )  # type: ignore[call-overload]
    repacked = json.loads((tmp_path / "image/manifest.json").read_text())
    assert repacked["initrd_sha256"] == hashlib.sha256((tmp_path / "image/initrd.img").read_bytes()).hexdigest()
    assert repacked["initrd_sha256"] == manifest["initrd_sha256"]
    assert manifest["agent_version"]
    assert str(manifest["kernel_version"]).endswith("-amd64")


class _LookupRecorder(http.server.BaseHTTPRequestHandler):
    """Answers every lookup with Ironic's 404 body and records it."""

    requests: list[tuple[float, str, dict[str, list[str]], dict[str, str]]]

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urllib.parse.urlsplit(self.path)
        self.requests.append((time.monotonic(), url.path, urllib.parse.parse_qs(url.query), dict(self.headers)))
        body = json.dumps(
            {"error_message": json.dumps({"faultstring": "Node could not be found.", "debuginfo": None})}
        ).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lookup_server() -> Iterator[tuple[int, list[tuple[float, str, dict[str, list[str]], dict[str, str]]]]]:
    recorded: list[tuple[float, str, dict[str, list[str]], dict[str, str]]] = []
    handler = type("Handler", (_LookupRecorder,), {"requests": recorded})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], recorded
    server.shutdown()
    server.server_close()


@pytest.mark.vm
@pytest.mark.timeout(420)
def test_ramdisk_boots_and_the_agent_looks_up_by_mac(ramdisk, lookup_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port, requests = lookup_server
    disks = blank_disks(tmp_path, 2)
    mac = "52:54:00:5e:00:17"
    append = (
        "console=ttyS0 ironworks.selftest=python ironworks.api_url=http://10.0.2.100:6385 "
        f"BOOTIF=01-{mac.replace(':', '-')} ironworks.lookup_timeout=3"
    )
    spec = VmSpec(
        name="ramdisk",
        workdir=tmp_path,
        disks=disks,
        nics=(Nic(mac, UserNet(guest_forwards=(GuestForward("10.0.2.100", 6385, port),))),),
        boot=DirectBoot(ramdisk.vmlinux or ramdisk.kernel, ramdisk.initrd, append),
    )
    with QemuVm(spec) as vm:
        vm.wait_for_serial("ironworks-init: starting ironworks-agent", timeout=240)
        status = vm.wait(240)  # no node for this MAC: the agent gives up, /init powers the VM off
        serial = vm.serial()
    first = requests[0][0] - vm.started_at if requests else None
    print(f"QEMU start → first agent request: {first:.1f} s" if first else "no request", file=sys.stderr)
    assert status == 0
    assert "IRONWORKS-SELFTEST python PASS" in serial
    assert "ironworks-init: network up on" in serial
    assert "ironworks-init: finishing: poweroff" in serial
    assert "reboot: Power down" in serial
    assert requests, serial[-3000:]
    assert {path for _, path, _, _ in requests} == {"/v1/lookup"}
    addresses = requests[0][2]["addresses"][0].split(",")
    assert addresses[0] == mac
    assert requests[0][3].get("User-Agent", "").startswith("ironworks-agent/")
    assert len(requests) >= 2  # it retried over fresh connections through the guest forward


@pytest.mark.vm
@pytest.mark.timeout(300)
def test_ramdisk_boots_through_uefi(ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """OVMF starts the bzImage's EFI stub; /init mounts efivarfs so the agent can see and set boot entries."""
    spec = ramdisk_vm(
        ramdisk, tmp_path, mac="52:54:00:5e:00:19", firmware="uefi", params="ironworks.selftest=uefi ironworks.agent=0"
    )
    assert spec.boot is not None and spec.boot.kernel == ramdisk.kernel  # the bzImage, not the PVH vmlinux
    with QemuVm(spec) as vm:
        status = vm.wait(240)
        serial = vm.serial()
    assert status == 0
    assert "IRONWORKS-SELFTEST uefi PASS" in serial, serial[-3000:]
    assert "ironworks-init: network up on" in serial


@pytest.mark.vm
def test_cli_build_copies_the_cached_image(ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ironworks.cli import main

    assert main(["ramdisk", "build", "--cache-dir", str(_cache_dir()), "--output", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["key"] == ramdisk.key
    assert hashlib.sha256((tmp_path / "initrd.img").read_bytes()).hexdigest() == manifest["initrd_sha256"]
    assert (tmp_path / "vmlinuz").read_bytes() == ramdisk.kernel.read_bytes()


@pytest.mark.vm
@pytest.mark.timeout(420)
def test_agent_in_the_vm_reports_disks_and_erases_raid_leftovers(ramdisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The agent in the ramdisk against a real HTTP implementation of docs/agent-protocol.md: lookup with the
    VM's MAC, token on every call, heartbeats, ``get_inventory`` over the virtio disks, then
    ``erase_devices_metadata`` over the RAID-1 members the ``raid1`` self-test left behind."""
    from tests.agent.protocol_stub import TOKEN_HEADER, ProtocolStub

    mac = "52:54:00:5e:00:18"
    stub = ProtocolStub({mac}, heartbeat_interval=3, poll_wait=5)
    disks = blank_disks(tmp_path, 2)
    port = int(stub.url.rsplit(":", 1)[1])
    # first boot: leave a RAID-1 on both disks, as a previous tenant would
    first = ramdisk_vm(
        ramdisk, tmp_path, mac=mac, name="first", disks=disks, params="ironworks.selftest=raid1 ironworks.agent=0"
    )
    with QemuVm(first) as vm:
        assert vm.wait(240) == 0
        assert "IRONWORKS-SELFTEST raid1 PASS" in vm.serial(), vm.serial()[-3000:]
    for disk in disks:  # the RAID-1 really was on both virtio disks
        with open(disk.path, "rb") as handle:
            handle.seek(MD_SUPERBLOCK_OFFSET)
            assert handle.read(4) == MD_MAGIC, f"no md superblock on {disk.path.name}"
    # second boot: udev assembles the leftover array; the agent must stop it before wiping its members
    spec = ramdisk_vm(
        ramdisk, tmp_path, mac=mac, name="agent", disks=disks, api_port=port, params="ironworks.selftest=mdstat"
    )
    try:
        with QemuVm(spec) as vm:
            stub.send("inv-1", "get_inventory")
            stub.send("erase-1", "erase_devices_metadata", {"devices": ["/dev/vda", "/dev/vdb"]})
            try:
                results = stub.wait_results(2, timeout=300)
            finally:
                serial = vm.serial()
    finally:
        stub.close()
    assert "md127 : active" in serial or "md127 : inactive" in serial, serial[-3000:]  # assembled at boot
    inventory = results["inv-1"][0]
    assert inventory["status"] == "SUCCEEDED", inventory
    found = {d["name"]: d for d in inventory["result"]["inventory"]["disks"]}
    assert {"/dev/vda", "/dev/vdb"} <= set(found), found
    assert found["/dev/vda"]["size"] == 64 * 2**20
    assert found["/dev/vdb"]["serial"] == "disk-1"
    assert str(found["/dev/vda"]["by_path"]).startswith("/dev/disk/by-path/pci-")
    macs = [i["mac_address"] for i in inventory["result"]["inventory"]["interfaces"]]
    assert mac in macs
    erased = results["erase-1"][0]
    assert erased["status"] == "SUCCEEDED", erased
    seen = stub.state.seen
    assert seen[0].path == "/v1/lookup" and seen[0].token is None
    assert all(s.token == stub.state.token for s in seen[1:] if s.path != "/v1/lookup"), TOKEN_HEADER
    assert any(s.path.startswith("/v1/heartbeat/") for s in seen)
    for disk in disks:  # the members' md superblocks (and the ext4 inside the array) are gone
        with open(disk.path, "rb") as handle:
            handle.seek(MD_SUPERBLOCK_OFFSET)
            assert handle.read(4) != MD_MAGIC, f"md superblock left on {disk.path.name}"
        probe = subprocess.run(["blkid", "-p", str(disk.path)], capture_output=True, text=True, check=False)
        assert probe.returncode == 2, probe.stdout  # 2: nothing recognised
