"""From placed VIFs to a network_data Layout: bonds from portgroups, access vs trunk, addressing."""

from __future__ import annotations

import pytest

from ironworks import errors
from ironworks.configdrive import from_vifs
from ironworks.configdrive import network_data as nd
from ironworks.configdrive.from_vifs import Attachment
from ironworks.networking.nic_selection import NetworkRef, NicKind, Placement, Port, Portgroup, VifRequest, choose_nics

PORTS = [
    Port("p1", "52:54:00:00:00:01", 1, portgroup_uuid="g1"),
    Port("p2", "52:54:00:00:00:02", 2, portgroup_uuid="g1"),
    Port("p3", "52:54:00:00:00:03", 3, segmentation_ids=frozenset({300})),
]
V300 = NetworkRef("n300", vlan_id=300)
FLAT = NetworkRef("flat")
V400 = NetworkRef("n400", vlan_id=400)


def _group(mode: str | None, props: dict[str, object] | None = None) -> Portgroup:
    return Portgroup("g1", "52:54:00:00:00:01", 1, name="bond-a", mode=mode, properties=props or {})


@pytest.mark.parametrize(
    ("mode", "props", "expected"),
    [
        ("4", {"bond_miimon": "200", "bond_xmit_hash_policy": "layer2+3"}, ("802.3ad", 200, "layer2+3")),
        (None, {}, ("active-backup", 100, None)),
        ("balance-alb", {"miimon": 0}, ("balance-alb", 0, None)),
        (None, {"mode": "0"}, ("balance-rr", 100, None)),
    ],
)
def test_portgroup_becomes_bond(mode: str | None, props: dict[str, object], expected: tuple[object, ...]) -> None:
    requests = [VifRequest("v", (FLAT,))]
    placements = choose_nics(PORTS, [_group(mode, props)], requests)
    doc = nd.render(from_vifs.layout(PORTS, [_group(mode, props)], placements, {"v": [Attachment(FLAT)]}))
    [bond] = [link for link in doc["links"] if link["type"] == "bond"]
    assert (bond["bond_mode"], bond["bond_miimon"], bond.get("bond_xmit_hash_policy")) == expected
    assert bond["bond_links"] == ["p1", "p2"] and bond["id"] == "bond-a"
    assert doc["networks"] == [{"id": "network0", "link": "bond-a", "type": "ipv4_dhcp"}]


def test_bad_bond_mode_is_a_400() -> None:
    placements = [Placement("v", NicKind.PORTGROUP, "g1", None, "")]
    with pytest.raises(errors.InvalidParameterValue, match="bond mode 'weird'"):
        from_vifs.layout(PORTS, [_group("weird")], placements, {"v": [Attachment(FLAT)]})


def test_access_vif_is_untagged_and_trunk_vif_is_tagged() -> None:
    requests = [VifRequest("access", (V300,)), VifRequest("trunk", (FLAT, V400))]
    placements = choose_nics(PORTS, [_group("802.3ad")], requests)
    assert [p.uuid for p in placements] == ["p3", "g1"]
    attachments = {
        "access": [Attachment(V300, nd.AddressMode.STATIC, address="10.3.0.5/24", dns=("10.3.0.53",))],
        "trunk": [Attachment(FLAT), Attachment(V400, nd.AddressMode.STATIC, address="10.4.0.5/24", mtu=9000)],
    }
    doc = nd.render(from_vifs.layout(PORTS, [_group("802.3ad")], placements, attachments))
    vlans = [link for link in doc["links"] if link["type"] == "vlan"]
    assert [(v["id"], v["vlan_link"], v["vlan_id"], v["mtu"]) for v in vlans] == [("bond-a.400", "bond-a", 400, 9000)]
    by_link = {n["link"]: n for n in doc["networks"]}
    assert by_link["p3"]["ip_address"] == "10.3.0.5"  # VLAN 300 arrives untagged on an access port
    assert by_link["bond-a"]["type"] == "ipv4_dhcp"
    assert by_link["bond-a.400"]["ip_address"] == "10.4.0.5"
    assert doc["services"] == [{"type": "dns", "address": "10.3.0.53"}]


def test_inconsistent_inputs_are_refused() -> None:
    with pytest.raises(errors.InvalidParameterValue, match="unknown port"):
        from_vifs.layout(PORTS, [], [Placement("v", NicKind.PORT, "nope", None, "")], {"v": [Attachment(FLAT)]})
    with pytest.raises(errors.InvalidParameterValue, match="no network addressing"):
        from_vifs.layout(PORTS, [], [Placement("v", NicKind.PORT, "p3", None, "")], {})
