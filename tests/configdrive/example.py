"""The worked example of docs/networking.md: 4 NICs, two bonded (802.3ad) carrying VLAN 100 and 200, one
provisioning NIC, one spare; hostname, SSH key and root password."""

from __future__ import annotations

from typing import Any

from ironworks.configdrive import from_vifs
from ironworks.configdrive import network_data as nd
from ironworks.configdrive.from_vifs import Attachment
from ironworks.networking.nic_selection import (
    NetworkRef,
    Placement,
    VifRequest,
    choose_nics,
    portgroups_from_records,
    ports_from_records,
)

NODE_UUID = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"
NODE_NAME = "web-01"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFaCP8XDQWrJJKHNgnoiU1VcR9blyQuAfk3zwvHMmZCK ops@example.com"
ROOT_PASSWORD = "correct horse battery staple"

MAC_PROV = "52:54:00:12:00:01"
MAC_BOND_A = "52:54:00:12:00:02"
MAC_BOND_B = "52:54:00:12:00:03"
MAC_SPARE = "52:54:00:12:00:04"
#: the kernel names the deployed system gives its NICs (cloud-init learns them from /sys by MAC)
KERNEL_NAMES = {MAC_PROV: "eno1", MAC_BOND_A: "eno2", MAC_BOND_B: "eno3", MAC_SPARE: "eno4"}

PG_UUID = "8c0bde05-54c7-4c8e-9d5e-3b8f6b4a0b01"

#: the API objects, as the port and portgroup repositories return them
PORTGROUP_RECORDS: list[dict[str, Any]] = [
    {
        "id": 1, "uuid": PG_UUID, "name": "bond0", "address": MAC_BOND_A, "mode": "802.3ad",
        "properties": {"miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast"},
        "physical_network": "fabric", "extra": {"segmentation_id": [100, 200]}, "internal_info": {},
    }
]
PORT_RECORDS: list[dict[str, Any]] = [
    {"id": 1, "uuid": "5f0f1d8e-0001-4c4e-8a59-000000000001", "address": MAC_PROV, "pxe_enabled": True,
     "physical_network": "provisioning", "extra": {}, "internal_info": {}, "portgroup_uuid": None,
     "local_link_connection": {"switch_id": "52:54:00:ff:00:01", "port_id": "swp1", "switch_info": "tor-1"}},
    {"id": 2, "uuid": "5f0f1d8e-0002-4c4e-8a59-000000000002", "address": MAC_BOND_A, "pxe_enabled": False,
     "physical_network": "fabric", "extra": {}, "internal_info": {}, "portgroup_uuid": PG_UUID,
     "local_link_connection": {"switch_id": "52:54:00:ff:00:01", "port_id": "swp2", "switch_info": "tor-1"}},
    {"id": 3, "uuid": "5f0f1d8e-0003-4c4e-8a59-000000000003", "address": MAC_BOND_B, "pxe_enabled": False,
     "physical_network": "fabric", "extra": {}, "internal_info": {}, "portgroup_uuid": PG_UUID,
     "local_link_connection": {"switch_id": "52:54:00:ff:00:02", "port_id": "swp2", "switch_info": "tor-2"}},
    {"id": 4, "uuid": "5f0f1d8e-0004-4c4e-8a59-000000000004", "address": MAC_SPARE, "pxe_enabled": False,
     "physical_network": None, "extra": {}, "internal_info": {}, "portgroup_uuid": None,
     "local_link_connection": {}},
]

MGMT = NetworkRef("mgmt", vlan_id=None, physical_network="provisioning")
WEB = NetworkRef("web", vlan_id=100, physical_network="fabric")
DB = NetworkRef("db", vlan_id=200, physical_network="fabric")

REQUESTS = [
    VifRequest("vif-mgmt", (MGMT,)),
    VifRequest("vif-business", (WEB, DB)),
]

ATTACHMENTS = {
    "vif-mgmt": [Attachment(MGMT, mode=nd.AddressMode.DHCP, network_id="net-mgmt")],
    "vif-business": [
        Attachment(WEB, mode=nd.AddressMode.STATIC, address="10.100.0.10/24", gateway="10.100.0.1",
                   dns=("10.100.0.2",), network_id="net-web"),
        Attachment(DB, mode=nd.AddressMode.STATIC, address="10.200.0.10/24",
                   routes=(nd.Route("172.16.0.0/12", "10.200.0.1"),), network_id="net-db"),
    ],
}


def placements() -> list[Placement]:
    return choose_nics(ports_from_records(PORT_RECORDS), portgroups_from_records(PORTGROUP_RECORDS), REQUESTS)


def network_data() -> dict[str, Any]:
    ports = ports_from_records(PORT_RECORDS)
    groups = portgroups_from_records(PORTGROUP_RECORDS)
    return nd.render(from_vifs.layout(ports, groups, placements(), ATTACHMENTS))
