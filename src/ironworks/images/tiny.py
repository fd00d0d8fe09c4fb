"""The ``tiny`` image: Debian's kernel and a busybox initramfs on a GPT disk, booted by grub (BIOS and UEFI).

Made for fast tests of a deploy (a boot to its marker takes seconds, not a minute), yet it proves what a real
OS would: it finds its root filesystem by UUID, on a plain partition or inside an md RAID-1 the agent wrote it
onto (mdadm is in the initramfs), reads the config drive's hostname and public_keys, applies its network_data
(static IPv4 on the NIC with the link's MAC), runs a user_data script, and prints what it found
(files/tiny/init, marker.py).

Stages (cache.py):

1. ``tiny-base-<key>``: the deploy ramdisk's base stage (``ironworks.lab.ramdisk.base.build_base``) with a
   short package list (busybox, mdadm) and module list: debootstrap, the kernel that ``linux-image-amd64``
   depends on, only the wanted modules and their dependencies. About a minute, once.
2. ``tiny-<key>``: busybox, mdadm and the shared libraries they need (``ldd`` in the chroot), the modules and
   ``/init`` packed into a deterministic gzip'd cpio; ``/boot/vmlinuz`` + ``/boot/initrd.img`` on an ext4 root;
   grub (wholedisk.py). A few seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from ironworks.images import cache, wholedisk
from ironworks.images.disk import run
from ironworks.images.errors import ImageBuildError
from ironworks.lab.ramdisk.base import BaseImage, RamdiskBuildError, build_base
from ironworks.lab.ramdisk.cpio import DeviceNode, write_newc
from ironworks.lab.ramdisk.spec import RamdiskSpec, detect_mirror

#: bump when the image stage changes behaviour
TINY_VERSION = 2
FILES = Path(__file__).with_name("files") / "tiny"
#: python3 only because the ramdisk base stage precompiles the stdlib (it is not shipped in this image)
PACKAGES = ("busybox", "mdadm", "kmod", "python3-minimal", "libpython3.11-stdlib")
BINARIES = ("/usr/bin/busybox", "/usr/sbin/mdadm")
MODULES = (
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "sd_mod",
    "sr_mod",
    "ahci",
    "ata_piix",
    "nvme",
    "md_mod",
    "linear",
    "raid0",
    "raid1",
    "raid10",
    "raid456",
    "ext4",
    "isofs",
    "virtio_net",
    "crc32c_generic",
)
CMDLINE = "console=ttyS0,115200 quiet"
DEVICES = (DeviceNode("dev/console", 0o20600, 5, 1), DeviceNode("dev/null", 0o20666, 1, 3))


def base_spec(mirror: str | None = None) -> RamdiskSpec:
    return RamdiskSpec(mirror=mirror or detect_mirror(), packages=PACKAGES, modules=MODULES)


def image_key(spec: RamdiskSpec, epoch: int) -> str:
    return cache.key_of(
        {
            "kind": "tiny",
            "version": TINY_VERSION,
            "base": spec.base_key(),
            "files": cache.tree_hash(FILES),
            "grub": [cache.package_version("grub-pc-bin"), cache.package_version("grub-efi-amd64-bin")],
            "epoch": epoch,
        }
    )


def _libraries(rootfs: Path, binaries: tuple[str, ...]) -> list[str]:
    """Absolute paths (inside the rootfs) of the shared libraries and loader ``binaries`` need."""
    out = run(["chroot", str(rootfs), "ldd", *binaries], step="ldd", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    found: set[str] = set()
    for line in out.splitlines():
        words = line.split()
        if "=>" in words and len(words) > words.index("=>") + 1 and words[words.index("=>") + 1].startswith("/"):
            found.add(words[words.index("=>") + 1])
        elif words and words[0].startswith("/") and not words[0].endswith(":"):
            found.add(words[0])
    return sorted(found)


def initramfs_tree(base: BaseImage, tree: Path) -> None:
    """Lay out the initramfs: busybox, mdadm, their libraries, the kernel modules, /init."""
    rootfs = base.rootfs
    for directory in ("bin", "sbin", "etc/ironworks", "proc", "sys", "dev", "run", "tmp", "mnt", "root"):
        (tree / directory).mkdir(parents=True, exist_ok=True)
    shutil.copy2(rootfs / BINARIES[0].lstrip("/"), tree / "bin/busybox")
    shutil.copy2(rootfs / BINARIES[1].lstrip("/"), tree / "sbin/mdadm")
    for library in _libraries(rootfs, BINARIES):
        (tree / library.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(rootfs / library.lstrip("/"), tree / library.lstrip("/"))  # follows the symlinks
    version = str(base.info["kernel_version"])
    shutil.copytree(rootfs / "lib/modules" / version, tree / "lib/modules" / version, symlinks=True)
    shutil.copy2(FILES / "init", tree / "init")
    (tree / "init").chmod(0o755)
    (tree / "etc/ironworks/modules").write_text("\n".join(MODULES) + "\n")
    (tree / "etc/hostname").write_text("tiny\n")
    (tree / "etc/mdadm").mkdir()
    (tree / "etc/mdadm/mdadm.conf").write_text("DEVICE partitions\nHOMEHOST <ignore>\n")


def pack(tree: Path, target: Path, epoch: int) -> None:
    with open(target, "wb") as out:
        gzip = subprocess.Popen(["gzip", "-6", "-n", "-c"], stdin=subprocess.PIPE, stdout=out)
        assert gzip.stdin is not None
        write_newc(gzip.stdin, [tree], mtime=epoch, devices=DEVICES)
        gzip.stdin.close()
        if gzip.wait() != 0:
            raise ImageBuildError("gzip of the initramfs failed")


def build_tiny(
    cache_dir: Path, *, force: bool = False, mirror: str | None = None, say: Callable[[str], None] = print
) -> tuple[Path, bool]:
    """The cached ``tiny-<key>`` directory (built when missing); returns (directory, was cached)."""
    spec = base_spec(mirror)
    epoch = cache.source_epoch()
    key = image_key(spec, epoch)
    base_name = f"tiny-base-{spec.base_key()}"

    def make_base(target: Path) -> None:
        say(f"tiny: debootstrap {spec.suite} + kernel from {spec.mirror} (about a minute, cached)…")
        try:
            build_base(spec, target)
        except RamdiskBuildError as exc:
            raise ImageBuildError(str(exc)) from exc

    def make_image(target: Path) -> None:
        base_cached = cache.stage(cache_dir, base_name, "base.json", make_base, force=force)
        base = BaseImage(cache_dir / base_name)
        work = target.parent
        initramfs = work / "initramfs"
        initramfs_tree(base, initramfs)
        tree = work / "root"
        (tree / "boot").mkdir(parents=True)
        shutil.copy2(base.kernel, tree / "boot/vmlinuz")
        pack(initramfs, tree / "boot/initrd.img", epoch)
        (tree / "etc").mkdir()
        (tree / "etc/hostname").write_text("tiny\n")
        info = base.info
        manifest = {
            "suite": info["suite"],
            "mirror": info["mirror"],
            "kernel_package": info["kernel_package"],
            "kernel_version": info["kernel_version"],
            "base_key": info["key"],
            "base_cached": base_cached,
            "source_date_epoch": epoch,
        }
        (tree / "etc/ironworks-image.json").write_text(json.dumps({"kind": "tiny", **manifest}, indent=2) + "\n")
        wholedisk.assemble(
            tree,
            target,
            key=key,
            kind="tiny",
            kernel="/boot/vmlinuz",
            initrd="/boot/initrd.img",
            cmdline=CMDLINE,
            manifest=manifest,
            epoch=epoch,
        )

    with cache.locked(cache_dir, "tiny"):
        cached = cache.stage(cache_dir, f"tiny-{key}", wholedisk.MANIFEST_NAME, make_image, force=force)
    return cache_dir / f"tiny-{key}", cached
