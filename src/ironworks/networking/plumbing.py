"""Which switch port goes into which VLAN for each phase of a node's life (pure).

* **provisioning / cleaning / rescue**: the node's PXE-enabled ports are access ports of that network's VLAN;
  every other port with a switch port is isolated (no tenant traffic while the ramdisk runs).
* **tenant**: each VIF's NIC (a port, or each member port of a portgroup) carries the VIF's networks: one
  network is an access port of its VLAN; several are a trunk (tagged VLANs, the network without a VLAN as the
  native one). Ports carrying no VIF are isolated.
* **off**: every port isolated.

A network without a VLAN (flat) is left to the cabling: its ports are not touched. The result is a list of
``Change``: what a switch driver must do to one switch port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks.networking.switches.base import SwitchPort


@dataclass(frozen=True)
class Change:
    port: SwitchPort
    #: the node port's MAC, for logs
    mac: str
    #: "access", "trunk" or "isolate"
    action: str
    vlans: tuple[int, ...] = ()
    native: int | None = None


def _switch_port(port: Mapping[str, Any]) -> SwitchPort | None:
    return SwitchPort.from_llc(port.get("local_link_connection"))


def for_role_network(ports: Sequence[Mapping[str, Any]], vlan: int | None) -> list[Change]:
    """Provisioning, cleaning or rescue: PXE ports on ``vlan``, the others isolated."""
    changes = []
    for port in ports:
        sp = _switch_port(port)
        if sp is None:
            continue
        if port.get("pxe_enabled"):
            if vlan is not None:
                changes.append(Change(sp, port["address"], "access", (vlan,), vlan))
        else:
            changes.append(Change(sp, port["address"], "isolate"))
    return changes


def isolate_all(ports: Sequence[Mapping[str, Any]]) -> list[Change]:
    return [Change(sp, p["address"], "isolate") for p in ports if (sp := _switch_port(p)) is not None]


def for_tenants(ports: Sequence[Mapping[str, Any]], nic_vlans: Mapping[str, Sequence[int | None]]) -> list[Change]:
    """``nic_vlans`` maps a port or portgroup uuid to the VLANs of the VIF it carries (None: untagged)."""
    changes = []
    for port in ports:
        sp = _switch_port(port)
        if sp is None:
            continue
        nic = port["uuid"] if port["uuid"] in nic_vlans else port.get("portgroup_uuid")
        if nic is None or nic not in nic_vlans:
            changes.append(Change(sp, port["address"], "isolate"))
            continue
        vlans = list(nic_vlans[nic])
        tagged = tuple(sorted(v for v in vlans if v is not None))
        if len(vlans) == 1:
            if tagged:
                changes.append(Change(sp, port["address"], "access", tagged, tagged[0]))
            continue  # one flat network: the cabling decides
        changes.append(Change(sp, port["address"], "trunk", tagged, None))
    return changes
