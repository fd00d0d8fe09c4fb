"""A deterministic cpio ``newc`` writer for initramfs images (what the kernel's unpacker reads).

Entries come from one or more directory trees layered in order (a later tree's file replaces an earlier one at
the same path) plus synthetic device nodes. Output is sorted by path, every mtime is one fixed epoch, inode
numbers are assigned in order, and hard links inside a tree stay hard links (data written once, on the first
entry, which the kernel's unpacker supports). Same inputs, same bytes.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO

_TRAILER = "TRAILER!!!"


@dataclasses.dataclass(frozen=True)
class DeviceNode:
    """A character or block device created inside the archive (no mknod needed on the build host)."""

    path: str
    mode: int
    major: int
    minor: int


@dataclasses.dataclass
class _Entry:
    rel: str
    source: Path | None
    st: os.stat_result | None
    device: DeviceNode | None = None


def _pad(length: int) -> bytes:
    return b"\0" * ((4 - length % 4) % 4)


def _header(
    *,
    ino: int,
    mode: int,
    uid: int,
    gid: int,
    nlink: int,
    mtime: int,
    size: int,
    rmajor: int,
    rminor: int,
    name: bytes,
) -> bytes:
    fields = (ino, mode, uid, gid, nlink, mtime, size, 0, 0, rmajor, rminor, len(name) + 1, 0)
    head = b"070701" + b"".join(b"%08X" % value for value in fields)
    return head + name + b"\0" + _pad(110 + len(name) + 1)


def _collect(trees: Iterable[Path], devices: Iterable[DeviceNode]) -> list[_Entry]:
    entries: dict[str, _Entry] = {}
    for tree in trees:
        for dirpath, dirnames, filenames in os.walk(tree):
            base = Path(dirpath)
            for name in dirnames + filenames:
                path = base / name
                rel = path.relative_to(tree).as_posix()
                entries[rel] = _Entry(rel, path, path.lstat())
    for device in devices:
        entries[device.path.strip("/")] = _Entry(device.path.strip("/"), None, None, device)
    return [entries[key] for key in sorted(entries, key=lambda k: k.encode())]


def write_newc(
    out: IO[bytes], trees: Iterable[Path], *, mtime: int, devices: Iterable[DeviceNode] = (), owner_root: bool = True
) -> int:
    """Write the archive of ``trees`` (+ ``devices``) to ``out``; returns the number of entries.

    ``owner_root`` stores every file as uid/gid 0 (an initramfs runs as root; the build tree may not be).
    """
    entries = _collect(trees, devices)
    link_counts: dict[tuple[int, int], int] = {}
    for entry in entries:
        if entry.st is not None and stat.S_ISREG(entry.st.st_mode) and entry.st.st_nlink > 1:
            key = (entry.st.st_dev, entry.st.st_ino)
            link_counts[key] = link_counts.get(key, 0) + 1
    inodes: dict[tuple[int, int], int] = {}
    next_ino = 1
    for entry in entries:
        name = entry.rel.encode()
        if entry.device is not None:
            dev = entry.device
            out.write(
                _header(
                    ino=next_ino,
                    mode=dev.mode,
                    uid=0,
                    gid=0,
                    nlink=1,
                    mtime=mtime,
                    size=0,
                    rmajor=dev.major,
                    rminor=dev.minor,
                    name=name,
                )
            )
            next_ino += 1
            continue
        assert entry.st is not None and entry.source is not None
        st = entry.st
        uid, gid = (0, 0) if owner_root else (st.st_uid, st.st_gid)
        key = (st.st_dev, st.st_ino)
        nlink = link_counts.get(key, 1) if stat.S_ISREG(st.st_mode) else (2 if stat.S_ISDIR(st.st_mode) else 1)
        data = b""
        if key in inodes and stat.S_ISREG(st.st_mode):
            ino = inodes[key]  # a later name of an already written hard-linked file: no data
        else:
            ino = next_ino
            next_ino += 1
            if nlink > 1:
                inodes[key] = ino
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(entry.source).encode()
            elif stat.S_ISREG(st.st_mode):
                data = entry.source.read_bytes()
        rmajor = os.major(st.st_rdev) if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else 0
        rminor = os.minor(st.st_rdev) if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else 0
        out.write(
            _header(
                ino=ino,
                mode=st.st_mode,
                uid=uid,
                gid=gid,
                nlink=nlink,
                mtime=mtime,
                size=len(data),
                rmajor=rmajor,
                rminor=rminor,
                name=name,
            )
        )
        out.write(data)
        out.write(_pad(len(data)))
    out.write(
        _header(ino=0, mode=0, uid=0, gid=0, nlink=1, mtime=0, size=0, rmajor=0, rminor=0, name=_TRAILER.encode())
    )
    return len(entries)
