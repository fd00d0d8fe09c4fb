"""Whole-disk GPT images written into a plain file, without partition device nodes or loop devices.

The build host's kernel parses no partitions (shared/LAB-NOTES.md), so every step writes at a byte offset:

1. :func:`partition` — ``sgdisk`` writes a GPT with fixed sector numbers: 1 MiB BIOS boot (EF02), the ESP
   (EF00, FAT), the root (8300, ext4) up to the end. The numbers are computed here, so no table is read back.
2. :func:`write_ext4` — ``mkfs.ext4 -d TREE -E offset=…`` builds the root filesystem from a directory.
3. :func:`write_esp` — ``mkfs.fat --offset`` and ``mcopy -i file@@offset`` fill the ESP.
4. :func:`grub_efi_image` — ``grub-mkimage -O x86_64-efi`` with an embedded early config that finds the root
   filesystem by UUID; it goes to the removable-media path ``EFI/BOOT/BOOTX64.EFI`` (no NVRAM entry needed).
5. :func:`install_grub_bios` — ``grub-mkimage -O i386-pc`` makes core.img, which is written into the BIOS boot
   partition, and grub's ``boot.img`` into the MBR, patched as ``grub-bios-setup`` does for an embedded core
   (kernel sector, boot drive, blocklist; the protective MBR's partition table kept). ``grub-bios-setup`` itself
   insists on probing the host device that holds its ``-d`` directory, which a build in a container cannot offer.

grub's modules are embedded in both images, so the root filesystem needs no ``/boot/grub/<platform>``
directory; ``grub.cfg`` uses paths relative to ``$root``, so it also works when the agent installs its own grub
onto the members of a software RAID holding the image (root is then the md array's partition).
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import subprocess
from pathlib import Path

from ironworks.images.errors import ImageBuildError

SECTOR = 512
MiB = 2**20
GRUB_LIB = Path("/usr/lib/grub")
#: grub modules embedded in core.img / BOOTX64.EFI (everything grub.cfg needs: no module files on disk)
GRUB_MODULES = (
    "part_gpt",
    "part_msdos",
    "ext2",
    "fat",
    "search",
    "search_fs_uuid",
    "normal",
    "linux",
    "echo",
    "test",
    "serial",
    "terminal",
    "configfile",
    "gzio",
    "minicmd",
)
BIOS_MODULES = ("biosdisk",)
EFI_MODULES = ("efi_gop", "all_video")

# offsets inside grub's i386-pc boot.img (include/grub/i386/pc/boot.h)
_BPB_START, _BPB_END = 0x3, 0x5A
_KERNEL_SECTOR = 0x5C
_BOOT_DRIVE = 0x64
_DRIVE_CHECK = 0x66
_NT_MAGIC, _PART_END = 0x1B8, 0x1FE
_KERNEL_SEG = 0x800  # GRUB_BOOT_I386_PC_KERNEL_SEG
_BLOCKLIST = struct.Struct("<QHH")  # start sector, sector count, load segment


@dataclasses.dataclass(frozen=True)
class Partition:
    number: int
    first: int  # sector
    last: int  # sector, inclusive

    @property
    def offset(self) -> int:
        return self.first * SECTOR

    @property
    def size(self) -> int:
        return (self.last - self.first + 1) * SECTOR


@dataclasses.dataclass(frozen=True)
class DiskLayout:
    bios: Partition
    esp: Partition
    root: Partition


def run(argv: list[str], *, step: str, env: dict[str, str] | None = None, input_text: str | None = None) -> str:
    """Run one build command; :class:`ImageBuildError` with the output's tail when it fails."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, input=input_text, check=False)
    except FileNotFoundError as exc:
        raise ImageBuildError(f"{step}: {argv[0]} is not installed (scripts/apt-packages.txt)") from exc
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise ImageBuildError(f"{step} failed (exit {proc.returncode}): {' '.join(argv[:4])}…\n{tail}")
    return proc.stdout


