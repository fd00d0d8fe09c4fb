"""NIC selection as a table: ports/portgroups of a node, VIF requests, and where each VIF lands (or why not)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from ironworks import errors
from ironworks.networking.nic_selection import (
    NetworkRef,
    NicKind,
    Port,
    Portgroup,
    VifRequest,
    choose_nics,
    parse_segmentation_ids,
    portgroups_from_records,
    ports_from_records,
)


def port(name: str, order: int, **kw: Any) -> Port:
    seg = kw.pop("seg", ())
    return Port(uuid=name, address=f"52:54:00:00:00:{order:02x}", order=order, segmentation_ids=frozenset(seg), **kw)


def pg(name: str, order: int, **kw: Any) -> Portgroup:
    seg = kw.pop("seg", ())
    mac = f"52:54:00:00:01:{order:02x}"
    return Portgroup(uuid=name, address=mac, order=order, segmentation_ids=frozenset(seg), **kw)


def vif(vif_id: str, *nets: NetworkRef, port_uuid: str | None = None) -> VifRequest:
    return VifRequest(vif_id, tuple(nets), port_uuid=port_uuid)


FLAT = NetworkRef("flat")
V100 = NetworkRef("biz-100", vlan_id=100, physical_network="fabric")
V100_ANY = NetworkRef("any-100", vlan_id=100)
V200 = NetworkRef("biz-200", vlan_id=200, physical_network="fabric")
PROV = NetworkRef("provisioning", physical_network="prov")


@dataclass
class Case:
    id: str
    ports: list[Port]
    requests: list[VifRequest]
    portgroups: list[Portgroup] = field(default_factory=list)
    #: vif id -> nic uuid
    expect: dict[str, str] | None = None
    #: (error class, text in the message)
    error: tuple[type[Exception], str] | None = None
    vlan_map: dict[str, list[int]] | None = None


def llc(switch: str, port_id: str) -> dict[str, str]:
    return {"switch_id": f"52:54:00:ff:00:{switch[-1]}0", "port_id": port_id, "switch_info": switch}


CASES = [
    Case("single port", [port("a", 1)], [vif("v1", FLAT)], expect={"v1": "a"}),
    Case(
        "VLAN match beats enrollment order",
        [port("a", 1), port("b", 2, seg=[100])],
        [vif("v1", V100_ANY)],
        expect={"v1": "b"},
    ),
    Case(
        "VLAN match beats physnet match, portgroup and PXE",
        [port("a", 1, physical_network="fabric"), port("b", 2, seg=[100], pxe_enabled=False)],
        [vif("v1", V100)],
        expect={"v1": "b"},
    ),
    Case(
        "a NIC declaring other VLANs is not used",
        [port("a", 1, seg=[200]), port("b", 2)],
        [vif("v1", V100_ANY)],
        expect={"v1": "b"},
    ),
    Case(
        "physical network match beats a NIC without one",
        [port("a", 1), port("b", 2, physical_network="fabric")],
        [vif("v1", V100)],
        expect={"v1": "b"},
    ),
    Case(
        "a NIC on another physical network is refused",
        [port("a", 1, physical_network="prov")],
        [vif("v1", V100)],
        error=(errors.VifNotPlaceable, "is on physical network 'prov', not 'fabric'"),
    ),
    Case(
        "portgroups before ports",
        [port("a", 1), port("m1", 2, portgroup_uuid="bond0", pxe_enabled=False), port("m2", 3, portgroup_uuid="bond0")],
        [vif("v1", FLAT)],
        portgroups=[pg("bond0", 9)],
        expect={"v1": "bond0"},
    ),
    Case(
        "PXE-enabled breaks a tie",
        [port("a", 1, pxe_enabled=False), port("b", 2)],
        [vif("v1", FLAT)],
        expect={"v1": "b"},
    ),
    Case("enrollment order breaks the last tie", [port("a", 7), port("b", 3)], [vif("v1", FLAT)], expect={"v1": "b"}),
    Case(
        "members of a portgroup are not free NICs",
        [port("m1", 1, portgroup_uuid="bond0"), port("m2", 2, portgroup_uuid="bond0")],
        [vif("v1", FLAT), vif("v2", FLAT)],
        portgroups=[pg("bond0", 3)],
        error=(errors.VifNotPlaceable, "port 52:54:00:00:00:01 (m1) is a member of portgroup bond0"),
    ),
    Case(
        "a member port cannot be named as the fixed port",
        [port("m1", 1, portgroup_uuid="bond0"), port("c", 2)],
        [vif("v1", FLAT, port_uuid="m1")],
        portgroups=[pg("bond0", 3)],
        error=(errors.VifNotPlaceable, "is a member of portgroup bond0"),
    ),
    Case(
        "two VIFs on the same VLAN take two NICs",
        [port("a", 1, seg=[100]), port("c", 2, seg=[200]), port("b", 3)],
        [vif("x", V100_ANY), vif("y", V100_ANY), vif("z", NetworkRef("n200", vlan_id=200))],
        expect={"x": "a", "y": "b", "z": "c"},
    ),
    Case(
        "two VIFs on one VLAN with one NIC for it: the second is refused",
        [port("a", 1, seg=[100]), port("c", 2, seg=[200])],
        [vif("x", V100_ANY), vif("y", V100_ANY)],
        error=(errors.VifNotPlaceable, "Unable to attach VIF y"),
    ),
    Case(
        "an earlier VIF moves only when a later one has no other NIC",
        [port("a", 1), port("b", 2, physical_network="fabric", pxe_enabled=False)],
        [vif("v1", FLAT), vif("v2", PROV)],
        expect={"v1": "b", "v2": "a"},
    ),
    Case(
        "an earlier VIF keeps its best NIC when the later one fits elsewhere",
        [port("a", 1), port("b", 2)],
        [vif("v1", FLAT), vif("v2", FLAT)],
        expect={"v1": "a", "v2": "b"},
    ),
    Case(
        "a fixed port wins over preference, the others work around it",
        [port("a", 1), port("b", 2)],
        [vif("v1", FLAT), vif("v2", FLAT, port_uuid="A")],
        expect={"v1": "b", "v2": "a"},
    ),
    Case(
        "a NIC carrying another VIF is taken",
        [port("a", 1, vif="old"), port("b", 2)],
        [vif("v1", FLAT)],
        expect={"v1": "b"},
    ),
    Case(
        "a fixed port carrying another VIF is refused",
        [port("a", 1, vif="old"), port("b", 2)],
        [vif("v1", FLAT, port_uuid="a")],
        error=(errors.VifNotPlaceable, "already carries VIF old"),
    ),
    Case(
        "a VIF already attached is a conflict",
        [port("a", 1, vif="old"), port("b", 2)],
        [vif("old", FLAT)],
        error=(errors.VifAlreadyAttached, "already attached to port a"),
    ),
    Case(
        "a portgroup whose member carries a VIF is taken",
        [port("m1", 1, portgroup_uuid="bond0", vif="old"), port("m2", 2, portgroup_uuid="bond0"), port("c", 3)],
        [vif("v1", FLAT)],
        portgroups=[pg("bond0", 4)],
        expect={"v1": "c"},
    ),
    Case(
        "an empty portgroup is skipped",
        [port("c", 3, pxe_enabled=False)],
        [vif("v1", FLAT)],
        portgroups=[pg("bond0", 1)],
        expect={"v1": "c"},
    ),
    Case(
        "a trunk VIF goes to the NIC declaring all its VLANs",
        [
            port("a", 1, seg=[100]),
            port("m1", 2, portgroup_uuid="bond0"),
            port("m2", 3, portgroup_uuid="bond0"),
            port("p", 4, physical_network="prov"),
        ],
        [vif("trunk", V100, V200), vif("mgmt", PROV)],
        portgroups=[pg("bond0", 5, seg=[100, 200])],
        expect={"trunk": "bond0", "mgmt": "p"},
    ),
    Case(
        "one VIF cannot span two physical networks",
        [port("a", 1)],
        [vif("v1", V100, PROV)],
        error=(errors.VifNotPlaceable, "several physical networks"),
    ),
    Case(
        "more VIFs than NICs",
        [port("a", 1)],
        [vif("v1", FLAT), vif("v2", FLAT)],
        error=(errors.VifNotPlaceable, "port 52:54:00:00:00:01 (a) is needed for VIF v1"),
    ),
    Case("a node without ports", [], [vif("v1", FLAT)], error=(errors.VifNotPlaceable, "the node has no ports")),
    Case(
        "VLANs mapped to a switch beat enrollment order",
        [
            port("a", 1, local_link_connection=llc("tor1", "swp1")),
            port("b", 2, local_link_connection=llc("tor2", "swp9")),
        ],
        [vif("v1", V100_ANY)],
        vlan_map={"TOR2": [100]},
        expect={"v1": "b"},
    ),
    Case(
        "a mapped switch port carries only its VLANs; explicit segmentation_id wins over the map",
        [
            port("a", 1, local_link_connection=llc("tor1", "swp1")),
            port("b", 2, seg=[100], local_link_connection=llc("tor1", "swp2")),
        ],
        [vif("v1", V100_ANY), vif("v2", NetworkRef("n300", vlan_id=300))],
        vlan_map={"52:54:00:ff:00:10/swp1": [300], "tor1": [999]},
        expect={"v1": "b", "v2": "a"},
    ),
    Case(
        "a bond reaches only the VLANs all its links reach",
        [
            port("m1", 1, portgroup_uuid="bond0", local_link_connection=llc("tor1", "swp1")),
            port("m2", 2, portgroup_uuid="bond0", local_link_connection=llc("tor2", "swp1")),
            port("c", 3, pxe_enabled=False),
        ],
        [vif("v100", V100_ANY), vif("v200", NetworkRef("n200", vlan_id=200))],
        portgroups=[pg("bond0", 4)],
        vlan_map={"tor1": [100, 200], "tor2": [100]},
        expect={"v100": "bond0", "v200": "c"},
    ),
    Case(
        "a bond whose links share no mapped VLAN is refused",
        [
            port("m1", 1, portgroup_uuid="bond0", local_link_connection=llc("tor1", "swp1")),
            port("m2", 2, portgroup_uuid="bond0", local_link_connection=llc("tor2", "swp1")),
        ],
        [vif("v100", V100_ANY)],
        portgroups=[pg("bond0", 4)],
        vlan_map={"tor1": [200], "tor2": [100]},
        error=(errors.VifNotPlaceable, "portgroup bond0 reaches no VLAN on all its links"),
    ),
    Case(
        "VLANs mapped to a physical network",
        [port("a", 1, physical_network="fabric"), port("b", 2)],
        [vif("v1", NetworkRef("n300", vlan_id=300))],
        vlan_map={"fabric": [100, 200]},
        expect={"v1": "b"},
    ),
    Case(
        "an unknown fixed port",
        [port("a", 1)],
        [vif("v1", FLAT, port_uuid="zzz")],
        error=(errors.VifNotPlaceable, "zzz is not a port or portgroup of this node"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nic_selection_table(case: Case) -> None:
    if case.error:
        cls, text = case.error
        with pytest.raises(cls) as caught:
            choose_nics(case.ports, case.portgroups, case.requests, case.vlan_map)
        assert text in str(caught.value)
        return
    placements = choose_nics(case.ports, case.portgroups, case.requests, case.vlan_map)
    assert {p.vif_id: p.uuid for p in placements} == case.expect
    assert [p.vif_id for p in placements] == [r.vif_id for r in case.requests]
    assert len({p.uuid for p in placements}) == len(placements)


def test_error_statuses_follow_ironic() -> None:
    assert errors.VifNotPlaceable(vif="x", reason="r").http_status == 400
    assert errors.VifAlreadyAttached(vif="x", object_type="port", object_uuid="u").http_status == 409


def test_placement_is_independent_of_input_order() -> None:
    ports = [port(f"p{i}", i, pxe_enabled=i % 2 == 0) for i in range(1, 9)]
    requests = [vif(f"v{i}", FLAT) for i in range(5)]
    first = choose_nics(ports, [], requests)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = ports[:]
        rng.shuffle(shuffled)
        assert choose_nics(shuffled, [], requests) == first
    # PXE-enabled ports (even order) come first, in enrollment order, then the others
    assert [p.uuid for p in first] == ["p2", "p4", "p6", "p8", "p1"]


def test_reason_names_the_deciding_criteria() -> None:
    [placed] = choose_nics([port("a", 1), port("b", 2, seg=[100], physical_network="fabric")], [], [vif("v", V100)])
    assert placed.kind is NicKind.PORT
    assert "segmentation_id matches VLAN 100" in placed.reason
    assert "physical network 'fabric' matches" in placed.reason


def test_from_records_reads_extra_and_membership() -> None:
    ports = ports_from_records(
        [
            {"id": 3, "uuid": "u1", "address": "52:54:00:aa:00:01", "pxe_enabled": False, "extra": {},
             "portgroup_uuid": "g1", "internal_info": {}, "physical_network": "fabric"},
            {"id": 4, "uuid": "u2", "address": "52:54:00:aa:00:02", "pxe_enabled": True,
             "extra": {"segmentation_id": "100"}, "internal_info": {"tenant_vif_port_id": "vif-9"}},
        ]
    )
    groups = portgroups_from_records(
        [{"id": 1, "uuid": "g1", "address": None, "extra": {"segmentation_id": [100, 200]}}]
    )
    assert ports[0].portgroup_uuid == "g1" and ports[0].order == 3 and not ports[0].pxe_enabled
    assert ports[1].segmentation_ids == {100} and ports[1].vif == "vif-9"
    assert groups[0].segmentation_ids == {100, 200}
    [placed] = choose_nics(ports, groups, [vif("v", V100)])
    assert placed.uuid == "g1" and placed.kind is NicKind.PORTGROUP


@pytest.mark.parametrize("raw", ["abc", 0, 4095, [100, "x"], {"a": 1}])
def test_bad_segmentation_id_is_a_400(raw: Any) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        parse_segmentation_ids({"segmentation_id": raw})


def test_duplicate_request_is_refused() -> None:
    with pytest.raises(errors.InvalidParameterValue, match="requested twice"):
        choose_nics([port("a", 1), port("b", 2)], [], [vif("v", FLAT), vif("v", FLAT)])
