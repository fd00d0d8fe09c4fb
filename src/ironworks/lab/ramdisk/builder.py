"""``ironworks ramdisk build``: kernel + initramfs for the deploy agent, cached by a hash of every input.

Two cached stages under the cache directory (default ``<state_dir>/ramdisk-cache``)::

    base-<base key>/    debootstrap rootfs + kernel + modules (slow: about a minute; see base.py)
    image-<key>/        vmlinuz, initrd.img, manifest.json (fast: overlay + cpio + compression)

The base key covers suite, mirror, packages, modules and trimming rules; the image key adds the agent's source
tree, the files of ``/init`` and its helpers, the archive mtime (``SOURCE_DATE_EPOCH``), the compressor and the
builder version. An agent change therefore only repacks. Stages are built in a temporary directory and renamed
into place when complete, under an exclusive lock, so concurrent builds (parallel test sessions) wait for each
other instead of racing.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import lzma
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ironworks.lab.ramdisk.base import BaseImage, RamdiskBuildError, build_base
from ironworks.lab.ramdisk.cpio import DeviceNode, write_newc
from ironworks.lab.ramdisk.overlay import FILES, install_agent, install_files
from ironworks.lab.ramdisk.spec import PACK_STAGE_VERSION, RamdiskSpec, detect_mirror, tree_hash

#: archive mtime when SOURCE_DATE_EPOCH is not set (2024-01-01T00:00:00Z)
DEFAULT_EPOCH = 1704067200
COMPRESSORS: dict[str, list[str]] = {
    "gzip": ["gzip", "-6", "-n", "-c"],
    "zstd": ["zstd", "-q", "-10", "-T0", "-c"],
}
AGENT_PACKAGE = "ironworks_agent"
KEEP_IMAGES = 5
KEEP_BASES = 2
DEVICES = (
    DeviceNode("dev/console", 0o20600, 5, 1),
    DeviceNode("dev/null", 0o20666, 1, 3),
)


@dataclasses.dataclass(frozen=True)
class BuildResult:
    kernel: Path  # bzImage, for firmware, iPXE and QEMU's -kernel
    initrd: Path
    key: str
    size: int  # compressed initrd, bytes
    seconds: float  # wall time of this call
    cached: bool  # the image came from the cache as is
    base_cached: bool
    manifest: dict[str, object]

    @property
    def vmlinux(self) -> Path | None:
        """The uncompressed kernel for QEMU's faster PVH boot (next to ``kernel``), if there is one."""
        path = self.kernel.with_name("vmlinux")
        return path if path.is_file() else None

    def summary(self) -> str:
        how = "cached" if self.cached else ("repacked on a cached base" if self.base_cached else "built")
        return (
            f"ramdisk {self.key}: {how} in {self.seconds:.1f} s; initrd {self.size / 2**20:.1f} MiB "
            f"({self.manifest.get('compression')}), kernel {self.manifest.get('kernel_version')}\n"
            f"  kernel: {self.kernel}\n  initrd: {self.initrd}"
        )


def default_cache_dir(state_dir: str | None = None) -> Path:
    if state_dir:
        return Path(state_dir) / "ramdisk-cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ironworks" / "ramdisk"


def shared_cache_dir() -> Path:
    """The cache tests and benchmarks share across runs: ``$IRONWORKS_RAMDISK_CACHE`` or /var/tmp/…"""
    return Path(os.environ.get("IRONWORKS_RAMDISK_CACHE") or "/var/tmp/ironworks-ramdisk-cache")


