"""The audit log: every state-changing request with who, what, when, status and request id; never a secret;
readable by admins through ``GET /v1/audit``."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select

from ironworks.db.models import AuditRecord
from tests.api.helpers import fault
from tests.auth.conftest import MEMBER, READER, client
from tests.auth.helpers import BMC_PASSWORD, make_node


def _audit(admin, **params):
    r = admin.get("/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()["audit"]


def test_state_changes_are_recorded_with_who_what_and_status(auth_service, admin):
    node = make_node(admin, owner="acme")
    uuid = node["uuid"]
    with client(auth_service, MEMBER) as c:
        ok = c.patch(f"/v1/nodes/{uuid}", json=[{"op": "add", "path": "/extra/a", "value": 1}])
        refused = c.patch(f"/v1/nodes/{uuid}", json=[{"op": "add", "path": "/driver_info/x", "value": "y"}])
        c.get(f"/v1/nodes/{uuid}")  # reads are not recorded
    assert (ok.status_code, refused.status_code) == (200, 403)
    mine = _audit(admin, user=MEMBER.name, sort_dir="asc")
    assert [(r["method"], r["path"], r["status"]) for r in mine] == [
        ("PATCH", f"/v1/nodes/{uuid}", 200),
        ("PATCH", f"/v1/nodes/{uuid}", 403),
    ]
    first = mine[0]
    assert (first["user"], first["project"], first["role"], first["node_uuid"]) == (MEMBER.name, "acme", "member", uuid)
    assert first["request_id"] == ok.headers["Openstack-Request-Id"]
    when = dt.datetime.fromisoformat(first["created_at"])
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 120
    # the admin's enrolment is recorded with the node it created (from the Location of the answer)
    creations = _audit(admin, method="post")
    assert [(r["user"], r["path"], r["node_uuid"], r["status"]) for r in creations] == [
        ("olga", "/v1/nodes", uuid, 201)
    ]
    assert {r["node_uuid"] for r in _audit(admin, node=uuid)} == {uuid}


def test_no_secret_is_ever_recorded(auth_service, admin):
    node = make_node(admin)
    admin.patch(
        f"/v1/nodes/{node['uuid']}",
        json=[{"op": "add", "path": "/driver_info/ipmi_password", "value": "new-" + BMC_PASSWORD}],
    )
    httpx.post(auth_service.url + "/v1/nodes", json={"driver": "fake-hardware"}, auth=("olga", "a-guessed-password"))
    with auth_service.services.db.read() as session:
        rows = session.execute(select(AuditRecord.__table__)).mappings().all()
    assert len(rows) >= 3
    text = repr([dict(r) for r in rows])
    assert BMC_PASSWORD not in text and "a-guessed-password" not in text
    assert "ipmi_password" not in text


def test_failed_authentication_of_a_change_is_recorded_without_a_user(auth_service, admin):
    r = httpx.delete(auth_service.url + "/v1/nodes/some-node", auth=("nobody", "x"))
    assert r.status_code == 401
    rows = _audit(admin, status=401)
    assert [(x["method"], x["path"], x["user"], x["project"]) for x in rows] == [
        ("DELETE", "/v1/nodes/some-node", None, None)
    ]
    assert rows[0]["request_id"] == r.headers["Openstack-Request-Id"]


def test_audit_paging_and_bad_filters(auth_service, admin):
    for i in range(5):
        make_node(admin, name=f"a{i}")
    page = admin.get("/v1/audit", params={"limit": 3, "method": "POST"}).json()
    assert len(page["audit"]) == 3 and "next" in page
    rest = admin.get(page["next"]).json()
    ids = [r["id"] for r in page["audit"] + rest["audit"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    for params in (
        {"since": "yesterday"},
        {"node": "not-a-uuid"},
        {"limit": 0},
        {"method": "GET"},
        {"sort_dir": "up"},
        {"bogus": 1},
        {"status": "x"},
    ):
        r = admin.get("/v1/audit", params=params)
        assert r.status_code == 400, params
        fault(r)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert _audit(admin, since=future) == []


def test_only_admins_read_the_audit_log(auth_service):
    for user in (MEMBER, READER):
        with client(auth_service, user) as c:
            r = c.get("/v1/audit")
            assert r.status_code == 403 and "baremetal:audit:list" in fault(r)["faultstring"]


def test_noauth_requests_are_recorded_too(api):
    node = api.post("/v1/nodes", json={"driver": "fake-hardware"}).json()
    rows = api.get("/v1/audit").json()["audit"]
    assert [(r["user"], r["method"], r["node_uuid"], r["status"]) for r in rows] == [
        ("noauth", "POST", node["uuid"], 201)
    ]


def test_concurrent_changes_each_get_exactly_one_record(auth_service, admin):
    """Records are group-committed; none is lost or doubled, and each is written before its answer is sent."""
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> httpx.Response:
        with client(auth_service, MEMBER) as c:
            return c.patch(f"/v1/nodes/{uuid}", json=[{"op": "add", "path": f"/extra/k{i}", "value": i}])

    uuid = make_node(admin, owner="acme")["uuid"]
    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(create, range(48)))
    assert {r.status_code for r in answers} == {200}
    with auth_service.services.db.engine.connect() as conn:
        rows = conn.execute(select(AuditRecord.__table__).where(AuditRecord.__table__.c.user == MEMBER.name)).all()
    assert sorted(r.request_id for r in rows) == sorted(r.headers["Openstack-Request-Id"] for r in answers)
