"""DHCP per network: the conductor's dnsmasq serves every provisioning, cleaning and rescue network on its own
interface, one tagged ``dhcp-range`` each (``netboot/dnsmasq.py`` renders them).

* **Interface**: the network's ``dhcp_interface`` when set (the lab's per-VLAN bridge on kernels without 802.1Q,
  such as this project's CI host), else the VLAN subinterface ``<trunk>.<vlan_id>`` of the ``dhcp_trunk_interface``
  setting (``ensure_vlan_interface`` creates it where the kernel has 802.1Q). A network with neither is refused.
* **Server address**: ``extra.dhcp_server_address`` when set, else the first host address of the CIDR that is
  not the gateway. **Range**: the allocation pool, else the .100-.199 hosts (as netboot's default).
  **Router**: the gateway, if any (a provisioning network usually has none: nothing routes out of it).
* **Host entries**: a node's PXE MACs carry the tag of the network it is on (``host_entry``), so the logs and
  options of each network stay with its hosts.

In the running service (``sync``, called at conductor start and after every network create/update/delete when
this process runs netboot): every network with a DHCP role becomes a DhcpNetwork for
``NetbootService.serve_networks``. A network without ``dhcp_interface`` gets its ``<trunk>.<vlan>`` created and
its server address added in the netboot namespace where the kernel has 802.1Q; a ``dhcp_interface`` must exist
and carry the server address. A network that cannot be served is skipped with a logged warning: the API call
that changed it never fails because of DHCP. ``node_network`` tells the boot interface which served network a
node is on for its current work, and the agent's API URL there (the network's ``extra.api_url``, else the
configured ``netboot_api_url``).

Pure functions except ``ensure_vlan_interface``, ``sync`` and ``node_network``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.networks import NetworkRepo
from ironworks.netboot.dnsmasq import DhcpNetwork, HostEntry

if TYPE_CHECKING:
    from ironworks.bootstrap import Services
    from ironworks.db.engine import Database
    from ironworks.netboot.service import NetbootService
    from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

DHCP_ROLES = frozenset({"provisioning", "cleaning", "rescue"})


def supports_8021q() -> bool:
    """Whether this kernel has 802.1Q VLAN subinterfaces (``/proc/net/vlan`` exists once the module is in)."""
    return Path("/proc/net/vlan").exists()


def dhcp_name(network: Mapping[str, Any]) -> str:
    """The dnsmasq network id (``iwnet-<id>`` tag): the name in a-z0-9_, made unique by the record id."""
    base = re.sub(r"[^a-z0-9_]", "_", str(network["name"]).lower()).strip("_") or "net"
    return f"{base[:24]}_{network['id']}"


def interface_for(network: Mapping[str, Any], trunk: str | None) -> str:
    if network.get("dhcp_interface"):
        return str(network["dhcp_interface"])
    if trunk and network.get("vlan_id"):
        name = f"{trunk}.{network['vlan_id']}"
        if len(name) > 15:
            raise errors.InvalidParameterValue(f"VLAN interface name {name!r} is longer than 15 characters")
        return name
    if trunk and not network.get("vlan_id"):
        return trunk
    raise errors.InvalidParameterValue(
        f"Network {network['name']}: set its dhcp_interface, or the dhcp_trunk_interface setting for "
        f"{'VLAN ' + str(network['vlan_id']) if network.get('vlan_id') else 'a flat network'}"
    )


def dhcp_network(
    network: Mapping[str, Any], *, trunk: str | None, http_port: int, lease_seconds: int = 600
) -> DhcpNetwork:
    """The dnsmasq view of one Ironworks network record (see the module docstring)."""
    if not network.get("cidr"):
        raise errors.InvalidParameterValue(f"Network {network['name']} needs a cidr to be served by DHCP")
    net = ipaddress.ip_network(network["cidr"])
    if not isinstance(net, ipaddress.IPv4Network):
        raise errors.InvalidParameterValue(f"Network {network['name']}: DHCP serves IPv4 networks only")
    gateway = ipaddress.IPv4Address(network["gateway"]) if network.get("gateway") else None
    hosts = list(net.hosts())
    server_raw = (network.get("extra") or {}).get("dhcp_server_address")
    server = ipaddress.IPv4Address(server_raw) if server_raw else next(h for h in hosts if h != gateway)
    if network.get("allocation_start"):
        start = ipaddress.IPv4Address(network["allocation_start"])
        end = ipaddress.IPv4Address(network["allocation_end"])
    else:
        start, end = hosts[min(99, len(hosts) // 2)], hosts[min(198, len(hosts) - 1)]
    result = DhcpNetwork(
        name=dhcp_name(network),
        interface=interface_for(network, trunk),
        address=ipaddress.IPv4Interface(f"{server}/{net.prefixlen}"),
        range_start=start,
        range_end=end,
        http_url=f"http://{server}:{http_port}",
        lease_seconds=lease_seconds,
        router=gateway,
    )
    result.validate()
    return result


def dhcp_networks(
    networks: Iterable[Mapping[str, Any]], *, trunk: str | None, http_port: int
) -> tuple[DhcpNetwork, ...]:
    """One DhcpNetwork per network with a provisioning, cleaning or rescue role, in record order."""
    return tuple(
        dhcp_network(n, trunk=trunk, http_port=http_port)
        for n in sorted(networks, key=lambda n: n["id"])
        if DHCP_ROLES & set(n.get("roles") or ())
    )


def host_entry(mac: str, network: Mapping[str, Any], hostname: str | None = None) -> HostEntry:
    """The host file of a node's PXE MAC while the node is on ``network``."""
    return HostEntry(mac, hostname=hostname, tags=(f"iwnet-{dhcp_name(network)}",))


