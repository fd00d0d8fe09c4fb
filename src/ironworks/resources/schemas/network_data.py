"""The node's ``network_data`` field (API 1.66) checked against the rules of Ironic's network-data JSON schema (pure).

Ironic validates the field with Nova's ``network_data.json`` schema; this module checks the same rules by hand:

- the document is an object with ``links``, ``networks`` and ``services`` arrays (other keys are allowed, as the
  schema has no ``additionalProperties``);
- a link is a phy-like link (type ``bridge``, ``dvs``, ``hw_veb``, ``hyperv``, ``ovs``, ``tap``, ``vhostuser``,
  ``vif``, ``phy``; needs ``id`` and ``ethernet_mac_address``), a ``bond`` (also ``bond_mode`` from the bonding
  modes and ``bond_links``, an array of strings) or a ``vlan`` (``id``, ``vlan_mac_address``, ``vlan_link``,
  integer ``vlan_id``); MACs are six hex pairs separated by ``:`` or ``-``; ``mtu`` is a number in 1-65535 or null;
- a network is ``ipv4``/``ipv4_dhcp`` or ``ipv6``/``ipv6_dhcp``/``ipv6_slaac`` with string ``id``, ``link`` and
  ``network_id``; its ``ip_address``, ``netmask`` and ``routes`` (``network``, ``netmask``, ``gateway``, optional
  ``services``) are of its IP version;
- a service is ``{"type": "dns", "address": <IPv4 or IPv6 address>}``.

Addresses are parsed with :mod:`ipaddress` plus the few shape rules of Ironic's patterns: IPv4 host addresses may
have leading zeros in an octet (``010.0.0.1``) but route networks may not; an IPv4 netmask is a contiguous mask
other than 255.255.255.255; an IPv6 host may carry a ``/NN`` suffix and an ``fe80:`` address a zone; IPv6 netmasks
and networks are plain addresses. A violation raises ``errors.Invalid`` naming the path of the offending value.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ironworks import errors

PHY_TYPES = ("bridge", "dvs", "hw_veb", "hyperv", "ovs", "tap", "vhostuser", "vif", "phy")
BOND_MODES = ("802.3ad", "balance-rr", "active-backup", "balance-xor", "broadcast", "balance-tlb", "balance-alb")
IPV4_TYPES = ("ipv4", "ipv4_dhcp")
IPV6_TYPES = ("ipv6", "ipv6_dhcp", "ipv6_slaac")
SERVICE_TYPES = ("dns",)
MTU_MAX = 65535

_MAC = re.compile(r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}")
_OCTET = re.compile(r"[0-9]{1,3}")
_MASK_OCTETS = ("254", "252", "248", "240", "224", "192", "128", "0")
_PREFIX_SUFFIX = re.compile(r"/[0-9]{1,2}")
_ZONED = re.compile(r"fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]+")
_V4_TAIL_HEAD = re.compile(r"::(ffff(:0{1,4})?:)?|([0-9a-fA-F]{1,4}:){1,4}:")
_V4_TAIL = re.compile(r"((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9])")


def _fail(path: str, message: str) -> errors.Invalid:
    return errors.Invalid(f"Invalid network_data: {path}: {message}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, f"{_show(value)} is not of type 'object'")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, f"{_show(value)} is not of type 'array'")
    return value


def _required(doc: dict[str, Any], keys: tuple[str, ...], path: str) -> None:
    for key in keys:
        if key not in doc:
            raise _fail(path, f"{key!r} is a required property")


def _strings(doc: dict[str, Any], keys: tuple[str, ...], path: str) -> None:
    for key in keys:
        if key in doc and not isinstance(doc[key], str):
            raise _fail(f"{path}.{key}", f"{_show(doc[key])} is not of type 'string'")


def _enum(value: Any, allowed: tuple[str, ...], path: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _fail(path, f"{_show(value)} is not one of {list(allowed)}")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"{_show(value)} is not of type 'string'")
    return value


# --- addresses ------------------------------------------------------------------------------------------------
def is_ipv4(value: str, *, leading_zeros: bool = True) -> bool:
    parts = value.split(".")
    if len(parts) != 4 or not all(_OCTET.fullmatch(p) and int(p) <= 255 for p in parts):
        return False
    return leading_zeros or all(p == str(int(p)) for p in parts)


def is_ipv4_netmask(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 4:
        return False
    partial = next((i for i, p in enumerate(parts) if p != "255"), None)
    if partial is None:  # 255.255.255.255 is not a mask Ironic's schema accepts
        return False
    return parts[partial] in _MASK_OCTETS and all(p == "0" for p in parts[partial + 1 :])


def is_ipv6(value: str, *, host: bool = False) -> bool:
    """An IPv6 address; ``host`` also allows a ``/NN`` suffix, an IPv4 tail (``::ffff:192.0.2.1``) and an fe80 zone."""
    if host:
        suffix = _PREFIX_SUFFIX.search(value)
        if suffix and suffix.end() == len(value):
            value = value[: suffix.start()]
    if "%" in value:  # Ironic's pattern allows a zone on fe80: addresses only
        return host and _ZONED.fullmatch(value) is not None
    if "." in value:  # and an IPv4 tail only after "::", "::ffff:", "::ffff:0:" or 1-4 groups and "::"
        head, _, tail = value.rpartition(":")
        return host and _V4_TAIL_HEAD.fullmatch(head + ":") is not None and _V4_TAIL.fullmatch(tail) is not None
    if not value.isascii():
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _address(value: Any, path: str, version: int, kind: str) -> None:
    text = _text(value, path)
    if version == 4:
        ok = {"host": is_ipv4(text), "network": is_ipv4(text, leading_zeros=False), "netmask": is_ipv4_netmask(text)}
    else:
        ok = {
            "host": is_ipv6(text, host=True),
            "gateway": is_ipv6(text, host=True) and "/" not in text,
            "network": is_ipv6(text),
            "netmask": is_ipv6(text),
        }
    ok.setdefault("gateway", ok["host"])
    if not ok[kind]:
        raise _fail(path, f"{_show(value)} is not a valid IPv{version} {kind}")


# --- links ----------------------------------------------------------------------------------------------------
def _mac(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _MAC.fullmatch(value):
        raise _fail(path, f"{_show(value)} is not a valid MAC address")


def _mtu(value: Any, path: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= MTU_MAX:
        raise _fail(path, f"{_show(value)} is not a number from 1 to {MTU_MAX} or null")


def _link(value: Any, path: str) -> None:
    link = _object(value, path)
    _required(link, ("type",), path)
    kind = _enum(link["type"], (*PHY_TYPES, "bond", "vlan"), f"{path}.type")
    mac_key = "vlan_mac_address" if kind == "vlan" else "ethernet_mac_address"
    required: tuple[str, ...] = ("id", mac_key)
    if kind == "bond":
        required += ("bond_mode", "bond_links")
    elif kind == "vlan":
        required += ("vlan_link", "vlan_id")
    _required(link, required, path)
    _strings(link, ("id", "vif_id", "vlan_link"), path)
    _mac(link[mac_key], f"{path}.{mac_key}")
    if "mtu" in link:
        _mtu(link["mtu"], f"{path}.mtu")
    if kind == "bond":
        _enum(link["bond_mode"], BOND_MODES, f"{path}.bond_mode")
        for i, member in enumerate(_array(link["bond_links"], f"{path}.bond_links")):
            _text(member, f"{path}.bond_links[{i}]")
    if kind == "vlan":
        vlan_id = link["vlan_id"]
        integral = isinstance(vlan_id, int) or (isinstance(vlan_id, float) and vlan_id.is_integer())
        if isinstance(vlan_id, bool) or not integral:
            raise _fail(f"{path}.vlan_id", f"{_show(vlan_id)} is not of type 'integer'")


# --- networks and services ------------------------------------------------------------------------------------
def _service(value: Any, path: str, versions: tuple[int, ...]) -> None:
    service = _object(value, path)
    _required(service, ("address", "type"), path)
    _enum(service["type"], SERVICE_TYPES, f"{path}.type")
    address = _text(service["address"], f"{path}.address")
    if not any(is_ipv4(address) if v == 4 else is_ipv6(address, host=True) for v in versions):
        family = " or ".join(f"IPv{v}" for v in versions)
        raise _fail(f"{path}.address", f"{_show(address)} is not a valid {family} address")


def _route(value: Any, path: str, version: int) -> None:
    route = _object(value, path)
    _required(route, ("gateway", "netmask", "network"), path)
    _address(route["network"], f"{path}.network", version, "network")
    _address(route["netmask"], f"{path}.netmask", version, "netmask")
    _address(route["gateway"], f"{path}.gateway", version, "gateway")
    if "services" in route:
        for i, service in enumerate(_array(route["services"], f"{path}.services")):
            _service(service, f"{path}.services[{i}]", (version,))


def _network(value: Any, path: str) -> None:
    network = _object(value, path)
    _required(network, ("type",), path)
    kind = _enum(network["type"], IPV4_TYPES + IPV6_TYPES, f"{path}.type")
    version = 4 if kind in IPV4_TYPES else 6
    _required(network, ("id", "link", "network_id"), path)
    _strings(network, ("id", "link", "network_id"), path)
    if "ip_address" in network:
        _address(network["ip_address"], f"{path}.ip_address", version, "host")
    if "netmask" in network:
        _address(network["netmask"], f"{path}.netmask", version, "netmask")
    if "routes" in network:
        for i, route in enumerate(_array(network["routes"], f"{path}.routes")):
            _route(route, f"{path}.routes[{i}]", version)


def validate_network_data(value: Any) -> None:
    """Raise ``errors.Invalid`` ("Invalid network_data: <path>: <reason>") unless ``value`` follows the schema."""
    doc = _object(value, "network_data")
    _required(doc, ("links", "networks", "services"), "network_data")
    for i, link in enumerate(_array(doc["links"], "links")):
        _link(link, f"links[{i}]")
    for i, network in enumerate(_array(doc["networks"], "networks")):
        _network(network, f"networks[{i}]")
    for i, service in enumerate(_array(doc["services"], "services")):
        _service(service, f"services[{i}]", (4, 6))
