"""The QEMU launcher: argv building (pure), the guest-forward bridge over real sockets, and real QEMU runs
(SeaBIOS and OVMF printing on the serial log, QMP, kill)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.lab.qemu import (
    OVMF_CODE,
    DirectBoot,
    Disk,
    GuestForward,
    HostForward,
    Nic,
    QemuError,
    QemuVm,
    TapNet,
    UserNet,
    VmSpec,
    command_line,
)

HAVE_QEMU = shutil.which("qemu-system-x86_64") is not None


def _value_after(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_default_machine_is_tcg_nographic_with_serial_log_and_qmp(tmp_path: Path) -> None:
    spec = VmSpec(name="n1", workdir=tmp_path)
    argv = command_line(spec)
    assert _value_after(argv, "-accel") == ["tcg"]
    assert _value_after(argv, "-cpu") == ["qemu64"]
    assert "-nographic" in argv and "-no-reboot" not in argv
    assert _value_after(argv, "-chardev") == [f"file,id=serial0,path={tmp_path}/n1.serial.log"]
    assert _value_after(argv, "-serial") == ["chardev:serial0"]
    assert _value_after(argv, "-qmp") == [f"unix:{tmp_path}/n1.qmp,server=on,wait=off"]
    assert _value_after(argv, "-nic") == ["none"]
    assert "-no-reboot" in command_line(VmSpec(name="n1", workdir=tmp_path, no_reboot=True))


def test_disks_nics_and_direct_boot(tmp_path: Path) -> None:
    spec = VmSpec(
        name="n2",
        workdir=tmp_path,
        disks=(Disk(tmp_path / "a,b.qcow2", serial="s1", bootindex=1), Disk(tmp_path / "c.raw", "raw")),
        nics=(
            Nic("52:54:00:00:00:01", UserNet(host_forwards=(HostForward(2222, 22),)), bootindex=2),
            Nic("52:54:00:00:00:02", TapNet("tap-n2")),
        ),
        boot=DirectBoot(tmp_path / "vmlinuz", tmp_path / "initrd", "console=ttyS0 BOOTIF=x"),
    )
    argv = command_line(spec)
    drives = _value_after(argv, "-drive")
    assert drives == [
        f"if=none,id=disk0,file={tmp_path}/a,,b.qcow2,format=qcow2,cache=writeback",
        f"if=none,id=disk1,file={tmp_path}/c.raw,format=raw,cache=writeback",
    ]
    devices = _value_after(argv, "-device")
    assert "virtio-blk-pci,drive=disk0,serial=s1,bootindex=1" in devices
    assert "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,bootindex=2" in devices
    assert "virtio-net-pci,netdev=net1,mac=52:54:00:00:00:02" in devices
    assert _value_after(argv, "-netdev") == [
        "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22",
        "tap,id=net1,ifname=tap-n2,script=no,downscript=no",
    ]
    assert _value_after(argv, "-kernel") == [str(tmp_path / "vmlinuz")]
    assert _value_after(argv, "-initrd") == [str(tmp_path / "initrd")]
    assert _value_after(argv, "-append") == ["console=ttyS0 BOOTIF=x"]


def test_user_net_is_restricted_and_forwards_stay_on_loopback(tmp_path: Path) -> None:
    net = UserNet(guest_forwards=(GuestForward("10.0.2.100", 6385, 40000),))
    (netdev,) = _value_after(
        command_line(VmSpec(name="n3", workdir=tmp_path, nics=(Nic("52:54:00:00:00:03", net),))), "-netdev"
    )
    assert netdev.startswith("user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:6385-cmd:")
    assert netdev.endswith("-m ironworks.lab.qemu --bridge 127.0.0.1:40000")
    for bad in (
        UserNet(host_forwards=(HostForward(2222, 22, host_addr="0.0.0.0"),)),
        UserNet(guest_forwards=(GuestForward("10.0.2.100", 80, 80, host_addr="192.0.2.1"),)),
    ):
        with pytest.raises(ValueError, match="127.0.0.1"):
            command_line(VmSpec(name="bad", workdir=tmp_path, nics=(Nic("52:54:00:00:00:04", bad),)))


def test_uefi_uses_ovmf_code_and_a_private_vars_copy(tmp_path: Path) -> None:
    argv = command_line(VmSpec(name="u", workdir=tmp_path, firmware="uefi"))
    assert _value_after(argv, "-drive") == [
        f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
        f"if=pflash,format=raw,unit=1,file={tmp_path}/u.OVMF_VARS.fd",
    ]


@pytest.fixture
def echo_server() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


def test_guest_forward_bridge_copies_both_ways(echo_server: int) -> None:
    """What QEMU runs for each guest connection: stdin/stdout are one socket, bridged to 127.0.0.1:port."""
    for _ in range(2):  # one bridge process per connection, as QEMU spawns them
        ours, theirs = socket.socketpair()
        with ours, theirs:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ironworks.lab.qemu", "--bridge", f"127.0.0.1:{echo_server}"],
                stdin=theirs,
                stdout=theirs,
            )
            ours.sendall(b"hello " * 5000)
            ours.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := ours.recv(65536):
                received += chunk
            assert received == b"HELLO " * 5000
            assert proc.wait(10) == 0


def test_bridge_refuses_other_addresses() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ironworks.lab.qemu", "--bridge", "192.0.2.1:80"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode != 0 and "127.0.0.1" in done.stderr


@pytest.mark.vm
@pytest.mark.skipif(not HAVE_QEMU, reason="qemu-system-x86_64 not installed")
def test_bios_prints_on_serial_qmp_answers_and_kill_stops(tmp_path: Path) -> None:
    disk = tmp_path / "empty.raw"
    disk.write_bytes(b"\0" * 2**20)
    spec = VmSpec(name="bios", workdir=tmp_path, memory_mb=128, cpus=1, disks=(Disk(disk, "raw", bootindex=1),))
    with QemuVm(spec) as vm:
        vm.wait_for_serial("SeaBIOS", timeout=60)
        assert vm.qmp("query-status")["status"] == "running"
        assert vm.qmp("query-name") == {"name": "bios"}
        vm.wait_for_serial("No bootable device", timeout=60)  # -nographic: firmware text is on the serial port
        with pytest.raises(QemuError, match="never-printed"):
            vm.wait_for_serial("never-printed", timeout=1)
        assert vm.kill() == 0  # QMP quit
        assert vm.process is not None and vm.process.poll() is not None
    with pytest.raises(QemuError, match="exited"):
        vm.wait_for_serial("never-printed", timeout=5)


@pytest.mark.vm
@pytest.mark.skipif(not (HAVE_QEMU and OVMF_CODE.exists()), reason="qemu or ovmf not installed")
def test_uefi_firmware_boots_on_serial(tmp_path: Path) -> None:
    spec = VmSpec(name="uefi", workdir=tmp_path, memory_mb=256, cpus=1, firmware="uefi")
    with QemuVm(spec) as vm:
        vm.wait_for_serial("BdsDxe", timeout=120)
        assert spec.uefi_vars.stat().st_size == Path("/usr/share/OVMF/OVMF_VARS_4M.fd").stat().st_size


@pytest.mark.skipif(not HAVE_QEMU, reason="qemu-system-x86_64 not installed")
def test_start_reports_qemu_errors(tmp_path: Path) -> None:
    spec = VmSpec(name="broken", workdir=tmp_path, disks=(Disk(tmp_path / "missing.qcow2"),))
    with pytest.raises(QemuError, match="missing.qcow2"):
        QemuVm(spec).start()


@pytest.mark.vm
@pytest.mark.skipif(not HAVE_QEMU, reason="qemu-system-x86_64 not installed")
def test_serial_socket_gets_firmware_output_and_the_log_too(tmp_path: Path) -> None:
    """A BMC's serial-over-LAN listens on a unix socket; QEMU connects to it and still writes the log."""
    path = tmp_path / "console.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    listener.settimeout(30)
    spec = VmSpec(name="sol", workdir=tmp_path, memory_mb=128, cpus=1, serial_socket=path)
    with listener, QemuVm(spec) as vm:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(60)
            received = b""
            while b"SeaBIOS" not in received:
                chunk = conn.recv(4096)
                assert chunk, "QEMU closed the console socket"
                received += chunk
        vm.wait_for_serial("SeaBIOS", timeout=30)