def ensure_vlan_interface(trunk: str, vlan: int, *, netns: str | None = None) -> str:
    """Create ``<trunk>.<vlan>`` (802.1Q) and bring it up; idempotent. Needs the kernel's 8021q support."""
    name = f"{trunk}.{vlan}"
    ns = ["-n", netns] if netns else []
    if subprocess.run(["ip", *ns, "link", "show", "dev", name], capture_output=True, check=False).returncode:
        done = subprocess.run(
            ["ip", *ns, "link", "add", "link", trunk, "name", name, "type", "vlan", "id", str(vlan)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise errors.DriverError(f"Cannot create VLAN interface {name}: {done.stderr.strip()}")
    subprocess.run(["ip", *ns, "link", "set", name, "up"], capture_output=True, check=False)
    return name


# -- the running service ----------------------------------------------------------------------------------------
def _addresses(interface: str, netns: str | None) -> list[ipaddress.IPv4Interface] | None:
    """The IPv4 addresses on ``interface`` (in ``netns``); None when it does not exist."""
    ns = ["-n", netns] if netns else []
    done = subprocess.run(
        ["ip", *ns, "-o", "-4", "addr", "show", "dev", interface], capture_output=True, text=True, check=False
    )
    if done.returncode:
        return None
    return [ipaddress.IPv4Interface(line.split()[3]) for line in done.stdout.splitlines() if " inet " in line]


def _plumb(record: Mapping[str, Any], net: DhcpNetwork, trunk: str | None, netns: str | None) -> None:
    """Make ``net``'s interface ready (see the module docstring); InvalidParameterValue/DriverError if it cannot be."""
    if not record.get("dhcp_interface") and record.get("vlan_id") and trunk:
        if not supports_8021q():
            raise errors.InvalidParameterValue(f"this kernel has no 802.1Q VLANs for {net.interface}")
        ensure_vlan_interface(trunk, int(record["vlan_id"]), netns=netns)
        ns = ["-n", netns] if netns else []
        done = subprocess.run(
            ["ip", *ns, "addr", "replace", str(net.address), "dev", net.interface],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise errors.DriverError(f"Cannot add {net.address} to {net.interface}: {done.stderr.strip()}")
        return
    found = _addresses(net.interface, netns)
    if found is None:
        raise errors.InvalidParameterValue(f"interface {net.interface} does not exist")
    if net.address not in found:
        raise errors.InvalidParameterValue(f"interface {net.interface} does not have the address {net.address}")


def served_networks(
    records: Iterable[Mapping[str, Any]], netboot: NetbootService, trunk: str | None
) -> list[DhcpNetwork]:
    """The DhcpNetworks that can be served now, their interfaces made ready; the others logged and skipped."""
    result = []
    config = netboot.config
    for record in sorted(records, key=lambda n: n["id"]):
        if not DHCP_ROLES & set(record.get("roles") or ()):
            continue
        try:
            net = dhcp_network(record, trunk=trunk, http_port=config.http_port)
            if net.interface == netboot.base_network.interface:
                LOG.info(
                    "DHCP: network %s is on the base interface %s: served as the base network",
                    record["name"],
                    net.interface,
                )
                continue
            _plumb(record, net, trunk, config.netns)
        except (errors.IronworksError, ValueError) as exc:
            LOG.warning("DHCP: network %s is not served: %s", record["name"], exc)
            continue
        result.append(net)
    return result


def sync(svc: Services) -> bool:
    """Serve the current network records (if this process runs netboot); True when the served set changed.

    Never raises: a failure is logged and the previous set stays served.
    """
    netboot = getattr(svc, "netboot", None)
    if netboot is None or not netboot.started:
        return False
    try:
        with netboot.serving:
            records = NetworkRepo(svc.db).all()
            trunk = svc.settings.dhcp_trunk_interface or None
            return netboot.serve_networks(served_networks(records, netboot, trunk))
    except Exception:  # noqa: BLE001 - DHCP never fails the API call that changed a network
        LOG.exception("DHCP: the networks could not be served")
        return False


#: the role a node's network plays for its current work (anything else: provisioning, e.g. deploy, inspect)
_ROLE_BY_STATE = {"cleaning": "cleaning", "clean wait": "cleaning", "rescuing": "rescue", "rescue wait": "rescue"}


@dataclasses.dataclass(frozen=True)
class NodeNetwork:
    """The served network a node boots its ramdisk on, and the agent's API URL there (None: the default)."""

    name: str
    api_url: str | None


def node_network(db: Database, node: Mapping[str, Any], settings: Settings) -> NodeNetwork | None:
    """The network ``node`` is on for its current work, resolved as the ``vlan`` network interface does.

    For nodes with another network interface, only a network named in driver_info counts (their cabling is
    fixed). None: none found, the node boots on the base netboot network.
    """
    from ironworks.drivers.network.vlan import ROLE_KEYS, role_network

    role = _ROLE_BY_STATE.get(str(node.get("provision_state")), "provisioning")
    named = (node.get("driver_info") or {}).get(ROLE_KEYS[role])
    if node.get("network_interface") != "vlan" and not named:
        return None
    try:
        record = NetworkRepo(db).read(lambda lk: role_network(lk, dict(node), settings, role))
    except errors.IronworksError:
        return None
    api_url = (record.get("extra") or {}).get("api_url")
    return NodeNetwork(dhcp_name(record), str(api_url) if api_url else None)
