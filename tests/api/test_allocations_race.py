"""Concurrent allocations never get the same node: 48 threads race for 40 nodes over HTTP, on SQLite and
PostgreSQL, through one service and through two services sharing the database. Each node ends with exactly
one allocation, whose uuid is the node's instance_uuid."""

from __future__ import annotations

import threading
from collections import Counter

from tests.api.helpers import post_allocation
from tests.fixtures.servers import ServiceUnderTest, make_settings
from tests.scheduler.helpers import bulk_available

NODES = 40
THREADS = 48


def test_racing_allocations_never_share_a_node(service):
    uuids = set(bulk_available(service.services, NODES, resource_class="race", traits=("CUSTOM_RACE",)))
    bulk_available(service.services, 5, prefix="other", resource_class="other")
    start = threading.Barrier(THREADS)
    results: list[dict] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        with service.client("latest") as client:
            start.wait()
            r = post_allocation(client, {"resource_class": "race", "traits": ["CUSTOM_RACE"], "name": f"race-{i}"}
            )
            with lock:
                if r.status_code == 201:
                    results.append(r.json())
                else:
                    failures.append(r.text)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    with service.client("latest") as api:
        final = [api.get(f"/v1/allocations/{a['uuid']}").json() for a in results]
        nodes = api.get("/v1/nodes/detail").json()["nodes"]
    active = [a for a in final if a["state"] == "active"]
    assert len(active) == NODES
    assert all(a["state"] == "error" and a["last_error"] for a in final if a["state"] != "active")
    claimed = Counter(a["node_uuid"] for a in active)
    assert set(claimed) == uuids and max(claimed.values()) == 1
    by_uuid = {n["uuid"]: n for n in nodes}
    for a in active:
        assert by_uuid[a["node_uuid"]]["instance_uuid"] == a["uuid"] == by_uuid[a["node_uuid"]]["allocation_uuid"]
    assert all(n["instance_uuid"] is None for n in nodes if n["uuid"] not in uuids)


def test_two_services_on_one_database_never_share_a_node(service, tmp_path):
    """Two API services with their own engines and connection pools (as two processes would have) race on one
    database: only the database's compare-and-set decides."""
    uuids = set(bulk_available(service.services, 24, resource_class="race"))
    other = ServiceUnderTest(make_settings(str(tmp_path), service.settings.database_url)).start()
    try:
        start = threading.Barrier(THREADS)
        results: list[dict] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            target = service if i % 2 else other
            with target.client("latest") as client:
                start.wait()
                r = post_allocation(client, {"resource_class": "race"})
                assert r.status_code == 201, r.text
                with lock:
                    results.append(r.json())

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        other.stop()
    active = [a for a in results if a["state"] == "active"]
    assert len(results) == THREADS and len(active) == len(uuids)
    claimed = Counter(a["node_uuid"] for a in active)
    assert set(claimed) == uuids and max(claimed.values()) == 1
