"""Network addressing rules (pure): a network's fields checked together, and addresses allocated from its pool.

1. ``normalize(values)`` checks a network document as a whole: the VLAN id is 1-4094, the CIDR is a network
   address (no host bits), the gateway, pool ends, route next hops and fixed addresses lie inside it and are
   neither its network nor its broadcast address, the pool runs forwards, roles are known, the MTU is sane.
   Any violation is ``InvalidParameterValue`` (400) naming the field.
2. ``allocate(network, used)`` gives the lowest address of the pool that no VIF holds and that is not the
   gateway; an exhausted pool is a 409 (``NetworkExhausted``).
3. ``check_fixed(network, ip, used)`` accepts an address the user chose: inside the CIDR (anywhere, as Neutron
   allows), not the gateway, not in use (409).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping
from typing import Any

from ironworks import errors
from ironworks.identifiers import is_valid_logical_name

ROLES = frozenset({"provisioning", "cleaning", "rescue", "tenant"})

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


class NetworkExhausted(errors.Conflict):
    template = "No free address left in the allocation pool of network %(network)s."


class IpAddressInUse(errors.Conflict):
    template = "Address %(ip)s of network %(network)s is already in use."


def _bad(field: str, why: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(f"Invalid network {field}: {why}")


def _addr(field: str, value: Any) -> IPAddr:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise _bad(field, f"{value!r} is not an IP address") from None


def network_of(cidr: str) -> IPNet:
    return ipaddress.ip_network(cidr)


def _inside(field: str, ip: IPAddr, net: IPNet | None) -> None:
    if net is None:
        raise _bad(field, "needs a cidr")
    if ip.version != net.version or ip not in net:
        raise _bad(field, f"{ip} is outside {net}")
    if net.num_addresses > 2 and ip in (net.network_address, net.broadcast_address):
        raise _bad(field, f"{ip} is the network or broadcast address of {net}")


def normalize(values: Mapping[str, Any]) -> dict[str, Any]:
    """The network's column values, checked as a whole (see the module docstring)."""
    out = dict(values)
    if not is_valid_logical_name(out.get("name")):
        raise _bad("name", f"{out.get('name')!r}: 1-255 letters, digits, '-', '.', '_', '~', not a UUID")
    vlan = out.get("vlan_id")
    if vlan is not None and not 1 <= vlan <= 4094:
        raise _bad("vlan_id", f"{vlan} is not a VLAN id (1-4094)")
    net: IPNet | None = None
    if out.get("cidr") is not None:
        try:
            net = ipaddress.ip_network(out["cidr"])
        except ValueError as exc:
            raise _bad("cidr", f"{out['cidr']!r}: {exc}") from None
        out["cidr"] = str(net)
    if out.get("gateway") is not None:
        gateway = _addr("gateway", out["gateway"])
        _inside("gateway", gateway, net)
        out["gateway"] = str(gateway)
    out["dns_nameservers"] = [str(_addr("dns_nameservers", d)) for d in out.get("dns_nameservers") or []]
    start, end = out.pop("allocation_pool", None) or (None, None)
    if start is not None:
        first, last = _addr("allocation_pool", start), _addr("allocation_pool", end)
        _inside("allocation_pool", first, net)
        _inside("allocation_pool", last, net)
        if int(first) > int(last):
            raise _bad("allocation_pool", f"start {first} is after end {last}")
        start, end = str(first), str(last)
    out["allocation_start"], out["allocation_end"] = start, end
    routes = []
    for route in out.get("routes") or []:
        try:
            dest = ipaddress.ip_network(route["destination"])
        except ValueError as exc:
            raise _bad("routes", f"destination {route['destination']!r}: {exc}") from None
        hop = _addr("routes", route["nexthop"])
        _inside("routes", hop, net)
        routes.append({"destination": str(dest), "nexthop": str(hop)})
    out["routes"] = routes
    roles = out.get("roles")
    roles = ["tenant"] if roles is None else roles
    unknown = sorted(set(roles) - ROLES)
    if unknown:
        raise _bad("roles", f"unknown role(s) {', '.join(unknown)}; use {', '.join(sorted(ROLES))}")
    out["roles"] = sorted(set(roles))
    mtu = out.get("mtu")
    if mtu is not None and not 68 <= mtu <= 65535:
        raise _bad("mtu", f"{mtu} is not between 68 and 65535")
    if out.get("dhcp_interface") is not None and not 1 <= len(out["dhcp_interface"]) <= 15:
        raise _bad("dhcp_interface", "an interface name is 1-15 characters")
    out["extra"] = out.get("extra") or {}
    return out


def allocate(network: Mapping[str, Any], used: Collection[str]) -> str | None:
    """The lowest free pool address, or None when the network has no pool (the host uses DHCP)."""
    if not network.get("allocation_start"):
        return None
    taken = {str(ipaddress.ip_address(u)) for u in used}
    if network.get("gateway"):
        taken.add(network["gateway"])
    first = int(ipaddress.ip_address(network["allocation_start"]))
    last = int(ipaddress.ip_address(network["allocation_end"]))
    cls = type(ipaddress.ip_address(network["allocation_start"]))
    for value in range(first, last + 1):
        candidate = str(cls(value))
        if candidate not in taken:
            return candidate
    raise NetworkExhausted(network=network["name"])


def check_fixed(network: Mapping[str, Any], ip: Any, used: Collection[str]) -> str:
    """A user-chosen address, checked (400 outside the network, 409 when taken)."""
    if not isinstance(ip, str):
        raise errors.InvalidParameterValue(f"fixed_ip must be a string, not {ip!r}")
    net = network_of(network["cidr"]) if network.get("cidr") else None
    addr = _addr("fixed_ip", ip)
    try:
        _inside("fixed_ip", addr, net)
    except errors.InvalidParameterValue as exc:
        raise errors.InvalidParameterValue(f"{exc.message} (network {network['name']})") from None
    text = str(addr)
    if text == network.get("gateway"):
        raise IpAddressInUse(ip=text, network=network["name"])
    if text in {str(ipaddress.ip_address(u)) for u in used}:
        raise IpAddressInUse(ip=text, network=network["name"])
    return text


def prefix(network: Mapping[str, Any], ip: str) -> str:
    """``ip/prefixlen`` of an address on this network."""
    return f"{ip}/{network_of(network['cidr']).prefixlen}"
