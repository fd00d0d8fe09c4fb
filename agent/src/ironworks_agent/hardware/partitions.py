"""Reading (and, for MBR, appending to) partition tables in pure Python, without partition nodes or tools.

``read_table`` understands GPT (the primary header, else the backup in the last sector) and MBR including the
logical partitions of an extended partition (EBR chain). Erase uses it to find every partition region, the
config drive code to learn the table type and to append an MBR entry. No CRC checks: a damaged table still
tells erase where to wipe, and every region is bounded by the device size.
"""

from __future__ import annotations

import fcntl
import os
import struct
from dataclasses import dataclass

BLKSSZGET = 0x1268
_EXTENDED = {0x05, 0x0F, 0x85}


@dataclass(frozen=True)
class Partition:
    number: int
    start: int  # in sectors
    size: int  # in sectors


@dataclass(frozen=True)
class Table:
    label: str | None  # "gpt", "dos" or None
    sector: int
    partitions: tuple[Partition, ...]

    def regions(self) -> list[tuple[int, int]]:
        """(offset, length) in bytes of every partition."""
        return [(p.start * self.sector, p.size * self.sector) for p in self.partitions]


def sector_size(fd: int) -> int:
    try:
        buf = fcntl.ioctl(fd, BLKSSZGET, struct.pack("i", 0))
        return int(struct.unpack("i", buf)[0]) or 512
    except OSError:
        return 512


def _gpt(fd: int, sector: int, total: int) -> tuple[Partition, ...] | None:
    for lba in (1, total // sector - 1):
        header = os.pread(fd, 92, lba * sector)
        if header[:8] != b"EFI PART":
            continue
        entries_lba, count, entry_size = struct.unpack_from("<QII", header, 72)
        if not (0 < count <= 1024 and 128 <= entry_size <= 4096):
            continue
        raw = os.pread(fd, count * entry_size, entries_lba * sector)
        parts = []
        for i in range(len(raw) // entry_size):
            entry = raw[i * entry_size:(i + 1) * entry_size]
            if entry[:16] == bytes(16):
                continue
            first, last = struct.unpack_from("<QQ", entry, 32)
            if last >= first:
                parts.append(Partition(i + 1, first, last - first + 1))
        return tuple(parts)
    return None


def _mbr_entries(sector0: bytes) -> list[tuple[int, int, int]]:
    """(type, start, size) of the four primary slots (empty slots left out)."""
    out = []
    for i in range(4):
        kind = sector0[446 + 16 * i + 4]
        start, size = struct.unpack_from("<II", sector0, 446 + 16 * i + 8)
        if kind and size:
            out.append((kind, start, size))
    return out


def _mbr(fd: int, sector0: bytes, sector: int) -> tuple[Partition, ...]:
    parts: list[Partition] = []
    for number, (kind, start, size) in enumerate(_mbr_entries(sector0), start=1):
        parts.append(Partition(number, start, size))
        if kind in _EXTENDED:  # walk the chain of extended boot records
            ebr_lba, logical = start, 5
            seen: set[int] = set()
            while ebr_lba not in seen and len(seen) < 128:
                seen.add(ebr_lba)
                ebr = os.pread(fd, 512, ebr_lba * sector)
                if ebr[510:512] != b"\x55\xaa":
                    break
                slots = _mbr_entries(ebr)
                if not slots:
                    break
                parts.append(Partition(logical, ebr_lba + slots[0][1], slots[0][2]))
                logical += 1
                if len(slots) < 2 or slots[1][0] not in _EXTENDED:
                    break
                ebr_lba = start + slots[1][1]
    return tuple(parts)


def read_table(path: str) -> Table:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        sector = sector_size(fd)
        total = os.lseek(fd, 0, os.SEEK_END)
        sector0 = os.pread(fd, 512, 0)
        has_mbr = len(sector0) == 512 and sector0[510:512] == b"\x55\xaa"
        protective = has_mbr and any(kind == 0xEE for kind, _, _ in _mbr_entries(sector0))
        if protective or not has_mbr:
            gpt = _gpt(fd, sector, total)
            if gpt is not None:
                return Table("gpt", sector, gpt)
        if has_mbr and not protective and _mbr_entries(sector0):
            return Table("dos", sector, _mbr(fd, sector0, sector))
        return Table(None, sector, ())
    finally:
        os.close(fd)


def mbr_append_entry(fd: int, start: int, size: int, kind: int = 0x83) -> int:
    """Write a primary MBR entry (LBA addressing) into the first free slot of the table on ``fd``; its number."""
    sector0 = bytearray(os.pread(fd, 512, 0))
    for i in range(4):
        offset = 446 + 16 * i
        if sector0[offset + 4] == 0:
            sector0[offset:offset + 16] = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", kind, b"\xfe\xff\xff",
                                                      start, size)
            os.pwrite(fd, bytes(sector0), 0)
            return i + 1
    raise ValueError("all four primary MBR slots are in use")