def partition(path: Path, *, size_mib: int, esp_mib: int, disk_guid: str) -> DiskLayout:
    """Create ``path`` (sparse, ``size_mib``) with the three-partition GPT; returns where they are."""
    total = size_mib * MiB // SECTOR
    bios = Partition(1, 2048, 2048 + MiB // SECTOR - 1)
    esp = Partition(2, bios.last + 1, bios.last + esp_mib * MiB // SECTOR)
    root = Partition(3, esp.last + 1, total - 34 - 1)  # the backup GPT takes the last 33 sectors
    with open(path, "wb") as handle:
        handle.truncate(size_mib * MiB)
    argv = ["sgdisk", "-U", disk_guid]
    for part, code, name in ((bios, "EF02", "bios-boot"), (esp, "EF00", "esp"), (root, "8300", "root")):
        argv += [f"-n{part.number}:{part.first}:{part.last}", f"-t{part.number}:{code}", f"-c{part.number}:{name}"]
        argv += [f"-u{part.number}:{_derived_guid(disk_guid, name)}"]
    run([*argv, str(path)], step="sgdisk")
    return DiskLayout(bios, esp, root)


def _derived_guid(seed: str, name: str) -> str:
    digest = hashlib.sha256(f"{seed}/{name}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def derived_uuid(seed: str, name: str) -> str:
    """A stable UUID for a filesystem or table, derived from the image key (same inputs, same UUIDs)."""
    return _derived_guid(seed, name)


def write_ext4(path: Path, part: Partition, tree: Path, *, uuid: str, label: str, epoch: int) -> None:
    """ext4 of ``tree`` (owners and modes kept) into ``part`` of ``path``."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "E2FSPROGS_FAKE_TIME": str(epoch)}
    run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            label,
            "-U",
            uuid,
            "-E",
            f"offset={part.offset},hash_seed={uuid},root_owner=0:0",
            "-d",
            str(tree),
            str(path),
            f"{part.size // 1024}k",
        ],
        step="mkfs.ext4",
        env=env,
    )


def write_esp(path: Path, part: Partition, files: dict[str, Path], *, volume_id: str) -> None:
    """A FAT16 ESP in ``part`` holding ``files`` ({"EFI/BOOT/BOOTX64.EFI": source}).

    FAT16 explicitly: mkfs.fat picks FAT32 from the size of the whole file and then finds the ESP too small.
    """
    run(
        [
            "mkfs.fat",
            "-F",
            "16",
            "-i",
            volume_id,
            "-n",
            "ESP",
            "--offset",
            str(part.first),
            str(path),
            str(part.size // 1024),
        ],
        step="mkfs.fat",
    )
    target = f"{path}@@{part.offset}"
    made: set[str] = set()
    for dest, source in sorted(files.items()):
        parts = dest.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/".join(parts[:depth])
            if directory not in made:
                run(["mmd", "-i", target, f"::/{directory}"], step="mmd")
                made.add(directory)
        run(["mcopy", "-i", target, str(source), f"::/{dest}"], step="mcopy")


def early_config(root_uuid: str) -> str:
    """The config embedded in grub's images: find the root filesystem, then read its /boot/grub/grub.cfg."""
    return f"search --no-floppy --fs-uuid --set=root {root_uuid}\nset prefix=($root)/boot/grub\n"


def _mkimage(platform: str, fmt: str, output: Path, config: Path, modules: tuple[str, ...]) -> None:
    directory = GRUB_LIB / platform
    if not (directory / "moddep.lst").is_file():
        package = "grub-pc-bin" if platform == "i386-pc" else "grub-efi-amd64-bin"
        raise ImageBuildError(f"grub modules for {platform} are missing (apt-get install {package})")
    run(
        ["grub-mkimage", "-d", str(directory), "-O", fmt, "-o", str(output), "-p", "/boot/grub", "-c", str(config)]
        + list(modules),
        step=f"grub-mkimage {platform}",
    )


def grub_efi_image(output: Path, root_uuid: str) -> None:
    """``BOOTX64.EFI``: grub for x86-64 UEFI with everything embedded."""
    config = output.with_suffix(".cfg")
    config.write_text(early_config(root_uuid))
    _mkimage("x86_64-efi", "x86_64-efi", output, config, GRUB_MODULES + EFI_MODULES)
    config.unlink()


def install_grub_bios(path: Path, layout: DiskLayout, root_uuid: str, workdir: Path) -> None:
    """grub's boot.img into the MBR and core.img into the BIOS boot partition, as ``grub-bios-setup`` does."""
    config = workdir / "grub-early.cfg"
    config.write_text(early_config(root_uuid))
    core_path = workdir / "core.img"
    _mkimage("i386-pc", "i386-pc", core_path, config, GRUB_MODULES + BIOS_MODULES)
    core = bytearray(core_path.read_bytes())
    sectors = (len(core) + SECTOR - 1) // SECTOR
    if sectors > layout.bios.size // SECTOR:
        raise ImageBuildError(f"core.img ({len(core)} bytes) does not fit the BIOS boot partition")
    core += bytes(sectors * SECTOR - len(core))
    # the blocklist at the end of core.img's first sector (diskboot.img): the rest of core.img, loaded at
    # segment KERNEL_SEG + 0x20 (just after that first sector), then a zero terminator before it
    first = SECTOR - _BLOCKLIST.size
    _BLOCKLIST.pack_into(core, first, layout.bios.first + 1, sectors - 1, _KERNEL_SEG + (SECTOR >> 4))
    _BLOCKLIST.pack_into(core, first - _BLOCKLIST.size, 0, 0, 0)
    boot = bytearray((GRUB_LIB / "i386-pc" / "boot.img").read_bytes())
    with open(path, "r+b") as disk:
        mbr = disk.read(SECTOR)
        boot[_BPB_START:_BPB_END] = mbr[_BPB_START:_BPB_END]
        boot[_DRIVE_CHECK : _DRIVE_CHECK + 2] = b"\x90\x90"  # a hard disk: skip the floppy check
        boot[_NT_MAGIC:_PART_END] = mbr[_NT_MAGIC:_PART_END]  # keep the protective MBR's partition entry
        boot[_BOOT_DRIVE] = 0xFF
        struct.pack_into("<Q", boot, _KERNEL_SECTOR, layout.bios.first)
        disk.seek(layout.bios.offset)
        disk.write(core)
        disk.seek(0)
        disk.write(boot)
    core_path.unlink()
    config.unlink()


def grub_cfg(*, title: str, kernel: str, initrd: str, cmdline: str) -> str:
    """A grub.cfg for the serial console, one entry, no menu delay; paths relative to ``$root``."""
    return (
        "serial --unit=0 --speed=115200\n"
        "terminal_input serial\n"
        "terminal_output serial\n"
        "set timeout=0\n"
        "set default=0\n"
        f'menuentry "{title}" {{\n'
        f"    linux {kernel} {cmdline}\n"
        f"    initrd {initrd}\n"
        "}\n"
    )


def to_qcow2(raw: Path, qcow2: Path) -> None:
    """zstd-compressed qcow2 (6 s where zlib takes 30 s)."""
    run(
        [
            "qemu-img",
            "convert",
            "-q",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "-c",
            "-o",
            "compression_type=zstd",
            str(raw),
            str(qcow2),
        ],
        step="qemu-img convert",
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()
