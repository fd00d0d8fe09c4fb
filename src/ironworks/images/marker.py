"""What a booted Ironworks image prints on its serial console (ttyS0), and how to read it back. Pure.

Both images print ``ironworks-os:`` lines when they are up, the marker last::

    ironworks-os: cmdline=BOOT_IMAGE=/boot/vmlinuz root=UUID=… console=ttyS0
    ironworks-os: firmware=uefi
    ironworks-os: root=/dev/md127p3 fs=ext4 kernel=/boot/vmlinuz raid=raid1:2 members=vda3,vdb3 degraded=0
    ironworks-os: config-drive=/dev/vdb public-keys=1
    ironworks-os: ssh-key=256 SHA256:… root@… (ED25519)        (debian: one line per authorized key)
    ironworks-os: root-password=P                              (debian: P set, L locked)
    ironworks-os: ssh-host-keys=ed25519                        (debian)
    ironworks-os: addresses=eth0=10.0.2.15/24                  (debian)
    ironworks-os: cloud-init=done                              (debian)
    ironworks-os: hostname=node-1 up                           <- marker_line("node-1")

Waiting for :func:`marker_line` therefore means every other line is already there; :func:`parse_console`
turns them into a :class:`ConsoleReport` to assert on.
"""

from __future__ import annotations

import dataclasses
import re

PREFIX = "ironworks-os: "
MARKER_PREFIX = PREFIX + "hostname="
_LINE = re.compile(r"ironworks-os: ([a-z-]+)=(.*?)\s*$")


def marker_line(hostname: str) -> str:
    """The exact line a booted image prints on ttyS0 once it applied ``hostname`` (from the config drive)."""
    return f"{MARKER_PREFIX}{hostname} up"


@dataclasses.dataclass(frozen=True)
class ConsoleReport:
    """The ``ironworks-os:`` lines of one boot (the last boot in the log when there were several).

    ``fields`` maps each line's name to its value (``root``, ``config-drive``, ``root-password``,
    ``addresses``, ``cloud-init``…); ``ssh-key`` lines, one per authorized key, are in ``ssh_keys``.
    """

    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    ssh_keys: tuple[str, ...] = ()

    @property
    def hostname(self) -> str | None:
        value = self.fields.get("hostname")
        return value.removesuffix(" up") if value is not None else None

    @property
    def cmdline(self) -> str | None:
        return self.fields.get("cmdline")

    @property
    def firmware(self) -> str | None:
        return self.fields.get("firmware")

    @property
    def root(self) -> str | None:
        """The root line: "/dev/vda3 fs=ext4 kernel=/boot/vmlinuz raid=none"."""
        return self.fields.get("root")

    @property
    def root_device(self) -> str | None:
        return self.root.split()[0] if self.root else None

    @property
    def raid(self) -> str | None:
        """``none``, or ``raid1:2 members=vda3,vdb3 degraded=0``."""
        if not self.root or " raid=" not in self.root:
            return None
        return self.root.split(" raid=", 1)[1]

    @property
    def config_drive(self) -> str | None:
        return self.fields.get("config-drive")


def parse_console(text: str) -> ConsoleReport:
    """The report of the last boot in a serial log (lines before its ``cmdline=`` line are ignored)."""
    lines = [m for m in (_LINE.search(raw) for raw in text.replace("\r", "").splitlines()) if m]
    starts = [i for i, m in enumerate(lines) if m.group(1) == "cmdline"]
    fields: dict[str, str] = {}
    keys: list[str] = []
    for match in lines[starts[-1] if starts else 0 :]:
        if match.group(1) == "ssh-key":
            keys.append(match.group(2))
        else:
            fields[match.group(1)] = match.group(2)
    return ConsoleReport(fields=fields, ssh_keys=tuple(keys))
