"""POST /v1/allocations answers ``allocating`` first, as Ironic: 201 with no node; the claim follows in a worker
and the next GETs show ``active`` with the node or ``error`` with the reason. A backfill is answered at once. A
service that starts resumes allocations a crash left ``allocating``; the opt-in ``allocation_immediate``
answers with the claim's outcome. SQLite and PostgreSQL (``service``)."""

from __future__ import annotations

from tests.api.helpers import wait_for_allocation
from tests.fixtures.servers import ServiceUnderTest, make_settings
from tests.scheduler.helpers import bulk_available


def test_post_answers_allocating_and_the_claim_follows(service, api):
    node = bulk_available(service.services, 1, resource_class="gold")[0]
    r = api.post("/v1/allocations", json={"resource_class": "gold", "name": "a1"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["state"] == "allocating" and first["node_uuid"] is None and first["last_error"] is None
    assert r.headers["Location"].endswith(f"/v1/allocations/{first['uuid']}")
    done = wait_for_allocation(api, first["uuid"])
    assert done["state"] == "active" and done["node_uuid"] == node
    assert api.get(f"/v1/nodes/{node}").json()["allocation_uuid"] == first["uuid"]
    r = api.post("/v1/allocations", json={"resource_class": "gold"})  # nothing left: error, told on the GET
    assert r.status_code == 201 and r.json()["state"] == "allocating"
    failed = wait_for_allocation(api, r.json()["uuid"])
    assert failed["state"] == "error" and failed["node_uuid"] is None
    assert "no available nodes match the resource class gold" in failed["last_error"]


def test_restart_resumes_allocating_and_immediate_is_opt_in(service, api, tmp_path):
    node = bulk_available(service.services, 2, resource_class="gold")
    # what a crash right after the answer leaves: the row, allocating, never processed
    left = service.services.allocations.create(
        {
            "uuid": "6d6a8c43-5a43-4a4e-9c3b-1d0f5b1f0a01",
            "name": "left",
            "state": "allocating",
            "resource_class": "gold",
            "traits": [],
            "candidate_nodes": [node[1]],
            "extra": {},
        }
    )
    assert left["state"] == "allocating"
    other = ServiceUnderTest(
        make_settings(str(tmp_path), service.settings.database_url, allocation_immediate=True)
    ).start()
    try:
        with other.client("latest") as c:
            resumed = wait_for_allocation(c, left["uuid"])
            assert resumed["state"] == "active" and resumed["node_uuid"] == node[1]
            r = c.post("/v1/allocations", json={"resource_class": "gold"})
            assert r.status_code == 201, r.text
            assert r.json()["state"] == "active" and r.json()["node_uuid"] == node[0]
            r = c.post("/v1/allocations", json={"resource_class": "gold"})
            assert r.json()["state"] == "error" and r.json()["last_error"]
    finally:
        other.stop()
