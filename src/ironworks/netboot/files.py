"""The layout of the netboot HTTP and TFTP roots, and the only code that writes into them.

::

    <http_root>/boot.ipxe                  the script DHCP gives every iPXE client (chains to nodes/<mac>.ipxe)
    <http_root>/nodes/<mac-hexhyp>.ipxe    one script per port MAC (deploy ramdisk, local disk, iSCSI)
    <http_root>/files/<node>/<name>        per-node files: config drive, kernel/ramdisk copies, images
    <http_root>/shared/<name>              files shared by all nodes (the deploy kernel and ramdisk)
    <tftp_root>/undionly.kpxe, snponly.efi, ipxe.efi    from Debian's ipxe package (/usr/lib/ipxe)

Every write is atomic (temporary dot-file, then rename), so a machine never downloads half a script. Local
files are published as copies, never as hard or symbolic links: the file server answers without
authentication, and a link would keep following the source (whatever it is or becomes). Which local files may be
published at all is decided before this point (images/local.py: only under ``local_image_dirs``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path
from typing import Literal

from ironworks import errors
from ironworks.netboot import ipxe
from ironworks.netboot.dnsmasq import mac_hexhyp

IPXE_SOURCE = Path("/usr/lib/ipxe")
LOADERS = ("undionly.kpxe", "snponly.efi", "ipxe.efi")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def _safe_name(name: str, what: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise errors.InvalidParameterValue(err=f"{what} {name!r} is not a safe file name")
    return name


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class BootFiles:
    """Owns ``http_root`` and ``tftp_root``; ``base_url`` is how machines reach ``http_root``."""

    def __init__(self, http_root: Path, tftp_root: Path, base_url: str) -> None:
        self.http_root = http_root
        self.tftp_root = tftp_root
        self.base_url = base_url.rstrip("/")

    # -- URLs -------------------------------------------------------------------------------------------
    def url(self, path: Path) -> str:
        rel = path.relative_to(self.http_root).as_posix()
        return f"{self.base_url}/{urllib.parse.quote(rel)}"

    @property
    def nodes_url(self) -> str:
        return f"{self.base_url}/nodes"

    # -- fixed files ------------------------------------------------------------------------------------
    def install_loaders(self, source: Path = IPXE_SOURCE) -> list[Path]:
        """Copy the iPXE loaders (world-readable: dnsmasq's TFTP serves only those) into the TFTP root."""
        self.tftp_root.mkdir(parents=True, exist_ok=True)
        installed = []
        for name in LOADERS:
            src = source / name
            if not src.is_file():
                raise FileNotFoundError(f"{src} is missing: install Debian's ipxe package")
            write_atomic(self.tftp_root / name, src.read_bytes())
            installed.append(self.tftp_root / name)
        return installed

    def write_boot_script(self) -> Path:
        path = self.http_root / "boot.ipxe"
        write_atomic(path, ipxe.render_boot_script(self.nodes_url).encode())
        return path

    def prepare(self, loaders: Path = IPXE_SOURCE) -> None:
        """Create both roots with the loaders and ``boot.ipxe``."""
        (self.http_root / "nodes").mkdir(parents=True, exist_ok=True)
        self.install_loaders(loaders)
        self.write_boot_script()

    # -- per MAC scripts ---------------------------------------------------------------------------------
    def script_path(self, mac: str) -> Path:
        return self.http_root / "nodes" / f"{mac_hexhyp(mac)}.ipxe"

    def write_script(self, mac: str, text: str) -> Path:
        if not text.startswith("#!ipxe"):
            raise ValueError("an iPXE script must start with #!ipxe")
        path = self.script_path(mac)
        write_atomic(path, text.encode(), mode=0o600)  # a ramdisk script carries the boot's secret
        return path

    def remove_script(self, mac: str) -> None:
        self.script_path(mac).unlink(missing_ok=True)

    # -- files ------------------------------------------------------------------------------------------
    def node_dir(self, node: str) -> Path:
        return self.http_root / "files" / _safe_name(node, "node id")

    def publish(self, source: Path, name: str, *, node: str | None = None,
                how: Literal["link", "copy"] = "link") -> str:
        """Copy ``source`` to ``files/<node>/<name>`` (or ``shared/<name>``); returns its URL.

        Always a copy (``how`` is kept for callers; a link is never made). An existing target of the same size is
        kept: callers name published files after the source's path, size and mtime.
        """
        directory = self.node_dir(node) if node is not None else self.http_root / "shared"
        target = directory / _safe_name(name, "file name")
        directory.mkdir(parents=True, exist_ok=True)
        source = source.resolve()
        if target.is_file() and not target.is_symlink() and target.stat().st_size == source.stat().st_size:
            return self.url(target)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.unlink(missing_ok=True)
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return self.url(target)

    def publish_bytes(self, data: bytes, name: str, *, node: str) -> str:
        """Write ``data`` (e.g. a config drive) as ``files/<node>/<name>``; returns its URL."""
        target = self.node_dir(node) / _safe_name(name, "file name")
        write_atomic(target, data, mode=0o600)
        return self.url(target)

    def remove_node_files(self, node: str) -> None:
        shutil.rmtree(self.node_dir(node), ignore_errors=True)
