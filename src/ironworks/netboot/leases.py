"""The DHCP leases Ironworks' own dnsmasq handed out: which address belongs to which MAC right now.

The agent's trust (docs/agent-protocol.md §9) and the file server's per-node scripts are bound to them: a lookup
is answered only from an address dnsmasq leased to one of the node's MACs (or with the per-boot secret), and a
node's iPXE script (which carries that secret) is served only to such an address.

dnsmasq's lease file (``dhcp-leasefile``, one line per lease)::

    <expiry, epoch seconds; 0 = never> <mac> <ipv4 address> <hostname | *> <client id | *>

DHCPv6 lines (``duid …`` and IAID-keyed leases) have no MAC and are ignored. dnsmasq rewrites the file in place,
so a reader can catch it half written: :meth:`LeaseTable.addresses` re-reads once when asked to (``retry``)
before it says "no lease". Lines that do not parse are skipped, never an error.

The file is ``<state_dir>/netboot/dnsmasq/dnsmasq.leases`` (:func:`lease_file`), whether or not this process runs
the netboot itself: another process of the same service may (and tests write it to play dnsmasq).
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ironworks.settings import Settings

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
#: a lease file larger than this is not read (dnsmasq's for a /16 is far smaller)
MAX_BYTES = 8 << 20


def lease_file(settings: Settings) -> Path:
    """Where the service's dnsmasq keeps its leases (``netboot/service.py`` runs it with this state dir)."""
    return Path(settings.state_dir) / "netboot" / "dnsmasq" / "dnsmasq.leases"


def normalise_address(text: str) -> str | None:
    """An IP address in canonical form (IPv4-mapped IPv6 as IPv4); None when ``text`` is not one."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def parse(text: str, now: float) -> dict[str, set[str]]:
    """MAC → the addresses of its unexpired leases."""
    leases: dict[str, set[str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        expiry, mac, address = fields[0], fields[1].lower(), normalise_address(fields[2])
        if not expiry.isdigit() or not _MAC.match(mac) or address is None:
            continue
        if int(expiry) != 0 and int(expiry) <= now:
            continue
        leases.setdefault(mac, set()).add(address)
    return leases


class LeaseTable:
    """The lease file, re-read when it changed (size or mtime), safe to share between threads."""

    def __init__(self, path: Path, *, retry_delay: float = 0.2) -> None:
        self.path = path
        self.retry_delay = retry_delay
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._text = ""

    def _read(self, force: bool = False) -> str:
        try:
            st = os.stat(self.path)
        except OSError:
            return ""
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if force or stamp != self._stamp:
                try:
                    with open(self.path, "rb") as handle:
                        data = handle.read(MAX_BYTES)
                except OSError:
                    return ""
                self._text, self._stamp = data.decode(errors="replace"), stamp
            return self._text

    def addresses(self, macs: list[str] | set[str] | tuple[str, ...], *, retry: bool = True) -> set[str]:
        """Every address currently leased to one of ``macs``."""
        wanted = {m.lower() for m in macs}
        found = self._lookup(wanted, force=False)
        if not found and retry and wanted:
            time.sleep(self.retry_delay)  # dnsmasq may have been rewriting the file just now
            found = self._lookup(wanted, force=True)
        return found

    def _lookup(self, wanted: set[str], *, force: bool) -> set[str]:
        leases = parse(self._read(force), time.time())
        return set().union(*(leases.get(mac, set()) for mac in wanted)) if wanted else set()

    def leased_to(self, address: str | None, macs: list[str] | set[str] | tuple[str, ...]) -> bool:
        """``address`` is a current lease of one of ``macs``."""
        normal = normalise_address(address) if address else None
        return normal is not None and normal in self.addresses(macs)
