"""Finding the deployed image's kernel for kexec (``ironworks_agent.hardware.bootfind``), on plain directory
trees laid out like the filesystems of real images: Debian's grub.cfg, extlinux, BLS entries, bare symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from ironworks_agent.hardware import bootfind

DEBIAN_GRUB = """\
set default="0"
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
else
   set default="0"
fi
function load_video {
  linux /nonsense/in/a/function
}
set root='hd0,gpt3'
set rootopts="ro quiet"
menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {
	load_video
	insmod ext2
	echo	'Loading Linux 6.1.0-27-amd64 ...'
	linux	/boot/vmlinuz-6.1.0-27-amd64 root=UUID=1234 ${rootopts} console=ttyS0 $unknown
	initrd	/boot/initrd.img-6.1.0-27-amd64
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-26-amd64' $menuentry_id_option 'gnulinux-6.1.0-26' {
		linux	(hd0,gpt3)/boot/vmlinuz-6.1.0-26-amd64 root=UUID=1234 ro single
		initrd	/boot/intel-ucode.img /boot/initrd.img-6.1.0-26-amd64
	}
}
"""


def _files(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_debian_grub_default_entry(tmp_path: Path) -> None:
    _files(tmp_path, "boot/vmlinuz-6.1.0-27-amd64", "boot/initrd.img-6.1.0-27-amd64")
    (tmp_path / "boot/grub").mkdir(parents=True)
    (tmp_path / "boot/grub/grub.cfg").write_text(DEBIAN_GRUB)
    entry = bootfind.find_boot_entry(str(tmp_path))
    assert entry == bootfind.BootEntry(
        "grub",
        "/boot/vmlinuz-6.1.0-27-amd64",
        ("/boot/initrd.img-6.1.0-27-amd64",),
        "root=UUID=1234 ro quiet console=ttyS0",
        "/boot/grub/grub.cfg",
    )


def test_grub_default_by_id_inside_a_submenu_and_several_initrds(tmp_path: Path) -> None:
    cfg = DEBIAN_GRUB.replace('else\n   set default="0"', 'else\n   set default="gnulinux-6.1.0-26"')
    entry = bootfind.parse_grub(cfg)
    assert entry is not None
    assert entry.kernel == "/boot/vmlinuz-6.1.0-26-amd64"  # the (hd0,gpt3) device prefix is dropped
    assert entry.initrds == ("/boot/intel-ucode.img", "/boot/initrd.img-6.1.0-26-amd64")
    assert entry.cmdline == "root=UUID=1234 ro single"


def test_grub_on_a_separate_boot_partition(tmp_path: Path) -> None:
    # /boot's own filesystem: grub.cfg names /vmlinuz…, the files sit at its root
    _files(tmp_path, "vmlinuz-6.1.0-27-amd64", "initrd.img-6.1.0-27-amd64")
    (tmp_path / "grub").mkdir()
    (tmp_path / "grub/grub.cfg").write_text(DEBIAN_GRUB.replace("/boot/", "/"))
    entry = bootfind.find_boot_entry(str(tmp_path))
    assert entry is not None and entry.kernel == "/vmlinuz-6.1.0-27-amd64"


def test_grub_without_a_kernel_is_not_an_entry(tmp_path: Path) -> None:
    # the image of tests/agent/test_raid_vm.py: grub prints a marker and halts
    (tmp_path / "boot/grub").mkdir(parents=True)
    (tmp_path / "boot/grub/grub.cfg").write_text('serial --unit=0\necho "IRONWORKS-GRUB-OK"\nhalt\n')
    assert bootfind.find_boot_entry(str(tmp_path), fs_uuid="abcd") is None


def test_extlinux_default_label_relative_paths_and_initrd_in_append(tmp_path: Path) -> None:
    _files(tmp_path, "boot/vmlinuz", "boot/initrd.img", "boot/rescue")
    (tmp_path / "boot/extlinux").mkdir()
    (tmp_path / "boot/extlinux/extlinux.conf").write_text(
        "# tiny image\nDEFAULT tiny\nTIMEOUT 1\n"
        "LABEL rescue\n  KERNEL ../rescue\n"
        "LABEL tiny\n  LINUX ../vmlinuz\n  APPEND console=ttyS0 initrd=../initrd.img quiet\n"
    )
    entry = bootfind.find_boot_entry(str(tmp_path))
    assert entry == bootfind.BootEntry(
        "extlinux", "/boot/vmlinuz", ("/boot/initrd.img",), "console=ttyS0 quiet", "/boot/extlinux/extlinux.conf"
    )


def test_extlinux_entry_with_a_missing_initrd_is_skipped_for_the_next_source(tmp_path: Path) -> None:
    _files(tmp_path, "boot/vmlinuz-6.1.0-27-amd64", "boot/initrd.img-6.1.0-27-amd64")
    (tmp_path / "extlinux.conf").write_text("LABEL a\n KERNEL /boot/vmlinuz-6.1.0-27-amd64\n INITRD /gone.img\n")
    entry = bootfind.find_boot_entry(str(tmp_path), fs_uuid="f00d", console="console=ttyS0,115200")
    assert entry == bootfind.BootEntry(
        "kernel-files",
        "/boot/vmlinuz-6.1.0-27-amd64",
        ("/boot/initrd.img-6.1.0-27-amd64",),
        "root=UUID=f00d ro console=ttyS0,115200",
    )


def test_loader_entries_newest_version_first(tmp_path: Path) -> None:
    _files(tmp_path, "vmlinuz-6.9", "initramfs-6.9.img", "vmlinuz-6.10", "initramfs-6.10.img")
    entries = tmp_path / "loader/entries"
    entries.mkdir(parents=True)
    for version in ("6.9", "6.10"):
        (entries / f"fedora-{version}.conf").write_text(
            f"title Fedora\nversion {version}\nlinux /vmlinuz-{version}\ninitrd /initramfs-{version}.img\n"
            f"options root=UUID=beef ro\noptions console=ttyS0\n"
        )
    entry = bootfind.find_boot_entry(str(tmp_path))
    assert entry is not None
    assert (entry.source, entry.kernel, entry.initrds) == ("loader-entries", "/vmlinuz-6.10", ("/initramfs-6.10.img",))
    assert entry.cmdline == "root=UUID=beef ro console=ttyS0"


def test_debian_symlinks_are_followed_inside_the_image(tmp_path: Path) -> None:
    _files(tmp_path, "boot/vmlinuz-6.1.0-27-amd64", "boot/initrd.img-6.1.0-27-amd64", "etc/kernel/cmdline")
    (tmp_path / "etc/kernel/cmdline").write_text("root=LABEL=img ro\n")
    os.symlink("/boot/vmlinuz-6.1.0-27-amd64", tmp_path / "vmlinuz")  # absolute: re-rooted at the image
    os.symlink("boot/initrd.img-6.1.0-27-amd64", tmp_path / "initrd.img")
    entry = bootfind.find_boot_entry(str(tmp_path), console="console=ttyS0")
    assert entry == bootfind.BootEntry("kernel-files", "/vmlinuz", ("/initrd.img",), "root=LABEL=img ro console=ttyS0")


def test_symlinks_never_leave_the_image(tmp_path: Path) -> None:
    image = tmp_path / "image"
    (image / "boot").mkdir(parents=True)
    outside = tmp_path / "host-secret"
    outside.write_text("host file")
    os.symlink("../../host-secret", image / "boot/vmlinuz")
    os.symlink(str(outside), image / "vmlinuz")
    assert bootfind.resolve_inside(str(image), "/boot/vmlinuz") is None
    assert bootfind.resolve_inside(str(image), "/vmlinuz") is None
    os.symlink("loop", image / "loop")
    assert bootfind.resolve_inside(str(image), "/loop") is None
    assert bootfind.find_boot_entry(str(image), fs_uuid="x") is None


def test_plain_kernel_without_any_root_hint_is_not_guessed(tmp_path: Path) -> None:
    _files(tmp_path, "boot/vmlinuz", "boot/initrd.img")
    assert bootfind.find_boot_entry(str(tmp_path)) is None  # no fs uuid, no etc/kernel/cmdline
    args = "BOOTIF=x console=tty0 console=ttyS0,115200 quiet"
    assert bootfind.console_args(args) == "console=tty0 console=ttyS0,115200"
