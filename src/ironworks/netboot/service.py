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

**DHCP per network** (:meth:`NetbootService.serve_networks`, fed by ``networking/dhcp.py`` ``sync``): besides the
base network of the settings, dnsmasq serves each provisioning/cleaning/rescue network on its own interface
(one tagged ``dhcp-range`` each) and a file server listens on each network's server address, with its own root
(``http-net/<name>/``: a ``boot.ipxe`` that chains to that address, and links to the shared ``nodes``, ``files``
and ``shared`` directories), so a machine on VLAN 100 never needs a route to another network. dnsmasq is
restarted only when that set of networks changes. ``boot_ramdisk(network=...)`` writes a node's script with
the URLs of its network and tags its host file with the network's tag.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ironworks import errors
from ironworks.netboot import ipxe
from ironworks.netboot.dnsmasq import DhcpNetwork, DnsmasqConfig, HostEntry, normalise_mac
from ironworks.netboot.files import BootFiles, write_atomic
from ironworks.netboot.httpd import FileServer
from ironworks.netboot.supervisor import ChildProcessError, DnsmasqService

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


#: top-level entries of the HTTP root that every network's own root links to
_SHARED_DIRS = ("nodes", "files", "shared")


class NetbootService:
    """dnsmasq + file servers for the provisioning networks, and the per-node boot configuration."""

    def __init__(self, config: NetbootConfig) -> None:
        self.config = config
        network = config.dhcp_network()
        network.validate()
        self.base_network = network
        #: the extra networks served (name -> network) and their file servers
        self.networks: dict[str, DhcpNetwork] = {}
        self._servers: dict[str, tuple[DhcpNetwork, FileServer]] = {}
        #: held while the served set changes (``networking/dhcp.py`` holds it around read + serve too)
        self.serving = threading.RLock()
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
            lease_file=dns.lease_file,  # node scripts (they carry the boot secret) only to the leased address
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
        with self.serving:
            for name, extra in list(self.networks.items()):
                if not self._start_server(extra):
                    del self.networks[name]
            if self.dnsmasq.config.networks != (self.base_network, *self.networks.values()):
                self._restart_dnsmasq()
        LOG.info(
            "netboot: dnsmasq and the file server on %s (%s)%s",
            self.config.interface,
            self.config.address,
            f" in namespace {self.config.netns}" if self.config.netns else "",
        )
        return self

    def stop(self) -> None:
        with self.serving:
            for _, server in self._servers.values():
                server.stop()
            self._servers.clear()
        self.http.stop()
        self.dnsmasq.stop()
        self.started = False

    # -- DHCP per network ---------------------------------------------------------------------------------
    def serve_networks(self, networks: Sequence[DhcpNetwork]) -> bool:
        """Serve the base network plus ``networks``; True when the served set changed (dnsmasq restarted).

        Networks on the base interface, a second network on one interface and invalid ones are skipped (logged).
        A network whose file server cannot start is left out. Host files stay in the hostsdir across the
        restart; if dnsmasq does not start with the new set, the previous set is restored and DriverError raised.
        """
        with self.serving:
            wanted: dict[str, DhcpNetwork] = {}
            for net in networks:
                used = {self.base_network.interface, *(w.interface for w in wanted.values())}
                try:
                    net.validate()
                except errors.IronworksError as exc:
                    LOG.warning("netboot: network %s is not served: %s", net.name, exc)
                    continue
                if net.interface in used or net.name in wanted or net.name == self.base_network.name:
                    LOG.warning(
                        "netboot: network %s is not served: interface %s is served already", net.name, net.interface
                    )
                    continue
                wanted[net.name] = net
            if self.started:
                for name, net in list(wanted.items()):
                    if not self._start_server(net):
                        del wanted[name]
            previous = self.networks
            changed = set(wanted.values()) != set(previous.values())
            self.networks = wanted
            self.dnsmasq.config = dataclasses.replace(
                self.dnsmasq.config, networks=(self.base_network, *wanted.values())
            )
            if changed and self.started:
                try:
                    self._restart_dnsmasq()
                except (ChildProcessError, errors.IronworksError) as exc:
                    LOG.error("netboot: dnsmasq did not start with networks %s: %s", ", ".join(wanted), exc)
                    self.networks = previous
                    self.dnsmasq.config = dataclasses.replace(
                        self.dnsmasq.config, networks=(self.base_network, *previous.values())
                    )
                    self._restart_dnsmasq()
                    self._stop_servers(keep=set(previous))
                    raise errors.DriverError(reason=f"dnsmasq did not start with the new networks: {exc}") from exc
            self._stop_servers(keep=set(wanted))
        if changed:
            LOG.info(
                "netboot: DHCP serves %s",
                ", ".join(f"{n.name} on {n.interface}" for n in (self.base_network, *wanted.values())),
            )
        return changed

    def _restart_dnsmasq(self) -> None:
        self.dnsmasq.stop()
        self.dnsmasq.start()

    def _network_root(self, net: DhcpNetwork) -> Path:
        """``http-net/<name>/``: this network's ``boot.ipxe`` and links to the shared directories."""
        root = self.config.state_dir / "http-net" / net.name
        root.mkdir(parents=True, exist_ok=True)
        for name in _SHARED_DIRS:
            target = self.files.http_root / name
            target.mkdir(parents=True, exist_ok=True)
            link = root / name
            if not link.is_symlink():
                link.symlink_to(target)
        nodes_url = f"{net.http_url.rstrip('/')}/nodes"
        write_atomic(root / "boot.ipxe", ipxe.render_boot_script(nodes_url).encode())
        return root

    def _start_server(self, net: DhcpNetwork) -> bool:
        """The file server on ``net``'s address (kept when it already serves this network as is)."""
        current = self._servers.get(net.name)
        if current is not None and current[0].address == net.address and current[0].http_url == net.http_url:
            return True
        if current is not None:
            current[1].stop()
            del self._servers[net.name]
        log = self.config.state_dir / f"httpd-{net.name}.log"
        log.unlink(missing_ok=True)  # its start waits for "serving on" in this log
        server = FileServer(
            self._network_root(net),
            str(net.address.ip),
            self.config.http_port,
            log,
            access_log=self.config.state_dir / f"access-{net.name}.log",
            netns=self.config.netns,
            lease_file=self.dnsmasq.config.lease_file,
        )
        try:
            server.start()
        except (ChildProcessError, OSError) as exc:
            server.stop()
            LOG.warning("netboot: network %s is not served: no file server on %s: %s", net.name, net.address, exc)
            return False
        self._servers[net.name] = (net, server)
        return True

    def _stop_servers(self, keep: set[str]) -> None:
        for name in [n for n in self._servers if n not in keep]:
            self._servers.pop(name)[1].stop()

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
    def _rebase(self, url: str, net: DhcpNetwork | None) -> str:
        """A URL of the file server as seen from ``net`` (URLs elsewhere are kept)."""
        base = self.files.base_url + "/"
        if net is None or not url.startswith(base):
            return url
        return f"{net.http_url.rstrip('/')}/{url[len(base) :]}"

    def boot_ramdisk(
        self,
        node: str,
        macs: Iterable[str],
        kernel: str,
        ramdisk: str,
        extra_params: tuple[str, ...] = (),
        *,
        network: str | None = None,
        api_url: str | None = None,
    ) -> list[str]:
        """Make every MAC of ``node`` netboot the deploy ramdisk; returns the normalised MACs.

        ``network``: the served network (its DhcpNetwork name) the node is on: its script's URLs use that
        network's address and its host files carry the network's tag; not served: the base network's.
        ``api_url``: the agent's API URL there (default: the configured netboot api_url).
        """
        self._check()
        normalised = [normalise_mac(mac) for mac in macs]
        if not normalised:
            raise errors.DriverError(reason=f"node {node} has no port with PXE enabled to boot from")
        served = self.networks.get(network) if network else None
        if network and served is None:
            LOG.warning("netboot: node %s is on network %s, which this conductor does not serve", node, network)
        tags = (PROVISIONING_TAG, served.tag) if served is not None else (PROVISIONING_TAG,)
        with self._lock:
            kernel_url = self._rebase(self.artifact_url(kernel, "kernel"), served)
            initrd_url = self._rebase(self.artifact_url(ramdisk, "ramdisk"), served)
            params = (*self.config.kernel_params, *extra_params)
            for mac in normalised:
                script = ipxe.render_deploy(
                    ipxe.DeployRamdisk(
                        kernel_url, initrd_url, api_url or self.config.api_url, mac=mac, node=node, extra_params=params
                    )
                )
                self.files.write_script(mac, script)
                self.dnsmasq.add_host(HostEntry(mac, tags=tags))
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
