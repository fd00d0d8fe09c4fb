"""The slow, cached stage of a ramdisk build: a trimmed Debian rootfs with a kernel and its modules.

Steps (run as root, into a fresh directory that is renamed into the cache only when complete):

1. ``debootstrap --variant=minbase --include=<packages> <suite> <dir> <mirror>``.
2. Download the kernel package that ``linux-image-amd64`` depends on with the chroot's own apt (same mirror),
   extract it with ``dpkg-deb -x``, keep ``vmlinuz`` beside the rootfs and copy only the wanted modules and their
   dependencies (from ``depmod``'s ``modules.dep``) into ``lib/modules/<version>``; run ``depmod`` for them.
3. Trim documentation, locales, caches and logs; empty ``resolv.conf`` (debootstrap copies the host's) and
   ``machine-id``.
4. Precompile the Python standard library with unchecked-hash ``.pyc`` files (valid whatever the mtimes).
"""

from __future__ import annotations

import dataclasses
import glob
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from ironworks.lab.ramdisk.spec import TRIM_GLOBS, RamdiskSpec

LOG = logging.getLogger(__name__)


class RamdiskBuildError(RuntimeError):
    """A ramdisk build step failed; the message names the step and carries its output's tail."""


@dataclasses.dataclass(frozen=True)
class BaseImage:
    """A finished base stage in the cache."""

    root: Path  # the directory holding ``rootfs/``, ``vmlinuz`` and ``base.json``

    @property
    def rootfs(self) -> Path:
        return self.root / "rootfs"

    @property
    def kernel(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def info(self) -> dict[str, object]:
        return json.loads((self.root / "base.json").read_text())


def run(argv: list[str], *, step: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a build command; raise :class:`RamdiskBuildError` with the output's tail when it fails."""
    LOG.debug("ramdisk build: %s", " ".join(argv))
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise RamdiskBuildError(f"{step} failed (exit {proc.returncode}): {' '.join(argv[:4])}…\n{tail}")
    return proc.stdout


def _chroot_env() -> dict[str, str]:
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        "HOME": "/root",
    }


def _debootstrap(spec: RamdiskSpec, rootfs: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RamdiskBuildError("debootstrap is not installed (apt-get install debootstrap)")
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(sorted(set(spec.packages)))}",
        spec.suite,
        str(rootfs),
        spec.mirror,
    ]
    run(argv, step="debootstrap", env={**os.environ, "LANG": "C.UTF-8"})


