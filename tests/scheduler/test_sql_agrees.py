"""The SQL form of the filters (db/repos/allocations.py) picks exactly the nodes the pure filters accept, on
SQLite and PostgreSQL, over a random mix of states, classes, traits, owners, pools and property spellings."""

from __future__ import annotations

import random

from ironworks import states
from ironworks.identifiers import new_uuid
from ironworks.scheduler import allocation as scheduler
from ironworks.scheduler.filters import Demand, Tenancy, reasons

CLASSES = ("gold", "silver", "baremetal.gold")
TRAITS = ("CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX2")
PROJECTS = (None, "p1", "p2", "iso")


def _nodes(svc, rng: random.Random, count: int) -> None:
    # a locked node is locked by the live conductor: a dead holder's lock would be broken by its recovery sweep
    holder = svc.settings.effective_conductor_name
    for i in range(count):
        cpus = rng.choice((16, 32, "16", "32", 16.0, None, "many"))
        props = {"memory_mb": rng.choice((32768, 131072, "32768"))}
        if cpus is not None:
            props["cpus"] = cpus
        values = {
            "uuid": new_uuid(),
            "name": f"n{i}",
            "driver": "fake-hardware",
            "conductor_group": "",
            "provision_state": rng.choice((states.AVAILABLE,) * 4 + (states.MANAGEABLE, states.ACTIVE)),
            "maintenance": rng.random() < 0.1,
            "reservation": holder if rng.random() < 0.05 else None,
            "instance_uuid": new_uuid() if rng.random() < 0.1 else None,
            "resource_class": rng.choice(CLASSES + (None,)),
            "properties": props,
            "owner": rng.choice(PROJECTS),
            "lessee": rng.choice(PROJECTS + (None, None)),
            "extra": {"pool": rng.choice(("iso-pool", "other"))} if rng.random() < 0.3 else {},
        }
        values.update(svc.drivers.resolve_interfaces("fake-hardware", {}))
        svc.nodes.create(values, rng.sample(TRAITS, rng.randint(0, 2)))


def test_sql_and_pure_filters_agree(service):
    svc = service.services
    rng = random.Random(2024)
    _nodes(svc, rng, 120)
    everything = {n["uuid"]: n for n in svc.nodes.list(with_traits=True)}
    tenancies = (Tenancy(), Tenancy({"iso": "iso-pool"}))
    some = rng.sample(sorted(everything), 30)
    checked = 0
    for _ in range(60):
        props = rng.choice(({}, {"cpus": 16}, {"cpus": 32, "memory_mb": 131072}))
        demand = Demand(
            resource_class=rng.choice(("gold", "silver", None)),
            required_traits=frozenset(rng.sample(TRAITS, rng.randint(0, 2))),
            forbidden_traits=frozenset(rng.sample(TRAITS, rng.randint(0, 1))),
            properties=props,
            exact_match=rng.random() < 0.5,
            candidate_uuids=frozenset(some) if rng.random() < 0.2 else None,
            owner=rng.choice(PROJECTS),
        )
        if demand.resource_class is None:
            demand = Demand(**{**demand.__dict__, "custom_resource_class": "CUSTOM_BAREMETAL_GOLD"})
        if demand.required_traits & demand.forbidden_traits:
            continue
        tenancy = rng.choice(tenancies)
        expected = {u for u, n in everything.items() if not reasons(n, demand, tenancy)}
        found = {n["uuid"] for n in scheduler.find_nodes(svc, demand, tenancy, limit=None)}
        assert found == expected, demand
        limited = [n["uuid"] for n in scheduler.find_nodes(svc, demand, tenancy, limit=4)]
        assert len(limited) == min(4, len(expected)) and set(limited) <= expected
        checked += bool(expected)
    assert checked > 10
