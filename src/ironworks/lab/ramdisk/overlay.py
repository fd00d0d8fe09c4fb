"""The fast stage of a ramdisk build: the files layered over the cached base rootfs.

* ``/init``, the udhcpc event script and the self-tests (from ``files/`` next to this module);
* the agent distribution: its package directory copied into the image Python's ``dist-packages`` with a
  ``.dist-info`` (name, version, console-script entry point from the agent's ``pyproject.toml``) and a
  ``/usr/local/bin/ironworks-agent`` launcher; no pip needed;
* ``.pyc`` files for the agent, unchecked-hash so they stay valid with the archive's fixed mtimes. They are
  compiled by the host's Python when its bytecode magic matches the image's (same 3.X), else in the chroot;
* ``/etc/ironworks/modules`` (modules ``/init`` loads) and ``/etc/ironworks/ramdisk.json`` (what was built).
"""

from __future__ import annotations

import importlib.util
import json
import py_compile
import shutil
import subprocess
import tomllib
from pathlib import Path

from ironworks.lab.ramdisk.base import BaseImage, RamdiskBuildError

FILES = Path(__file__).with_name("files")
SITE_DIR = "usr/lib/python3/dist-packages"


def _magic_of_image(base: BaseImage) -> bytes | None:
    for pyc in base.rootfs.glob("usr/lib/python3.*/__pycache__/os.cpython-*.pyc"):
        return pyc.read_bytes()[:4]
    return None


def _compile(base: BaseImage, overlay: Path, package_dir: Path) -> None:
    sources = sorted(package_dir.rglob("*.py"))
    if _magic_of_image(base) == importlib.util.MAGIC_NUMBER:
        for source in sources:
            rel = source.relative_to(overlay)
            cfile = importlib.util.cache_from_source(str(source))
            py_compile.compile(
                str(source),
                cfile=cfile,
                dfile="/" + rel.as_posix(),
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        return
    # different Python on the host: compile with the image's interpreter inside the chroot
    scratch = base.rootfs / "tmp/ironworks-compile"
    shutil.rmtree(scratch, ignore_errors=True)
    target = scratch / package_dir.relative_to(overlay)
    shutil.copytree(package_dir, target)
    proc = subprocess.run(
        [
            "chroot",
            str(base.rootfs),
            "python3",
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            "/tmp/ironworks-compile",
            "/tmp/ironworks-compile",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RamdiskBuildError(f"compile agent in chroot failed: {proc.stdout}{proc.stderr}")
    shutil.rmtree(package_dir)
    shutil.copytree(target, package_dir)
    shutil.rmtree(scratch)


def _agent_metadata(agent_root: Path) -> tuple[str, str, dict[str, str]]:
    project = tomllib.loads((agent_root / "pyproject.toml").read_text())["project"]
    return str(project["name"]), str(project["version"]), dict(project.get("scripts", {}))


def install_agent(base: BaseImage, overlay: Path, agent_root: Path, package: str = "ironworks_agent") -> str:
    """Copy the agent distribution at ``agent_root`` (holding pyproject.toml and src/<package>) into the overlay.

    Returns the agent's version.
    """
    source = agent_root / "src" / package
    if not (source / "__init__.py").is_file():
        raise RamdiskBuildError(f"no agent package at {source}")
    name, version, scripts = _agent_metadata(agent_root)
    site = overlay / SITE_DIR
    target = site / package
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (dist_info / "INSTALLER").write_text("ironworks-ramdisk\n")
    (dist_info / "top_level.txt").write_text(package + "\n")
    if scripts:
        lines = "".join(f"{script} = {target_ref}\n" for script, target_ref in sorted(scripts.items()))
        (dist_info / "entry_points.txt").write_text("[console_scripts]\n" + lines)
    bindir = overlay / "usr/local/bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for script, target_ref in sorted(scripts.items()):
        module, _, func = target_ref.partition(":")
        launcher = bindir / script
        launcher.write_text(f"#!/usr/bin/python3\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
        launcher.chmod(0o755)
    _compile(base, overlay, target)
    return version


def install_files(overlay: Path, base: BaseImage, manifest: dict[str, object]) -> None:
    """``/init``, helper scripts, self-tests and the module list into the overlay."""
    (overlay / "init").write_bytes((FILES / "init").read_bytes())
    (overlay / "init").chmod(0o755)
    libdir = overlay / "usr/lib/ironworks"
    (libdir / "selftest").mkdir(parents=True)
    (libdir / "udhcpc.script").write_bytes((FILES / "udhcpc.script").read_bytes())
    (libdir / "udhcpc.script").chmod(0o755)
    for test in sorted((FILES / "selftest").glob("*.sh")):
        (libdir / "selftest" / test.name).write_bytes(test.read_bytes())
        (libdir / "selftest" / test.name).chmod(0o755)
    etc = overlay / "etc/ironworks"
    etc.mkdir(parents=True)
    modules = base.info.get("wanted_modules")
    names = sorted(str(m) for m in modules) if isinstance(modules, list) else []
    (etc / "modules").write_text("\n".join(names) + "\n")
    (etc / "ramdisk.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    normalize_modes(overlay)


def normalize_modes(tree: Path) -> None:
    """Directories and executables 0755, other files 0644: the archive must not depend on the umask."""
    for path in sorted(tree.rglob("*")):
        if path.is_symlink():
            continue
        if path.is_dir() or path.stat().st_mode & 0o111:
            path.chmod(0o755)
        else:
            path.chmod(0o644)
    tree.chmod(0o755)
