"""dnsmasq configuration for provisioning networks, and the per-MAC host files of its ``dhcp-hostsdir``.

Pure functions of frozen data; :mod:`ironworks.netboot.supervisor` writes and runs them. One configuration
serves one or more networks, each on its own interface (a bridge, or a VLAN subinterface such as
``trunk.100``), each tagged ``iwnet-<name>``:

* DHCPv4 only for MACs that have a host file: every host file sets the ``iwknown`` tag and
  ``dhcp-ignore=tag:!iwknown`` drops everything else (unknown machines get no answer at all).
* Boot file by client kind: iPXE (user class ``iPXE`` or option 175) gets ``<http_url>/boot.ipxe``, which
  chains to the node's own script; UEFI PXE (client arch 7 or 9) gets ``snponly.efi`` (or ``ipxe.efi``) over
  TFTP; legacy BIOS PXE gets ``undionly.kpxe``. The three rules are mutually exclusive, so their order does
  not matter.
* IPv6 router advertisements (``enable-ra`` + an ``ra-only`` range) on a network with an IPv6 prefix: iPXE
  otherwise waits about 13 s for IPv6 autoconfiguration on every boot. Router lifetime 0: the bridge is not
  announced as a default router.
* ``port=0``: no DNS server; clients get no DNS option and, unless ``router`` is set, no router option.

Host files: dnsmasq reads new and changed files in the hostsdir through inotify, but keeps the record of a
*deleted* file until SIGHUP. Removing a host therefore rewrites its file as a tombstone (``<mac>,ignore``),
which takes effect at once; tombstones are dropped when the supervisor (re)starts dnsmasq. (SIGHUP would also
forget deleted records, but dnsmasq 2.90 crashed on it after host files had been rewritten: never sent.)
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from pathlib import Path

from ironworks import errors

KNOWN_TAG = "iwknown"
IPXE_TAG = "ipxe"
EFI_TAG = "efi64"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,30}$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # "-": a host may carry its network's iwnet-<name> tag
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_HOSTNAME_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_LOADER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def normalise_mac(mac: str) -> str:
    """``52-54-00-AA-00-01`` / ``52:54:00:aa:00:01`` → ``52:54:00:aa:00:01``; InvalidMAC otherwise."""
    value = str(mac).strip().lower().replace("-", ":")
    if not _MAC_RE.match(value):
        raise errors.InvalidMAC(mac=mac)
    return value


def mac_hexhyp(mac: str) -> str:
    """The MAC as iPXE's ``${mac:hexhyp}`` prints it (``52-54-00-aa-00-01``): host file and script names."""
    return normalise_mac(mac).replace(":", "-")


