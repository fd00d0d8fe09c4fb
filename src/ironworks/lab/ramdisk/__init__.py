"""The deploy ramdisk: a Debian kernel + initramfs with ``ironworks-agent``, built from Debian's packages.

``spec`` (what goes in), ``base`` (debootstrap stage, cached), ``overlay`` (agent, /init), ``cpio``
(deterministic archive) and ``builder`` (cache keys, locking, ``ironworks ramdisk build``). The files of
``/init`` live in ``files/``.
"""

from ironworks.lab.ramdisk.base import RamdiskBuildError
from ironworks.lab.ramdisk.builder import BuildResult, build_ramdisk, default_cache_dir, shared_cache_dir
from ironworks.lab.ramdisk.spec import RamdiskSpec, detect_mirror

__all__ = [
    "BuildResult",
    "RamdiskBuildError",
    "RamdiskSpec",
    "build_ramdisk",
    "default_cache_dir",
    "detect_mirror",
    "shared_cache_dir",
]