def find_agent_root() -> Path:
    """The ``ironworks-agent`` distribution (directory with pyproject.toml and src/ironworks_agent)."""
    import importlib.util

    import ironworks

    checkout = Path(ironworks.__file__).resolve().parents[2] / "agent"
    if (checkout / "pyproject.toml").is_file():
        return checkout
    found = importlib.util.find_spec("ironworks_agent")
    if found and found.origin:
        root = Path(found.origin).resolve().parents[2]
        if (root / "pyproject.toml").is_file():
            return root
    raise RamdiskBuildError("cannot find the ironworks-agent sources (pass agent_root / --agent-source)")


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def image_key(base_key: str, agent_root: Path, compression: str, mtime: int) -> str:
    doc = {
        "base": base_key,
        "agent": tree_hash(agent_root / "src" / AGENT_PACKAGE)
        + hashlib.sha256((agent_root / "pyproject.toml").read_bytes()).hexdigest(),
        "files": tree_hash(FILES),
        "pack": PACK_STAGE_VERSION,
        "compression": compression,
        "mtime": mtime,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def pack(trees: list[Path], target: Path, *, compression: str, mtime: int) -> None:
    """cpio newc of ``trees`` through the compressor into ``target``."""
    if compression not in COMPRESSORS:
        raise RamdiskBuildError(f"unknown compression {compression!r} (one of {', '.join(COMPRESSORS)})")
    with open(target, "wb") as out:
        proc = subprocess.Popen(COMPRESSORS[compression], stdin=subprocess.PIPE, stdout=out)
        assert proc.stdin is not None
        try:
            write_newc(proc.stdin, trees, mtime=mtime, devices=DEVICES)
        finally:
            proc.stdin.close()
        if proc.wait() != 0:
            raise RamdiskBuildError(f"{compression} failed with exit {proc.returncode}")


def unmount_below(path: Path) -> None:
    """Unmount (lazily) every mount point at or below ``path``, deepest first."""
    prefix = str(path.resolve())
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1].replace("\\040", " ") for line in mounts]
    for point in sorted((p for p in points if p == prefix or p.startswith(prefix + "/")), reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _prune(cache_dir: Path, prefix: str, keep: int, current: Path) -> None:
    stages = sorted(
        (p for p in cache_dir.glob(prefix + "*") if p.is_dir() and p != current),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in stages[keep - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


def _base_stage(spec: RamdiskSpec, cache_dir: Path, force: bool, say: Callable[[str], None]) -> tuple[BaseImage, bool]:
    base_dir = cache_dir / f"base-{spec.base_key()}"
    if force:
        shutil.rmtree(base_dir, ignore_errors=True)
    if (base_dir / "base.json").is_file():
        return BaseImage(base_dir), True
    shutil.rmtree(base_dir, ignore_errors=True)
    say(f"ramdisk: debootstrap {spec.suite} from {spec.mirror} ({len(spec.packages)} packages)…")
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="base-tmp-", dir=cache_dir))
    try:
        build_base(spec, scratch / "stage")
        (scratch / "stage").rename(base_dir)
    finally:
        unmount_below(scratch)  # debootstrap may leave /proc or /sys mounted when it fails
        shutil.rmtree(scratch, ignore_errors=True)
    say(f"ramdisk: base stage built in {time.monotonic() - started:.1f} s")
    _prune(cache_dir, "base-", KEEP_BASES, base_dir)
    return BaseImage(base_dir), False


def build_ramdisk(
    cache_dir: Path,
    *,
    output: Path | None = None,
    force: bool = False,
    spec: RamdiskSpec | None = None,
    agent_root: Path | None = None,
    compression: str = "zstd",
    say: Callable[[str], None] = lambda _line: None,
) -> BuildResult:
    """Build (or take from the cache) the deploy ramdisk; copy it to ``output`` when given."""
    started = time.monotonic()
    spec = spec or RamdiskSpec(mirror=detect_mirror())
    agent_root = agent_root or find_agent_root()
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH") or DEFAULT_EPOCH)
    with _locked(cache_dir):
        base, base_cached = _base_stage(spec, cache_dir, force, say)
        key = image_key(spec.base_key(), agent_root, compression, mtime)
        image_dir = cache_dir / f"image-{key}"
        if force:
            shutil.rmtree(image_dir, ignore_errors=True)
        cached = (image_dir / "manifest.json").is_file()
        if not cached:
            pack_stage(base, image_dir, agent_root, key, compression, mtime)
            _prune(cache_dir, "image-", KEEP_IMAGES, image_dir)
        os.utime(image_dir)
        os.utime(base.root)
        manifest = json.loads((image_dir / "manifest.json").read_text())
        kernel, initrd = image_dir / "vmlinuz", image_dir / "initrd.img"
        if output is not None:
            output.mkdir(parents=True, exist_ok=True)
            for source in (kernel, initrd, image_dir / "manifest.json", image_dir / "vmlinux"):
                if source.is_file():
                    shutil.copyfile(source, output / source.name)
            kernel, initrd = output / "vmlinuz", output / "initrd.img"
    return BuildResult(
        kernel=kernel,
        initrd=initrd,
        key=key,
        size=initrd.stat().st_size,
        seconds=time.monotonic() - started,
        cached=cached,
        base_cached=base_cached,
        manifest=manifest,
    )


def extract_vmlinux(bzimage: Path, target: Path) -> bool:
    """Write the uncompressed ELF kernel inside an xz-compressed bzImage to ``target``.

    QEMU boots it directly through PVH (``-kernel vmlinux``), skipping the 3–4 s of xz decompression that a
    bzImage costs under TCG. Returns False when the image holds no xz-compressed ELF.
    """
    data = bzimage.read_bytes()
    start = data.find(b"\xfd7zXZ\x00")
    if start < 0:
        return False
    try:
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
    except lzma.LZMAError:
        return False
    if not elf.startswith(b"\x7fELF"):
        return False
    target.write_bytes(elf)
    return True


def pack_stage(base: BaseImage, image_dir: Path, agent_root: Path, key: str, compression: str, mtime: int) -> None:
    """Overlay + archive + compression of one image into ``image_dir`` (which must not exist yet)."""
    scratch = Path(tempfile.mkdtemp(prefix="image-tmp-", dir=image_dir.parent))
    try:
        overlay = scratch / "overlay"
        overlay.mkdir()
        stage = scratch / "stage"
        stage.mkdir()
        info = base.info
        agent_version = install_agent(base, overlay, agent_root)
        manifest: dict[str, object] = {
            "key": key,
            "base_key": info["key"],
            "suite": info["suite"],
            "mirror": info["mirror"],
            "kernel_package": info["kernel_package"],
            "kernel_version": info["kernel_version"],
            "python": info["python"],
            "agent_version": agent_version,
            "compression": compression,
            "source_date_epoch": mtime,
        }
        install_files(overlay, base, manifest)
        packed = time.monotonic()
        pack([base.rootfs, overlay], stage / "initrd.img", compression=compression, mtime=mtime)
        manifest["pack_seconds"] = round(time.monotonic() - packed, 1)
        manifest["initrd_bytes"] = (stage / "initrd.img").stat().st_size
        manifest["initrd_sha256"] = hashlib.sha256((stage / "initrd.img").read_bytes()).hexdigest()
        shutil.copyfile(base.kernel, stage / "vmlinuz")
        if extract_vmlinux(base.kernel, stage / "vmlinux"):
            manifest["vmlinux"] = "vmlinux"
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        stage.rename(image_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
