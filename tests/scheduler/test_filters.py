"""The scheduler's pure filters: every reason a node is refused, tenancy, ordering and the shortage message."""

from __future__ import annotations

from typing import Any

from ironworks.scheduler.filters import (
    Demand,
    Tenancy,
    order,
    placement_resource_class,
    property_int,
    reasons,
    shortage_message,
)


def node(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": "u1",
        "name": "n1",
        "provision_state": "available",
        "maintenance": False,
        "instance_uuid": None,
        "allocation_id": None,
        "reservation": None,
        "resource_class": "gold",
        "traits": ["CUSTOM_A"],
        "properties": {"cpus": 16, "memory_mb": 32768, "local_gb": 100},
        "owner": None,
        "lessee": None,
        "extra": {},
    }
    base.update(fields)
    return base


def checks(n: dict[str, Any], demand: Demand, tenancy: Tenancy | None = None) -> list[str]:
    return [r["check"] for r in reasons(n, demand, tenancy or Tenancy())]


def test_an_available_matching_node_qualifies():
    assert checks(node(), Demand(resource_class="gold", required_traits=frozenset({"CUSTOM_A"}))) == []


def test_every_failed_check_is_named():
    n = node(
        provision_state="manageable",
        maintenance=True,
        instance_uuid="x",
        resource_class="silver",
        traits=["CUSTOM_B"],
        owner="other",
    )
    demand = Demand(
        resource_class="gold",
        required_traits=frozenset({"CUSTOM_A"}),
        forbidden_traits=frozenset({"CUSTOM_B"}),
        candidate_uuids=frozenset({"u2"}),
        owner="me",
    )
    assert checks(n, demand) == [
        "state",
        "maintenance",
        "allocated",
        "candidate_nodes",
        "resource_class",
        "traits",
        "owner",
    ]
    detail = {r["check"]: r["detail"] for r in reasons(n, demand, Tenancy())}
    assert "missing CUSTOM_A" in detail["traits"] and "forbidden CUSTOM_B" in detail["traits"]


def test_a_locked_node_is_not_offered():
    assert checks(node(reservation="conductor-1"), Demand(resource_class="gold")) == ["allocated"]


def test_custom_resource_class_matches_nova_spelling():
    assert placement_resource_class("baremetal.gold-1") == "CUSTOM_BAREMETAL_GOLD_1"
    demand = Demand(custom_resource_class="CUSTOM_GOLD")
    assert checks(node(), demand) == []
    assert checks(node(resource_class="silver"), demand) == ["resource_class"]


def test_exact_match_requires_equal_properties():
    demand = Demand(resource_class="gold", properties={"cpus": 16, "memory_mb": 32768}, exact_match=True)
    assert checks(node(), demand) == []
    assert checks(node(properties={"cpus": "16", "memory_mb": "32768"}), demand) == []
    big = node(properties={"cpus": 32, "memory_mb": 131072})
    assert checks(big, demand) == ["properties"]
    assert "cpus=32, exactly 16" in reasons(big, demand, Tenancy())[0]["detail"]
    assert checks(node(properties={}), demand) == ["properties"]


def test_without_exact_match_bigger_nodes_qualify_and_the_smallest_comes_first():
    demand = Demand(resource_class="gold", properties={"cpus": 16}, exact_match=False)
    small = node(uuid="s", properties={"cpus": 8})
    mid = node(uuid="m", properties={"cpus": 32, "memory_mb": 65536})
    big = node(uuid="b", properties={"cpus": 64, "memory_mb": 65536})
    exact = node(uuid="e", properties={"cpus": 16, "memory_mb": 32768})
    assert checks(small, demand) == ["properties"]
    ok = [n for n in (big, mid, exact, small) if not reasons(n, demand, Tenancy())]
    assert [n["uuid"] for n in order(ok, demand)] == ["e", "m", "b"]


def test_node_named_like_the_allocation_is_tried_first():
    demand = Demand(resource_class="gold", preferred_name="n2")
    nodes = [node(uuid="a", name="n1"), node(uuid="b", name="n2")]
    assert [n["uuid"] for n in order(nodes, demand)] == ["b", "a"]


def test_property_values_are_read_leniently_but_never_guessed():
    assert property_int("32") == 32 and property_int(32.0) == 32 and property_int(32) == 32
    assert property_int("32GB") is None and property_int(True) is None and property_int(None) is None


def test_owner_gets_own_leased_and_unowned_nodes_only():
    demand = Demand(resource_class="gold", owner="p1")
    assert checks(node(owner="p1"), demand) == []
    assert checks(node(owner="p2", lessee="p1"), demand) == []
    assert checks(node(), demand) == []
    assert checks(node(owner="p2"), demand) == ["owner"]
    # without an owner every (non-isolated) node qualifies, as in Ironic
    assert checks(node(owner="p2"), Demand(resource_class="gold")) == []


def test_isolated_projects_get_only_their_pool_and_nobody_else_gets_it():
    tenancy = Tenancy({"acme": "acme-pool"})
    acme = Demand(resource_class="gold", owner="acme")
    other = Demand(resource_class="gold", owner="p2")
    admin = Demand(resource_class="gold")
    owned, pooled, shared = node(owner="acme"), node(extra={"pool": "acme-pool"}), node()
    assert checks(owned, acme, tenancy) == [] and checks(pooled, acme, tenancy) == []
    assert checks(shared, acme, tenancy) == ["pool"]
    for n in (owned, pooled, node(lessee="acme")):
        assert checks(n, other, tenancy) == ["pool"]
        assert checks(n, admin, tenancy) == ["pool"]
    assert checks(shared, other, tenancy) == []


def test_shortage_message_says_what_was_asked_and_what_is_free():
    demand = Demand(
        resource_class="gold", properties={"cpus": 16, "memory_mb": 32768}, exact_match=True, flavor="bm.small"
    )
    free = [node(properties={"cpus": 32, "memory_mb": 131072}) for _ in range(3)]
    free.append(node(properties={"cpus": 64, "memory_mb": 262144}))
    message = shortage_message(demand, free)
    assert message == (
        "no available node matches flavor bm.small (resource_class=gold, cpus=16, "
        "memory_mb=32768); free: 3 × cpus=32 memory_mb=131072, "
        "1 × cpus=64 memory_mb=262144"
    )
    assert shortage_message(demand, []).endswith("free: none")
