"""The conductor's netboot: dnsmasq + the static file server on the provisioning interface, and per-node entries.

Built by the composition root (``bootstrap.py``) from the ``netboot_*`` settings when ``netboot_interface`` names
a provisioning interface (inside ``netboot_netns`` when one is set, as in the lab), started with the conductor
and stopped with it. The boot interfaces (``drivers/boot``) call three operations, one per boot mode of a node:

* :meth:`NetbootService.boot_ramdisk` — publish the deploy kernel/ramdisk (a local path is linked into
  ``shared/``; a URL is used as is), write each MAC's iPXE script (retry with back-off, ``ironworks.api_url=``
  on the kernel command line) and its dnsmasq host file (tagged ``iwknown``: unknown MACs get nothing);
* :meth:`NetbootService.boot_local` — each MAC's script boots the local disk; the host file stays, so a
  machine whose BMC could not set the boot device still gets the local-boot script;
* :meth:`NetbootService.forget` — tombstone the host files and remove the scripts and per-node files.

dnsmasq is never restarted for these: host files are read through inotify (see ``supervisor.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ironworks import errors
from ironworks.netboot import ipxe
from ironworks.netboot.dnsmasq import DhcpNetwork, DnsmasqConfig, HostEntry, normalise_mac
from ironworks.netboot.files import BootFiles
from ironworks.netboot.httpd import FileServer
from ironworks.netboot.supervisor import DnsmasqService

if TYPE_CHECKING:
    from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

#: tag set in host files written for nodes being provisioned (besides ``iwknown``)
PROVISIONING_TAG = "iwprov"


@dataclasses.dataclass(frozen=True)
class NetbootConfig:
    """The netboot part of the settings, parsed and checked."""

    interface: str
    address: ipaddress.IPv4Interface
    state_dir: Path
    api_url: str
    netns: str | None = None
    range_start: ipaddress.IPv4Address | None = None
    range_end: ipaddress.IPv4Address | None = None
    ipv6_prefix: ipaddress.IPv6Network | None = None
    http_port: int = 8080
    ping_check: bool = True
    kernel_params: tuple[str, ...] = ()

    @property
    def http_url(self) -> str:
        return f"http://{self.address.ip}:{self.http_port}"

    @classmethod
    def from_settings(cls, settings: Settings) -> NetbootConfig | None:
        """None when no provisioning interface is configured; ValueError on a bad value."""
        if not settings.netboot_interface:
            return None
        if not settings.netboot_address:
            raise ValueError("netboot_address (e.g. 10.213.0.1/24) is required with netboot_interface")
        address = ipaddress.IPv4Interface(settings.netboot_address)
        start = end = None
        if settings.netboot_dhcp_range:
            first, _, last = settings.netboot_dhcp_range.partition(",")
            start, end = ipaddress.IPv4Address(first.strip()), ipaddress.IPv4Address(last.strip())
        api_url = settings.netboot_api_url or f"http://{address.ip}:{settings.port}"
        return cls(
            interface=settings.netboot_interface,
            address=address,
            state_dir=Path(settings.state_dir) / "netboot",
            api_url=api_url,
            netns=settings.netboot_netns or None,
            range_start=start,
            range_end=end,
            ipv6_prefix=ipaddress.IPv6Network(settings.netboot_ipv6_prefix) if settings.netboot_ipv6_prefix else None,
            http_port=settings.netboot_http_port,
            ping_check=settings.netboot_ping_check,
            kernel_params=tuple(p for p in settings.netboot_kernel_params.split() if p),
        )

    def dhcp_network(self) -> DhcpNetwork:
        hosts = list(self.address.network.hosts())
        start = self.range_start or hosts[min(99, len(hosts) // 2)]
        end = self.range_end or hosts[min(198, len(hosts) - 1)]
        return DhcpNetwork(
            name="prov",
            interface=self.interface,
            address=self.address,
            range_start=start,
            range_end=end,
            http_url=self.http_url,
            ipv6_prefix=self.ipv6_prefix,
        )


class NetbootService:
    """dnsmasq + file server for one provisioning network, and the per-node boot configuration."""

    def __init__(self, config: NetbootConfig) -> None:
        self.config = config
        network = config.dhcp_network()
        network.validate()
        self.files = BootFiles(config.state_dir / "http", config.state_dir / "tftp", config.http_url)
        dns = DnsmasqConfig(
            networks=(network,),
            state_dir=config.state_dir / "dnsmasq",
            tftp_root=self.files.tftp_root,
            ping_check=config.ping_check,
        )
        self.dnsmasq = DnsmasqService(dns, netns=config.netns)
        self.http = FileServer(
            self.files.http_root,
            str(config.address.ip),
            config.http_port,
            config.state_dir / "httpd.log",
            access_log=config.state_dir / "access.log",
            netns=config.netns,
        )
        self._lock = threading.Lock()
        self.started = False

    # -- life cycle -------------------------------------------------------------------------------------
    def start(self) -> NetbootService:
        self.files.prepare()
        self.dnsmasq.start()
        try:
            self.http.start()
        except BaseException:
            self.dnsmasq.stop()
            raise
        self.started = True
        LOG.info(
            "netboot: dnsmasq and the file server on %s (%s)%s",
            self.config.interface,
            self.config.address,
            f" in namespace {self.config.netns}" if self.config.netns else "",
        )
        return self

    def stop(self) -> None:
        self.http.stop()
        self.dnsmasq.stop()
        self.started = False

    def _check(self) -> None:
        if not self.started:
            raise errors.DriverError(reason="netboot (dnsmasq and the file server) is not running in this conductor")

    # -- files ------------------------------------------------------------------------------------------
    def artifact_url(self, ref: str, kind: str) -> str:
        """A kernel/ramdisk reference (http(s) URL or a local path) → the URL a machine downloads it from."""
        if ref.startswith(("http://", "https://")):
            return ipxe.ipxe_url(ref)
        path = Path(ref.removeprefix("file://"))
        if not path.is_file():
            raise errors.DriverError(reason=f"the {kind} {ref!r} is not a file on this conductor")
        stat = path.stat()
        digest = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
        return self.files.publish(path, f"{kind}-{digest}")

    # -- per node ---------------------------------------------------------------------------------------
    def boot_ramdisk(
        self, node: str, macs: Iterable[str], kernel: str, ramdisk: str, extra_params: tuple[str, ...] = ()
    ) -> list[str]:
        """Make every MAC of ``node`` netboot the deploy ramdisk; returns the normalised MACs."""
        self._check()
        normalised = [normalise_mac(mac) for mac in macs]
        if not normalised:
            raise errors.DriverError(reason=f"node {node} has no port with PXE enabled to boot from")
        with self._lock:
            kernel_url = self.artifact_url(kernel, "kernel")
            initrd_url = self.artifact_url(ramdisk, "ramdisk")
            params = (*self.config.kernel_params, *extra_params)
            for mac in normalised:
                script = ipxe.render_deploy(
                    ipxe.DeployRamdisk(
                        kernel_url, initrd_url, self.config.api_url, mac=mac, node=node, extra_params=params
                    )
                )
                self.files.write_script(mac, script)
                self.dnsmasq.add_host(HostEntry(mac, tags=(PROVISIONING_TAG,)))
        LOG.info("netboot: node %s boots the deploy ramdisk (%s)", node, ", ".join(normalised))
        return normalised

    def boot_local(self, node: str, macs: Iterable[str]) -> None:
        """Every MAC of ``node`` gets the local-disk script (the fallback when the BMC's boot device is ignored)."""
        self._check()
        with self._lock:
            for mac in macs:
                self.files.write_script(mac, ipxe.render_local_disk(node))
                self.dnsmasq.add_host(HostEntry(normalise_mac(mac)))

    def forget(self, node: str, macs: Iterable[str]) -> None:
        """No more DHCP answers, scripts or files for ``node`` (idempotent)."""
        if not self.started:
            return
        with self._lock:
            for mac in macs:
                self.dnsmasq.remove_host(mac)
                self.files.remove_script(mac)
            self.files.remove_node_files(node)
        LOG.info("netboot: entries of node %s removed", node)

    def hosts(self) -> dict[str, str]:
        return self.dnsmasq.hosts()
