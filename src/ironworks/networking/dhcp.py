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

Pure functions except ``ensure_vlan_interface``.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ironworks import errors
from ironworks.netboot.dnsmasq import DhcpNetwork, HostEntry

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