def _invalid(message: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(err=message)


@dataclasses.dataclass(frozen=True)
class DhcpNetwork:
    """One provisioning network served by dnsmasq."""

    name: str  # short id, becomes the tag ``iwnet-<name>``
    interface: str  # e.g. ``br0`` or ``trunk.100``; must exist when dnsmasq starts
    address: ipaddress.IPv4Interface  # the server's own address on it, with the prefix (e.g. 10.213.0.1/24)
    range_start: ipaddress.IPv4Address
    range_end: ipaddress.IPv4Address
    http_url: str  # base URL of the netboot file server as seen from this network (http://10.213.0.1:8080)
    lease_seconds: int = 600
    ipv6_prefix: ipaddress.IPv6Network | None = None  # announce it with router advertisements
    router: ipaddress.IPv4Address | None = None  # announced default router; None: no router option

    @property
    def tag(self) -> str:
        return f"iwnet-{self.name}"

    def validate(self) -> None:
        if not _NAME_RE.match(self.name):
            raise _invalid(f"network name {self.name!r} must be 1-31 of a-z, 0-9 and _")
        if not _IFNAME_RE.match(self.interface):
            raise _invalid(f"interface name {self.interface!r} is not valid")
        net = self.address.network
        for what, value in (("range start", self.range_start), ("range end", self.range_end)):
            if value not in net:
                raise _invalid(f"network {self.name}: {what} {value} is outside {net}")
        if int(self.range_start) > int(self.range_end):
            raise _invalid(f"network {self.name}: range {self.range_start}-{self.range_end} is empty")
        if self.router is not None and self.router not in net:
            raise _invalid(f"network {self.name}: router {self.router} is outside {net}")
        if not self.http_url.startswith("http://") or any(c in self.http_url for c in " \t\n,#$"):
            raise _invalid(f"network {self.name}: http_url {self.http_url!r} must be a plain http:// URL")
        if self.lease_seconds < 120:
            raise _invalid(f"network {self.name}: lease time must be at least 120 s")
        if self.ipv6_prefix is not None and self.ipv6_prefix.prefixlen != 64:
            raise _invalid(f"network {self.name}: router advertisements need a /64, not {self.ipv6_prefix}")


@dataclasses.dataclass(frozen=True)
class DnsmasqConfig:
    """Everything one dnsmasq process needs; its files live under ``state_dir``."""

    networks: tuple[DhcpNetwork, ...]
    state_dir: Path
    tftp_root: Path
    uefi_loader: str = "snponly.efi"  # or "ipxe.efi" (iPXE's own drivers instead of the firmware's SNP)
    bios_loader: str = "undionly.kpxe"
    boot_script: str = "boot.ipxe"  # path below each network's http_url
    #: ping a new address before offering it (dnsmasq's default; costs about 3 s on a node's first DHCP)
    ping_check: bool = True
    log_dhcp: bool = True
    #: the user dnsmasq runs as after start; it must be able to read the hostsdir and the TFTP root
    user: str = "root"

    @property
    def conf_file(self) -> Path:
        return self.state_dir / "dnsmasq.conf"

    @property
    def hostsdir(self) -> Path:
        return self.state_dir / "hosts"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "dnsmasq.pid"

    @property
    def lease_file(self) -> Path:
        return self.state_dir / "dnsmasq.leases"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "dnsmasq.log"

    def validate(self) -> None:
        if not self.networks:
            raise _invalid("dnsmasq needs at least one network")
        names = [n.name for n in self.networks]
        interfaces = [n.interface for n in self.networks]
        if len(set(names)) != len(names) or len(set(interfaces)) != len(interfaces):
            raise _invalid("network names and interfaces must be unique")
        for network in self.networks:
            network.validate()
        for loader in (self.uefi_loader, self.bios_loader, self.boot_script):
            if not _LOADER_RE.match(loader):
                raise _invalid(f"boot file name {loader!r} is not valid")


def render_config(config: DnsmasqConfig) -> str:
    """The text of dnsmasq.conf for ``config`` (validated first)."""
    config.validate()
    lines = [
        "# generated by ironworks.netboot.dnsmasq: do not edit, it is rewritten on every start",
        "port=0",
        "no-resolv",
        "no-hosts",
        "bind-interfaces",
        "except-interface=lo",
        "dhcp-authoritative",
        f"user={config.user}",
        f"pid-file={config.pid_file}",
        f"dhcp-leasefile={config.lease_file}",
        f"dhcp-hostsdir={config.hostsdir}",
        f"dhcp-ignore=tag:!{KNOWN_TAG}",
        "log-facility=-",
    ]
    if config.log_dhcp:
        lines.append("log-dhcp")
    if not config.ping_check:
        lines.append("no-ping")
    lines += [
        f"dhcp-userclass=set:{IPXE_TAG},iPXE",
        f"dhcp-match=set:{IPXE_TAG},175",
        f"dhcp-match=set:{EFI_TAG},option:client-arch,7",
        f"dhcp-match=set:{EFI_TAG},option:client-arch,9",
        "enable-tftp",
        f"tftp-root={config.tftp_root}",
        "tftp-secure",  # as root: only world-readable files under the root are served
    ]
    if any(n.ipv6_prefix is not None for n in config.networks):
        lines.append("enable-ra")
    for net in config.networks:
        tag = net.tag
        lines += [
            f"# network {net.name}",
            f"interface={net.interface}",
            f"dhcp-range=set:{tag},{net.range_start},{net.range_end},{net.address.netmask},{net.lease_seconds}s",
            f"dhcp-option=tag:{tag},option:router" + (f",{net.router}" if net.router else ""),
            f"dhcp-option=tag:{tag},option:dns-server",
            f"dhcp-boot=tag:{tag},tag:{IPXE_TAG},{net.http_url.rstrip('/')}/{config.boot_script}",
            f"dhcp-boot=tag:{tag},tag:!{IPXE_TAG},tag:{EFI_TAG},{config.uefi_loader}",
            f"dhcp-boot=tag:{tag},tag:!{IPXE_TAG},tag:!{EFI_TAG},{config.bios_loader}",
        ]
        if net.ipv6_prefix is not None:
            prefix = net.ipv6_prefix
            lines += [
                f"dhcp-range=set:{tag},{prefix.network_address},ra-only,{prefix.prefixlen},{net.lease_seconds}s",
                f"ra-param={net.interface},30,0",
            ]
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class HostEntry:
    """One MAC that dnsmasq answers: optionally a fixed address, a hostname and extra tags."""

    mac: str
    ipv4: ipaddress.IPv4Address | None = None
    hostname: str | None = None
    tags: tuple[str, ...] = ()

    def render(self) -> str:
        """The host file's single line (``dhcp-host`` syntax)."""
        parts = [normalise_mac(self.mac), f"set:{KNOWN_TAG}"]
        for tag in self.tags:
            if not _TAG_RE.match(tag) or tag == KNOWN_TAG:
                raise _invalid(f"DHCP tag {tag!r} must be 1-32 of A-Z, a-z, 0-9, - and _")
            parts.append(f"set:{tag}")
        if self.ipv4 is not None:
            parts.append(str(ipaddress.IPv4Address(self.ipv4)))
        if self.hostname is not None:
            if not _HOSTNAME_RE.match(self.hostname):
                raise _invalid(f"hostname {self.hostname!r} is not a valid DNS label")
            parts.append(self.hostname)
        return ",".join(parts) + "\n"


def tombstone(mac: str) -> str:
    """The host file content that makes dnsmasq ignore ``mac`` again (see the module docstring)."""
    return f"{normalise_mac(mac)},ignore\n"


def is_tombstone(text: str) -> bool:
    return text.strip().endswith(",ignore")
