"""The claim on a real database (SQLite and PostgreSQL): a candidate taken meanwhile is skipped, and when all
were taken nothing is written."""

from __future__ import annotations

from ironworks.identifiers import new_uuid
from tests.scheduler.helpers import bulk_available


def _values(**extra):
    return {
        "uuid": new_uuid(),
        "name": None,
        "owner": None,
        "extra": {},
        "resource_class": "gold",
        "traits": ["CUSTOM_A"],
        "candidate_nodes": [],
        "flavor": None,
        **extra,
    }


def test_claim_skips_taken_candidates_and_writes_nothing_when_all_are_taken(service):
    svc = service.services
    first, second = (svc.nodes.get(u) for u in bulk_available(svc, 2, resource_class="gold"))
    taken = svc.allocations.claim(_values(), [first])
    assert taken is not None and taken["node_uuid"] == first["uuid"] and taken["state"] == "active"
    assert svc.allocations.get(taken["uuid"]) == {
        **taken,
        "updated_at": svc.allocations.get(taken["uuid"])["updated_at"],
    }
    got = svc.allocations.claim(_values(), [first, second])
    assert got is not None and got["node_uuid"] == second["uuid"]
    lost = _values(name="lost")
    assert svc.allocations.claim(lost, [first, second]) is None
    assert [a["uuid"] for a in svc.allocations.list()] == [taken["uuid"], got["uuid"]]
    node = svc.nodes.get(second["uuid"])
    assert node["instance_uuid"] == got["uuid"] and node["instance_info"]["traits"] == ["CUSTOM_A"]


def test_a_node_in_maintenance_or_locked_is_not_claimed(service):
    svc = service.services
    sick, locked = (svc.nodes.get(u) for u in bulk_available(svc, 2, resource_class="gold"))
    svc.nodes.update(sick["uuid"], lambda n: {"maintenance": True})
    svc.nodes.update(locked["uuid"], lambda n: {"reservation": "conductor-x"})
    assert svc.allocations.claim(_values(), [sick, locked]) is None