def _fetch_kernel(spec: RamdiskSpec, rootfs: Path, workdir: Path) -> tuple[str, Path, Path]:
    """Download and unpack the kernel package; returns (package name, unpacked dir, vmlinuz)."""
    depends = run(
        ["chroot", str(rootfs), "apt-cache", "depends", spec.kernel_package],
        step="resolve kernel package",
        env=_chroot_env(),
    )
    names = [
        line.split(":", 1)[1].strip()
        for line in depends.splitlines()
        if line.strip().startswith("Depends:") and "linux-image-" in line
    ]
    package = names[0] if names else spec.kernel_package
    download = rootfs / "tmp/ironworks-kernel"
    download.mkdir(parents=True, exist_ok=True)
    run(
        ["chroot", str(rootfs), "sh", "-c", f"cd /tmp/ironworks-kernel && apt-get -q download {package}"],
        step="download kernel",
        env=_chroot_env(),
    )
    debs = sorted(download.glob("*.deb"))
    if not debs:
        raise RamdiskBuildError(f"download kernel: no .deb for {package}")
    unpacked = workdir / "kernel"
    run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], step="unpack kernel")
    shutil.rmtree(download)
    kernels = sorted((unpacked / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise RamdiskBuildError(f"unpack kernel: no /boot/vmlinuz-* in {debs[0].name}")
    return package, unpacked, kernels[0]


def parse_modules_dep(text: str) -> dict[str, tuple[str, list[str]]]:
    """``modules.dep`` → {module name: (relative path, [dependency paths])}."""
    table: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        path, deps = line.split(":", 1)
        name = Path(path).name.split(".ko")[0].replace("-", "_")
        table[name] = (path, deps.split())
    return table


def module_closure(wanted: list[str], table: dict[str, tuple[str, list[str]]]) -> list[str]:
    """Relative paths of the wanted modules and everything they depend on; unknown names are skipped."""
    by_path = {path: deps for path, deps in table.values()}
    todo = [table[name.replace("-", "_")][0] for name in wanted if name.replace("-", "_") in table]
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(by_path.get(path, []))
    return sorted(seen)


def _install_modules(spec: RamdiskSpec, rootfs: Path, unpacked: Path) -> tuple[str, list[str]]:
    versions = sorted(p.name for p in (unpacked / "lib/modules").iterdir())
    version = versions[-1]
    # depmod of the whole unpacked tree, with the chroot's own kmod, to learn the dependencies
    inside = rootfs / "tmp/ironworks-modules"
    inside.mkdir(parents=True)
    shutil.move(str(unpacked / "lib"), str(inside / "lib"))
    run(
        ["chroot", str(rootfs), "depmod", "-b", "/tmp/ironworks-modules", version],
        step="depmod (all)",
        env=_chroot_env(),
    )
    source = inside / "lib/modules" / version
    table = parse_modules_dep((source / "modules.dep").read_text())
    chosen = module_closure(list(spec.modules), table)
    target = rootfs / "lib/modules" / version
    target.mkdir(parents=True, exist_ok=True)
    for rel in chosen:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target / rel)
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    shutil.rmtree(inside)
    run(["chroot", str(rootfs), "depmod", version], step="depmod (ramdisk)", env=_chroot_env())
    return version, chosen


def _trim(rootfs: Path) -> None:
    for pattern in TRIM_GLOBS:
        for match in glob.glob(str(rootfs / pattern)):
            path = Path(match)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    (rootfs / "etc/resolv.conf").unlink(missing_ok=True)
    (rootfs / "etc/resolv.conf").write_text("")
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "etc/hostname").write_text("ironworks-ramdisk\n")


def _precompile_stdlib(rootfs: Path) -> None:
    for cache in list(rootfs.glob("usr/lib/python3*/**/__pycache__")):
        shutil.rmtree(cache)
    dirs = [str(Path("/") / p.relative_to(rootfs)) for p in sorted(rootfs.glob("usr/lib/python3*"))]
    run(
        [
            "chroot",
            str(rootfs),
            "python3",
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            *dirs,
        ],
        step="compile stdlib",
        env=_chroot_env(),
    )


def build_base(spec: RamdiskSpec, target: Path) -> BaseImage:
    """Run the whole base stage into ``target`` (which must not exist yet)."""
    if os.geteuid() != 0:
        raise RamdiskBuildError("the ramdisk base stage (debootstrap, chroot) must run as root")
    target.mkdir(parents=True)
    rootfs = target / "rootfs"
    _debootstrap(spec, rootfs)
    package, unpacked, vmlinuz = _fetch_kernel(spec, rootfs, target)
    version, modules = _install_modules(spec, rootfs, unpacked)
    shutil.copy2(vmlinuz, target / "vmlinuz")
    shutil.copy2(unpacked / "boot" / f"config-{version}", target / "config")
    shutil.rmtree(unpacked)
    _trim(rootfs)
    _precompile_stdlib(rootfs)
    python = sorted(p.name for p in rootfs.glob("usr/bin/python3.*"))
    info = {
        "key": spec.base_key(),
        "suite": spec.suite,
        "mirror": spec.mirror,
        "packages": sorted(set(spec.packages)),
        "kernel_package": package,
        "kernel_version": version,
        "modules": [Path(m).name for m in modules],
        "wanted_modules": sorted(set(spec.modules)),
        "python": python[-1] if python else "",
    }
    (target / "base.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return BaseImage(target)
