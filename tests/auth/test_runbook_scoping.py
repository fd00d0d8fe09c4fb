"""Runbooks by project (API 1.92, Ironic's runbook policies): a project sees its own runbooks and the public
ones, creates runbooks owned by itself only, changes only its own; only the operator sets ``public``/``owner``
or sees every runbook. Through HTTP with ``http_basic`` users on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.helpers import fault
from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client

STEPS = [{"interface": "deploy", "step": "erase_devices_metadata", "args": {}, "order": 0}]


def test_runbooks_by_project(auth_service, admin) -> None:
    r = admin.post("/v1/runbooks", json={"name": "CUSTOM_PUBLIC", "steps": STEPS, "public": True})
    assert r.status_code == 201, r.text
    assert admin.post("/v1/runbooks", json={"name": "CUSTOM_OPS", "steps": STEPS}).status_code == 201
    with (
        client(auth_service, MEMBER) as mia,
        client(auth_service, OTHER_MEMBER) as mallory,
        client(auth_service, READER) as rob,
    ):
        r = mia.post("/v1/runbooks", json={"name": "CUSTOM_ACME", "steps": STEPS})
        assert r.status_code == 201 and r.json()["owner"] == "acme", r.text
        for body in ({"owner": "evil"}, {"public": True}):
            r = mia.post("/v1/runbooks", json={"name": "CUSTOM_X", "steps": STEPS, **body})
            assert r.status_code == 400, r.text
            fault(r)
        assert rob.post("/v1/runbooks", json={"name": "CUSTOM_Y", "steps": STEPS}).status_code == 403
        seen = sorted(b["name"] for b in rob.get("/v1/runbooks").json()["runbooks"])
        assert seen == ["CUSTOM_ACME", "CUSTOM_PUBLIC"]
        assert sorted(b["name"] for b in mallory.get("/v1/runbooks").json()["runbooks"]) == ["CUSTOM_PUBLIC"]
        assert mallory.get("/v1/runbooks/CUSTOM_ACME").status_code == 403
        assert mallory.get("/v1/runbooks/CUSTOM_PUBLIC").status_code == 200
        for method, path, body in (
            ("PATCH", "/v1/runbooks/CUSTOM_ACME", [{"op": "add", "path": "/extra/a", "value": 1}]),
            ("DELETE", "/v1/runbooks/CUSTOM_ACME", None),
            ("PATCH", "/v1/runbooks/CUSTOM_PUBLIC", [{"op": "add", "path": "/extra/a", "value": 1}]),
        ):
            r = mallory.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            fault(r)
        r = mia.patch("/v1/runbooks/CUSTOM_ACME", json=[{"op": "replace", "path": "/public", "value": True}])
        assert r.status_code == 403, r.text
        r = mia.patch("/v1/runbooks/CUSTOM_ACME", json=[{"op": "add", "path": "/extra/a", "value": 1}])
        assert r.status_code == 200 and r.json()["extra"] == {"a": 1}
        assert mia.delete("/v1/runbooks/CUSTOM_ACME").status_code == 204
    assert sorted(b["name"] for b in admin.get("/v1/runbooks").json()["runbooks"]) == ["CUSTOM_OPS", "CUSTOM_PUBLIC"]
