"""The marker contract other tests and the lab rely on: the exact marker line, and reading the ``ironworks-os:``
lines of the last boot back from a serial log (kernel noise, CRs and an earlier boot around them)."""

from __future__ import annotations

from ironworks import images

LOG = """\
ironworks-os: cmdline=root=UUID=aaa console=ttyS0 quiet
ironworks-os: hostname=old-name up
[    3.1] reboot: Restarting system
SeaBIOS (version 1.16.2-debian-1.16.2-1)\r
ironworks-os: cmdline=BOOT_IMAGE=/boot/vmlinuz root=UUID=bbb console=ttyS0\r
ironworks-os: firmware=uefi\r
[    2.5] md/raid1:md127: active with 2 out of 2 mirrors
ironworks-os: root=/dev/md127p3 fs=ext4 kernel=/boot/vmlinuz raid=raid1:2 members=vda3,vdb3 degraded=0
ironworks-os: config-drive=/dev/md127p4 public-keys=1
ironworks-os: ssh-key=256 SHA256:abc operator (ED25519)
ironworks-os: ssh-key=256 SHA256:def other (ED25519)
ironworks-os: cloud-init=done
ironworks-os: hostname=node-1 up
"""


def test_the_marker_line_is_exact_per_hostname() -> None:
    assert images.marker_line("node-1") == "ironworks-os: hostname=node-1 up"
    assert images.marker_line("n1") not in images.marker_line("n10")  # waiting for n1 never matches n10
    assert images.marker_line("node-1").startswith(images.MARKER_PREFIX)


def test_parse_console_reads_the_last_boot() -> None:
    report = images.parse_console(LOG)
    assert report.hostname == "node-1"
    assert report.cmdline == "BOOT_IMAGE=/boot/vmlinuz root=UUID=bbb console=ttyS0"
    assert report.firmware == "uefi"
    assert report.root_device == "/dev/md127p3"
    assert report.raid == "raid1:2 members=vda3,vdb3 degraded=0"
    assert report.config_drive == "/dev/md127p4 public-keys=1"
    assert report.ssh_keys == ("256 SHA256:abc operator (ED25519)", "256 SHA256:def other (ED25519)")
    assert report.fields["cloud-init"] == "done"


def test_parse_console_of_a_log_without_markers() -> None:
    report = images.parse_console("SeaBIOS\nGRUB loading...\n")
    assert report.hostname is None and report.raid is None and report.ssh_keys == ()
