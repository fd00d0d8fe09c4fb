"""The ``debian`` image: Debian bookworm with cloud-init, openssh-server and grub, for BIOS and UEFI.

The real cloud-init reads the config drive (datasource ConfigDrive only), so the hostname, root's SSH keys and
password and network_data (rendered for ifupdown) really get applied; then ``ironworks-marker.service`` prints
what it sees on the console, the marker line last (files/debian/, marker.py). Recipe and boot-speed notes
from shared/LAB-NOTES.md ("Deployable OS image").

Stages (cache.py):

1. ``debian-rootfs-<key>`` (slow, about 1–2 minutes): ``debootstrap --variant=minbase``, then in the chroot
   (``/proc`` mounted, services prevented from starting by ``policy-rc.d``) ``apt-get install
   --no-install-recommends`` of the kernel, systemd, cloud-init, openssh-server, ifupdown, mdadm and grub's
   BIOS and EFI modules, with ``MODULES=list`` so the initrd holds only the listed drivers (36 → 7 MB).
   Then trimmed: docs, apt lists, drivers no virtual or real server here needs, SSH host keys (cloud-init makes
   an ed25519 one at first boot), an empty ``/etc/resolv.conf`` and ``/etc/machine-id``.
2. ``debian-<key>`` (seconds): a copy of the rootfs with the files of ``files/debian`` (cloud-init settings,
   the marker unit, sshd's host key setting), units that only cost boot time masked, then the disk
   (wholedisk.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from ironworks.images import cache, wholedisk
from ironworks.images.disk import run
from ironworks.images.errors import ImageBuildError
from ironworks.lab.ramdisk.spec import detect_mirror

#: bump when a stage changes behaviour
ROOTFS_VERSION = 1
IMAGE_VERSION = 1
SUITE = "bookworm"
FILES = Path(__file__).with_name("files") / "debian"
PACKAGES = (
    "linux-image-amd64",
    "initramfs-tools",
    "busybox",  # initramfs-tools' scripts (mdadm's among them) need more than klibc's tools
    "systemd",
    "systemd-sysv",
    "udev",
    "dbus",
    "kmod",
    "cloud-init",
    "openssh-server",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "netbase",
    "mdadm",
    "grub-pc-bin",
    "grub-efi-amd64-bin",
    "grub2-common",
)
#: drivers in the initrd (MODULES=list); mdadm's hook adds the RAID levels
INITRD_MODULES = (
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "virtio_net",
    "sd_mod",
    "sr_mod",
    "ahci",
    "ata_piix",
    "nvme",
    "ext4",
    "vfat",
    "isofs",
    "md_mod",
    "raid1",
)
TRIM = (
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "var/cache/apt/*",
    "var/lib/apt/lists/*",
    "var/log/*",
    "etc/ssh/ssh_host_*",
)
TRIM_MODULES = (
    "sound",
    "drivers/gpu",
    "drivers/media",
    "drivers/net/wireless",
    "drivers/infiniband",
    "drivers/staging",
    "drivers/bluetooth",
    "net/bluetooth",
    "net/wireless",
    "net/mac80211",
    "drivers/iio",
    "drivers/isdn",
)
MASKED = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "getty@tty1.service",
    "mdmonitor-oneshot.timer",
    "mdcheck_start.timer",
    "mdcheck_continue.timer",
)
CMDLINE = "ro console=ttyS0,115200 quiet"


def _chroot_env() -> dict[str, str]:
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        "HOME": "/root",
    }


def rootfs_key(mirror: str) -> str:
    return cache.key_of(
        {
            "version": ROOTFS_VERSION,
            "suite": SUITE,
            "mirror": mirror,
            "packages": sorted(PACKAGES),
            "initrd_modules": list(INITRD_MODULES),
            "trim": [list(TRIM), list(TRIM_MODULES)],
        }
    )


def image_key(rootfs: str, epoch: int) -> str:
    return cache.key_of(
        {
            "kind": "debian",
            "version": IMAGE_VERSION,
            "rootfs": rootfs,
            "files": cache.tree_hash(FILES),
            "masked": list(MASKED),
            "cmdline": CMDLINE,
            "grub": [cache.package_version("grub-pc-bin"), cache.package_version("grub-efi-amd64-bin")],
            "epoch": epoch,
        }
    )


def _chroot(rootfs: Path, *argv: str, step: str) -> str:
    return run(["chroot", str(rootfs), *argv], step=step, env=_chroot_env())


def _trim(rootfs: Path, version: str) -> None:
    for pattern in TRIM:
        for path in rootfs.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    modules = rootfs / "lib/modules" / version / "kernel"
    for rel in TRIM_MODULES:
        shutil.rmtree(modules / rel, ignore_errors=True)
    _chroot(rootfs, "depmod", version, step="depmod")
    (rootfs / "etc/resolv.conf").unlink(missing_ok=True)
    (rootfs / "etc/resolv.conf").write_text("")
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "var/lib/dbus/machine-id").unlink(missing_ok=True)


def build_rootfs(mirror: str, target: Path, say: Callable[[str], None]) -> None:
    """Stage 1 into ``target`` (which must not exist): debootstrap + packages + trimming."""
    if os.geteuid() != 0:
        raise ImageBuildError("building the debian image (debootstrap, chroot) needs root")
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    target.mkdir(parents=True)
    rootfs = target / "rootfs"
    say(f"debian: debootstrap {SUITE} from {mirror}…")
    run(
        ["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror],
        step="debootstrap",
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    (rootfs / "etc/initramfs-tools/conf.d").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc/initramfs-tools/conf.d/ironworks.conf").write_text("MODULES=list\nCOMPRESS=zstd\n")
    (rootfs / "etc/initramfs-tools/modules").write_text("\n".join(INITRD_MODULES) + "\n")
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    (rootfs / "etc/default").mkdir(exist_ok=True)
    (rootfs / "etc/default/locale").write_text("LANG=C.UTF-8\n")
    run(["mount", "-t", "proc", "proc", str(rootfs / "proc")], step="mount /proc")
    try:
        say(f"debian: apt-get install {len(PACKAGES)} packages in the chroot…")
        _chroot(rootfs, "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES, step="apt-get install")
    finally:
        subprocess.run(["umount", "-l", str(rootfs / "proc")], check=False, capture_output=True)
    policy.unlink()
    versions = sorted(p.name for p in (rootfs / "lib/modules").iterdir())
    if not versions or not list((rootfs / "boot").glob("initrd.img-*")):
        raise ImageBuildError("apt-get install: no kernel or initrd in /boot")
    _trim(rootfs, versions[-1])
    info = {"suite": SUITE, "mirror": mirror, "kernel_version": versions[-1], "packages": sorted(PACKAGES)}
    (target / "rootfs.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def customise(tree: Path, version: str) -> None:
    """Stage 2 files: cloud-init settings, the marker unit, sshd, names, masked units, /boot links."""
    shutil.copy2(FILES / "99-ironworks.cfg", tree / "etc/cloud/cloud.cfg.d/99-ironworks.cfg")
    shutil.copy2(FILES / "sshd-ironworks.conf", tree / "etc/ssh/sshd_config.d/ironworks.conf")
    (tree / "usr/local/sbin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(FILES / "ironworks-marker", tree / "usr/local/sbin/ironworks-marker")
    units = tree / "etc/systemd/system"
    shutil.copy2(FILES / "ironworks-marker.service", units / "ironworks-marker.service")
    wants = units / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "ironworks-marker.service").unlink(missing_ok=True)
    (wants / "ironworks-marker.service").symlink_to("/etc/systemd/system/ironworks-marker.service")
    for unit in MASKED:
        (units / unit).unlink(missing_ok=True)
        (units / unit).symlink_to("/dev/null")
    (tree / "etc/hostname").write_text("debian\n")
    (tree / "etc/hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    for name in ("vmlinuz", "initrd.img"):
        link = tree / "boot" / name
        link.unlink(missing_ok=True)
        link.symlink_to(f"{name}-{version}")


def build_debian(
    cache_dir: Path, *, force: bool = False, mirror: str | None = None, say: Callable[[str], None] = print
) -> tuple[Path, bool]:
    """The cached ``debian-<key>`` directory (built when missing); returns (directory, was cached)."""
    mirror = mirror or detect_mirror(SUITE)
    epoch = cache.source_epoch()
    rkey = rootfs_key(mirror)
    key = image_key(rkey, epoch)
    rootfs_name = f"debian-rootfs-{rkey}"

    def make_image(target: Path) -> None:
        rootfs_cached = cache.stage(
            cache_dir, rootfs_name, "rootfs.json", lambda t: build_rootfs(mirror, t, say), force=force
        )
        stage1 = cache_dir / rootfs_name
        info = json.loads((stage1 / "rootfs.json").read_text())
        tree = target.parent / "root"
        say("debian: copying the rootfs and writing the disk…")
        run(["cp", "-a", str(stage1 / "rootfs"), str(tree)], step="copy rootfs")
        version = str(info["kernel_version"])
        customise(tree, version)
        manifest = {**info, "rootfs_key": rkey, "rootfs_cached": rootfs_cached, "source_date_epoch": epoch}
        (tree / "etc/ironworks-image.json").write_text(json.dumps({"kind": "debian", **manifest}, indent=2) + "\n")
        wholedisk.assemble(
            tree,
            target,
            key=key,
            kind="debian",
            kernel=f"/boot/vmlinuz-{version}",
            initrd=f"/boot/initrd.img-{version}",
            cmdline=CMDLINE,
            manifest=manifest,
            epoch=epoch,
        )

    with cache.locked(cache_dir, "debian"):
        cached = cache.stage(cache_dir, f"debian-{key}", wholedisk.MANIFEST_NAME, make_image, force=force)
    return cache_dir / f"debian-{key}", cached
