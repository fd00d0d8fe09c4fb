"""The image cache: finished stages under one directory, keyed by a hash of every input, built atomically.

Layout (default ``$IRONWORKS_IMAGE_CACHE`` or ``/var/tmp/ironworks-image-cache``, shared by tests, benchmarks
and the CLI like the ramdisk cache)::

    tiny-base-<key>/       debootstrap rootfs + kernel + modules the tiny image is made from (ramdisk base stage)
    debian-rootfs-<key>/   the debootstrapped Debian system with kernel, cloud-init, ssh, grub (slow stage)
    <kind>-<key>/          disk.raw, disk.qcow2, manifest.json (with both sha256 sums)

A stage is produced in a scratch directory next to its final place and renamed into place when complete, under
an exclusive per-kind lock, so concurrent builds wait for each other and an interrupted build leaves nothing
that looks finished. ``manifest.json`` is written last; a directory without it is not a cached image.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

KEEP_PER_PREFIX = 2
#: archive and filesystem timestamps when SOURCE_DATE_EPOCH is not set (2024-01-01T00:00:00Z)
DEFAULT_EPOCH = 1704067200


def shared_cache_dir() -> Path:
    """``$IRONWORKS_IMAGE_CACHE`` or /var/tmp/ironworks-image-cache."""
    return Path(os.environ.get("IRONWORKS_IMAGE_CACHE") or "/var/tmp/ironworks-image-cache")


def source_epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH") or DEFAULT_EPOCH)


def key_of(doc: dict[str, object]) -> str:
    """20 hex digits of the sha256 of ``doc`` as canonical JSON."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def tree_hash(root: Path) -> str:
    """sha256 over the relative paths, exec bits and contents of the files below ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(root).as_posix()
            digest.update(f"{rel}\0{path.stat().st_mode & 0o111:o}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def package_version(name: str) -> str:
    """The installed Debian version of a host package ("" when absent): host tools are inputs too."""
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


@contextmanager
def locked(cache_dir: Path, name: str) -> Iterator[None]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".lock-{name}", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unmount_below(path: Path) -> None:
    """Unmount anything a failed chroot step left mounted below ``path`` (deepest first)."""
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mounts") as handle:
        points = [line.split()[1] for line in handle if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def stage(cache_dir: Path, name: str, complete: str, produce: Callable[[Path], None], *, force: bool) -> bool:
    """Make sure ``cache_dir/name`` holds a finished stage; returns True when it was already cached.

    ``complete`` is the file whose presence marks the stage finished; ``produce(target)`` fills ``target``
    (which does not exist yet) and is only called when needed.
    """
    final = cache_dir / name
    if force:
        shutil.rmtree(final, ignore_errors=True)
    if (final / complete).is_file():
        os.utime(final)
        return True
    shutil.rmtree(final, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-tmp-", dir=cache_dir))
    try:
        produce(scratch / "stage")
        (scratch / "stage").rename(final)
    finally:
        unmount_below(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    prune(cache_dir, name.rsplit("-", 1)[0] + "-", final)
    return False


def prune(cache_dir: Path, prefix: str, current: Path) -> None:
    """Keep the newest ``KEEP_PER_PREFIX`` stages of one kind (by last use).

    Only names that are ``prefix`` + key count: "tiny-" must not prune "tiny-base-…".
    """
    others = sorted(
        (p for p in cache_dir.glob(prefix + "*") if p.is_dir() and p != current and "-" not in p.name[len(prefix) :]),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in others[KEEP_PER_PREFIX - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)
